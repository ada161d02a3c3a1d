"""The pages behind mailed links: each GET answers 303 to a view of the SPA, with context.

Mail scanners open links before people do, so each is safe to open twice: the confirm and
email-change links apply their change once and then report it as done (``already_confirmed``,
``already_changed``); the reset link only checks its token and hands it over in the URL
fragment, where no server log or ``Referer`` sees it, so only the SPA's POST uses it up.
These are the only GET views that write: they say so with ``Database.allow_link_writes``
(docs/architecture.md, "The unit of work").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response

from ..audit import AuditEvent
from ..errors import EmailTaken, TokenExpired, TokenInvalid
from ..flows import confirmation, credentials, recovery
from ..headers import no_store
from ..openapi import responds
from ..spa_redirects import redirect_to_view
from ..state import current_bastion
from .context import flow_context, record

bp = Blueprint("bastion_links", __name__)
bp.after_request(no_store)

F = TypeVar("F", bound=Callable[..., Any])


def writes_on_get(view: F) -> F:
    """Mark a link view whose GET applies a change (idempotently): its unit of work commits."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_bastion().db.allow_link_writes()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _error_context(error: TokenInvalid) -> dict[str, str]:
    if isinstance(error, TokenExpired):
        context = {"code": "expired"}
        if error.email:
            context["email"] = error.email
        return context
    return {"code": "invalid"}


@bp.get("/confirm/<token>")
@writes_on_get
@responds(
    303, None, "To the SPA's confirmed view (?email=, &code=already_confirmed) or its error view"
)
def confirm_link(token: str) -> Response:
    """Confirm an address from the mailed link, then show the SPA's confirmed view."""
    settings = current_bastion().settings
    try:
        done = confirmation.confirm(flow_context(), token)
    except TokenInvalid as error:
        return redirect_to_view(settings, "confirm_error_view", query=_error_context(error))
    query = {"email": done.user.email}
    if done.already:
        query["code"] = "already_confirmed"
    else:
        record(AuditEvent.EMAIL_CONFIRMED, user_id=done.user.id)
    return redirect_to_view(settings, "post_confirm_view", query=query)


@bp.get("/password/reset/<token>")
@responds(303, None, "To the SPA's reset view with #token=..., or its error view (?code=)")
def reset_link(token: str) -> Response:
    """Check a reset link (without using it up) and hand its token to the SPA's reset view."""
    settings = current_bastion().settings
    try:
        recovery.check(flow_context(), token)
    except TokenInvalid as error:
        return redirect_to_view(settings, "reset_error_view", query=_error_context(error))
    return redirect_to_view(settings, "reset_view", fragment={"token": token})


@bp.get("/email/change/<token>")
@writes_on_get
@responds(303, None, "To the SPA's email-changed view (?email=) or its error view (?code=)")
def email_change_link(token: str) -> Response:
    """Apply an email change from the link mailed to the new address."""
    settings = current_bastion().settings
    try:
        done = credentials.apply_email_change(flow_context(), token)
    except EmailTaken:
        return redirect_to_view(settings, "email_change_error_view", query={"code": "email_taken"})
    except TokenInvalid as error:
        return redirect_to_view(settings, "email_change_error_view", query=_error_context(error))
    query = {"email": done.user.email}
    if done.already:
        query["code"] = "already_changed"
    else:
        record(AuditEvent.EMAIL_CHANGED, user_id=done.user.id)
    return redirect_to_view(settings, "post_email_change_view", query=query)
