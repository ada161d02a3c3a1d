"""Reading the security events table: a user's own events, and everyone's for admins.

Pages walk the primary key newest first (ids only grow), after an opaque signed cursor, so a
page costs the same at any depth; each listing is backed by an index of ``(filter, id)``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import Session

from ..audit import AuditEvent, known_kinds
from ..errors import FieldError, ValidationFailed
from ..models import SecurityEvent
from ..security.signing import Signer

# The signer's purpose; renaming it voids every cursor a client holds.
CURSOR_PURPOSE = "security-events-cursor"
MAX_ID = 2**63 - 1
_CURSOR = re.compile(r"^v1 (?P<id>[0-9]{1,19})$")

# What a user is not shown of their own: their own refused probes (a 403, a CSRF refusal) and
# a harmless race between two of their app's refreshes. Admins see them.
HIDDEN_FROM_USER = frozenset(
    {AuditEvent.ACCESS_DENIED, AuditEvent.CSRF_FAILED, AuditEvent.REFRESH_TOKEN_RACE_LOST}
)

_e = cast(Table, SecurityEvent.__table__)
# In the order of StoredEvent's fields.
_COLUMNS = (
    _e.c.id,
    _e.c.kind,
    _e.c.occurred_at,
    _e.c.user_id,
    _e.c.ip,
    _e.c.user_agent,
    _e.c.session_id,
    _e.c.details,
)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    kind: str
    occurred_at: datetime
    user_id: int | None
    ip: str | None
    user_agent: str | None
    session_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class EventPage:
    items: Sequence[StoredEvent]
    next_cursor: str | None


def own_events(
    db: Session, signer: Signer, user_id: int, *, cursor: str | None, per_page: int
) -> EventPage:
    """A page of ``user_id``'s own events, newest first (by the ``(user_id, id)`` index)."""
    conditions = [_e.c.user_id == user_id, _e.c.kind.not_in(sorted(HIDDEN_FROM_USER))]
    return _page(db, signer, conditions, cursor=cursor, per_page=per_page)


def all_events(
    db: Session,
    signer: Signer,
    *,
    user_id: int | None,
    kind: str | None,
    cursor: str | None,
    per_page: int,
) -> EventPage:
    """A page of everyone's events, newest first, optionally of one user and/or one kind."""
    conditions: list[ColumnElement[bool]] = []
    if kind is not None:
        if kind not in known_kinds():
            raise ValidationFailed(
                errors=[FieldError("kind", "unknown_kind", "No event has this kind.")]
            )
        conditions.append(_e.c.kind == kind)
    if user_id is not None:
        conditions.append(_e.c.user_id == user_id)
    return _page(db, signer, conditions, cursor=cursor, per_page=per_page)


def _page(
    db: Session,
    signer: Signer,
    conditions: list[ColumnElement[bool]],
    *,
    cursor: str | None,
    per_page: int,
) -> EventPage:
    if cursor:
        try:
            after = decode_cursor(signer, cursor)
        except ValueError:
            error = FieldError("cursor", "invalid_cursor", "The cursor is malformed or forged.")
            raise ValidationFailed(errors=[error]) from None
        conditions = [*conditions, _e.c.id < after]
    stmt = select(*_COLUMNS).where(*conditions).order_by(_e.c.id.desc()).limit(per_page + 1)
    rows = db.execute(stmt).all()
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = encode_cursor(signer, rows[-1].id)
    return EventPage([StoredEvent(*row) for row in rows], next_cursor)


def encode_cursor(signer: Signer, last_id: int) -> str:
    """The cursor after the row ``last_id``: signed, so clients cannot craft positions."""
    payload = f"v1 {last_id}"
    encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{encoded}.{signer.sign(payload)}"


def decode_cursor(signer: Signer, cursor: str) -> int:
    """The id a cursor continues after; ValueError for anything malformed or forged."""
    encoded, dot, signature = cursor.partition(".")
    if not dot or not encoded or len(cursor) > 256:
        raise ValueError("malformed cursor")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("malformed cursor") from None
    # Constant-time (Signer.verify): a cursor's MAC must not be found byte by byte.
    if not signer.verify(payload, signature):
        raise ValueError("forged cursor")
    match = _CURSOR.match(payload)
    if match is None or not 1 <= int(match["id"]) <= MAX_ID:
        raise ValueError("malformed cursor")
    return int(match["id"])
