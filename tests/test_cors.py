"""CORS with credentials: only the exact configured origins, never null or look-alikes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion import UnsafeConfiguration
from flask_bastion.config import load_settings
from newsroom import settings as newsroom_settings
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


# ---- extra request headers (BASTION_CORS_ALLOW_HEADERS) -------------------------------------


def preflight_asking(client: FlaskClient, origin: str, headers: str) -> Any:
    return client.options(
        "/api/articles",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def granted_headers(response: Any) -> set[str]:
    value = response.headers.get("Access-Control-Allow-Headers", "")
    return {h.strip().lower() for h in value.split(",") if h.strip()}


def test_the_default_configuration_does_not_allow_x_origin(client: FlaskClient) -> None:
    response = preflight_asking(client, SPA, "content-type, x-origin, x-xsrf-token")
    assert response.headers["Access-Control-Allow-Origin"] == SPA  # control: the origin is ours
    assert {"content-type", "x-xsrf-token"} <= granted_headers(response)
    assert "x-origin" not in granted_headers(response)


@pytest.mark.parametrize("configured", ["X-Origin", "x-origin, X-Trace-Id", ["X-Origin"]])
def test_configured_headers_are_allowed_for_allowed_origins(
    app_factory: AppFactory, configured: Any
) -> None:
    app = app_factory(BASTION_CORS_ORIGINS=SPA, BASTION_CORS_ALLOW_HEADERS=configured)
    response = preflight_asking(app.test_client(), SPA, "content-type, x-origin, x-xsrf-token")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    # On top of the ones the API needs, never instead of them.
    assert {"x-origin", "content-type", "x-xsrf-token", "authorization"} <= granted_headers(
        response
    )


@pytest.mark.parametrize("origin", ["https://evil.example", *LOOK_ALIKES])
def test_configured_headers_grant_nothing_to_other_origins(
    app_factory: AppFactory, origin: str
) -> None:
    app = app_factory(BASTION_CORS_ORIGINS=SPA, BASTION_CORS_ALLOW_HEADERS="X-Origin")
    response = preflight_asking(app.test_client(), origin, "x-origin")
    assert response.status_code == 204
    assert_no_cors(response)


def test_each_allowed_header_is_listed_once(app_factory: AppFactory) -> None:
    app = app_factory(
        BASTION_CORS_ORIGINS=SPA, BASTION_CORS_ALLOW_HEADERS="authorization, X-Origin, x-origin"
    )
    response = preflight_asking(app.test_client(), SPA, "x-origin")
    listed = [
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    ]
    assert sorted(listed) == sorted(set(listed))
    assert "authorization" in listed and "x-origin" in listed


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        (
            "*",
            "BASTION_CORS_ALLOW_HEADERS contains '*': name each header (with credentials, "
            "browsers do not read '*' as a wildcard).",
        ),
        ("X-Origin, *", "BASTION_CORS_ALLOW_HEADERS contains '*'"),
        ("X Origin", "BASTION_CORS_ALLOW_HEADERS entry 'X Origin' is not a header name."),
        ("X-Origin:", "BASTION_CORS_ALLOW_HEADERS entry 'X-Origin:' is not a header name."),
        (["X-Origin\r\nSet-Cookie"], "is not a header name."),
        ("\u216a-Origin", "is not a header name."),  # a Roman numeral, not an X
    ],
)
@pytest.mark.parametrize("env", ["production", "development"])  # a typo, so refused even in dev
def test_nonsense_header_names_refuse_to_start(
    app_factory: AppFactory, configured: Any, message: str, env: str
) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        app_factory(BASTION_ENV=env, BASTION_CORS_ALLOW_HEADERS=configured)
    assert len(refused.value.problems) == 1
    assert message in refused.value.problems[0]


def test_a_valid_header_list_starts(app_factory: AppFactory) -> None:
    # The control of the refusals above: only the header names changed.
    app = app_factory(BASTION_ENV="development", BASTION_CORS_ALLOW_HEADERS="X-Origin, X-Trace-Id")
    assert app.extensions["bastion"].settings.cors_allow_headers == ("X-Origin", "X-Trace-Id")


def test_newsroom_reads_cors_allow_headers_from_the_environment() -> None:
    env = {"APP_ENV": "testing", "CORS_ALLOW_HEADERS": "X-Origin, X-Trace-Id"}
    settings = load_settings(newsroom_settings.from_env(env))
    assert settings.cors_allow_headers == ("X-Origin", "X-Trace-Id")
    assert (
        load_settings(newsroom_settings.from_env({"APP_ENV": "testing"})).cors_allow_headers == ()
    )
