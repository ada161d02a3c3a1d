"""Signed-in devices: list a user's sessions (browser and app alike), end them, re-authenticate.

Ending a session other than your own needs a recent sign-in, so a stolen session cannot lock
its owner out of all their others. No HTTP here: domain errors only.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import InvalidCredentials, NotFound, ReauthRequired
from ..models import AuthSession
from ..principal import Principal
from ..ratelimit import RateLimits
from ..security.passwords import Passwords
from .accounts import authenticate

# What a session id can look like (the column holds 32 characters); anything else is no session.
SESSION_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")


def live_sessions(db: Session, user_id: int, *, now: datetime) -> list[AuthSession]:
    """The user's sessions that have not timed out, most recently used first."""
    rows = db.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.expires_at > now)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id)
    ).all()
    return [s for s in rows if now < s.last_seen_at + timedelta(seconds=s.idle_timeout)]


def require_recent_sign_in(principal: Principal, settings: Settings, *, now: datetime) -> None:
    """Refuse (401 reauth_required) unless the caller signed in within the reauth window."""
    if now - principal.authenticated_at > timedelta(seconds=settings.reauth_window):
        raise ReauthRequired()


def end_session(
    db: Session, principal: Principal, session_id: str, settings: Settings, *, now: datetime
) -> None:
    """End one of the caller's sessions; someone else's id is 404, as if it did not exist."""
    if not SESSION_ID.fullmatch(session_id):
        raise NotFound("There is no such session.")
    if session_id != principal.session_id:
        require_recent_sign_in(principal, settings, now=now)
    stmt = delete(AuthSession).where(
        AuthSession.id == session_id, AuthSession.user_id == principal.user_id
    )
    if not db.execute(stmt).rowcount:  # type: ignore[attr-defined]
        raise NotFound("There is no such session.")


def end_other_sessions(
    db: Session, principal: Principal, settings: Settings, *, now: datetime
) -> int:
    """End every session of the caller except the current one; how many ended."""
    require_recent_sign_in(principal, settings, now=now)
    stmt = delete(AuthSession).where(
        AuthSession.user_id == principal.user_id, AuthSession.id != principal.session_id
    )
    return int(db.execute(stmt).rowcount)  # type: ignore[attr-defined]


def reauthenticate(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    limits: RateLimits,
    principal: Principal,
    *,
    password: str,
    ip: str,
    now: datetime,
) -> datetime:
    """Confirm the caller's password (with login's rate limits) and renew ``authenticated_at``."""
    user = authenticate(
        db,
        passwords,
        settings,
        limits,
        identity=principal.username,
        password=password,
        ip=ip,
        now=now,
    )
    if user.id != principal.user_id:  # cannot happen while usernames are unique; fail closed
        raise InvalidCredentials()
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == principal.session_id)
        .values(authenticated_at=now)
    )
    return now
