"""Server-side sessions: open, look up (the per-request hot path), and revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, bindparam, delete, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from .config import Settings
from .db import UTCDateTime
from .models import AuthSession, Role, User, user_roles
from .principal import Principal
from .security.tokens import new_public_id, new_token, token_hash

_s = cast(Table, AuthSession.__table__)
_u = cast(Table, User.__table__)
_r = cast(Table, Role.__table__)

# One indexed query per request: the session by its token hash, its user, and their roles.
_LOOKUP = (
    select(
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
    )
    .select_from(
        _s.join(_u, _u.c.id == _s.c.user_id)
        .outerjoin(user_roles, user_roles.c.user_id == _u.c.id)
        .outerjoin(_r, _r.c.id == user_roles.c.role_id)
    )
    .where(_s.c.token_hash == bindparam("token_hash"))
)
_TOUCH = update(_s).where(_s.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))
_DROP = delete(_s).where(_s.c.id == bindparam("sid"))


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


@dataclass(frozen=True)
class _Prepared:
    """``_LOOKUP`` compiled once for a dialect, to run on the pooled DBAPI connection."""

    sql: str
    positional: tuple[str, ...] | None

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> _Prepared:
        compiled = _LOOKUP.compile(dialect=dialect)
        names = compiled.positiontup if dialect.positional else None
        return cls(compiled.string, tuple(names) if names is not None else None)

    def parameters(self, values: dict[str, Any]) -> Any:
        if self.positional is None:
            return values
        return tuple(values[name] for name in self.positional)


_prepared: WeakKeyDictionary[Dialect, _Prepared] = WeakKeyDictionary()
_UTC = UTCDateTime()
# Column positions in a _LOOKUP row.
(_ID, _USER_ID, _KIND, _REMEMBER, _CREATED, _LAST_SEEN, _AUTHENTICATED, _EXPIRES, _IDLE) = range(9)
(_EMAIL, _USERNAME, _ACTIVE, _USER_CREATED, _ROLE) = range(9, 14)


def _fetch(engine: Engine, token: str) -> list[Any]:
    # The hot path skips SQLAlchemy's execution layer (about 50 us a request): the SQL is
    # compiled once per dialect and run on the pool's DBAPI connection; the pool still resets
    # (rolls back) the connection when it goes back.
    prepared = _prepared.get(engine.dialect)
    if prepared is None:
        prepared = _prepared[engine.dialect] = _Prepared.for_dialect(engine.dialect)
    connection = engine.raw_connection()
    # On PostgreSQL a lone SELECT in autocommit is one round trip; in a transaction it is
    # three (BEGIN, the SELECT, and the ROLLBACK of the pool's reset).
    autocommit = connection.dbapi_connection if engine.dialect.name == "postgresql" else None
    try:
        if autocommit is not None:
            engine.dialect.set_isolation_level(autocommit, "AUTOCOMMIT")
        cursor = connection.cursor()
        try:
            cursor.execute(prepared.sql, prepared.parameters({"token_hash": token_hash(token)}))
            return list(cursor.fetchall())
        finally:
            cursor.close()
    finally:
        if autocommit is not None:
            engine.dialect.reset_isolation_level(autocommit)
        connection.close()


def lookup(engine: Engine, token: str, *, settings: Settings, now: datetime) -> Principal | None:
    """The principal behind a session token, or None when unknown, expired or deactivated.

    Expired sessions are deleted as they are found. ``last_seen_at`` is written at most once
    per ``session_touch_interval``, so a busy session costs one read per request, not a write.
    """
    rows = _fetch(engine, token)
    if not rows:
        return None
    row = rows[0]
    dialect = engine.dialect
    last_seen = _as_utc(row[_LAST_SEEN], dialect)
    expires_at = _as_utc(row[_EXPIRES], dialect)
    if now >= expires_at or now >= last_seen + timedelta(seconds=row[_IDLE]):
        with engine.begin() as conn:
            conn.execute(_DROP, {"sid": row[_ID]})
        return None
    if not row[_ACTIVE]:
        return None
    if (now - last_seen).total_seconds() >= settings.session_touch_interval:
        with engine.begin() as conn:
            conn.execute(_TOUCH, {"sid": row[_ID], "now": now})
    return Principal(
        user_id=row[_USER_ID],
        email=row[_EMAIL],
        username=row[_USERNAME],
        roles=frozenset(r[_ROLE] for r in rows if r[_ROLE] is not None),
        created_at=_as_utc(row[_USER_CREATED], dialect),
        session_id=row[_ID],
        session_kind=row[_KIND],
        session_created_at=_as_utc(row[_CREATED], dialect),
        session_expires_at=expires_at,
        remember=bool(row[_REMEMBER]),
        authenticated_at=_as_utc(row[_AUTHENTICATED], dialect),
    )


def _as_utc(value: Any, dialect: Dialect) -> datetime:
    converted = _UTC.process_result_value(value, dialect)
    assert converted is not None  # these columns are NOT NULL
    return converted


def revoke(db: Session, session_id: str) -> bool:
    """Delete one session; its token (and anything derived from it) stops working at once."""
    return bool(db.execute(delete(AuthSession).where(AuthSession.id == session_id)).rowcount)  # type: ignore[attr-defined]


def revoke_token(db: Session, token: str) -> bool:
    """Delete the session a raw token belongs to, if any."""
    stmt = delete(AuthSession).where(AuthSession.token_hash == token_hash(token))
    return bool(db.execute(stmt).rowcount)  # type: ignore[attr-defined]


def revoke_all_for_user(db: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user, except ``keep`` (the caller's own) when given."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    return int(db.execute(stmt).rowcount)  # type: ignore[attr-defined]
