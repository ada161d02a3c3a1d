"""Mail: an outbox written in the request's unit of work, and senders that deliver it.

``enqueue(ctx, to=..., template=..., context=...)`` is what flows call; docs/mail.md tells the
whole path (settings, the outbox, the sender, the commands, the development viewer).
"""

from __future__ import annotations

from .outbox import RenderedMail, default_context, enqueue, render, template_paths
from .sender import MailNotConfigured, PassResult, Sender, backoff, longest_send
from .status import OutboxStatus, outbox_status
from .url import InvalidMailUrl, MailServer, parse_mail_url
from .worker import MailWorker, start_sending

__all__ = [
    "InvalidMailUrl",
    "MailNotConfigured",
    "MailServer",
    "MailWorker",
    "OutboxStatus",
    "PassResult",
    "RenderedMail",
    "Sender",
    "backoff",
    "default_context",
    "enqueue",
    "longest_send",
    "outbox_status",
    "parse_mail_url",
    "render",
    "start_sending",
    "template_paths",
]
