"""The server-rendered sign-in and sign-out pages, through the Flask test client."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from flask_bastion import current_bastion
from flask_bastion.errors import (
    AccountDisabled,
    CsrfFailed,
    EmailUnconfirmed,
    InvalidCode,
    InvalidCredentials,
    InvalidMfaCode,
    MfaChallengeInvalid,
    RateLimited,
)
from flask_bastion.models import User
from newsroom.views import signin
from tests.conftest import PASSWORD, Auth


def form_token(response: TestResponse) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match is not None, response.text
    return match.group(1)


def post_login(client: FlaskClient, next_path: str | None = None, **fields: Any) -> TestResponse:
    token = form_token(client.get("/login"))
    data = {"csrf_token": token, **fields}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data)


def signed_in_as(client: FlaskClient) -> str | None:
    response = client.get("/api/auth/session")
    return response.json["user"]["username"] if response.status_code == 200 else None


@pytest.fixture
def alice(auth: Auth) -> str:
    assert auth.register().status_code == 201
    assert auth.logout().status_code == 204
    return "alice"


def test_login_page_is_an_accessible_form_with_a_csrf_token(client: FlaskClient) -> None:
    response = client.get("/login?next=/app/articles")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None and form_token(response) == cookie.value
    html = response.text
    assert '<label for="identity">Email or username</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'name="remember" type="checkbox"' in html
    assert '<input type="hidden" name="next" value="/app/articles">' in html
    assert "<script" not in html and "style=" not in html  # the CSP forbids inline code


# The SPA's sign-in page takes its words from this file; the server's page must say the same.
WORDING = json.loads(
    (Path(__file__).resolve().parents[1] / "web" / "src" / "signin-wording.json").read_text()
)


def test_the_page_uses_the_spas_sign_in_wording_and_stylesheet(client: FlaskClient) -> None:
    html = client.get("/login").text
    assert f"<h1>{WORDING['heading']}</h1>" in html
    assert f"<title>{WORDING['heading']} · Newsroom</title>" in html
    assert f'<label for="identity">{WORDING["identity"]}</label>' in html
    assert f'<label for="password">{WORDING["password"]}</label>' in html
    assert f'<label for="remember">{WORDING["remember"]}</label>' in html
    assert f'<button type="submit" class="button-primary">{WORDING["submit"]}</button>' in html
    assert f'{WORDING["new_here"]} <a href="/app/register">{WORDING["register_link"]}</a>' in html
    assert '<link rel="stylesheet" href="/static/newsroom.css">' in html
    assert '<div class="signin">' in html
    css = client.get("/static/newsroom.css", buffered=True)
    assert css.status_code == 200 and ".signin {" in css.text


def test_the_failures_are_worded_as_in_the_spa() -> None:
    assert {
        InvalidCredentials: WORDING["invalid_credentials"],
        AccountDisabled: WORDING["account_disabled"],
        RateLimited: WORDING["rate_limited"],
        CsrfFailed: WORDING["csrf_failed"],
        EmailUnconfirmed: WORDING["email_unconfirmed"],
        InvalidCode: WORDING["invalid_code"],
        InvalidMfaCode: WORDING["invalid_mfa_code"],
        MfaChallengeInvalid: WORDING["mfa_challenge_invalid"],
    } == signin.MESSAGES


@pytest.mark.parametrize("field", ["identity", "username", "email"])
def test_sign_in_by_any_alias_redirects_to_next(
    client: FlaskClient, alice: str, field: str
) -> None:
    identity = "alice@example.com" if field == "email" else "alice"
    response = post_login(client, "/app/articles?page=2", **{field: identity, "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/articles?page=2"
    assert signed_in_as(client) == "alice"


def test_sign_in_sets_an_httponly_session_cookie_and_a_new_csrf_token(
    client: FlaskClient, alice: str
) -> None:
    response = post_login(client, identity="alice", password=PASSWORD, remember="on")
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("bastion_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Expires=" in session
    assert any(c.startswith("XSRF-TOKEN=") for c in cookies)


@pytest.mark.parametrize(
    "hostile",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/app/",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "/logout",
    ],
)
def test_hostile_next_goes_to_the_app(client: FlaskClient, alice: str, hostile: str) -> None:
    response = post_login(client, hostile, identity="alice", password=PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/"


def test_wrong_password_and_unknown_user_get_the_same_401_page(
    client: FlaskClient, alice: str
) -> None:
    pages = []
    for identity, password in [("alice", "wrong-password-1"), ("nobody", "wrong-password-1")]:
        response = post_login(client, identity=identity, password=password)
        assert response.status_code == 401
        assert '<div class="form-alert" role="alert" id="form-error">' in response.text
        assert "The email, username or password is wrong." in response.text
        assert client.get_cookie("bastion_session") is None
        pages.append(re.sub(r'value="[^"]*"', "", response.text))
    assert pages[0] == pages[1]


def test_the_identity_is_kept_and_escaped_on_error(client: FlaskClient) -> None:
    response = post_login(client, identity="<b>x</b>", password="wrong-password-1")
    assert response.status_code == 401
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in response.text


@pytest.mark.parametrize(
    "fields",
    [{}, {"identity": "alice"}, {"password": PASSWORD}, {"identity": "", "password": ""}],
)
def test_missing_fields_rerender_the_form_with_422(
    client: FlaskClient, fields: dict[str, str]
) -> None:
    response = post_login(client, **fields)
    assert response.status_code == 422
    assert "Enter your email or username and your password." in response.text


def test_an_inactive_account_cannot_sign_in(app: Flask, client: FlaskClient, alice: str) -> None:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        db.execute(update(User).values(active=False))
    response = post_login(client, identity="alice", password=PASSWORD)
    assert response.status_code == 403
    assert "This account has been deactivated." in response.text


def test_sign_in_without_the_csrf_token_is_refused(client: FlaskClient, alice: str) -> None:
    client.get("/login")
    response = client.post("/login", data={"identity": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "This form expired. Please try again." in response.text
    assert form_token(response)  # a fresh form to try again
    assert signed_in_as(client) is None


def test_sign_in_posted_from_another_site_is_refused(client: FlaskClient, alice: str) -> None:
    token = form_token(client.get("/login"))
    response = client.post(
        "/login",
        data={"identity": "alice", "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert signed_in_as(client) is None


def test_json_is_refused_with_415(client: FlaskClient) -> None:
    token = form_token(client.get("/login"))
    response = client.post(
        "/login",
        json={"identity": "alice", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": token},
    )
    assert response.status_code == 415


def test_an_oversized_form_is_refused_with_413(client: FlaskClient) -> None:
    response = post_login(client, identity="alice", password="x" * 5000)
    assert response.status_code == 413
    assert "The form is too large." in response.text


def test_signed_in_browser_skips_the_form(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = client.get("/login?next=/app/articles")
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/articles"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/app/"


def test_same_origin_logout_link_signs_out(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = client.get("/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert signed_in_as(client) is None


def test_logout_link_with_a_same_origin_referer_signs_out(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = client.get("/logout", headers={"Referer": "http://localhost/app/articles"})
    assert response.status_code == 303
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Referer": "http://evil.example/page"},
        {"Referer": "http://localhost.evil.example/"},
        {"Origin": "null"},
        {},
    ],
)
def test_logout_link_from_elsewhere_only_asks(
    client: FlaskClient, auth: Auth, headers: dict[str, str]
) -> None:
    auth.register()
    response = client.get("/logout", headers=headers)
    assert response.status_code == 200
    assert "Sign out of Newsroom?" in response.text
    assert '<button type="submit" class="button-primary">Sign out</button>' in response.text
    assert signed_in_as(client) == "alice"


def test_the_confirm_button_signs_out(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    page = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    response = client.post("/logout", data={"csrf_token": form_token(page)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert signed_in_as(client) is None
    assert client.get_cookie("bastion_session") is None


def test_logout_post_without_csrf_token_is_refused(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = client.post("/logout", data={})
    assert response.status_code == 403
    assert "This form expired. Please try again." in response.text
    assert signed_in_as(client) == "alice"


def test_anonymous_logout_link_goes_to_login(client: FlaskClient) -> None:
    response = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


def test_too_many_attempts_rerender_the_form_with_429(client: FlaskClient, alice: str) -> None:
    statuses = [
        post_login(client, identity="alice", password="wrong-password-1").status_code
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]
    response = post_login(client, identity="alice", password=PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts. Wait a minute and try again." in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert signed_in_as(client) is None
