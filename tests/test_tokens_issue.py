"""POST /api/token: the password grant for app clients, under the API's error rules."""

from __future__ import annotations

import secrets
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select

from flask_bastion import UnsafeConfiguration, current_bastion
from flask_bastion.config import load_settings
from flask_bastion.models import AuthSession, RefreshToken
from flask_bastion.security.tokens import token_hash
from flask_bastion.testing import Clock
from tests.conftest import PASSWORD, Auth
from tests.problems import problem
from tests.token_helpers import (
    bearer,
    claims_of,
    deactivate,
    header_of,
    issue,
    oauth,
    register,
    signing_key,
)

pytestmark = pytest.mark.minimal_app

TOKEN = "/api/token"
INVALID_CREDENTIALS = oauth(
    problem(401, "invalid_credentials", "The identity or password is wrong."), "invalid_grant"
)


@pytest.fixture
def user_id(app: Flask) -> int:
    return register(app.test_client())


@pytest.mark.parametrize(
    "body",
    [
        {"identity": "alice", "password": PASSWORD},
        {"identity": "Alice@Example.com", "password": PASSWORD},
        {"username": "alice", "password": PASSWORD},
        {"email": "alice@example.com", "password": PASSWORD},
        {"grant_type": "password", "username": "alice", "password": PASSWORD},
    ],
    ids=["identity-username", "identity-email", "username", "email", "with-grant-type"],
)
def test_json_password_grant_returns_a_token_pair(
    client: FlaskClient, user_id: int, body: dict[str, Any]
) -> None:
    response = client.post(TOKEN, json=body)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 600
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # an app client gets no cookie


def test_the_oauth_form_is_accepted(client: FlaskClient, user_id: int) -> None:
    response = client.post(
        TOKEN, data={"grant_type": "password", "username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200, response.json
    assert response.json["token_type"] == "Bearer"
    assert "Set-Cookie" not in response.headers


def test_the_access_token_has_the_documented_shape(
    app: Flask, client: FlaskClient, user_id: int
) -> None:
    pair = issue(client)
    header, claims = header_of(pair["access_token"]), claims_of(pair["access_token"])
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": signing_key(app).kid}
    assert set(claims) == {"iss", "aud", "sub", "sid", "exp", "iat", "jti"}
    assert claims["iss"] == "http://localhost"
    assert claims["aud"] == "http://localhost/api"
    assert claims["sub"] == str(user_id)  # the stable id, never the email
    assert claims["exp"] - claims["iat"] == 600
    jwks = client.get("/.well-known/jwks.json").json
    key = jwt.PyJWK(jwks["keys"][0])
    verified = jwt.decode(
        pair["access_token"], key, algorithms=["EdDSA"], audience="http://localhost/api"
    )
    assert verified == claims


def test_the_refresh_token_is_opaque_and_stored_hashed(
    app: Flask, client: FlaskClient, user_id: int
) -> None:
    pair = issue(client)
    assert pair["refresh_token"].count(".") == 0 and len(pair["refresh_token"]) >= 43
    with app.app_context():
        db = current_bastion().db.session
        stored = db.scalars(select(RefreshToken.token_hash)).all()
        kinds = sorted(db.scalars(select(AuthSession.kind)).all())
    assert stored == [token_hash(pair["refresh_token"])]
    assert kinds == ["browser", "token"]  # the registration's browser session, and this one


def test_the_token_authenticates_api_calls(client: FlaskClient, user_id: int) -> None:
    pair = issue(client)
    response = client.get("/api/auth/session", headers=bearer(pair["access_token"]))
    assert response.status_code == 200
    assert response.json["user"]["id"] == user_id
    assert response.json["session"]["kind"] == "token"
    assert response.json["csrf_token"] == ""


@pytest.mark.parametrize(
    "body",
    [
        {"identity": "alice", "password": "wrong-password-here"},
        {"identity": "nobody", "password": PASSWORD},
        {"identity": "nobody@example.com", "password": PASSWORD},
    ],
    ids=["wrong-password", "unknown-username", "unknown-email"],
)
def test_bad_credentials_get_one_answer(
    client: FlaskClient, user_id: int, body: dict[str, Any]
) -> None:
    response = client.post(TOKEN, json=body)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json == INVALID_CREDENTIALS


def test_bad_credentials_by_form_get_the_same_answer(client: FlaskClient, user_id: int) -> None:
    response = client.post(
        TOKEN, data={"grant_type": "password", "username": "alice", "password": "nope-nope"}
    )
    assert response.json == INVALID_CREDENTIALS


def test_a_deactivated_account_gets_no_tokens(
    app: Flask, client: FlaskClient, user_id: int
) -> None:
    deactivate(app, user_id)
    response = client.post(TOKEN, json={"identity": "alice", "password": PASSWORD})
    assert response.json == oauth(
        problem(403, "account_disabled", "This account has been deactivated."), "invalid_grant"
    )


@pytest.mark.parametrize("app_config", [{"BASTION_LOGIN_LIMIT_PER_IDENTITY": "2/minute"}])
def test_the_login_rate_limits_apply(client: FlaskClient, user_id: int, clock: Clock) -> None:
    # The clock is frozen: past the free budget the delay (1 s) cannot run out mid-test.
    for _ in range(2):
        assert (
            client.post(TOKEN, json={"identity": "alice", "password": "x-wrong-x"}).status_code
            == 401
        )
    response = client.post(TOKEN, json={"identity": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json == oauth(
        problem(429, "rate_limited", "Too many attempts; wait and try again."),
        "temporarily_unavailable",
    )


def test_no_csrf_token_is_needed_even_with_a_session_cookie(
    app: Flask, client: FlaskClient, user_id: int, auth: Auth
) -> None:
    assert auth.login().status_code == 200  # the client now holds a session cookie
    response = client.post(TOKEN, json={"identity": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# -- the API's error rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", "identity=alice"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("application/xml", "<a/>"),
    ],
)
def test_other_media_types_get_415(client: FlaskClient, content_type: str, data: str) -> None:
    response = client.post(TOKEN, data=data, headers={"Content-Type": content_type})
    assert response.json == oauth(
        problem(
            415,
            "unsupported_media_type",
            "Send the body as application/json or application/x-www-form-urlencoded.",
        ),
        "invalid_request",
    )


def test_malformed_json_gets_400(client: FlaskClient) -> None:
    response = client.post(TOKEN, data="{nope", headers={"Content-Type": "application/json"})
    assert response.json == oauth(
        problem(400, "malformed_json", "The request body is not valid JSON."), "invalid_request"
    )


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_oversized_bodies_get_413(client: FlaskClient, as_form: bool) -> None:
    padding = "x" * 5000
    if as_form:
        response = client.post(TOKEN, data={"username": "alice", "password": padding})
    else:
        response = client.post(TOKEN, json={"identity": "alice", "password": padding})
    assert response.json == oauth(
        problem(413, "body_too_large", "The request body is too large."), "invalid_request"
    )


def test_missing_fields_get_422_with_field_errors(client: FlaskClient) -> None:
    response = client.post(TOKEN, json={})
    assert response.status_code == 422
    assert response.json == oauth(
        problem(
            422,
            "validation_failed",
            "Some fields are invalid.",
            errors=[
                {"field": "identity", "code": "missing", "message": "Field required"},
                {"field": "password", "code": "missing", "message": "Field required"},
            ],
        ),
        "invalid_request",
    )


def test_wrong_types_get_422(client: FlaskClient) -> None:
    response = client.post(TOKEN, json={"identity": 5, "password": ["x"]})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"identity", "password"}
    assert all(e["code"] == "string_type" for e in response.json["errors"])


def test_a_repeated_form_field_is_refused(client: FlaskClient) -> None:
    response = client.post(
        TOKEN, data={"grant_type": "password", "username": ["a", "b"], "password": "b"}
    )
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert response.json["error"] == "invalid_request"
    assert [e["field"] for e in response.json["errors"]] == ["username"]


@pytest.mark.parametrize("raw", ["[]", '"alice"', "3", "null"])
def test_non_object_json_gets_422(client: FlaskClient, raw: str) -> None:
    response = client.post(TOKEN, data=raw, headers={"Content-Type": "application/json"})
    assert response.json == oauth(
        problem(
            422,
            "validation_failed",
            "The body must be a JSON object.",
            errors=[{"field": "body", "code": "type", "message": "Expected a JSON object."}],
        ),
        "invalid_request",
    )


def test_the_token_endpoints_are_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    assert paths["/api/token"]["post"]["security"] == []
    assert "200" in paths["/api/token"]["post"]["responses"]
    assert "requestBody" in paths["/api/token/refresh"]["post"]
    assert "requestBody" in paths["/api/token/revoke"]["post"]
    sessions = paths["/api/auth/sessions"]
    assert sessions["get"]["security"] == [{"sessionCookie": []}, {"bearerAuth": []}]
    assert set(sessions) == {"get", "delete"}
    assert set(paths["/api/auth/sessions/{session_id}"]) == {"delete"}
    assert "requestBody" in paths["/api/auth/reauth"]["post"]
    validate(spec)


def test_a_valid_bearer_beats_a_valid_cookie(app: Flask, auth: Auth, user_id: int) -> None:
    register(app.test_client(), "bob@example.com", "bob")
    bob = issue(app.test_client(), "bob")
    assert auth.login().status_code == 200  # alice's cookie is in the jar
    response = auth.client.get("/api/auth/session", headers=bearer(bob["access_token"]))
    assert response.json["user"]["username"] == "bob"
    assert "Set-Cookie" not in response.headers  # no CSRF cookie dance for a bearer caller
    # An unsafe bearer request needs no CSRF header, and never touches alice's session.
    logout = auth.client.post("/api/auth/logout", headers=bearer(bob["access_token"]))
    assert logout.status_code == 204
    assert auth.client.get("/api/auth/session").json["user"]["username"] == "alice"


@pytest.mark.parametrize("lifetime", [30, 7200])
def test_production_refuses_access_tokens_too_short_or_long_lived(lifetime: int) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(
            {
                "BASTION_DATABASE_URL": "sqlite://",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "BASTION_ACCESS_TOKEN_LIFETIME": lifetime,
                "BASTION_MAIL_URL": "smtp://127.0.0.1:25",
            }
        )
    assert refused.value.problems == [
        "BASTION_ACCESS_TOKEN_LIFETIME must be between 60 and 3600 seconds."
    ]


def test_issuer_and_audience_follow_the_public_url_unless_set() -> None:
    base = {"BASTION_DATABASE_URL": "sqlite://", "BASTION_ENV": "testing"}
    settings = load_settings({**base, "BASTION_PUBLIC_URL": "https://news.example"})
    assert (settings.issuer, settings.audience) == (
        "https://news.example",
        "https://news.example/api",
    )
    custom = load_settings(
        {**base, "BASTION_TOKEN_ISSUER": "https://id.example", "BASTION_TOKEN_AUDIENCE": "news"}
    )
    assert (custom.issuer, custom.audience) == ("https://id.example", "news")
