"""The security events API: your own events, and everyone's for admins.

Thin: parse the query, call a flow, render a page. Both listings are reads (GET): they never
open a writing unit of work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app

from ..access import auth_required, require_principal, require_role
from ..event_schemas import (
    AdminSecurityEvent,
    AdminSecurityEventPage,
    AdminSecurityEventQuery,
    SecurityEventPage,
    SecurityEventPublic,
    SecurityEventQuery,
)
from ..flows import security_events
from ..headers import no_store
from ..openapi import describe, responds
from ..schemas import ProblemDetails
from ..security.signing import Signer
from ..signers import secret_keys
from ..state import current_bastion
from ..validation import query_args
from .render import render

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("bastion_security_events", __name__)
bp.after_request(no_store)
admin_bp = Blueprint("bastion_admin_security_events", __name__)
admin_bp.after_request(no_store)


def _admin_only(view: F) -> F:
    """Check the role before the query string: a caller without it learns nothing of it."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_role(current_bastion().settings.security_events_admin_role)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _cursor_signer() -> Signer:
    return Signer.for_purpose(secret_keys(current_app.config), security_events.CURSOR_PURPOSE)


@bp.get("/security-events")
@auth_required
@query_args(SecurityEventQuery)
@responds(200, SecurityEventPage, "A page of your events, newest first")
@responds(422, ProblemDetails, "Invalid arguments, or a malformed or forged cursor")
def list_own_security_events(query: SecurityEventQuery) -> Response:
    """List your account's security events (sign-ins, password changes, ...), newest first."""
    principal = require_principal()
    page = security_events.own_events(
        current_bastion().db.session,
        _cursor_signer(),
        principal.user_id,
        cursor=query.cursor,
        per_page=query.per_page,
    )
    return render(
        SecurityEventPage(
            items=[SecurityEventPublic.model_validate(e) for e in page.items],
            next_cursor=page.next_cursor,
        )
    )


@admin_bp.get("/admin/security-events")
@_admin_only
@query_args(AdminSecurityEventQuery)
@responds(200, AdminSecurityEventPage, "A page of events, newest first")
@responds(403, ProblemDetails, "Without the admin role (BASTION_SECURITY_EVENTS_ADMIN_ROLE)")
@responds(422, ProblemDetails, "Invalid arguments, an unknown kind, or a bad cursor")
def list_security_events(query: AdminSecurityEventQuery) -> Response:
    """List every user's security events, newest first; filter by `user_id` and `kind`."""
    state = current_bastion()
    page = security_events.all_events(
        state.db.session,
        _cursor_signer(),
        user_id=query.user_id,
        kind=query.kind,
        cursor=query.cursor,
        per_page=query.per_page,
    )
    return render(
        AdminSecurityEventPage(
            items=[AdminSecurityEvent.model_validate(e) for e in page.items],
            next_cursor=page.next_cursor,
        )
    )


describe(list_security_events, auth=True, roles=["admin"], tag="admin")
