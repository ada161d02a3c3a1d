"""Fixtures: a fresh app and database per test, on SQLite or (in the second pass) PostgreSQL."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flask_bastion import current_bastion
from flask_bastion.models import Base
from newsroom import create_app
from tests import minimal_app

pytest_plugins = ["flask_bastion.testing", "tests.smtp", "tests.account_helpers"]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL") or None
ON_POSTGRES = DATABASE_URL.startswith("postgresql")

PASSWORD = "a-long-test-passphrase"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "minimal_app: test the library on tests/minimal_app.py instead of newsroom"
    )


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}; redis: {REDIS_URL or 'none'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests run in the PostgreSQL pass; the SQLite pass leaves them out
    # (deselected, not skipped: make test runs both passes).
    if ON_POSTGRES:
        return
    keep = [i for i in items if i.get_closest_marker("postgres") is None]
    dropped = [i for i in items if i.get_closest_marker("postgres") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """A database nobody else uses: a new SQLite file, or a new PostgreSQL schema."""
    if not ON_POSTGRES:
        yield f"sqlite:///{directory / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


def config_for_tests(database_url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BASTION_ENV": "testing",
        "BASTION_DATABASE_URL": database_url,
        "BASTION_REDIS_URL": REDIS_URL,
        "BASTION_RATELIMIT_PREFIX": f"test-{uuid.uuid4().hex}",
        # Cheap hashing keeps the suite fast; production refuses parameters this weak.
        "BASTION_ARGON2_TIME_COST": 1,
        "BASTION_ARGON2_MEMORY_COST": 1024,
        "BASTION_ARGON2_PARALLELISM": 1,
        "BASTION_PUBLIC_URL": "http://localhost",
        # Tests about something else sign up and in at once; the default, `required`, is
        # covered by the account tests (tests/test_confirmation.py and its siblings).
        "BASTION_EMAIL_CONFIRMATION": "optional",
        # The uniform answer time of the mail-sending endpoints (test_uniform_time.py) would
        # only slow every other test down.
        "BASTION_ACCOUNT_MAIL_MIN_DURATION": 0,
        # Production refuses to start without a mail server; nothing listens here, and nothing
        # is sent in-process (a test that delivers mail points this at its smtp_server).
        "BASTION_MAIL_URL": "smtp://127.0.0.1:25",
    }
    config.update(overrides)
    return config


def make_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app(config_for_tests(database_url, **overrides))
    with app.app_context():
        Base.metadata.create_all(current_bastion().db.engine)
    return app


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change settings for every test there."""
    return {}


AppBuilder = Callable[[dict[str, Any]], Flask]
AppFactory = Callable[..., Flask]


@pytest.fixture
def build_app(request: pytest.FixtureRequest) -> AppBuilder:
    """How to build the app under test: the minimal app for library tests, else newsroom."""
    if request.node.get_closest_marker("minimal_app") is not None:
        return minimal_app.create_app
    return create_app


@pytest.fixture
def app_factory(database_url: str, build_app: AppBuilder) -> Iterator[AppFactory]:
    """``app_factory(**settings)``: another app on this test's database, disposed afterwards."""
    built: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = build_app(config_for_tests(database_url, **overrides))
        with app.app_context():
            Base.metadata.create_all(current_bastion().db.engine)
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["bastion"].db.dispose()


@pytest.fixture
def app(app_factory: AppFactory, app_config: dict[str, Any]) -> Flask:
    return app_factory(**app_config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Auth:
    """Drives the auth API like an SPA would: fetch the CSRF token, echo it, keep cookies."""

    client: FlaskClient

    def csrf_token(self) -> str:
        self.client.get("/api/auth/session")
        cookie = self.client.get_cookie("XSRF-TOKEN")
        assert cookie is not None
        return cookie.value

    def headers(self) -> dict[str, str]:
        return {"X-XSRF-TOKEN": self.csrf_token()}

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def register(
        self, email: str = "alice@example.com", username: str = "alice", password: str = PASSWORD
    ) -> Any:
        return self.post(
            "/api/auth/register", {"email": email, "username": username, "password": password}
        )

    def login(self, identity: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
        return self.post("/api/auth/login", {"identity": identity, "password": password, **extra})

    def logout(self) -> Any:
        return self.post("/api/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)
