"""``GET /api/auth/check``: nginx's auth_request gate for the SPA's private files."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.token_helpers import bearer, issue, register

pytestmark = pytest.mark.minimal_app

CHECK = "/api/auth/check"


def test_a_signed_in_browser_gets_204_without_a_body(client: FlaskClient, auth: Auth) -> None:
    assert auth.register().status_code == 201
    answer = client.get(CHECK)
    assert (answer.status_code, answer.data) == (204, b"")
    assert answer.headers["Cache-Control"] == "no-store"


def test_anyone_else_gets_401_without_a_body(app: Flask, client: FlaskClient, auth: Auth) -> None:
    assert client.get(CHECK).status_code == 401
    client.set_cookie("bastion_session", "not-a-session-token")
    forged = client.get(CHECK)
    assert (forged.status_code, forged.data) == (401, b"")
    assert "Set-Cookie" not in forged.headers  # a gate for files sets nothing

    assert auth.register().status_code == 201
    assert client.get(CHECK).status_code == 204  # the control: the same client, signed in
    assert auth.logout().status_code == 204
    assert client.get(CHECK).status_code == 401


def test_a_bearer_token_does_not_open_the_gate(app: Flask) -> None:
    # The gate guards files a browser loads with its cookie; app clients have no use for them.
    register(app.test_client())
    pair = issue(app.test_client())
    answer = app.test_client().get(CHECK, headers=bearer(pair["access_token"]))
    assert (answer.status_code, answer.data) == (401, b"")
