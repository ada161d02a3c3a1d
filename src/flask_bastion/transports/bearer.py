"""How an app client carries its credentials: an access token in ``Authorization: Bearer``.

Verification is the per-request hot path for app clients: the signature is checked with a
cached key, then one indexed query confirms the session still exists and the user is active,
so logout, deactivation or ending the session elsewhere cut the token off on the next request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

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


def authenticate(
    token: str, *, engine: Engine, keys: KeyStore, settings: Settings, now: datetime
) -> Principal:
    """The principal behind a bearer access token; :class:`InvalidToken` when it is not valid."""
    claims = access_tokens.verify(
        token,
        key_for=lambda kid: keys.public_key(kid, now),
        issuer=settings.issuer,
        audience=settings.audience,
        now=now,
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

    def authenticate_bearer(token: str) -> Principal:
        return authenticate(token, engine=engine, keys=keys, settings=settings, now=clock.now())

    return authenticate_bearer
