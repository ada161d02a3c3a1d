"""CORS with credentials: only the exact configured origins, never null or look-alikes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AppFactory

pytestmark = pytest.mark.minimal_app

SPA = "https://app.example.com"
DEV = "http://localhost:5173"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"BASTION_CORS_ORIGINS": f"{SPA}, {DEV}"}


LOOK_ALIKES = [
    "https://app.example.com.evil.io",
    "https://evil-app.example.com",
    "https://evilapp.example.com",
    "https://app.example.co",
    "http://app.example.com",  # http vs https
    "https://app.example.com:8443",  # other port
    "https://app.example.com/",  # trailing slash
    "HTTPS://APP.EXAMPLE.COM",  # upper case: browsers never send it, so neither do we match it
    "https://App.Example.com",
    "https://sub.app.example.com",
    "http://localhost:5174",
    "http://localhost",
    "null",
    "*",
    "",
    " https://app.example.com",
]


def assert_no_cors(response: Any) -> None:
    for header in CORS_HEADERS:
        assert header not in response.headers, header
    assert "Origin" in response.vary  # the answer still depends on Origin


@pytest.mark.parametrize("origin", [SPA, DEV])
@pytest.mark.parametrize("path", ["/api/auth/session", "/api/test/whoami", "/api/nowhere"])
def test_an_allowed_origin_gets_credentials(client: FlaskClient, origin: str, path: str) -> None:
    response = client.get(path, headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.vary
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Retry-After", "X-Request-ID", "WWW-Authenticate"} <= exposed


@pytest.mark.parametrize("origin", LOOK_ALIKES)
def test_look_alike_origins_are_never_reflected(client: FlaskClient, origin: str) -> None:
    assert_no_cors(client.get("/api/auth/session", headers={"Origin": origin}))


def test_no_origin_means_no_cors_headers(client: FlaskClient) -> None:
    assert_no_cors(client.get("/api/auth/session"))


@pytest.mark.parametrize("origin", [SPA, DEV])
def test_preflight_for_an_allowed_origin(client: FlaskClient, origin: str) -> None:
    response = client.options(
        "/api/auth/login",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-xsrf-token",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"content-type", "x-xsrf-token", "x-csrf-token", "authorization"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.get_data() == b""


@pytest.mark.parametrize("origin", LOOK_ALIKES)
def test_preflight_for_other_origins_grants_nothing(client: FlaskClient, origin: str) -> None:
    response = client.options(
        "/api/auth/login",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert_no_cors(response)


def test_a_preflight_is_never_csrf_checked_nor_authenticated(client: FlaskClient) -> None:
    response = client.options(
        "/api/auth/logout",
        headers={"Origin": SPA, "Access-Control-Request-Method": "POST", "Authorization": "x"},
    )
    assert response.status_code == 204


def test_a_plain_options_request_is_not_a_preflight(client: FlaskClient) -> None:
    response = client.options("/api/auth/login", headers={"Origin": SPA})
    assert response.status_code == 200
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("configured", ["*", "null", "*, null"])
def test_wildcard_and_null_are_never_honoured_even_in_development(
    app_factory: AppFactory, configured: str
) -> None:
    app = app_factory(BASTION_CORS_ORIGINS=configured)
    client = app.test_client()
    for origin in ("https://evil.example", "null", "*"):
        response = client.get("/api/auth/session", headers={"Origin": origin})
        assert_no_cors(response)
        preflight = client.options(
            "/api/auth/login",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert_no_cors(preflight)


def test_configured_origins_are_normalised(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_CORS_ORIGINS=["HTTPS://App.Example.com:443/", "http://localhost:80"])
    client = app.test_client()
    response = client.get("/api/auth/session", headers={"Origin": SPA})
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    response = client.get("/api/auth/session", headers={"Origin": "http://localhost"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost"


def test_errors_carry_cors_headers_too(app: Flask, client: FlaskClient) -> None:
    # An SPA on another origin must be able to read a 403 or 401 to act on it.
    response = client.post("/api/auth/logout", headers={"Origin": SPA})
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == SPA
