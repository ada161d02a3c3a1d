"""Mail: an outbox written in the request's unit of work, and senders that deliver it.

``enqueue(ctx, to=..., template=..., context=...)`` is what flows call; docs/mail.md tells the
whole path (settings, the outbox, the sender, the commands, the development viewer).
"""

from __future__ import annotations

from .outbox import RenderedMail, default_context, enqueue, render, template_paths

__all__ = ["RenderedMail", "default_context", "enqueue", "render", "template_paths"]
