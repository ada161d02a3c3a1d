"""RFC 8288 Link headers for paginated lists: root-relative URLs that keep the other arguments."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request


def url_with(**changes: str) -> str:
    """This request's root-relative URL with some query arguments replaced."""
    args = request.args.copy()
    for key, value in changes.items():
        args[key] = value
    return f"{request.script_root}{request.path}?{urlencode(list(args.items(multi=True)))}"


def page_links(page: int, pages: int) -> str:
    """first/prev/next/last for a numbered page; past the end, prev points at the last page."""
    last = max(pages, 1)
    links = [("first", 1)]
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    if page < pages:
        links.append(("next", page + 1))
    links.append(("last", last))
    return ", ".join(f'<{url_with(page=str(n))}>; rel="{rel}"' for rel, n in links)


def cursor_links(next_cursor: str | None) -> str | None:
    """first/next for a cursor page (an empty cursor starts again from the top)."""
    links = [f'<{url_with(cursor="")}>; rel="first"']
    if next_cursor is not None:
        links.append(f'<{url_with(cursor=next_cursor)}>; rel="next"')
    return ", ".join(links)
