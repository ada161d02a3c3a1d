"""Authlib's OAuth 2.0 client, used as its documentation shows for a public client, against the
app served over real HTTP: the password grant, automatic refresh, revocation and errors, and a
second factor finished through Authlib."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from flask_bastion import current_bastion
from flask_bastion.models import AuthSession
from flask_bastion.testing import Clock
from flask_bastion.testing import signed_in as api_signed_in
from tests.conftest import PASSWORD
from tests.mfa_helpers import BOTH, enroll
from tests.token_helpers import bearer, register

TIMEOUT = 10
FORM = "application/x-www-form-urlencoded"
CLIENT_ID = "newsroom-cli"  # a public client names itself; the server knows no clients


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    register(app.test_client())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def session_for(base_url: str, **options: Any) -> OAuth2Session:
    return OAuth2Session(
        client_id=CLIENT_ID,
        token_endpoint=f"{base_url}/api/token",
        revocation_endpoint=f"{base_url}/api/token/revoke",
        default_timeout=TIMEOUT,
        **options,
    )


def signed_in(base_url: str, **options: Any) -> OAuth2Session:
    oauth = session_for(base_url, **options)
    oauth.fetch_token(username="alice", password=PASSWORD)
    return oauth


def sent_forms(oauth: OAuth2Session, hook: str) -> list[dict[str, list[str]]]:
    """The form bodies Authlib posts, seen through one of its documented compliance hooks."""
    forms: list[dict[str, list[str]]] = []

    def keep(response: requests.Response) -> requests.Response:
        assert response.request.headers["Content-Type"].startswith(FORM)
        forms.append(parse_qs(str(response.request.body)))
        return response

    oauth.register_compliance_hook(hook, keep)
    return forms


def whoami(base_url: str, oauth: OAuth2Session) -> requests.Response:
    return oauth.get(f"{base_url}/api/auth/session")


def token_sessions(app: Flask) -> int:
    with app.app_context():
        count = current_bastion().db.session.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.kind == "token")
        )
    return int(count or 0)


def test_the_password_grant_gets_a_token_the_api_accepts(base_url: str) -> None:
    # Authlib sends client_id in the form (a public client) and, here, a scope we do not use.
    oauth = session_for(base_url, scope="articles")
    forms = sent_forms(oauth, "access_token_response")
    token = oauth.fetch_token(username="alice", password=PASSWORD)
    assert forms[0]["grant_type"] == ["password"]
    assert forms[0]["client_id"] == [CLIENT_ID]
    assert forms[0]["scope"] == ["articles"]
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 600
    assert token["refresh_token"]
    response = whoami(base_url, oauth)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "alice"


def test_a_wrong_password_raises_the_oauth_error_not_a_token(base_url: str) -> None:
    oauth = session_for(base_url)
    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(username="alice", password="not-the-password")
    assert refused.value.error == "invalid_grant"
    assert refused.value.description == "The identity or password is wrong."
    assert not oauth.token  # the 401 body was not taken for a token
    # Control: the same session, the right password, gets a token.
    assert oauth.fetch_token(username="alice", password=PASSWORD)["access_token"]


def test_a_confidential_client_is_refused_as_invalid_client(base_url: str) -> None:
    # With a secret, Authlib authenticates the client with HTTP Basic: we know no such client.
    oauth = session_for(base_url, client_secret="s3cret")
    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(username="alice", password=PASSWORD)
    assert refused.value.error == "invalid_client"
    assert not oauth.token


@pytest.mark.parametrize("endpoint", ["/api/token", "/api/token/refresh"])
def test_an_expired_access_token_is_refreshed_automatically(
    app: Flask, base_url: str, clock: Clock, endpoint: str
) -> None:
    saved: list[dict[str, Any]] = []
    first = signed_in(base_url)
    stored = dict(first.token)
    lifetime = stored["expires_in"]
    # Time passes for both sides: the server's clock, and the client's stored token ages.
    clock.advance(lifetime + 1)
    stored["expires_at"] = int(time.time()) - 1
    expired = requests.get(
        f"{base_url}/api/auth/session", headers=bearer(stored["access_token"]), timeout=TIMEOUT
    )
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    # As Authlib documents it: a stored token, the token endpoint, and a hook to save new ones.
    oauth = OAuth2Session(
        client_id=CLIENT_ID,
        token=stored,
        token_endpoint=base_url + endpoint,
        update_token=lambda token, refresh_token=None, access_token=None: saved.append(token),
        default_timeout=TIMEOUT,
    )
    forms = sent_forms(oauth, "refresh_token_response")
    response = whoami(base_url, oauth)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "alice"
    assert [form["grant_type"] for form in forms] == [["refresh_token"]]
    assert forms[0]["refresh_token"] == [stored["refresh_token"]]
    assert len(saved) == 1
    assert saved[0]["access_token"] != stored["access_token"]
    assert saved[0]["refresh_token"] != stored["refresh_token"]  # rotated
    assert token_sessions(app) == 1  # the same session, renewed
    # The presented refresh token is used up: the rotation rule holds on this path too.
    with pytest.raises(OAuthError) as reused:
        oauth.refresh_token(base_url + endpoint, refresh_token=stored["refresh_token"])
    assert reused.value.error == "invalid_grant"


def test_revoking_the_refresh_token_ends_the_session(app: Flask, base_url: str) -> None:
    oauth = signed_in(base_url)
    other = signed_in(base_url)  # control: another session of the same user
    assert token_sessions(app) == 2
    refresh_token = oauth.token["refresh_token"]
    access_token = oauth.token["access_token"]

    response = oauth.revoke_token(
        f"{base_url}/api/token/revoke", token=refresh_token, token_type_hint="refresh_token"
    )
    assert response.status_code == 200, response.text
    assert response.request.headers["Content-Type"].startswith(FORM)
    assert parse_qs(str(response.request.body)) == {
        "token": [refresh_token],
        "token_type_hint": ["refresh_token"],
        "client_id": [CLIENT_ID],
    }
    assert token_sessions(app) == 1
    cut_off = requests.get(
        f"{base_url}/api/auth/session", headers=bearer(access_token), timeout=TIMEOUT
    )
    assert cut_off.status_code == 401
    with pytest.raises(OAuthError) as refused:
        oauth.refresh_token(f"{base_url}/api/token", refresh_token=refresh_token)
    assert refused.value.error == "invalid_grant"
    assert whoami(base_url, other).status_code == 200


def test_a_second_factor_is_read_through_a_compliance_hook_and_finished_with_fetch_token(
    app: Flask, base_url: str, clock: Clock
) -> None:
    phone = enroll(api_signed_in(app.test_client(), "app", "alice", PASSWORD), clock).authenticator
    oauth = session_for(base_url)
    # Authlib raises its error on the 401 and keeps only error and description: the hook sees
    # the whole answer first, so that is where the mfa_token is read.
    due: list[dict[str, Any]] = []

    def keep_mfa_required(response: requests.Response) -> requests.Response:
        if response.status_code == 401 and response.json().get("code") == "mfa_required":
            due.append(response.json())
        return response

    oauth.register_compliance_hook("access_token_response", keep_mfa_required)
    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(username="alice", password=PASSWORD)
    assert refused.value.error == "invalid_grant"
    assert refused.value.description == "Enter a code from your authenticator app."
    assert not oauth.token
    [challenge] = due
    assert challenge["methods"] == BOTH and challenge["mfa_token"]

    with pytest.raises(OAuthError) as wrong:
        oauth.fetch_token(grant_type="password", mfa_token=challenge["mfa_token"], code="000000x")
    assert wrong.value.error == "invalid_grant"
    assert wrong.value.description == "The code is wrong or was already used."
    assert not oauth.token

    token = oauth.fetch_token(
        grant_type="password", mfa_token=challenge["mfa_token"], code=phone.next_code()
    )
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    response = whoami(base_url, oauth)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "alice"
