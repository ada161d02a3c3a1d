"""The database: one engine per app, one unit of work per request, UTC timestamps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from flask import g, has_request_context, request
from sqlalchemy import DateTime, Engine, Executable, create_engine, event
from sqlalchemy.engine import CursorResult, Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from .fast_reads import FastRead


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend and always hands back aware UTC datetimes."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite aggregates can hand back the stored text
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


def make_engine(url: str, **options: Any) -> Engine:
    """An engine tuned for the backend: WAL and foreign keys on SQLite, a real pool elsewhere."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            poolclass=StaticPool if in_memory else None,
            **options,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FKs unless asked
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    # A server that restarted leaves dead connections in the pool: a connection that sat idle
    # is tested at checkout (see _ping_if_idle below), so the app recovers by itself.
    # A request waits this long for a free connection, then answers 503 instead of hanging.
    options.setdefault("pool_timeout", POOL_TIMEOUT)
    connect_args: dict[str, Any] = {**options.pop("connect_args", {})}
    if url.startswith("postgresql"):
        # A host that is down or drops packets fails within seconds, not the kernel's minutes.
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
        # A server that vanishes mid-query (no reset, no answer) drops the connection once
        # what we sent stays unacknowledged this long, instead of after TCP's ~15 minutes.
        connect_args.setdefault("tcp_user_timeout", TCP_USER_TIMEOUT * 1000)
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # SQLAlchemy's pool_pre_ping pings on every checkout: one more round trip for each
        # request (about 70 us a checkout here, 20-30% of a session request). A connection
        # handed back moments ago was alive then; only one that sat idle is tested. A dead one
        # is replaced (the pool retries the checkout); a server that dies mid-burst fails those
        # few requests with 503, and the error invalidates the rest of the pool.
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the pooled connection is dead") from error

    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _postgres_timeouts(dbapi_connection: Any, _record: Any) -> None:
            # A runaway query or a lock held by a stuck transaction must not pin a worker
            # thread for ever; set per connection so the URL's own `options` stay untouched.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(STATEMENT_TIMEOUT * 1000)}")
                cursor.execute(f"SET lock_timeout = {int(LOCK_TIMEOUT * 1000)}")
            dbapi_connection.autocommit = autocommit

    return engine


# Seconds. Short enough that an outage answers 503 while the client still waits; long
# enough for a healthy server under load. The statement and lock timeouts also bound
# migrations, which run on the same engine: a migration that needs longer is run by hand.
CONNECT_TIMEOUT = 3
PING_AFTER_IDLE = 1.0
_IDLE_SINCE = "bastion_idle_since"
TCP_USER_TIMEOUT = 10
POOL_TIMEOUT = 5
STATEMENT_TIMEOUT = 30
LOCK_TIMEOUT = 10


class Database:
    """An engine, and the one way views and flows reach it: the request's unit of work.

    ``db.session`` is the current request's ORM session. Everything a request writes goes
    through it and is committed once, when the view has returned and before the response leaves
    (:meth:`finish`, called by the extension); an error rolls it back unless the error's class
    says its writes must stand (``keep_writes``). Flows never commit.
    """

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = make_engine(url, **engine_options)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # Requests that must not change state (GET, HEAD, OPTIONS: RFC 9110 9.2.1) are never
        # committed, and neither is the credential lookup every request starts with. On
        # PostgreSQL they read in autocommit: one round trip per statement instead of BEGIN,
        # SELECT and ROLLBACK; each statement sees committed data, as under READ COMMITTED.
        # They get a pool of their own whose connections stay in autocommit: switching a
        # connection there and back costs psycopg five calls into the driver on every checkout
        # (about 100 us a request measured in process), and a connection that never opens a
        # transaction has nothing to roll back when it is returned.
        # SQLite's driver opens no transaction for a SELECT, so there is nothing to save.
        self.reader = (
            make_engine(
                url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **engine_options
            )
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )
        self.read_factory = sessionmaker(
            self.reader, expire_on_commit=False, info={_READ_ONLY: True}
        )
        if self.reader is not self.engine:
            # A server that dropped one pool's connections (a restart) dropped the other's
            # too: SQLAlchemy renews the pool that saw it, and the other is renewed with it,
            # so the first request after a restart does not fail on a connection left behind.
            event.listen(self.engine, "handle_error", _renew_on_disconnect(self.reader))
            event.listen(self.reader, "handle_error", _renew_on_disconnect(self.engine))

    @property
    def session(self) -> Session:
        """The ORM session of the current request (or app context), created on first use."""
        session: Session | None = g.get(_SESSION)
        if session is None:
            safe = (
                has_request_context()
                and request.method in SAFE_METHODS
                and not g.get(_LINK_WRITES, False)
            )
            session = (self.read_factory if safe else self.session_factory)()
            setattr(g, _SESSION, session)
        return session

    def allow_link_writes(self) -> None:
        """Let this safe request's unit of work commit: only for the views behind an emailed
        link (confirm, email change), whose GET *is* the action because a mail client can only
        open links. Such a view must be idempotent; it calls this before touching the database.
        """
        session: Session | None = g.get(_SESSION)
        if session is not None and session.info.get(_READ_ONLY):
            raise RuntimeError("allow_link_writes() comes before the unit of work is first used")
        setattr(g, _LINK_WRITES, True)

    def read(self, statement: FastRead, params: dict[str, Any]) -> Sequence[Any]:
        """The rows of the credential lookup, on a pooled connection of its own.

        Finding out who is calling happens before any view and on every request, most of which
        never open the unit of work (see :mod:`flask_bastion.fast_reads` for what it measured).
        """
        return statement.rows(self.reader, params, on_disconnect=self.dispose)

    def dispose(self) -> None:
        """Close every pooled connection (both pools on PostgreSQL)."""
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()

    def housekeeping(self, statement: Executable, params: dict[str, Any]) -> None:
        """Queue a write that records what this request observed (an expired session found,
        a session's last use): it runs when the unit of work ends, and stands even when the
        request fails, because it is true either way."""
        g.setdefault(_HOUSEKEEPING, []).append((statement, params))

    def finish(self, *, commit: bool) -> None:
        """End the unit of work: commit it (or roll it back), run the housekeeping, release.

        Ending twice, or ending a request that never touched the database, does nothing.
        """
        session: Session | None = g.pop(_SESSION, None)
        chores: list[tuple[Executable, dict[str, Any]]] = g.pop(_HOUSEKEEPING, [])
        if session is None:
            if not chores:
                return
            session = self.session_factory()
        try:
            if session.info.get(_READ_ONLY):  # a safe request: only its housekeeping is written
                for statement, params in chores:
                    session.execute(statement, params)
                if chores:
                    session.commit()
                return
            if chores and not commit:
                session.rollback()  # the request's own writes go; the chores still run below
            for statement, params in chores:
                session.execute(statement, params)
            if commit or chores:
                session.commit()
        finally:
            session.close()  # loaded objects stay readable after it

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A unit of work outside a request (commands, jobs): committed at the end, or rolled back.

        Inside a request, views use :attr:`session` and let the extension commit.
        """
        with self.session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def teardown(self, _exc: BaseException | None = None) -> None:
        """Release a unit of work that was never finished (an error before the response)."""
        self.finish(commit=False)


def _renew_on_disconnect(other: Engine) -> Callable[[ExceptionContext], None]:
    def renew(context: ExceptionContext) -> None:
        if context.is_disconnect:
            other.dispose()  # connections other threads hold are closed when returned

    return renew


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SESSION = "_bastion_db_session"
_HOUSEKEEPING = "_bastion_db_housekeeping"
_LINK_WRITES = "_bastion_db_link_writes"
# Where a request's unfinished work waits on ``g``: the extension's hooks skip a request with none.
WORK_KEYS = (_SESSION, _HOUSEKEEPING)
_READ_ONLY = "bastion_read_only"


def rowcount(result: object) -> int:
    """Rows an UPDATE or DELETE touched (``Session.execute`` types its result without it)."""
    return int(cast(CursorResult[Any], result).rowcount)
