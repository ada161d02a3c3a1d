"""App-client token rules: open a token session, rotate refresh tokens, detect reuse, revoke.

A token session is an ``auth_sessions`` row of kind "token"; its refresh tokens are one rotation
family. No HTTP here: domain errors only.

Concurrency rule (docs/tokens.md): exchanging a refresh token is one conditional UPDATE
(``used_at IS NULL``), so exactly one of several concurrent requests with the same token wins.
The others get 401 ``invalid_grant`` and, when they arrive within ``refresh_grace_period`` of the
winning exchange, the family stays alive for the winner. A used token presented after the grace
period is a replay: the whole family and its session are revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from .. import sessions
from ..config import Settings
from ..errors import InvalidGrant, InvalidToken
from ..logs import audit
from ..models import AuthSession, RefreshToken, User
from ..security import access_tokens
from ..security.tokens import new_token, token_hash
from ..signing_keys import KeyStore, LoadedKey
from .accounts import Client

_rt = cast(Table, RefreshToken.__table__)
_s = cast(Table, AuthSession.__table__)
_u = cast(Table, User.__table__)

APP_SESSION_KIND = "token"


@dataclass(frozen=True)
class IssuedTokens:
    """A fresh access token and refresh token; the refresh token is shown to the client once."""

    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


def access_token_for(
    key: LoadedKey, settings: Settings, *, user_id: int, session_id: str, now: datetime
) -> str:
    """Sign an access token with ``key`` (resolved before any write transaction begins)."""
    assert key.private_key is not None
    return access_tokens.issue(
        private_key=key.private_key,
        kid=key.kid,
        issuer=settings.issuer,
        audience=settings.audience,
        subject=str(user_id),  # the stable id: emails change and must not key anything
        session_id=session_id,
        lifetime=settings.access_token_lifetime,
        now=now,
    )


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


def open_token_session(
    db: Session,
    signing_key: LoadedKey,
    settings: Settings,
    user: User,
    *,
    client: Client,
    now: datetime,
) -> IssuedTokens:
    """Start an app session for an authenticated ``user``: a new family and its first pair."""
    opened = sessions.open_session(
        db,
        user_id=user.id,
        kind=APP_SESSION_KIND,
        remember=False,
        ip=client.ip,
        user_agent=client.user_agent,
        settings=settings,
        now=now,
        lifetime=(settings.refresh_idle_timeout, settings.refresh_absolute_timeout),
    )
    session_id = opened.record.id
    refresh = _new_refresh_token(db, session_id, settings, now)
    access = access_token_for(
        signing_key, settings, user_id=user.id, session_id=session_id, now=now
    )
    return IssuedTokens(access, refresh, settings.access_token_lifetime, session_id)


def refresh(
    db: Session, signing_key: LoadedKey, settings: Settings, *, refresh_token: str, now: datetime
) -> IssuedTokens:
    """Exchange a refresh token for a new pair, retiring it; a replay revokes the family.

    Revocations are committed before :class:`InvalidGrant` is raised: they must stand even
    though the request fails.
    """
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
            audit("refresh_token_race_lost", session_id=row.session_id, user_id=row.user_id)
            raise InvalidGrant()
        _revoke_family(db, row.session_id)
        audit(
            "refresh_token_reused",
            security=True,
            session_id=row.session_id,
            user_id=row.user_id,
        )
        raise InvalidGrant()
    if now >= row.expires_at or now >= row.session_expires_at or not row.active:
        _revoke_family(db, row.session_id)
        raise InvalidGrant()
    # Lock the session row first, as revocation (a DELETE of it) does: one lock order, no
    # deadlock; and a session ended a moment ago updates nothing.
    touched = _rowcount(
        db.execute(update(_s).where(_s.c.id == row.session_id).values(last_seen_at=now))
    )
    # The atomic exchange: of concurrent requests, exactly one sees used_at still NULL.
    exchanged = _rowcount(
        db.execute(
            update(_rt).where(_rt.c.id == row.id, _rt.c.used_at.is_(None)).values(used_at=now)
        )
    )
    if touched != 1 or exchanged != 1:
        audit("refresh_token_race_lost", session_id=row.session_id, user_id=row.user_id)
        raise InvalidGrant()
    new_refresh = _new_refresh_token(db, row.session_id, settings, now)
    access = access_token_for(
        signing_key, settings, user_id=row.user_id, session_id=row.session_id, now=now
    )
    return IssuedTokens(access, new_refresh, settings.access_token_lifetime, row.session_id)


def _rowcount(result: object) -> int:
    return int(cast(CursorResult[tuple[()]], result).rowcount)


def _revoke_family(db: Session, session_id: str) -> None:
    # Deleting the session deletes its refresh tokens (FK cascade) and voids its access tokens.
    sessions.revoke(db, session_id)
    db.commit()


def revoke(db: Session, keys: KeyStore, settings: Settings, *, token: str, now: datetime) -> None:
    """RFC 7009: end the session of a refresh or access token; unknown tokens are no error."""
    session_id = db.execute(
        select(_rt.c.session_id).where(_rt.c.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if session_id is None:
        try:
            claims = access_tokens.verify(
                token,
                key_for=lambda kid: keys.public_key(kid, now),
                issuer=settings.issuer,
                audience=settings.audience,
                now=now,
            )
        except InvalidToken:
            return
        session_id = claims.session_id
    if sessions.revoke(db, session_id):
        audit("token_revoked", session_id=session_id)
