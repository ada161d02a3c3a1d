"""The minimal app on flask_bastion alone: sign-up, sign-in (cookie or token), a protected page."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from minimal_app import create_app

DATABASE_URL = os.environ.get("DATABASE_URL", "")
PASSWORD = "correct horse battery staple"
NOT_SIGNED_IN = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "Sign in to continue.",
    "code": "not_authenticated",
}


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own: a new SQLite file, or a new schema when DATABASE_URL is PostgreSQL."""
    if not DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'minimal.db'}"
        return
    schema = f"minimal_{uuid.uuid4().hex[:12]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_client(database_url: str, **settings: Any) -> FlaskClient:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BASTION_ENV": "testing",
            "BASTION_DATABASE_URL": database_url,
            # Cheap hashing keeps the test fast; production refuses parameters this weak.
            "BASTION_ARGON2_TIME_COST": 1,
            "BASTION_ARGON2_MEMORY_COST": 1024,
            "BASTION_ARGON2_PARALLELISM": 1,
            # Sign up and in at once; the default, "required", waits for the mailed link
            # (see test_by_default_a_new_account_confirms_its_email_first).
            "BASTION_EMAIL_CONFIRMATION": "optional",
            "BASTION_ACCOUNT_MAIL_MIN_DURATION": 0,
            **settings,
        }
    )
    return app.test_client()


@pytest.fixture
def client(database_url: str) -> Iterator[FlaskClient]:
    client = make_client(database_url)
    yield client
    client.application.extensions["bastion"].db.engine.dispose()


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    client.get("/api/auth/session")  # sets the CSRF cookie, which an SPA echoes in a header
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    return {"X-XSRF-TOKEN": cookie.value}


def register(client: FlaskClient) -> None:
    response = client.post(
        "/api/auth/register",
        json={"email": "ada@example.com", "username": "ada", "password": PASSWORD},
        headers=csrf_headers(client),
    )
    assert response.status_code == 201, response.get_json()


def test_anonymous_callers_are_turned_away(client: FlaskClient) -> None:
    response = client.get("/api/hello")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == NOT_SIGNED_IN


def test_a_browser_registers_signs_in_and_is_greeted(client: FlaskClient) -> None:
    register(client)
    client.post("/api/auth/logout", headers=csrf_headers(client))
    assert client.get("/api/hello").status_code == 401

    response = client.post(
        "/api/auth/login",
        json={"identity": "ada@example.com", "password": PASSWORD},
        headers=csrf_headers(client),
    )
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/hello").get_json() == {"hello": "ada"}


def test_an_app_client_is_greeted_with_a_bearer_token(client: FlaskClient) -> None:
    register(client)
    app_client = client.application.test_client()  # no cookies: only the token travels
    tokens = app_client.post("/api/token", json={"identity": "ada", "password": PASSWORD})
    assert tokens.status_code == 200, tokens.get_json()
    response = app_client.get(
        "/api/hello", headers={"Authorization": f"Bearer {tokens.get_json()['access_token']}"}
    )
    assert response.get_json() == {"hello": "ada"}


def test_the_library_migrations_created_its_tables(client: FlaskClient, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == {
        "alembic_version",
        "users",
        "roles",
        "user_roles",
        "auth_sessions",
        "refresh_tokens",
        "signing_keys",
        "mail_outbox",
        "account_tokens",
        "totp_credentials",
        "recovery_codes",
        "mfa_challenges",
        "passkey_users",
        "passkeys",
        "passkey_challenges",
        "security_events",
        "known_devices",
    }


def test_by_default_a_new_account_confirms_its_email_first(database_url: str) -> None:
    client = make_client(database_url, BASTION_EMAIL_CONFIRMATION="required")
    response = client.post(
        "/api/auth/register",
        json={"email": "ada@example.com", "username": "ada", "password": PASSWORD},
        headers=csrf_headers(client),
    )
    assert (response.status_code, response.get_json()) == (202, {"status": "confirmation_sent"})
    login = client.post(
        "/api/auth/login",
        json={"identity": "ada", "password": PASSWORD},
        headers=csrf_headers(client),
    )
    assert (login.status_code, login.get_json()["code"]) == (403, "email_unconfirmed")
    client.application.extensions["bastion"].db.engine.dispose()
