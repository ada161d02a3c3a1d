"""The token endpoints as OAuth 2.0 endpoints: both encodings, unknown parameters, the
refresh_token grant, client credentials, and the RFC 6749 5.2 members on every error."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from flask import Flask, Response, json
from flask.testing import FlaskClient
from sqlalchemy import func, select

from flask_bastion import current_bastion
from flask_bastion.models import AuthSession
from flask_bastion.oauth import OAUTH_ERRORS, add_oauth_error_members
from flask_bastion.testing import Clock
from tests.conftest import PASSWORD
from tests.problems import problem
from tests.token_helpers import assert_invalid_token, bearer, deactivate, issue, oauth, register

pytestmark = pytest.mark.minimal_app

TOKEN = "/api/token"
REFRESH = "/api/token/refresh"
REVOKE = "/api/token/revoke"
SESSION = "/api/auth/session"
ENCODINGS = ["json", "form"]
# What OAuth clients add to their requests, and we do not use (RFC 6749 3.2: ignored).
UNKNOWN = {"client_id": "cli", "scope": "articles offline_access", "state": "xyz", "foo": "bar"}
INVALID_CLIENT = oauth(
    problem(
        401,
        "invalid_client",
        "Unknown client: this server has no confidential clients; send no client secret.",
    ),
    "invalid_client",
)


@pytest.fixture
def user_id(app: Flask) -> int:
    return register(app.test_client())


@pytest.fixture
def pair(client: FlaskClient, user_id: int) -> dict[str, Any]:
    return issue(client)


def post(
    client: FlaskClient, path: str, fields: dict[str, Any], encoding: str, **headers: str
) -> Any:
    if encoding == "json":
        return client.post(path, json=fields, headers=headers)
    return client.post(path, data=fields, headers=headers)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_sessions(app: Flask) -> int:
    with app.app_context():
        count = current_bastion().db.session.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.kind == "token")
        )
    return int(count or 0)


def assert_pair(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert response.headers["Cache-Control"] == "no-store"
    return dict(response.json)


# -- both encodings, unknown parameters ignored, on all three endpoints ----------------------


@pytest.mark.parametrize("extra", [{}, UNKNOWN], ids=["plain", "unknown-params"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_password_grant(
    client: FlaskClient, user_id: int, encoding: str, extra: dict[str, str]
) -> None:
    fields = {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra}
    pair = assert_pair(post(client, TOKEN, fields, encoding))
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200


@pytest.mark.parametrize("extra", [{}, UNKNOWN], ids=["plain", "unknown-params"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", [TOKEN, REFRESH])
def test_refreshing_rotates_on_either_path(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    path: str,
    encoding: str,
    extra: dict[str, str],
) -> None:
    fields = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"], **extra}
    renewed = assert_pair(post(client, path, fields, encoding))
    assert renewed["refresh_token"] != pair["refresh_token"]
    assert client.get(SESSION, headers=bearer(renewed["access_token"])).status_code == 200
    assert token_sessions(app) == 1  # the same session, renewed
    # The presented token is used up, whichever path exchanged it.
    again = post(client, path, fields, encoding)
    assert again.json == oauth(
        problem(401, "invalid_grant", "The refresh token is invalid, expired or used."),
        "invalid_grant",
    )


@pytest.mark.parametrize("extra", [{}, UNKNOWN], ids=["plain", "unknown-params"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("hint", [None, "refresh_token"])
def test_revoking(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    hint: str | None,
    encoding: str,
    extra: dict[str, str],
) -> None:
    fields = {"token": pair["refresh_token"], **extra}
    if hint:
        fields["token_type_hint"] = hint
    other = issue(client)  # control: another session lives on
    response = post(client, REVOKE, fields, encoding)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert token_sessions(app) == 1
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert client.get(SESSION, headers=bearer(other["access_token"])).status_code == 200


def test_a_replay_through_the_token_endpoint_revokes_the_family(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    grant = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    successor = assert_pair(client.post(TOKEN, data=grant))
    clock.advance(11)  # past the grace period: a replay, not a race
    with caplog.at_level(logging.INFO, logger="flask_bastion.audit"):
        assert client.post(TOKEN, data=grant).json["error"] == "invalid_grant"
    assert [r for r in caplog.records if getattr(r, "event", "") == "refresh_token_reused"]
    assert token_sessions(app) == 0
    assert_invalid_token(client.get(SESSION, headers=bearer(successor["access_token"])))


def test_a_race_through_the_token_endpoint_keeps_the_family(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    grant = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    successor = assert_pair(client.post(TOKEN, data=grant))
    clock.advance(5)  # within the grace period: a lost race
    assert client.post(TOKEN, data=grant).json["error"] == "invalid_grant"
    assert token_sessions(app) == 1
    assert client.get(SESSION, headers=bearer(successor["access_token"])).status_code == 200


# -- grant types -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    "grant_type", ["authorization_code", "client_credentials", "urn:x:unknown", ""]
)
def test_other_grant_types_are_unsupported(
    client: FlaskClient, user_id: int, encoding: str, grant_type: str
) -> None:
    fields = {"grant_type": grant_type, "username": "alice", "password": PASSWORD, "code": "c"}
    response = post(client, TOKEN, fields, encoding)
    assert response.json == oauth(
        problem(
            400,
            "unsupported_grant_type",
            "This grant type is not supported here: use password or refresh_token.",
        ),
        "unsupported_grant_type",
    )


def test_a_grant_type_that_is_not_a_string_is_an_invalid_request(
    client: FlaskClient, user_id: int
) -> None:
    response = client.post(TOKEN, json={"grant_type": ["password"], "password": PASSWORD})
    assert response.status_code == 422
    assert response.json["error"] == "invalid_request"
    assert [e["field"] for e in response.json["errors"]] == ["grant_type"]


# -- client credentials: we register no clients ----------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", [TOKEN, REFRESH, REVOKE])
def test_a_client_secret_in_the_body_is_an_unknown_client(
    client: FlaskClient, pair: dict[str, Any], path: str, encoding: str
) -> None:
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": pair["refresh_token"],
        "token": pair["refresh_token"],
        "client_id": "cli",
    }
    refused = post(client, path, {**fields, "client_secret": "s3cret"}, encoding)
    assert refused.json == INVALID_CLIENT
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="token"'
    # Control: the same request as a public client goes through, so nothing was used up.
    assert post(client, path, fields, encoding).status_code == 200


@pytest.mark.parametrize("path", [TOKEN, REFRESH, REVOKE])
def test_http_basic_client_authentication_is_an_unknown_client(
    client: FlaskClient, pair: dict[str, Any], path: str
) -> None:
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": pair["refresh_token"],
        "token": pair["refresh_token"],
    }
    refused = client.post(path, data=fields, headers={"Authorization": basic("cli", "s3cret")})
    assert refused.json == INVALID_CLIENT
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="token"'
    # A public client may name itself with an empty secret: that proves nothing, and is ignored.
    named = client.post(path, data=fields, headers={"Authorization": basic("cli", "")})
    assert named.status_code == 200, named.get_data(as_text=True)


# -- the RFC 6749 5.2 members on every error of these endpoints --------------------------------

TOO_BIG = "x" * 5000
ERROR_CASES = [
    # (path, content type, raw body, status, our code, RFC error)
    (TOKEN, "application/json", b"{nope", 400, "malformed_json", "invalid_request"),
    (TOKEN, "application/x-www-form-urlencoded", b"password=%ff", 400, "malformed_form",
     "invalid_request"),
    (TOKEN, "application/x-www-form-urlencoded", b"grant_type=implicit", 400,
     "unsupported_grant_type", "unsupported_grant_type"),
    (TOKEN, "application/x-www-form-urlencoded", b"username=alice&password=wrong-one", 401,
     "invalid_credentials", "invalid_grant"),
    (TOKEN, "application/x-www-form-urlencoded", b"grant_type=refresh_token&refresh_token=x",
     401, "invalid_grant", "invalid_grant"),
    (TOKEN, "application/x-www-form-urlencoded", b"username=a&password=b&client_secret=c", 401,
     "invalid_client", "invalid_client"),
    (TOKEN, "application/json", b'{"password": "' + TOO_BIG.encode() + b'"}', 413,
     "body_too_large", "invalid_request"),
    (TOKEN, "text/plain", b"username=alice", 415, "unsupported_media_type", "invalid_request"),
    (TOKEN, "application/x-www-form-urlencoded", b"grant_type=password", 422,
     "validation_failed", "invalid_request"),
    (REFRESH, "application/json", b"[", 400, "malformed_json", "invalid_request"),
    (REFRESH, "application/x-www-form-urlencoded", b"refresh_token=%C0%AF", 400,
     "malformed_form", "invalid_request"),
    (REFRESH, "application/x-www-form-urlencoded", b"refresh_token=nope", 401, "invalid_grant",
     "invalid_grant"),
    (REFRESH, "application/x-www-form-urlencoded", b"refresh_token=x&client_secret=c", 401,
     "invalid_client", "invalid_client"),
    (REFRESH, "application/x-www-form-urlencoded", b"refresh_token=" + TOO_BIG.encode(), 413,
     "body_too_large", "invalid_request"),
    (REFRESH, "application/xml", b"<a/>", 415, "unsupported_media_type", "invalid_request"),
    (REFRESH, "application/json", b"{}", 422, "validation_failed", "invalid_request"),
    (REVOKE, "application/json", b"{", 400, "malformed_json", "invalid_request"),
    (REVOKE, "application/x-www-form-urlencoded", b"token=%ff%fe", 400, "malformed_form",
     "invalid_request"),
    (REVOKE, "application/x-www-form-urlencoded", b"token=x&client_secret=c", 401,
     "invalid_client", "invalid_client"),
    (REVOKE, "application/x-www-form-urlencoded", b"token=" + TOO_BIG.encode(), 413,
     "body_too_large", "invalid_request"),
    (REVOKE, "multipart/form-data; boundary=x", b"--x--", 415, "unsupported_media_type",
     "invalid_request"),
    (REVOKE, "application/x-www-form-urlencoded", b"token_type_hint=refresh_token", 422,
     "validation_failed", "invalid_request"),
    (REVOKE, "application/x-www-form-urlencoded", b"token=a&token=b", 422, "validation_failed",
     "invalid_request"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "code", "error"),
    ERROR_CASES,
    ids=[f"{case[0]}-{case[3]}-{case[4]}" for case in ERROR_CASES],
)
def test_every_error_carries_the_oauth_members(
    client: FlaskClient,
    user_id: int,
    path: str,
    content_type: str,
    body: bytes,
    status: int,
    code: str,
    error: str,
) -> None:
    response = client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json
    assert answer["code"] == code
    assert answer["error"] == error
    assert answer["error_description"] == answer["detail"]
    assert {"type", "title", "status", "detail", "code"} <= set(answer)


def test_a_deactivated_account_is_an_invalid_grant(
    app: Flask, client: FlaskClient, user_id: int
) -> None:
    deactivate(app, user_id)
    response = client.post(TOKEN, data={"username": "alice", "password": PASSWORD})
    assert response.json == oauth(
        problem(403, "account_disabled", "This account has been deactivated."), "invalid_grant"
    )


@pytest.mark.parametrize("app_config", [{"BASTION_LOGIN_LIMIT_PER_IDENTITY": "1/minute"}])
def test_too_many_attempts_say_when_to_try_again(
    client: FlaskClient, user_id: int, clock: Clock
) -> None:
    # The clock is frozen: past the free budget the delay (1 s) cannot run out mid-test.
    form = {"username": "alice", "password": "wrong-one"}
    assert client.post(TOKEN, data=form).json["error"] == "invalid_grant"
    response = client.post(TOKEN, data=form)
    assert response.json == oauth(
        problem(429, "rate_limited", "Too many attempts; wait and try again."),
        "temporarily_unavailable",
    )
    assert int(response.headers["Retry-After"]) > 0


def test_every_mapped_error_is_one_oauth_defines() -> None:
    # RFC 6749 5.2 for the token endpoint; server_error and temporarily_unavailable are in the
    # OAuth error registry (RFC 6749 4.1.2.1) for answers that are not the client's fault.
    defined = {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
    }
    assert set(OAUTH_ERRORS.values()) <= defined


def test_other_endpoints_keep_plain_problems(client: FlaskClient) -> None:
    # Control: the members belong to the token endpoints only.
    response = client.get(SESSION)
    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"
    assert "error" not in response.json and "error_description" not in response.json


def test_the_description_keeps_to_the_characters_rfc_6749_allows(app: Flask) -> None:
    body = problem(400, "malformed_form", 'Say "no" — or a \\ back\u00adslash.')
    with app.app_context():
        rendered = add_oauth_error_members(
            Response(json.dumps(body), status=400, mimetype="application/problem+json")
        )
    answer = json.loads(rendered.get_data())
    assert answer["detail"] == body["detail"]  # ours stays as written
    assert answer["error_description"] == "Say ?no? ? or a ? back?slash."
    assert answer["error"] == "invalid_request"
