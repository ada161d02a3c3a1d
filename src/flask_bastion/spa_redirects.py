"""Where an email link sends the browser: a view of the SPA, with context.

Every target comes from a setting (``BASTION_POST_CONFIRM_VIEW`` and its siblings), checked at
start-up by :func:`flask_bastion.config.load_settings`: a path under ``BASTION_SPA_URL`` or an
absolute URL of an allowed origin, never anything a request chose. Context (``email``,
``code``) travels in the query; a secret only in the fragment, which browsers never send to a
server nor put in a ``Referer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Response

from .config import SPA_VIEWS, Settings


def view_url(
    settings: Settings,
    view: str,
    *,
    query: Mapping[str, str] | None = None,
    fragment: Mapping[str, str] | None = None,
) -> str:
    """The absolute URL of SPA view ``view`` (a :class:`Settings` field such as
    ``"post_confirm_view"``) with ``query`` as context and ``fragment`` for secrets."""
    if view not in SPA_VIEWS:
        raise ValueError(f"{view!r} is not an SPA view setting")
    target: str = getattr(settings, view)
    url = settings.spa_base_url + target if target.startswith("/") else target
    if query:
        url += "?" + urlencode(query)
    if fragment:
        url += "#" + urlencode(fragment)
    return url


def redirect_to_view(
    settings: Settings,
    view: str,
    *,
    query: Mapping[str, str] | None = None,
    fragment: Mapping[str, str] | None = None,
) -> Response:
    """303 to :func:`view_url`: the browser follows with a GET, whatever method brought it."""
    location = view_url(settings, view, query=query, fragment=fragment)
    # No Referer leaves the page the link opened: its path held the token.
    headers = {"Location": location, "Referrer-Policy": "no-referrer"}
    return Response(status=303, headers=headers)
