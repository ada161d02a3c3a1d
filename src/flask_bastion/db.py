"""The database handle: one engine per app, one ORM session per request, UTC timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import g
from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator


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
    return create_engine(url, **options)


class Database:
    """An engine and a session factory; the request's session lives on ``flask.g``."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = make_engine(url, **engine_options)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def session(self) -> Session:
        """The ORM session of the current request (or app context), created on first use."""
        session: Session | None = g.get("_bastion_db_session")
        if session is None:
            session = self.session_factory()
            g._bastion_db_session = session
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The request's session inside one transaction: committed on success, else rolled back."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def remove_session(self, _exc: BaseException | None = None) -> None:
        session: Session | None = g.pop("_bastion_db_session", None)
        if session is not None:
            session.close()
