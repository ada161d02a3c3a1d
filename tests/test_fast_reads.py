"""The credential lookup's fast read gives exactly what Core gives, on both backends, and leaves
pooled connections as it found them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import bindparam, select

from flask_bastion import User, current_bastion
from flask_bastion.fast_reads import FastRead
from tests.conftest import ON_POSTGRES

CREATED = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)


def add_user(app: Flask, username: str, *, active: bool) -> None:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
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
FAST_BY_NAME = FastRead(BY_NAME)


def test_a_fast_read_converts_like_core(app: Flask) -> None:
    add_user(app, "ada", active=False)
    with app.app_context():
        engine = current_bastion().db.reader
        rows = FAST_BY_NAME.rows(engine, {"key": "ada"})
        with engine.connect() as conn:
            core = conn.execute(BY_NAME, {"key": "ada"}).all()
    assert [tuple(row) for row in rows] == [tuple(row) for row in core]
    row = rows[0]
    assert (row.username, row.active, row.joined) == ("ada", False, CREATED)
    assert row.active is False
    assert row.joined.tzinfo is UTC


def test_a_fast_read_converts_bound_values(app: Flask) -> None:
    add_user(app, "ada", active=True)
    joined = FastRead(select(User.username).where(User.created_at == bindparam("at")))
    with app.app_context():
        engine = current_bastion().db.reader
        assert [r.username for r in joined.rows(engine, {"at": CREATED})] == ["ada"]
        assert joined.rows(engine, {"at": datetime(2026, 1, 1, tzinfo=UTC)}) == []
        assert FAST_BY_NAME.rows(engine, {"key": "nobody"}) == []


def test_a_fast_read_refuses_expanding_parameters(app: Flask) -> None:
    many = FastRead(select(User.id).where(User.username.in_(bindparam("names", expanding=True))))
    with app.app_context(), pytest.raises(ValueError, match="expanding"):
        many.rows(current_bastion().db.reader, {"names": ["ada"]})


def test_fast_reads_leave_pooled_connections_as_they_found_them(app: Flask) -> None:
    add_user(app, "ada", active=True)
    with app.app_context():
        db = current_bastion().db
        for _ in range(3):
            assert [r.username for r in FAST_BY_NAME.rows(db.reader, {"key": "ada"})] == ["ada"]
        # A write through the unit of work after the reads still runs in a transaction.
        with db.unit_of_work() as session:
            user = session.scalars(select(User)).one()
            user.active = False
            session.rollback()
        with db.engine.connect() as conn:
            assert conn.execute(select(User.active)).scalar_one() is True
            if ON_POSTGRES:
                assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        with db.reader.connect() as conn:  # the reads' own pool never leaves autocommit
            if ON_POSTGRES:
                assert conn.connection.driver_connection.autocommit is True  # type: ignore[union-attr]
            else:
                assert db.reader is db.engine
