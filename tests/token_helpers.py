"""Helpers for the token tests: sign in an app client, forge tokens, move the one clock."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion import clock, current_bastion
from flask_bastion.signing_keys import LoadedKey
from tests.conftest import PASSWORD

INVALID_TOKEN = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The access token is invalid or expired.",
    "code": "invalid_token",
}
INVALID_GRANT = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The refresh token is invalid, expired or used.",
    "code": "invalid_grant",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, email: str = "alice@example.com", username: str = "alice") -> int:
    """Create an account through the API (from a throwaway cookie jar) and return its id."""
    client.get("/api/auth/session")
    csrf = client.get_cookie("XSRF-TOKEN")
    assert csrf is not None
    response = client.post(
        "/api/auth/register",
        json={"email": email, "username": username, "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf.value},
    )
    assert response.status_code == 201, response.json
    return int(response.json["user"]["id"])


def issue(client: FlaskClient, identity: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/token", json={"identity": identity, "password": password})
    assert response.status_code == 200, response.json
    return dict(response.json)


def assert_invalid_token(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json == INVALID_TOKEN


def signing_key(app: Flask) -> LoadedKey:
    with app.app_context():
        return current_bastion().keys.signing_key(clock.now())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return (
        b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64(json.dumps(claims, separators=(",", ":")).encode())
    )


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


class Clock:
    """Bastion's one clock, frozen and moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.current = clock.now()
        monkeypatch.setattr(clock, "now", self)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


ClockFactory = Callable[[], Clock]
