"""Query strings and response bodies of the security events API, named after their intent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .schemas import Input, Output

MAX_PER_PAGE = 100
Cursor = Annotated[str, StringConstraints(max_length=256)]


class SecurityEventQuery(Input):
    """``GET /api/auth/security-events``: newest first, ``cursor`` continues a listing."""

    cursor: Cursor | None = Field(
        None, description="Empty or absent for the newest page, then the previous next_cursor."
    )
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)


class AdminSecurityEventQuery(SecurityEventQuery):
    """``GET /api/admin/security-events``: everyone's events, optionally filtered."""

    user_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Only this user's events.")
    kind: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="Only events of this kind (one of the audit event names)."
    )


class SecurityEventPublic(Output):
    """One security event as its user reads it."""

    id: int
    kind: str
    occurred_at: datetime
    ip: str | None
    user_agent: str | None
    session_id: str | None
    details: dict[str, Any]


class SecurityEventPage(Output):
    """One page, newest first; ``next_cursor`` is null on the last page."""

    items: list[SecurityEventPublic]
    next_cursor: str | None


class AdminSecurityEvent(SecurityEventPublic):
    """One security event as an admin reads it: also whose it is (null: nobody's, say a key
    rotation, or an attempt on no account)."""

    user_id: int | None


class AdminSecurityEventPage(Output):
    items: list[AdminSecurityEvent]
    next_cursor: str | None
