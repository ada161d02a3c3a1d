"""How an app client carries its credentials: an access token in ``Authorization: Bearer``.

Verification is the per-request hot path for app clients: the signature is checked with a
cached key, then one indexed query confirms the session still exists and the user is active,
so logout, deactivation or ending the session elsewhere cut the token off on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import jwt
from sqlalchemy import Engine

from .. import clock, sessions
from ..config import Settings
from ..db import fetch_all
from ..errors import InvalidToken
from ..principal import Principal
from ..security import access_tokens
from ..signing_keys import KeyStore


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
    rows = fetch_all(engine, sessions.BY_SESSION_ID, {"sid": claims.session_id})
    # A token names its session and user: both must match a live app session, so logout,
    # deactivation or ending the session elsewhere cut its access tokens off at once.
    if not rows or rows[0].kind != "token" or str(rows[0].user_id) != claims.subject:
        raise InvalidToken()
    principal = sessions.live_principal(engine, rows, settings=settings, now=now)
    if principal is None:
        raise InvalidToken()
    return principal


def authenticator(engine: Engine, keys: KeyStore, settings: Settings) -> Callable[[str], Principal]:
    """The ``BastionState.authenticate_bearer`` hook for these keys and this database."""

    memo = VerifiedTokens()

    def authenticate_bearer(token: str) -> Principal:
        return authenticate(
            token, engine=engine, keys=keys, settings=settings, now=clock.now(), memo=memo
        )

    return authenticate_bearer
