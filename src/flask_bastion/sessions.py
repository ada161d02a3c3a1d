"""Server-side sessions: open, look up (the per-request hot path), and revoke."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from .config import Settings
from .db import Database, rowcount
from .fast_reads import FastRead
from .models import AuthSession, Role, User, user_roles
from .principal import Principal
from .security.access_tokens import AccessClaims
from .security.tokens import new_public_id, new_token, token_hash

_s = cast(Table, AuthSession.__table__)
_u = cast(Table, User.__table__)
_r = cast(Table, Role.__table__)

# A session, its user and their roles, in one indexed query per request (by token hash for
# cookies, by id for bearer tokens).
_PRINCIPAL = select(
    _s.c.id,
    _s.c.user_id,
    _s.c.kind,
    _s.c.remember,
    _s.c.created_at,
    _s.c.last_seen_at,
    _s.c.authenticated_at,
    _s.c.expires_at,
    _s.c.idle_timeout,
    _u.c.email,
    _u.c.username,
    _u.c.active,
    _u.c.created_at.label("user_created_at"),
    _r.c.name.label("role"),
).select_from(
    _s.join(_u, _u.c.id == _s.c.user_id)
    .outerjoin(user_roles, user_roles.c.user_id == _u.c.id)
    .outerjoin(_r, _r.c.id == user_roles.c.role_id)
)
_LOOKUP = FastRead(_PRINCIPAL.where(_s.c.token_hash == bindparam("token_hash")))
_BY_SESSION_ID = FastRead(_PRINCIPAL.where(_s.c.id == bindparam("sid")))
_TOUCH = update(_s).where(_s.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))
_DROP = delete(_s).where(_s.c.id == bindparam("sid"))


# The kinds of session rows: a browser's (cookie) or an app client's (bearer + refresh tokens).
# "token" is what the API has always called an app session (SessionPublic.kind).
BROWSER_KIND = "browser"
APP_KIND = "token"


@dataclass(frozen=True)
class OpenedSession:
    """A session just created: the secret token goes to the client, once, and never again."""

    token: str
    record: AuthSession


def lifetimes(settings: Settings, remember: bool) -> tuple[int, int]:
    """(idle, absolute) seconds; "remember me" extends both, within their own caps."""
    if remember:
        return settings.remember_idle_timeout, settings.remember_absolute_timeout
    return settings.session_idle_timeout, settings.session_absolute_timeout


def open_session(
    db: Session,
    *,
    user_id: int,
    kind: str,
    remember: bool,
    ip: str,
    user_agent: str,
    settings: Settings,
    now: datetime,
    lifetime: tuple[int, int] | None = None,
) -> OpenedSession:
    """Create a session row holding only the hash of a fresh random token.

    ``lifetime`` (idle, absolute seconds) overrides the browser lifetimes (app sessions use it).
    """
    idle, absolute = lifetime or lifetimes(settings, remember)
    token = new_token()
    record = AuthSession(
        id=new_public_id(),
        token_hash=token_hash(token),
        user_id=user_id,
        kind=kind,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        expires_at=now + timedelta(seconds=absolute),
        idle_timeout=idle,
        ip=ip[:64],
        user_agent=user_agent[:512],
    )
    db.add(record)
    db.flush()
    return OpenedSession(token, record)


def lookup(db: Database, token: str, *, settings: Settings, now: datetime) -> Principal | None:
    """The principal behind a browser's session token, or None when unknown, expired or off."""
    rows = db.read(_LOOKUP, {"token_hash": token_hash(token)})
    return _live_principal(db, rows, settings=settings, now=now)


def for_access_token(
    db: Database, claims: AccessClaims, *, settings: Settings, now: datetime
) -> Principal | None:
    """The principal behind verified access-token claims, or None when its session is gone.

    A token names its session and user: both must match a live app session, so logout,
    deactivation or ending the session elsewhere cut its access tokens off at once.
    """
    rows = db.read(_BY_SESSION_ID, {"sid": claims.session_id})
    if not rows or rows[0].kind != APP_KIND or str(rows[0].user_id) != claims.subject:
        return None
    return _live_principal(db, rows, settings=settings, now=now)


def _live_principal(
    db: Database, rows: Sequence[Any], *, settings: Settings, now: datetime
) -> Principal | None:
    """The principal of rows fetched by a ``_PRINCIPAL`` query, or None when it is not live.

    Expired sessions are deleted as they are found, and ``last_seen_at`` is written at most once
    per ``session_touch_interval`` (a busy session costs one read per request, not a write):
    both as the unit of work's housekeeping, which stands even when the request fails.
    """
    if not rows:
        return None
    row = rows[0]
    if now >= row.expires_at or now >= row.last_seen_at + timedelta(seconds=row.idle_timeout):
        db.housekeeping(_DROP, {"sid": row.id})
        return None
    if not row.active:
        return None
    if (now - row.last_seen_at).total_seconds() >= settings.session_touch_interval:
        db.housekeeping(_TOUCH, {"sid": row.id, "now": now})
    return Principal(
        user_id=row.user_id,
        email=row.email,
        username=row.username,
        roles=frozenset(r.role for r in rows if r.role is not None),
        created_at=row.user_created_at,
        session_id=row.id,
        session_kind=row.kind,
        session_created_at=row.created_at,
        session_expires_at=row.expires_at,
        remember=row.remember,
        authenticated_at=row.authenticated_at,
    )


def revoke(db: Session, session_id: str) -> bool:
    """Delete one session; its token (and anything derived from it) stops working at once."""
    return bool(rowcount(db.execute(delete(AuthSession).where(AuthSession.id == session_id))))


def revoke_returning_user(db: Session, session_id: str) -> int | None:
    """Delete one session, like :func:`revoke`; the id of its user, or None if there was none."""
    stmt = delete(AuthSession).where(AuthSession.id == session_id).returning(AuthSession.user_id)
    user_id: int | None = db.execute(stmt).scalar_one_or_none()
    return user_id


def revoke_token(db: Session, token: str) -> bool:
    """Delete the session a raw token belongs to, if any."""
    stmt = delete(AuthSession).where(AuthSession.token_hash == token_hash(token))
    return bool(rowcount(db.execute(stmt)))


def revoke_all_for_user(db: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user, except ``keep`` (the caller's own) when given."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    return rowcount(db.execute(stmt))
