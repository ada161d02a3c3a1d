"""RFC 8288 Link headers for paginated lists: root-relative URLs that keep the other arguments."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import request


def _url_maker(name: str) -> tuple[str, str]:
    """This request's URL without argument ``name``, and the separator to append it with."""
    kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != name])
    base = f"{request.script_root}{request.path}?{kept}"
    return base, "&" if kept else ""


def page_links(page: int, pages: int) -> str:
    """first/prev/next/last for a numbered page; past the end, prev points at the last page."""
    base, sep = _url_maker("page")
    last = max(pages, 1)
    links = [("first", 1)]
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    if page < pages:
        links.append(("next", page + 1))
    links.append(("last", last))
    return ", ".join(f'<{base}{sep}page={n}>; rel="{rel}"' for rel, n in links)


def cursor_links(next_cursor: str | None) -> str:
    """first/next for a cursor page (an empty cursor starts again from the top)."""
    base, sep = _url_maker("cursor")
    links = [f'<{base}{sep}cursor=>; rel="first"']
    if next_cursor is not None:
        links.append(f'<{base}{sep}cursor={quote(next_cursor, safe="")}>; rel="next"')
    return ", ".join(links)
