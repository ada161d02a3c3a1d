"""The library's mail templates, and ``/dev/mail``: the outbox as a page, in development only.

Without ``BASTION_MAIL_URL`` nothing is sent in development; this page is where the mails go
instead, so a sign-up or a password reset can be followed to its end on a bare machine. Outside
development it does not exist (404): it shows every mail's links, which sign people in.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from ..models import OutboxMessage
from ..state import current_bastion

# template_folder: the app finds bastion/mail/* here after its own folder, so an app overrides a
# mail by shipping the same path.
bp = Blueprint("bastion_mail", __name__, template_folder="../templates")

SHOWN = 100
URL = re.compile(r"https?://[^\s<>\"']+")

# The list page: no script at all; it frames only our own mail bodies.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# A mail's HTML body, framed by the list page: sandboxed (its own origin, no script, no forms);
# its links open in a new tab, outside the sandbox, like links in a mail client.
BODY_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
OPEN_LINKS_OUTSIDE = '<base target="_blank">'


def _development_only() -> None:
    if not current_bastion().settings.development:
        abort(404)


def linked(text: str) -> Markup:
    """Plain text, escaped, with each http(s) URL made a link."""
    out = Markup()
    position = 0
    for found in URL.finditer(text):
        url = found.group(0).rstrip(".,;:!?)")
        out += escape(text[position : found.start()])
        out += Markup('<a href="{0}">{0}</a>').format(url)
        position = found.start() + len(url)
    return out + escape(text[position:])


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # mails hold tokens
    return response


@bp.get("/dev/mail")
def outbox_page() -> Response:
    """The outbox, newest first (development only)."""
    _development_only()
    state = current_bastion()
    messages = state.db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    ).all()
    page = render_template(
        "bastion/dev_mail.html",
        messages=messages,
        linked=linked,
        sending=bool(state.settings.mail_url),
        shown=SHOWN,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return _no_store(response)


@bp.get("/dev/mail/<int:message_id>/html")
def message_html(message_id: int) -> Response:
    """One mail's HTML part, sandboxed, for the list page's frame (development only)."""
    _development_only()
    message = current_bastion().db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    response = Response(OPEN_LINKS_OUTSIDE + message.html_body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = BODY_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return _no_store(response)
