"""One unit of work per request: committed once after the view, rolled back on error, except
for errors whose writes must stand; safe requests read in autocommit on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from flask_bastion import BastionError, User, current_bastion
from flask_bastion.errors import Conflict
from tests.conftest import ON_POSTGRES

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def user(username: str) -> User:
    """An active account row, written straight to the database (no password to check)."""
    return User(
        email=f"{username}@example.com",
        email_key=f"{username}@example.com",
        username=username,
        username_key=username,
        password_hash="x",
        active=True,
        created_at=CREATED,
    )


class KeptConflict(Conflict):
    keep_writes = True


def _add_user(username: str) -> None:
    current_bastion().db.session.add(user(username))
    current_bastion().db.session.flush()


@pytest.fixture
def routes(app: Flask) -> Iterator[Flask]:
    @app.post("/test/write/<name>")
    def write(name: str) -> tuple[str, int]:
        _add_user(name)
        return "", 204

    @app.post("/test/write-then-fail/<name>")
    def write_then_fail(name: str) -> None:
        _add_user(name)
        raise Conflict()

    @app.post("/test/write-then-fail-keeping/<name>")
    def write_then_fail_keeping(name: str) -> None:
        _add_user(name)
        raise KeptConflict()

    @app.post("/test/write-then-crash/<name>")
    def write_then_crash(name: str) -> None:
        _add_user(name)
        raise RuntimeError("boom")

    @app.get("/test/isolation")
    def isolation() -> dict[str, object]:
        connection = current_bastion().db.session.connection()
        return {
            "autocommit": bool(
                getattr(connection.connection.driver_connection, "autocommit", False)
            )
        }

    for view in ("write", "write_then_fail", "write_then_fail_keeping", "write_then_crash"):
        app.view_functions[view]._bastion_csrf_exempt = True  # type: ignore[attr-defined]
    yield app


def users(app: Flask) -> list[str]:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        return list(conn.execute(select(User.username).order_by(User.username)).scalars())


def test_a_successful_request_commits_its_writes(routes: Flask, client: FlaskClient) -> None:
    assert client.post("/test/write/ada").status_code == 204
    assert users(routes) == ["ada"]


def test_an_error_rolls_the_request_back(routes: Flask, client: FlaskClient) -> None:
    assert client.post("/test/write-then-fail/ada").status_code == 409
    assert users(routes) == []


def test_an_error_that_keeps_its_writes_commits_them(routes: Flask, client: FlaskClient) -> None:
    response = client.post("/test/write-then-fail-keeping/ada")
    assert response.status_code == 409 and response.json is not None
    assert response.json["code"] == "conflict"
    assert users(routes) == ["ada"]


def test_an_unexpected_error_rolls_back_and_answers_500(routes: Flask, client: FlaskClient) -> None:
    routes.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/test/write-then-crash/ada").status_code == 500
    assert users(routes) == []


def test_a_failed_commit_answers_500_and_sets_no_cookie(app: Flask, client: FlaskClient) -> None:
    """A sign-in whose commit fails (here: the user row vanished under a deferred check) must not
    hand the browser a session cookie for a session that does not exist."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.post("/test/commit-fails")
    def commit_fails() -> tuple[str, int]:
        from flask_bastion.transports import browser

        state = current_bastion()
        browser.end_session(state.settings, state.csrf_signer)  # records cookies
        _add_user("ada")
        _add_user_raw_duplicate()
        return "", 204

    app.view_functions["commit_fails"]._bastion_csrf_exempt = True  # type: ignore[attr-defined]
    response = client.post("/test/commit-fails")
    assert response.status_code == 500
    assert response.headers.getlist("Set-Cookie") == []
    assert users(app) == []


def _add_user_raw_duplicate() -> None:
    # Pending (not flushed) duplicate of "ada": the unique index refuses it at commit time.
    current_bastion().db.session.add(user("ada"))


def test_safe_requests_read_in_autocommit_on_postgres_and_leave_the_pool_as_they_found_it(
    routes: Flask, client: FlaskClient
) -> None:
    # PostgreSQL: one round trip per read. SQLite reads inside its (cheap, local) transaction.
    assert client.get("/test/isolation").json == {"autocommit": ON_POSTGRES}
    assert client.post("/test/write/ada").status_code == 204
    with routes.app_context(), current_bastion().db.engine.connect() as conn:
        if ON_POSTGRES:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_a_unit_of_work_outside_a_request_commits_or_rolls_back(app: Flask) -> None:
    with app.app_context():
        db = current_bastion().db
        with pytest.raises(BastionError), db.unit_of_work() as session:
            session.add(user("a"))
            session.flush()
            raise Conflict()
        with db.unit_of_work() as session:
            session.add(user("b"))
    assert users(app) == ["b"]
