"""Security headers on every response, no-store on auth, cookie attributes per PUBLIC_URL."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, AppFactory, Auth

pytestmark = pytest.mark.minimal_app


def boom() -> Any:
    raise RuntimeError("boom")


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    app = app_factory()
    app.add_url_rule("/api/test/boom", view_func=boom)
    return app


REQUESTS = [
    ("GET", "/api/test/whoami", None),
    ("GET", "/api/auth/session", None),
    ("POST", "/api/auth/login", {}),
    ("POST", "/api/auth/logout", None),
    ("GET", "/api/nowhere", None),
    ("GET", "/nowhere", None),
    ("GET", "/api/auth/login", None),
    ("GET", "/api/openapi.json", None),
    ("GET", "/api/docs", None),
    ("GET", "/api/test/boom", None),
]


def assert_security_headers(response: Any) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    if response.mimetype == "text/html":  # a page (the API docs set their own policy)
        assert "script-src 'self'" in csp
    else:  # JSON and the like load nothing
        assert csp == "default-src 'none'; frame-ancestors 'none'"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_every_response_carries_the_security_headers(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    response = client.open(path, method=method, json=body)
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # PUBLIC_URL is http here


def test_a_304_for_a_page_keeps_the_stored_page_policy(app: Flask) -> None:
    # werkzeug sends a 304 without its Content-Type; the browser keeps the stored page and takes
    # the 304's headers over it (RFC 9111 4.3.4), so a non-page CSP there would break the page.
    @app.get("/test/page")
    def page() -> Any:
        response = Response("<p>hi</p>", mimetype="text/html")
        response.set_etag("v1")
        return response.make_conditional(request)

    client = app.test_client()
    first = client.get("/test/page")
    assert first.status_code == 200
    assert "script-src 'self'" in first.headers["Content-Security-Policy"]
    again = client.get("/test/page", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert "Content-Security-Policy" not in again.headers  # the stored page's stands
    assert again.headers["X-Content-Type-Options"] == "nosniff"  # the shared ones are there
    assert again.headers["X-Frame-Options"] == "DENY"


def test_security_headers_on_rate_limit_and_size_errors(client: FlaskClient) -> None:
    headers = Auth(client).headers()
    too_big = client.post(
        "/api/auth/login", data="x" * 10_000, headers=headers, content_type="application/json"
    )
    assert too_big.status_code == 413
    assert_security_headers(too_big)
    assert too_big.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("session-anonymous", 401),
        ("session-signed-in", 200),
        ("register", 201),
        ("register-conflict", 409),
        ("login", 200),
        ("login-wrong", 401),
        ("login-invalid", 422),
        ("login-no-csrf", 403),
        ("login-not-json", 415),
        ("logout", 204),
    ],
)
def test_auth_responses_are_never_cached(auth: Auth, action: str, status: int) -> None:
    if action != "register":
        auth.register()
    if action in (
        "session-anonymous",
        "login",
        "login-wrong",
        "login-invalid",
        "register-conflict",
    ):
        auth.logout()
    client = auth.client
    response = {
        "session-anonymous": lambda: client.get("/api/auth/session"),
        "session-signed-in": lambda: client.get("/api/auth/session"),
        "register": lambda: auth.register(),
        "register-conflict": lambda: auth.register(),
        "login": lambda: auth.login("alice"),
        "login-wrong": lambda: auth.login("alice", "wrong-password"),
        "login-invalid": lambda: auth.post("/api/auth/login", {"identity": 1}),
        "login-no-csrf": lambda: client.post("/api/auth/login", json={}),
        "login-not-json": lambda: auth.post("/api/auth/login", data="x", content_type="text/plain"),
        "logout": lambda: auth.logout(),
    }[action]()
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_https_public_url_turns_on_hsts(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_PUBLIC_URL="https://news.example.com")
    client = app.test_client()
    for path in ("/api/test/whoami", "/api/auth/session", "/api/nowhere"):
        response = client.get(path, base_url="https://news.example.com")
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )
        assert_security_headers(response)


def set_cookies(response: Any) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def test_https_cookies_are_secure_with_the_host_prefix(app_factory: AppFactory) -> None:
    base = "https://news.example.com"
    app = app_factory(BASTION_PUBLIC_URL=base)
    client = app.test_client()
    anonymous = client.get("/api/auth/session", base_url=base)
    first = set_cookies(anonymous)
    # Over https the CSRF and pre-session cookies get the __Host- prefix too: a sibling domain
    # cannot plant them.
    assert set(first) == {"__Host-XSRF-TOKEN", "__Host-bastion_session_pre"}
    assert "HttpOnly" in first["__Host-bastion_session_pre"]
    assert all("Secure" in c and "Domain" not in c for c in first.values())
    xsrf = client.get_cookie("__Host-XSRF-TOKEN", domain="news.example.com")
    assert xsrf is not None
    assert anonymous.json["csrf_token"] == xsrf.value  # the source for clients not reading it
    response = client.post(
        "/api/auth/register",
        json={"email": "alice@example.com", "username": "alice", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": xsrf.value},
        base_url=base,
    )
    assert response.status_code == 201, response.json
    cookies = set_cookies(response)
    # The known-device cookie comes with every browser sign-in (docs/rate-limits.md).
    assert set(cookies) == {
        "__Host-bastion_session",
        "__Host-XSRF-TOKEN",
        "__Host-bastion_session_device",
    }
    device = cookies["__Host-bastion_session_device"]
    assert all(a in device for a in ("Secure", "HttpOnly", "Path=/")) and "Domain" not in device
    signed_in_token = client.get_cookie("__Host-XSRF-TOKEN", domain="news.example.com")
    assert signed_in_token is not None and response.json["csrf_token"] == signed_in_token.value
    session = cookies["__Host-bastion_session"]
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in session
    assert "Domain" not in session  # __Host- forbids it; browsers would drop the cookie
    xsrf_cookie = cookies["__Host-XSRF-TOKEN"]
    assert "Secure" in xsrf_cookie and "HttpOnly" not in xsrf_cookie
    assert client.get("/api/auth/session", base_url=base).status_code == 200

    # An unprefixed cookie (say, planted by a sibling domain) is not a session.
    token = client.get_cookie("__Host-bastion_session", domain="news.example.com")
    assert token is not None
    other = app.test_client()
    other.set_cookie("bastion_session", token.value, domain="news.example.com")
    assert other.get("/api/auth/session", base_url=base).status_code == 401

    logout = client.post(
        "/api/auth/logout",
        headers={"X-XSRF-TOKEN": signed_in_token.value},
        base_url=base,
    )
    assert logout.status_code == 204
    cleared = set_cookies(logout)["__Host-bastion_session"]
    assert "Secure" in cleared and ("Max-Age=0" in cleared or "Expires=Thu, 01 Jan 1970" in cleared)


def test_http_loopback_cookies_have_no_prefix_and_no_secure_flag(auth: Auth) -> None:
    cookies = set_cookies(auth.register())
    assert set(cookies) == {"bastion_session", "XSRF-TOKEN", "bastion_session_device"}
    assert all("Secure" not in c for c in cookies.values())
