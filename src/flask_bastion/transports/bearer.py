"""How an app client carries its credentials: an access token in ``Authorization: Bearer``.

Verification is the per-request hot path for app clients: the signature is checked with a
cached key, then one indexed query confirms the session still exists and the user is active,
so logout, deactivation or ending the session elsewhere cut the token off on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

import jwt
from sqlalchemy import Engine, Table, bindparam, select, update

from .. import clock
from ..config import Settings
from ..db import fetch_all
from ..errors import InvalidToken
from ..models import AuthSession, Role, User, user_roles
from ..principal import Principal
from ..security import access_tokens
from ..signing_keys import KeyStore

_s = cast(Table, AuthSession.__table__)
_u = cast(Table, User.__table__)
_r = cast(Table, Role.__table__)

# The session by its primary key, its user, and their roles: one indexed query.
_BY_SESSION = (
    select(
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
    )
    .select_from(
        _s.join(_u, _u.c.id == _s.c.user_id)
        .outerjoin(user_roles, user_roles.c.user_id == _u.c.id)
        .outerjoin(_r, _r.c.id == user_roles.c.role_id)
    )
    .where(_s.c.id == bindparam("sid"))
)
_TOUCH = update(_s).where(_s.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))


class VerifiedTokens:
    """A bounded memo of access tokens whose signature and claims have already been verified.

    An Ed25519 verification costs about as much as a whole small request, and a client sends the
    same token for minutes. A hit still re-checks expiry and that the signing key is still
    published; the session query (revocation, deactivation, roles) runs on every request.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: dict[str, tuple[access_tokens.AccessClaims, str]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, keys: KeyStore, now: datetime) -> access_tokens.AccessClaims | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        claims, kid = entry
        if now.timestamp() >= claims.expires_at or keys.public_key(kid, now) is None:
            self._entries.pop(token, None)
            return None
        return claims

    def put(self, token: str, claims: access_tokens.AccessClaims) -> None:
        kid = jwt.get_unverified_header(token)["kid"]
        with self._lock:
            while len(self._entries) >= self.capacity:  # oldest first: dicts keep insertion order
                self._entries.pop(next(iter(self._entries)), None)
            self._entries[token] = (claims, kid)


def verified_claims(
    token: str, *, keys: KeyStore, settings: Settings, now: datetime, memo: VerifiedTokens
) -> access_tokens.AccessClaims:
    """The token's claims: from the memo when this token already passed every check."""
    claims = memo.get(token, keys, now)
    if claims is None:
        claims = access_tokens.verify(
            token,
            key_for=lambda kid: keys.public_key(kid, now),
            issuer=settings.issuer,
            audience=settings.audience,
            now=now,
        )
        memo.put(token, claims)
    return claims


def authenticate(
    token: str,
    *,
    engine: Engine,
    keys: KeyStore,
    settings: Settings,
    now: datetime,
    memo: VerifiedTokens | None = None,
) -> Principal:
    """The principal behind a bearer access token; :class:`InvalidToken` when it is not valid."""
    claims = verified_claims(
        token, keys=keys, settings=settings, now=now, memo=memo or VerifiedTokens(1)
    )
    rows = fetch_all(engine, _BY_SESSION, {"sid": claims.session_id})
    if not rows:  # the session was ended: its access tokens die with it
        raise InvalidToken()
    row = rows[0]
    if (
        row.kind != "token"
        or str(row.user_id) != claims.subject
        or not row.active
        or now >= row.expires_at
        or now >= row.last_seen_at + timedelta(seconds=row.idle_timeout)
    ):
        raise InvalidToken()
    if (now - row.last_seen_at).total_seconds() >= settings.session_touch_interval:
        with engine.begin() as conn:
            conn.execute(_TOUCH, {"sid": claims.session_id, "now": now})
    return Principal(
        user_id=row.user_id,
        email=row.email,
        username=row.username,
        roles=frozenset(r.role for r in rows if r.role is not None),
        created_at=row.user_created_at,
        session_id=claims.session_id,
        session_kind=row.kind,
        session_created_at=row.created_at,
        session_expires_at=row.expires_at,
        remember=row.remember,
        authenticated_at=row.authenticated_at,
    )


def authenticator(engine: Engine, keys: KeyStore, settings: Settings) -> Callable[[str], Principal]:
    """The ``BastionState.authenticate_bearer`` hook for these keys and this database."""

    memo = VerifiedTokens()

    def authenticate_bearer(token: str) -> Principal:
        return authenticate(
            token, engine=engine, keys=keys, settings=settings, now=clock.now(), memo=memo
        )

    return authenticate_bearer
