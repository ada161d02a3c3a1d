"""CSRF: the double-submit token bound to the session, and the Origin / Sec-Fetch-Site checks.

Every refusal here has a control: the same request with the right token succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_bastion import current_bastion
from flask_bastion.security import csrf
from flask_bastion.testing import SignedIn, register
from tests.conftest import PASSWORD, AppFactory, Auth
from tests.problems import CROSS_SITE, CSRF_FAILED, assert_problem

pytestmark = pytest.mark.minimal_app

SPA = "https://spa.example.com"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"BASTION_CORS_ORIGINS": SPA}


def xsrf_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    return cookie.value


def signed_in(app: Flask, username: str = "alice") -> SignedIn:
    """A browser signed in by registering: the session these CSRF tokens are bound to."""
    return register(
        app.test_client(), email=f"{username}@example.com", username=username, password=PASSWORD
    )


@pytest.mark.parametrize("header", ["X-XSRF-TOKEN", "X-CSRF-Token", "x-xsrf-token"])
def test_either_header_name_is_accepted(app: Flask, header: str) -> None:
    auth = signed_in(app)
    response = auth.client.post("/api/auth/logout", headers={header: xsrf_cookie(auth.client)})
    assert response.status_code == 204


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login", "/api/auth/logout"])
def test_every_auth_post_needs_the_token_even_anonymous(client: FlaskClient, path: str) -> None:
    client.get("/api/auth/session")
    # The refusal comes before the body is even read: a broken body still gets 403.
    assert_problem(client.post(path, data="not json"), CSRF_FAILED)
    assert_problem(client.post(path, json={}), CSRF_FAILED)
    control = client.post(path, json={}, headers={"X-XSRF-TOKEN": xsrf_cookie(client)})
    assert control.status_code in (204, 422)


def test_without_any_csrf_cookie_a_header_alone_fails(app: Flask) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    auth.client.delete_cookie("XSRF-TOKEN")
    assert_problem(
        auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": token}), CSRF_FAILED
    )


def tokens_for(app: Flask) -> dict[str, Any]:
    """A signed-in client, and CSRF tokens that must not work for it."""
    auth = signed_in(app)
    other = signed_in(app, "bob")
    anonymous = app.test_client()
    anonymous.get("/api/auth/session")
    with app.app_context():
        signer = current_bastion().csrf_signer
        forged_nonce = csrf.issue(signer, "some-other-binding")
    good = xsrf_cookie(auth.client)
    nonce, _, mac = good.partition(".")
    return {
        "auth": auth,
        "wrong": {
            "garbage": "garbage",
            "empty-mac": nonce + ".",
            "tampered-mac": nonce + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"),
            "other-session": xsrf_cookie(other.client),
            "anonymous": xsrf_cookie(anonymous),
            "other-binding": forged_nonce,
            "very-long": "a" * 300 + "." + mac,
        },
    }


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "empty-mac",
        "tampered-mac",
        "other-session",
        "anonymous",
        "other-binding",
        "very-long",
    ],
)
@pytest.mark.parametrize("also_cookie", [False, True])
def test_wrong_tokens_are_refused_and_the_right_one_passes(
    app: Flask, kind: str, also_cookie: bool
) -> None:
    setup = tokens_for(app)
    auth: SignedIn = setup["auth"]
    good = xsrf_cookie(auth.client)
    bad = setup["wrong"][kind]
    if also_cookie:  # an attacker who can plant cookies (a sibling domain) sets both halves
        auth.client.set_cookie("XSRF-TOKEN", bad)
    assert_problem(auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": bad}), CSRF_FAILED)
    auth.client.set_cookie("XSRF-TOKEN", good)
    assert auth.client.get("/api/auth/session").status_code == 200  # still signed in
    assert auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": good}).status_code == 204


def test_a_header_that_differs_from_the_cookie_fails_even_if_signed(app: Flask) -> None:
    auth = signed_in(app)
    with app.app_context():
        from flask_bastion.security.tokens import token_hash

        session = auth.client.get_cookie("bastion_session")
        assert session is not None
        second = csrf.issue(current_bastion().csrf_signer, token_hash(session.value))
    assert_problem(
        auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": second}), CSRF_FAILED
    )


def test_token_rotates_at_login_and_logout(app: Flask) -> None:
    auth = Auth(app.test_client())
    auth.client.get("/api/auth/session")
    anonymous = xsrf_cookie(auth.client)
    auth.register()
    registered = xsrf_cookie(auth.client)
    assert registered != anonymous
    auth.logout()
    auth.client.get("/api/auth/session")
    after_logout = xsrf_cookie(auth.client)
    login = auth.login("alice")
    assert login.json["csrf_token"] == xsrf_cookie(auth.client)
    signed_in_token = xsrf_cookie(auth.client)
    assert len({anonymous, registered, after_logout, signed_in_token}) == 4

    for stale in (anonymous, registered, after_logout):
        assert_problem(
            auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": stale}), CSRF_FAILED
        )
    assert (
        auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": signed_in_token}).status_code
        == 204
    )
    # After logout the signed-in token is useless: it was bound to the deleted session.
    assert_problem(
        auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": signed_in_token}),
        CSRF_FAILED,
    )


def test_session_endpoint_keeps_a_valid_token_and_reports_it(app: Flask) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    response = auth.client.get("/api/auth/session")
    assert response.json["csrf_token"] == token
    assert "XSRF-TOKEN" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_session_endpoint_replaces_an_invalid_token(client: FlaskClient) -> None:
    client.set_cookie("XSRF-TOKEN", "forged.value")
    response = client.get("/api/auth/session")
    assert response.json["csrf_token"] != "forged.value"
    assert response.json["csrf_token"] == xsrf_cookie(client)


@pytest.mark.parametrize(
    "origin",
    [
        SPA,
        "http://localhost",  # our own origin
        "HTTP://LOCALHOST",  # the same origin, spelt in capitals
    ],
)
def test_unsafe_requests_from_a_trusted_origin_pass(app: Flask, origin: str) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    response = auth.client.post(
        "/api/auth/logout", headers={"X-XSRF-TOKEN": token, "Origin": origin}
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    "origin",
    [
        "https://spa.example.com.evil.io",  # look-alike suffix
        "https://evilspa.example.com",
        "http://spa.example.com",  # other scheme
        "https://spa.example.com:8443",  # other port
        "http://localhost:8080",
        "https://localhost",
        "https://app.example.com",  # a sibling subdomain of the allowed origin
        "http://evil.localhost",  # a subdomain of our own host
        "null",
        "NULL",
        "",
        "not a url",
        "http://[::1",
        "http://localhost:99999",
    ],
)
def test_unsafe_requests_from_any_other_origin_are_refused(app: Flask, origin: str) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    response = auth.client.post(
        "/api/auth/logout", headers={"X-XSRF-TOKEN": token, "Origin": origin}
    )
    assert_problem(response, CROSS_SITE)
    assert auth.client.get("/api/auth/session").status_code == 200  # not signed out
    control = auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": token})
    assert control.status_code == 204


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_sec_fetch_site_without_origin_passes_from_our_own_site(app: Flask, site: str) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    response = auth.client.post(
        "/api/auth/logout", headers={"X-XSRF-TOKEN": token, "Sec-Fetch-Site": site}
    )
    assert response.status_code == 204


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_sec_fetch_site_without_origin_is_refused_from_other_sites(app: Flask, site: str) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    response = auth.client.post(
        "/api/auth/logout", headers={"X-XSRF-TOKEN": token, "Sec-Fetch-Site": site}
    )
    assert_problem(response, CROSS_SITE)


def test_an_allowed_origin_wins_over_sec_fetch_site(app: Flask) -> None:
    auth = signed_in(app)
    headers = {
        "X-XSRF-TOKEN": xsrf_cookie(auth.client),
        "Origin": SPA,
        "Sec-Fetch-Site": "cross-site",
    }
    assert auth.client.post("/api/auth/logout", headers=headers).status_code == 204


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_unsafe_method_is_checked_and_safe_ones_are_not(
    client: FlaskClient, method: str
) -> None:
    # /api/test/echo is the minimal app's route that answers every method.
    assert client.get("/api/test/echo").status_code == 200
    assert client.head("/api/test/echo").status_code == 200
    assert client.options("/api/test/echo").status_code == 200
    assert_problem(client.open("/api/test/echo", method=method), CSRF_FAILED)
    client.get("/api/auth/session")
    headers = {"X-XSRF-TOKEN": xsrf_cookie(client)}
    assert client.open("/api/test/echo", method=method, headers=headers).status_code == 200


def test_a_form_post_can_carry_the_token_in_a_field(app: Flask) -> None:
    auth = signed_in(app)
    token = xsrf_cookie(auth.client)
    assert_problem(auth.client.post("/api/auth/logout", data={"csrf_token": "x"}), CSRF_FAILED)
    assert auth.client.post("/api/auth/logout", data={"csrf_token": token}).status_code == 204


def test_tokens_signed_with_a_fallback_key_still_verify(app_factory: AppFactory) -> None:
    old_key, new_key = "o" + "ld-key-" * 8, "n" + "ew-key-" * 8
    client = app_factory(SECRET_KEY=old_key).test_client()
    client.get("/api/auth/session")
    token = xsrf_cookie(client)

    rotated = app_factory(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key])
    forgot = app_factory(SECRET_KEY=new_key)
    presession = client.get_cookie("bastion_session_pre")
    assert presession is not None
    for app, expected in ((rotated, 422), (forgot, 403)):
        other = app.test_client()
        other.set_cookie("bastion_session_pre", presession.value)
        other.set_cookie("XSRF-TOKEN", token)
        response = other.post("/api/auth/login", json={}, headers={"X-XSRF-TOKEN": token})
        assert response.status_code == expected
    # New tokens are signed with the new key: an app that knows only the old key refuses them.
    fresh = rotated.test_client()
    fresh.get("/api/auth/session")
    assert xsrf_cookie(fresh) != token


# ---- hostile credentials, generated ------------------------------------------------------------

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=";,\x7f"),
    max_size=300,
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    session=st.none() | header_text,
    xsrf_cookie=st.none() | header_text,
    xsrf_header=st.none() | header_text,
    origin=st.none() | header_text | st.sampled_from([SPA, "null", "http://localhost"]),
    fetch_site=st.none() | st.sampled_from(["cross-site", "same-site", "same-origin", "none", "x"]),
)
def test_hostile_cookies_and_headers_never_500(
    app: Flask,
    session: str | None,
    xsrf_cookie: str | None,
    xsrf_header: str | None,
    origin: str | None,
    fetch_site: str | None,
) -> None:
    client = app.test_client()
    if session is not None:
        client.set_cookie("bastion_session", session)
    if xsrf_cookie is not None:
        client.set_cookie("XSRF-TOKEN", xsrf_cookie)
    headers = {
        name: value
        for name, value in (
            ("X-XSRF-TOKEN", xsrf_header),
            ("Origin", origin),
            ("Sec-Fetch-Site", fetch_site),
        )
        if value is not None
    }
    state = client.get("/api/auth/session", headers=headers)
    assert state.status_code == 401
    assert state.json["code"] == "not_authenticated"
    for path in ("/api/auth/logout", "/api/auth/login"):
        response = client.post(path, json={"identity": "x", "password": "y"}, headers=headers)
        assert response.status_code in (204, 401, 403), response.get_data(as_text=True)
        if response.status_code == 403:
            assert response.json["code"] == "csrf_failed"
