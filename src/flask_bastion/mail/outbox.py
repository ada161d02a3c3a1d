"""Queueing a mail: render its templates and add it to the outbox, in the caller's unit of work.

Nothing here talks to a mail server. The row commits with the change that caused the mail (a
registration, a reset request) or rolls back with it; a sender (:mod:`.sender`) delivers it later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import make_msgid

from flask import current_app

from ..config import Settings
from ..flows.context import FlowContext
from ..models import OutboxMessage

TEMPLATE_DIRECTORY = "bastion/mail"
# A template name is a file name stem, never a path: callers cannot reach outside the directory.
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class RenderedMail:
    """A mail's three parts, as its templates rendered them."""

    subject: str
    text: str
    html: str


def template_paths(template: str) -> tuple[str, str, str]:
    """The subject, text and HTML template paths of a mail (``bastion/mail/<name>.*``)."""
    if not TEMPLATE_NAME.fullmatch(template):
        raise ValueError(f"not a mail template name: {template!r}")
    base = f"{TEMPLATE_DIRECTORY}/{template}"
    return f"{base}.subject.txt", f"{base}.txt", f"{base}.html"


def default_context(settings: Settings) -> dict[str, object]:
    """What every mail template may use besides its own context.

    ``public_url`` (without a trailing slash, so ``{{ public_url }}/path`` reads right),
    ``app_name`` (``BASTION_MAIL_APP_NAME`` or the public host) and ``mail_from``.
    """
    return {
        "public_url": settings.public_url.rstrip("/"),
        "app_name": settings.app_name,
        "mail_from": settings.sender_address,
    }


def render(settings: Settings, template: str, context: Mapping[str, object]) -> RenderedMail:
    """Render a mail's templates through the current app's Jinja environment.

    An app overrides any of them by shipping a template at the same path in its own template
    folder (the app's folder is searched before the library's). The HTML part is autoescaped
    (Flask escapes ``.html`` templates); the subject and text parts are not (they are not HTML).
    The subject is one line: its whitespace, newlines included, is collapsed.
    """
    subject_path, text_path, html_path = template_paths(template)
    values = {**default_context(settings), **context}
    env = current_app.jinja_env
    subject = " ".join(env.get_template(subject_path).render(values).split())
    text = env.get_template(text_path).render(values)
    html = env.get_template(html_path).render(values)
    return RenderedMail(subject=subject, text=text, html=html)


def _one_line(name: str, value: str) -> str:
    # A CR or LF in a header value would start a header of the caller's (or an attacker's) making.
    if "\r" in value or "\n" in value:
        raise ValueError(f"a mail's {name} must be one line")
    return value


def enqueue(
    ctx: FlowContext, *, to: str, template: str, context: Mapping[str, object]
) -> OutboxMessage:
    """Queue the mail ``template`` to ``to``: render it and add it to ``ctx.db``.

    The row is part of the caller's unit of work: it is committed with the change that caused
    it, or rolled back with it, and never sent inline (an answer that waited on a mail server
    would be slower, and would tell apart the cases that send mail). A sender delivers it as
    soon as it can (docs/mail.md).

    :param ctx: the flow context; its ``db`` receives the row and its ``now`` dates it.
    :param to: one recipient address.
    :param template: the name of the mail: ``bastion/mail/<template>.subject.txt``, ``.txt``
        and ``.html``.
    :param context: the templates' variables, over :func:`default_context`.
    """
    mail = render(ctx.settings, template, context)
    domain = ctx.settings.sender_address.rpartition("@")[2] or ctx.settings.public_host
    message = OutboxMessage(
        to_address=_one_line("recipient", to.strip()),
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        template=template,
        message_id=make_msgid(domain=domain),
        created_at=ctx.now,
        status="queued",
        attempts=0,
        next_attempt_at=ctx.now,
    )
    ctx.db.add(message)
    return message
