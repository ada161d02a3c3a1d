"""A database that is down or overloaded answers 503 with Retry-After, fast, and the app recovers.

The PostgreSQL here is a throwaway server this module starts and stops itself, so it runs in
both passes (the binaries are on every machine that runs the suite; missing ones fail).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flask_bastion import current_bastion
from flask_bastion.db import CONNECT_TIMEOUT, STATEMENT_TIMEOUT, make_engine
from flask_bastion.errors import is_outage
from flask_bastion.models import Base
from newsroom import create_app
from tests.conftest import Auth, config_for_tests
from tests.servers import free_port
from tests.soak.services import Postgres

# An outage must answer well inside a client's patience: a refused connection in well under
# the connect timeout, with room for a slow shared machine.
BOUND = 3.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="bastion-outage-"))
    (root / "db").mkdir()
    server = Postgres(root / "db")
    server.init()
    try:
        yield server
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped by a test
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def running(postgres: Postgres) -> Postgres:
    """The throwaway server, up and with an empty schema, whatever the previous test left."""
    with contextlib.suppress(RuntimeError):  # already running
        postgres.start()
    engine = make_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres


def _app(url: str, *, create: bool = True) -> Flask:
    app = create_app(config_for_tests(url))
    if create:
        with app.app_context():
            Base.metadata.create_all(current_bastion().db.engine)
    return app


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _assert_outage(response: Any, elapsed: float) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert elapsed < BOUND, f"an outage took {elapsed:.2f}s to answer"


def test_a_stopped_database_answers_503_fast_and_the_app_recovers_by_itself(
    running: Postgres,
) -> None:
    app = _app(running.url)
    auth = Auth(app.test_client())
    assert auth.register().status_code == 201
    assert auth.login().status_code == 200
    # Control: the same calls answer while the server is up.
    assert auth.client.get("/api/articles").status_code == 200
    token = auth.csrf_token()
    other = Auth(app.test_client())
    other_token = other.csrf_token()

    running.stop()
    listing, elapsed = _timed(lambda: auth.client.get("/api/articles"))
    _assert_outage(listing, elapsed)
    login, elapsed = _timed(
        lambda: other.client.post(
            "/api/auth/login",
            json={"identity": "alice", "password": "a-long-test-passphrase"},
            headers={"X-XSRF-TOKEN": other_token},
        )
    )
    _assert_outage(login, elapsed)
    settings = app.extensions["bastion"].settings
    assert other.client.get_cookie(settings.session_cookie_name) is None  # no half sign-in
    assert auth.client.get_cookie(settings.session_cookie_name) is not None  # control
    write, elapsed = _timed(
        lambda: auth.client.post(
            "/api/articles",
            json={"title": "Down", "body": "Written while the database was down."},
            headers={"X-XSRF-TOKEN": token},
        )
    )
    _assert_outage(write, elapsed)

    running.start()
    # No restart of the app: the pool throws away the dead connections on its own.
    assert auth.client.get("/api/articles").status_code == 200
    fresh = Auth(app.test_client())
    assert fresh.login().status_code == 200
    written = fresh.post("/api/articles", {"title": "Up", "body": "Written after the restart."})
    assert written.status_code == 201, written.get_data(as_text=True)
    titles = [a["title"] for a in fresh.client.get("/api/articles").json["items"]]
    assert titles == ["Up"]  # the write refused during the outage left nothing behind
    app.extensions["bastion"].db.dispose()


def test_a_commit_that_loses_the_database_answers_503_and_writes_nothing(
    running: Postgres,
) -> None:
    # Not TESTING's propagation: a failure after the view goes through Flask's own 500 path,
    # as in production.
    app = _app(running.url)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    armed, stopped = [False], [False]

    @app.after_request
    def _lose_the_database(response: Any) -> Any:
        # Runs after the view and before the unit of work commits (hooks run newest first).
        if armed[0] and not stopped[0] and request.path == "/api/articles":
            stopped[0] = True
            running.stop()
        return response

    auth = Auth(app.test_client())
    assert auth.register().status_code == 201
    assert auth.login().status_code == 200
    # Control: a write while the database stays up is committed.
    kept = auth.post("/api/articles", {"title": "Kept", "body": "Committed."})
    assert kept.status_code == 201
    token = auth.csrf_token()
    armed[0] = True
    lost = auth.client.post(
        "/api/articles",
        json={"title": "Lost", "body": "Never committed."},
        headers={"X-XSRF-TOKEN": token},
    )
    assert stopped[0]
    _assert_outage(lost, 0.0)
    assert "Location" not in lost.headers

    running.start()
    titles = [a["title"] for a in auth.client.get("/api/articles").json["items"]]
    assert titles == ["Kept"]
    app.extensions["bastion"].db.dispose()


def test_a_port_where_nothing_listens_answers_503_fast() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    app = _app(url, create=False)
    client = app.test_client()
    response, elapsed = _timed(
        lambda: client.post(
            "/api/token", json={"identity": "alice", "password": "a-long-test-passphrase"}
        )
    )
    _assert_outage(response, elapsed)
    app.extensions["bastion"].db.dispose()


def test_a_server_that_accepts_and_never_answers_is_an_outage_after_the_connect_timeout() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshakes; nobody ever reads or writes
    port = silent.getsockname()[1]
    try:
        app = _app(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", create=False)
        client = app.test_client()
        response, elapsed = _timed(
            lambda: client.post(
                "/api/token", json={"identity": "alice", "password": "a-long-test-passphrase"}
            )
        )
        assert elapsed > CONNECT_TIMEOUT - 0.5  # it did wait for an answer, then gave up
        _assert_outage(response, elapsed - CONNECT_TIMEOUT)
        app.extensions["bastion"].db.dispose()
    finally:
        silent.close()


def test_an_exhausted_pool_is_an_outage_after_its_timeout(running: Postgres) -> None:
    engine = make_engine(running.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    held = engine.connect()
    try:
        with pytest.raises(PoolTimeout) as caught, engine.connect():
            pass
        assert is_outage(caught.value)
    finally:
        held.close()
        engine.dispose()


def test_statements_are_bounded_and_the_url_keeps_its_own_options(running: Postgres) -> None:
    engine = make_engine(running.url + "?options=-csearch_path%3Dpg_catalog")
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == f"{STATEMENT_TIMEOUT}s"
        assert conn.execute(text("SHOW search_path")).scalar() == "pg_catalog"
        # A statement past its timeout is cancelled; the server's refusal counts as an outage.
        conn.execute(text("SET statement_timeout = 50"))
        with pytest.raises(OperationalError) as caught:
            conn.execute(text("SELECT pg_sleep(2)"))
        assert is_outage(caught.value)
    engine.dispose()


def test_a_constraint_violation_is_not_an_outage(running: Postgres) -> None:
    app = _app(running.url)
    auth = Auth(app.test_client())
    assert auth.register().status_code == 201
    with app.app_context(), pytest.raises(IntegrityError) as caught:
        engine = current_bastion().db.engine
        with engine.begin() as conn:
            row = conn.execute(text("SELECT email, username FROM users")).one()
            conn.execute(
                text("INSERT INTO users (email, username) VALUES (:e, :u)"),
                {"e": row.email, "u": row.username},
            )
    assert not is_outage(caught.value)
    # Through the API the same clash stays the documented 409, not a 503.
    again = Auth(app.test_client()).register()
    assert again.status_code == 409
    app.extensions["bastion"].db.dispose()


def test_sqlite_locked_is_an_outage_and_a_missing_table_is_a_bug(tmp_path: Path) -> None:
    # No busy timeout, so the lock is reported at once instead of after the app's 15 s wait.
    engine = create_engine(f"sqlite:///{tmp_path / 'locked.db'}", connect_args={"timeout": 0})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    blocker = make_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    ready, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with blocker.connect() as conn:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
            ready.set()
            release.wait(10)
            conn.exec_driver_sql("ROLLBACK")

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(OperationalError) as locked, engine.begin() as conn:
            conn.execute(text("INSERT INTO t (x) VALUES (1)"))  # a second writer
        assert is_outage(locked.value)
    finally:
        release.set()
        holder.join()
    with pytest.raises(OperationalError) as missing, engine.connect() as conn:
        conn.execute(text("SELECT x FROM no_such_table"))
    assert not is_outage(missing.value)
    engine.dispose()
    blocker.dispose()


def test_a_missing_table_answers_500_not_503(tmp_path: Path) -> None:
    # Control for the mapping: a schema that is not there is our bug, and says so.
    app = _app(f"sqlite:///{tmp_path / 'empty.db'}", create=False)
    response = app.test_client().post(
        "/api/token", json={"identity": "alice", "password": "a-long-test-passphrase"}
    )
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "Retry-After" not in response.headers
    app.extensions["bastion"].db.dispose()
