"""Helpers for the token tests: sign in an app client, and take tokens apart or forge them."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from flask_bastion import User, clock, current_bastion
from flask_bastion.signing_keys import LoadedKey
from flask_bastion.testing import register as register_account
from tests.conftest import PASSWORD
from tests.problems import INVALID_TOKEN, assert_problem


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, email: str = "alice@example.com", username: str = "alice") -> int:
    """Create an account through the API (``client`` is left signed in to it) and return its id."""
    return register_account(client, email=email, username=username, password=PASSWORD).id


def issue(client: FlaskClient, identity: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/token", json={"identity": identity, "password": password})
    assert response.status_code == 200, response.json
    return dict(response.json)


def deactivate(app: Flask, user_id: int) -> None:
    """Switch an account off directly in the database, as an admin would."""
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        db.execute(update(User).where(User.id == user_id).values(active=False))


def assert_invalid_token(response: Any) -> None:
    assert_problem(response, INVALID_TOKEN)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


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


def oauth(problem_body: dict[str, Any], error: str) -> dict[str, Any]:
    """A token endpoint's error body: the problem with the RFC 6749 5.2 members beside it."""
    return {**problem_body, "error": error, "error_description": problem_body["detail"]}
