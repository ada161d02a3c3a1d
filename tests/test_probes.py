"""``/healthz`` and ``/readyz``: liveness without I/O, readiness that names what failed, fast."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from flask_bastion import current_bastion
from flask_bastion.models import Base
from flask_bastion.probes import READY_TIMEOUT
from newsroom import create_app, migrate
from tests.conftest import REDIS_URL, config_for_tests
from tests.servers import free_port
from tests.soak.services import Postgres, Redis
from tests.test_outages import postgres, running  # noqa: F401 (fixtures)

# Readiness must answer inside a probe's patience whatever is down.
BOUND = READY_TIMEOUT + 1.0


def _app(url: str, **overrides: Any) -> Flask:
    return create_app(config_for_tests(url, **overrides))


def _migrated(url: str, **overrides: Any) -> Flask:
    app = _app(url, **overrides)
    with app.app_context():
        migrate.upgrade(current_bastion().db.engine)
    return app


def _ready(app: Flask) -> tuple[Any, float]:
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    return response, time.monotonic() - started


def _expect_checks() -> dict[str, str]:
    checks = {"database": "ok", "migrations": "ok"}
    if REDIS_URL:
        checks["redis"] = "ok"
    return checks


def _not_ready(checks: dict[str, str]) -> dict[str, Any]:
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    return {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"Not ready: {', '.join(failed)}.",
        "code": "not_ready",
        "failed": failed,
        "checks": checks,
    }


def _closed_port_url() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"


def test_healthz_answers_without_touching_the_database() -> None:
    # A database where nothing listens: liveness must not care.
    app = _app(_closed_port_url())
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # Bastion's headers apply
    app.extensions["bastion"].db.dispose()


def test_readyz_is_ready_on_a_migrated_database(database_url: str) -> None:
    app = _migrated(database_url)
    response, _ = _ready(app)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"status": "ready", "checks": _expect_checks()}
    assert response.headers["Cache-Control"] == "no-store"
    app.extensions["bastion"].db.dispose()


def test_readyz_fails_on_a_database_never_migrated(database_url: str) -> None:
    # Tables made by create_all, as the test fixtures do: no alembic_version, not ready.
    app = _app(database_url)
    with app.app_context():
        Base.metadata.create_all(current_bastion().db.engine)
    response, _ = _ready(app)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json == _not_ready({**_expect_checks(), "migrations": "not_migrated"})
    app.extensions["bastion"].db.dispose()


def test_readyz_fails_while_a_library_migration_is_pending(database_url: str) -> None:
    # newsroom's head needs only bastion_0001: the library's later revisions are pending.
    app = _app(database_url)
    with app.app_context():
        migrate.upgrade(current_bastion().db.engine, "newsroom_0001")
    response, _ = _ready(app)
    assert response.json == _not_ready({**_expect_checks(), "migrations": "pending"})
    with app.app_context():  # control: once upgraded, ready
        migrate.upgrade(current_bastion().db.engine)
    assert _ready(app)[0].status_code == 200
    app.extensions["bastion"].db.dispose()


def test_readyz_stays_ready_when_the_database_is_ahead_of_the_code(database_url: str) -> None:
    # A rolling deploy: a newer instance applied a revision this code has never seen.
    app = _migrated(database_url)
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE alembic_version SET version_num = 'bastion_9999' "
                "WHERE version_num LIKE 'bastion_%'"
            )
        )
    response, _ = _ready(app)
    assert response.status_code == 200
    app.extensions["bastion"].db.dispose()


def test_readyz_answers_fast_when_nothing_listens_at_the_database() -> None:
    app = _app(_closed_port_url())
    response, elapsed = _ready(app)
    assert elapsed < BOUND
    assert response.json == _not_ready(
        {**_expect_checks(), "database": "unreachable", "migrations": "unreachable"}
    )
    app.extensions["bastion"].db.dispose()


def test_readyz_gives_up_on_a_database_that_never_answers() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts; nobody ever reads or writes
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/postgres"
        app = _app(url)
        response, elapsed = _ready(app)
        assert READY_TIMEOUT - 0.2 < elapsed < BOUND  # it waited for its deadline, no longer
        assert response.json == _not_ready(
            {**_expect_checks(), "database": "timeout", "migrations": "timeout"}
        )
        app.extensions["bastion"].db.dispose()
    finally:
        silent.close()


def test_readyz_fails_while_postgres_is_stopped_and_recovers_after(
    running: Postgres,  # noqa: F811 (the fixture imported above)
) -> None:
    app = _migrated(running.url)
    assert _ready(app)[0].status_code == 200  # control
    running.stop()
    response, elapsed = _ready(app)
    assert elapsed < BOUND
    assert response.json == _not_ready(
        {**_expect_checks(), "database": "unreachable", "migrations": "unreachable"}
    )
    running.start()
    response, _ = _ready(app)
    assert response.status_code == 200, response.get_data(as_text=True)
    app.extensions["bastion"].db.dispose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_readyz_reports_a_stopped_redis_but_stays_ready(
    database_url: str, own_redis: Redis
) -> None:
    # Without Redis the rate limits count per process and sign-ins go on (test_ratelimit.py):
    # taking the instance out of rotation would turn a weaker limit into an outage.
    app = _migrated(database_url, BASTION_REDIS_URL=own_redis.url)
    response, _ = _ready(app)
    assert response.json == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }
    own_redis.stop()
    response, elapsed = _ready(app)
    assert elapsed < BOUND
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "unreachable"},
    }
    own_redis.start()
    response, _ = _ready(app)
    assert response.json["checks"]["redis"] == "ok"
    app.extensions["bastion"].db.dispose()


def test_probes_keep_the_host_check(database_url: str) -> None:
    # A probe must send a Host we answer for (docs/operations.md says how), like any request.
    app = _migrated(database_url)
    client = app.test_client()
    for path in ("/healthz", "/readyz"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400
        assert response.json["code"] == "untrusted_host"
        assert client.get(path).status_code == 200  # control: our own host
    app.extensions["bastion"].db.dispose()


def test_probes_are_not_in_the_openapi_document(database_url: str) -> None:
    app = _app(database_url)
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    assert not {"/healthz", "/readyz"} & set(paths)
    app.extensions["bastion"].db.dispose()
