"""Demo data behind ``newsroom seed``: a few demo users and as many articles as asked for.

Articles go in by bulk: PostgreSQL ``COPY`` (a million rows in well under a minute) or, on
SQLite, Core ``executemany`` in large batches. The demo password is hashed once for all users.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from flask_bastion import BastionState, User, clock
from flask_bastion.errors import Conflict, FieldError
from flask_bastion.identity import identity_key

from .admin_tasks import roles_by_name
from .models import Article


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    roles: tuple[str, ...]


DEMO_USERS = (
    DemoUser("admin", "admin@example.com", ("admin",)),
    DemoUser("editor", "editor@example.com", ("editor",)),
    DemoUser("alice", "alice@example.com", ()),
    DemoUser("bob", "bob@example.com", ()),
)

BATCH = 20_000
# Seeded articles are one second apart, so every page has a stable, distinct order.
STEP = timedelta(seconds=1)

_TOPICS = (
    "City council approves the new cycling lanes",
    "Local bakery wins the regional bread award",
    "Library extends its opening hours",
    "Rain expected for the rest of the week",
    "School robotics team heads to the finals",
    "Harbour renovation enters its second phase",
    "Community garden opens a second plot",
    "Night market returns to the old square",
)
_BODIES = tuple(
    f"{topic}. " + "Residents gathered to hear the details and ask questions. " * (1 + i % 4)
    for i, topic in enumerate(_TOPICS)
)


@dataclass(frozen=True)
class SeedResult:
    """What a seed run did; ``password`` is set only when it created the demo users."""

    users: tuple[DemoUser, ...]
    created_users: bool
    password: str | None
    articles: int


def demo_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_demo_users(state: BastionState, password: str | None) -> tuple[list[int], str | None]:
    """The demo users' ids, creating them (with one password hash for all) when absent.

    Returns the password when it created them; refuses when only some of them exist, since
    those accounts were made by someone else and must not be touched.
    """
    keys = [identity_key(u.username) for u in DEMO_USERS]
    with state.db.unit_of_work() as db:
        found = _existing(db, keys)
        if len(found) == len(DEMO_USERS):
            return [found[k] for k in keys], None
        if found:
            raise Conflict(
                "Some demo usernames are taken by other accounts; seed a fresh database.",
                errors=[FieldError("username", "taken", f"{k} exists.") for k in sorted(found)],
            )
        password = password or demo_password()
        password_hash = state.passwords.hash(password)  # once: Argon2 is slow on purpose
        created = clock.now()
        users = [
            User(
                email=u.email,
                email_key=identity_key(u.email),
                username=u.username,
                username_key=identity_key(u.username),
                password_hash=password_hash,
                active=True,
                created_at=created,
                confirmed_at=created,  # demo accounts sign in with their password at once
                roles=roles_by_name(db, u.roles),
            )
            for u in DEMO_USERS
        ]
        db.add_all(users)
        db.flush()
        return [u.id for u in users], password


def _existing(db: Session, keys: list[str]) -> dict[str, int]:
    rows = db.execute(select(User.username_key, User.id).where(User.username_key.in_(keys)))
    return {key: user_id for key, user_id in rows}


def add_articles(
    engine: Engine,
    author_ids: list[int],
    count: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``count`` articles, newer than any already there, round-robin over the authors."""
    if count <= 0:
        return 0
    with engine.connect() as conn:
        last_id, newest = conn.execute(
            select(func.coalesce(func.max(Article.id), 0), func.max(Article.created_at))
        ).one()
    start = newest + STEP if newest is not None else clock.now() - count * STEP
    rows = _article_rows(last_id + 1, count, author_ids, start)
    report = progress or (lambda _n: None)
    if engine.dialect.name == "postgresql":
        _copy_postgresql(engine, rows, report)
    else:
        _insert_batches(engine, rows, report)
    return count


def _article_rows(
    first: int, count: int, author_ids: list[int], start: datetime
) -> Iterator[tuple[str, str, int, datetime]]:
    at = start.astimezone(UTC).replace(tzinfo=None)  # the columns hold naive UTC
    for n in range(first, first + count):
        topic = n % len(_TOPICS)
        yield f"{_TOPICS[topic]} ({n})", _BODIES[topic], author_ids[(n - 1) % len(author_ids)], at
        at += STEP


def _copy_postgresql(
    engine: Engine, rows: Iterator[tuple[str, str, int, datetime]], report: Callable[[int], None]
) -> None:
    raw = engine.raw_connection()
    written = 0
    try:
        connection: Any = raw.driver_connection  # psycopg.Connection
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY articles (title, body, author_id, created_at, updated_at, version) FROM STDIN"
            ) as copy,
        ):
            for title, body, author_id, at in rows:
                copy.write_row((title, body, author_id, at, at, 1))
                written += 1
                if written % BATCH == 0:
                    report(BATCH)
        connection.commit()
        report(written % BATCH)
    finally:
        raw.close()
    # What autovacuum would do after a bulk load, now: fresh statistics for the planner, and a
    # visibility map so COUNT(*) can use an index-only scan.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE articles"))


def _insert_batches(
    engine: Engine, rows: Iterator[tuple[str, str, int, datetime]], report: Callable[[int], None]
) -> None:
    table_insert = insert(cast(Table, Article.__table__))
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for title, body, author_id, at in rows:
            aware = at.replace(tzinfo=UTC)
            batch.append(
                {
                    "title": title,
                    "body": body,
                    "author_id": author_id,
                    "created_at": aware,
                    "updated_at": aware,
                    "version": 1,
                }
            )
            if len(batch) == BATCH:
                conn.execute(table_insert, batch)
                report(len(batch))
                batch = []
        if batch:
            conn.execute(table_insert, batch)
            report(len(batch))


def seed(
    state: BastionState,
    *,
    articles: int,
    password: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Demo users (created once) and ``articles`` more articles by them."""
    author_ids, new_password = ensure_demo_users(state, password)
    added = add_articles(state.db.engine, author_ids, articles, progress=progress)
    return SeedResult(DEMO_USERS, new_password is not None, new_password, added)
