"""App-client token rules: open an app session, rotate refresh tokens, detect reuse, revoke.

An app session is an ``auth_sessions`` row of kind ``sessions.APP_KIND``; its refresh tokens are
one rotation family. No HTTP here: domain errors only.

Concurrency rule (docs/tokens.md): exchanging a refresh token is one conditional UPDATE
(``used_at IS NULL``), so exactly one of several concurrent requests with the same token wins.
The others get 401 ``invalid_grant`` and, when they arrive within ``refresh_grace_period`` of the
winning exchange, the family stays alive for the winner. A used token presented after the grace
period is a replay: the whole family and its session are revoked, and that revocation stands
although the request fails (:class:`~flask_bastion.errors.FamilyRevoked` keeps its writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from .. import sessions
from ..config import Settings
from ..db import rowcount
from ..errors import FamilyRevoked, InvalidGrant, InvalidToken, RefreshRaceLost
from ..models import AuthSession, RefreshToken, User
from ..security.tokens import new_token, token_hash
from .context import FlowContext

_rt = cast(Table, RefreshToken.__table__)
_s = cast(Table, AuthSession.__table__)
_u = cast(Table, User.__table__)


@dataclass(frozen=True)
class IssuedTokens:
    """A fresh access token and refresh token; the refresh token is shown to the client once."""

    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


def _new_refresh_token(db: Session, session_id: str, settings: Settings, now: datetime) -> str:
    token = new_token()
    db.execute(
        insert(_rt).values(
            session_id=session_id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_idle_timeout),
            used_at=None,
        )
    )
    return token


def open_app_session(ctx: FlowContext, user: User) -> tuple[IssuedTokens, AuthSession]:
    """Start an app session for a signed-in ``user``: a new family and its first pair."""
    settings = ctx.settings
    # Resolve the signing key before the first write (see AccessTokens.issue).
    ctx.access_tokens.keys.signing_key(ctx.now)
    opened = sessions.open_session(
        ctx.db,
        user_id=user.id,
        kind=sessions.APP_KIND,
        remember=False,
        ip=ctx.client.ip,
        user_agent=ctx.client.user_agent,
        settings=settings,
        now=ctx.now,
        lifetime=(settings.refresh_idle_timeout, settings.refresh_absolute_timeout),
    )
    session_id = opened.record.id
    refresh_token = _new_refresh_token(ctx.db, session_id, settings, ctx.now)
    access = ctx.access_tokens.issue(user_id=user.id, session_id=session_id, now=ctx.now)
    issued = IssuedTokens(access, refresh_token, settings.access_token_lifetime, session_id)
    return issued, opened.record


def refresh(ctx: FlowContext, *, refresh_token: str) -> IssuedTokens:
    """Exchange a refresh token for a new pair, retiring it; a replay revokes the family."""
    db, settings, now = ctx.db, ctx.settings, ctx.now
    ctx.access_tokens.keys.signing_key(now)  # before the first write (see AccessTokens.issue)
    row = db.execute(
        select(
            _rt.c.id,
            _rt.c.session_id,
            _rt.c.expires_at,
            _rt.c.used_at,
            _s.c.user_id,
            _s.c.expires_at.label("session_expires_at"),
            _u.c.active,
        )
        .select_from(_rt.join(_s, _s.c.id == _rt.c.session_id).join(_u, _u.c.id == _s.c.user_id))
        .where(_rt.c.token_hash == token_hash(refresh_token))
    ).one_or_none()
    if row is None:
        raise InvalidGrant()
    if row.used_at is not None:
        if now - row.used_at <= timedelta(seconds=settings.refresh_grace_period):
            # A concurrent retry (two tabs, a timeout) lost the race: the winner keeps the family.
            raise RefreshRaceLost(session_id=row.session_id, user_id=row.user_id)
        # Deleting the session deletes its refresh tokens (FK cascade) and voids its access tokens.
        sessions.revoke(db, row.session_id)
        raise FamilyRevoked(session_id=row.session_id, user_id=row.user_id, replay=True)
    if now >= row.expires_at or now >= row.session_expires_at or not row.active:
        sessions.revoke(db, row.session_id)
        raise FamilyRevoked(session_id=row.session_id, user_id=row.user_id, replay=False)
    # Lock the session row first, as revocation (a DELETE of it) does: one lock order, no
    # deadlock; and a session ended a moment ago updates nothing.
    touched = rowcount(
        db.execute(update(_s).where(_s.c.id == row.session_id).values(last_seen_at=now))
    )
    # The atomic exchange: of concurrent requests, exactly one sees used_at still NULL.
    exchanged = rowcount(
        db.execute(
            update(_rt).where(_rt.c.id == row.id, _rt.c.used_at.is_(None)).values(used_at=now)
        )
    )
    if touched != 1 or exchanged != 1:
        raise RefreshRaceLost(session_id=row.session_id, user_id=row.user_id)
    new_refresh = _new_refresh_token(db, row.session_id, settings, now)
    access = ctx.access_tokens.issue(user_id=row.user_id, session_id=row.session_id, now=now)
    return IssuedTokens(access, new_refresh, settings.access_token_lifetime, row.session_id)


def revoke(ctx: FlowContext, *, token: str) -> RevokedSession | None:
    """RFC 7009: end the session of a refresh or access token; unknown tokens are no error.

    Answers the session that ended (and whose it was), if one did.
    """
    session_id = ctx.db.execute(
        select(_rt.c.session_id).where(_rt.c.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if session_id is None:
        try:
            session_id = ctx.access_tokens.verify(token, ctx.now).session_id
        except InvalidToken:
            return None
    user_id = sessions.revoke_returning_user(ctx.db, session_id)
    return None if user_id is None else RevokedSession(session_id, user_id)


@dataclass(frozen=True)
class RevokedSession:
    """A session that a revocation ended, and its user (the security log names both)."""

    session_id: str
    user_id: int
