"""The hot-path reads: db.fetch_all and Database.reader() give what Core gives, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import bindparam, select

from flask_bastion import User, current_bastion
from flask_bastion.db import fetch_all
from tests.conftest import ON_POSTGRES

CREATED = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)


def add_user(app: Flask, username: str, *, active: bool) -> None:
    with app.app_context(), current_bastion().db.transaction() as db:
        db.add(
            User(
                email=f"{username}@example.com",
                email_key=f"{username}@example.com",
                username=username,
                username_key=username,
                password_hash="x",
                active=active,
                created_at=CREATED,
            )
        )


BY_NAME = select(User.id, User.username, User.active, User.created_at.label("joined")).where(
    User.username_key == bindparam("key")
)


def test_fetch_all_converts_like_core(app: Flask) -> None:
    add_user(app, "ada", active=False)
    with app.app_context():
        engine = current_bastion().db.engine
        rows = fetch_all(engine, BY_NAME, {"key": "ada"})
        with engine.connect() as conn:
            core = conn.execute(BY_NAME, {"key": "ada"}).all()
    assert [tuple(row) for row in rows] == [tuple(row) for row in core]
    row = rows[0]
    assert (row.username, row.active, row.joined) == ("ada", False, CREATED)
    assert row.active is False
    assert row.joined.tzinfo is UTC


def test_fetch_all_converts_bound_values(app: Flask) -> None:
    add_user(app, "ada", active=True)
    joined = select(User.username).where(User.created_at == bindparam("at"))
    with app.app_context():
        engine = current_bastion().db.engine
        assert [r.username for r in fetch_all(engine, joined, {"at": CREATED})] == ["ada"]
        assert fetch_all(engine, joined, {"at": datetime(2026, 1, 1, tzinfo=UTC)}) == []
        assert fetch_all(engine, BY_NAME, {"key": "nobody"}) == []


def test_reads_leave_pooled_connections_as_they_found_them(app: Flask) -> None:
    add_user(app, "ada", active=True)
    with app.app_context():
        db = current_bastion().db
        for _ in range(3):
            fetch_all(db.engine, BY_NAME, {"key": "ada"})
            with db.reader() as conn:
                assert conn.execute(select(User.username)).scalars().all() == ["ada"]
        # A write through the ORM after the reads still runs in a transaction of its own.
        with db.transaction() as session:
            user = session.scalars(select(User)).one()
            user.active = False
            session.rollback()
        with db.engine.connect() as conn:
            assert conn.execute(select(User.active)).scalar_one() is True
            if ON_POSTGRES:
                assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
