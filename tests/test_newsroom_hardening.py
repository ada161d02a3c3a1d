"""Hardening of the browser surface: bearer vs CSRF, pre-session binding, challenges, caching,
Clear-Site-Data, CSP, trusted hosts and the development server. Every attack has its control."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import requests
from flask import Flask
from flask.sessions import NullSession
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, AppFactory, Auth
from tests.newsroom_helpers import member

JUNK = {"Authorization": "Bearer junk"}
CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def set_cookie_names(response: Any) -> set[str]:
    return {c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")}


def form_token(client: FlaskClient) -> str:
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    return cookie.value


# ---- a bearer header exempts from CSRF only when its token authenticates ----------------------


def test_a_junk_bearer_beside_a_session_cookie_is_refused_not_exempted(
    app: Flask, auth: Auth
) -> None:
    auth.register()
    response = auth.client.post("/api/articles", json={"title": "t", "body": "b"}, headers=JUNK)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Control: the cookie with its CSRF token writes the article.
    created = auth.post("/api/articles", {"title": "t", "body": "b"})
    assert created.status_code == 201, created.json


def test_a_working_bearer_token_is_exempt_even_cross_site(app: Flask) -> None:
    writer = member(app, "writer", kind="app")
    response = writer.post("/api/articles", json={"title": "t", "body": "b"}, headers=CROSS_SITE)
    assert response.status_code == 201, response.json
    # Control: the same cross-site request with a junk token is refused.
    junk = app.test_client().post(
        "/api/articles", json={"title": "t", "body": "b"}, headers={**CROSS_SITE, **JUNK}
    )
    assert junk.status_code == 401 and junk.json["code"] == "invalid_token"


# ---- views that issue cookies never take a bearer header ----------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_server_rendered_login_refuses_a_bearer_header(
    client: FlaskClient, method: str
) -> None:
    client.get("/login")
    data = {"identity": "x", "password": "y", "csrf_token": form_token(client)}
    response = client.open("/login", method=method, data=data, headers=JUNK)
    assert response.status_code == 400
    assert response.json["code"] == "bearer_not_accepted"
    assert "Set-Cookie" not in response.headers
    # Control: without the header the form is served and sets its cookies.
    fresh = client.application.test_client().get("/login")
    assert fresh.status_code == 200
    assert {"XSRF-TOKEN", "bastion_session_pre"} <= set_cookie_names(fresh)


def test_the_sign_out_confirm_page_refuses_a_bearer_header(app: Flask) -> None:
    reader = member(app, "reader", kind="app")
    response = reader.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400 and "Set-Cookie" not in response.headers
    # Control: a signed-in browser following a cross-site link gets the confirm page.
    browser = member(app, "browser")
    page = browser.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_a_bearer_session_read_sets_no_cookie(app: Flask) -> None:
    reader = member(app, "reader", kind="app")
    response = reader.get("/api/auth/session")
    assert response.status_code == 200
    assert response.json["csrf_token"] == ""
    assert "Set-Cookie" not in response.headers
    junk = app.test_client().get("/api/auth/session", headers=JUNK)
    assert junk.status_code == 401 and "Set-Cookie" not in junk.headers
    # Control: a browser gets its CSRF and pre-session cookies here.
    browser = app.test_client().get("/api/auth/session")
    assert {"XSRF-TOKEN", "bastion_session_pre"} <= set_cookie_names(browser)


def test_a_basic_header_from_a_staging_proxy_does_not_block_sign_in(auth: Auth) -> None:
    # Browsers resend Basic credentials to a site behind HTTP auth: only Bearer is refused.
    account = {"email": "bob@example.com", "username": "bob", "password": PASSWORD}
    response = auth.post(
        "/api/auth/register", account, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 201, response.json


# ---- anonymous CSRF tokens are bound to this browser's pre-session cookie ---------------------


def test_an_anonymous_token_from_one_browser_fails_in_another(app: Flask) -> None:
    account = {"email": "eve@example.com", "username": "eve", "password": PASSWORD}
    attacker, victim = app.test_client(), app.test_client()
    attacker.get("/api/auth/session")
    stolen = form_token(attacker)
    victim.get("/api/auth/session")  # the victim has a pre-session of its own
    victim.set_cookie("XSRF-TOKEN", stolen)  # planted, as a sibling domain could
    planted = victim.post("/api/auth/register", json=account, headers={"X-XSRF-TOKEN": stolen})
    assert planted.status_code == 403 and planted.json["code"] == "csrf_failed"
    # Without any pre-session cookie the token fits nobody either.
    bare = app.test_client()
    bare.set_cookie("XSRF-TOKEN", stolen)
    refused = bare.post("/api/auth/register", json=account, headers={"X-XSRF-TOKEN": stolen})
    assert refused.status_code == 403
    # Control: in the browser it was issued to, the same token works.
    ok = attacker.post("/api/auth/register", json=account, headers={"X-XSRF-TOKEN": stolen})
    assert ok.status_code == 201, ok.json


def test_the_pre_session_cookie_is_http_only_and_kept_across_pages(client: FlaskClient) -> None:
    first = client.get("/api/auth/session")
    cookie = next(c for c in first.headers.getlist("Set-Cookie") if "bastion_session_pre=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = first.json["csrf_token"]
    again = client.get("/login")  # the form page reuses this browser's token
    assert "Set-Cookie" not in again.headers
    assert f'value="{token}"' in again.text


def test_the_server_rendered_sign_in_still_works(app: Flask, auth: Auth) -> None:
    auth.register()
    auth.logout()
    client = auth.client
    client.get("/login")
    response = client.post(
        "/login",
        data={"identity": "alice", "password": PASSWORD, "csrf_token": form_token(client)},
    )
    assert response.status_code == 303
    assert client.get("/api/auth/session").status_code == 200


# ---- every 401 carries a challenge that opens no browser dialog -------------------------------


def test_every_401_carries_a_www_authenticate_challenge(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    auth.logout()
    answers = [
        client.get("/api/auth/session"),  # no session
        auth.login("alice", "wrong-password"),  # wrong credentials
        client.get("/app/assets/private-chunk.js", headers={"Sec-Fetch-Mode": "no-cors"}),
        client.post("/login", data={"identity": "alice", "password": "nope", "csrf_token": ""}),
    ]
    for response in answers:
        assert response.status_code in (401, 403), response.data
        if response.status_code == 401:
            challenge = response.headers["WWW-Authenticate"]
            assert challenge.startswith("Bearer ")  # never Basic: no password dialog
    assert answers[0].headers["WWW-Authenticate"] == 'Bearer realm="api"'
    # Control: a 200 carries none.
    assert "WWW-Authenticate" not in client.get("/login").headers


def test_the_html_login_page_401_carries_a_challenge(auth: Auth) -> None:
    auth.register()
    auth.logout()
    client = auth.client
    client.get("/login")
    response = client.post(
        "/login", data={"identity": "alice", "password": "wrong!", "csrf_token": form_token(client)}
    )
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


# ---- caching: /api answers and errors are not stored unless a view says so ---------------------


def test_api_answers_and_errors_are_not_stored(app: Flask) -> None:
    reader = member(app, "reader")
    for response in (
        reader.get("/api/articles"),
        reader.get("/api/articles/999999"),
        app.test_client().get("/api/nowhere"),
        app.test_client().get("/nowhere"),  # a problem outside /api too
    ):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    # Control: the JWKS keeps its public max-age on purpose.
    jwks = app.test_client().get("/.well-known/jwks.json")
    assert jwks.headers["Cache-Control"].startswith("public, max-age=")


# ---- sign-out clears the site's data in the browser --------------------------------------------


def test_sign_out_sends_clear_site_data(app: Flask, auth: Auth) -> None:
    auth.register()
    response = auth.logout()
    assert response.status_code == 204
    # Not "cookies": that would drop the known-device cookie too (docs/rate-limits.md).
    assert response.headers["Clear-Site-Data"] == '"storage"'
    # The session's cookies are cleared one by one, and the next page starts afresh.
    assert {"bastion_session", "XSRF-TOKEN", "bastion_session_pre"} <= set_cookie_names(response)
    assert "bastion_session_device" not in set_cookie_names(response)
    assert auth.client.get("/api/auth/session").status_code == 401
    assert auth.login().status_code == 200


def test_clear_site_data_only_on_a_browser_sign_out(app: Flask, auth: Auth) -> None:
    auth.register()
    refused = auth.client.post("/api/auth/logout")  # no CSRF token: nothing ended
    assert refused.status_code == 403 and "Clear-Site-Data" not in refused.headers
    app_client = member(app, "mobile", kind="app")
    bearer_out = app_client.post("/api/auth/logout")
    assert bearer_out.status_code == 204 and "Clear-Site-Data" not in bearer_out.headers
    form = auth.client.post("/logout", data={"csrf_token": form_token(auth.client)})
    assert form.status_code == 303 and form.headers["Clear-Site-Data"] == '"storage"'


# ---- CSP from nothing ------------------------------------------------------------------------


def test_pages_and_json_get_a_csp_from_default_none(client: FlaskClient) -> None:
    page = client.get("/login").headers["Content-Security-Policy"]
    assert page.startswith("default-src 'none'; ")
    assert "script-src 'self'" in page and "form-action 'self'" in page
    assert client.get("/api/auth/session").headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


# ---- the Host header ---------------------------------------------------------------------------


def test_a_foreign_host_header_cannot_shape_a_redirect(client: FlaskClient) -> None:
    response = client.get("/app", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "untrusted_host"
    assert "Location" not in response.headers
    # Control: our own host gets the slash redirect, to itself.
    ok = client.get("/app")
    assert ok.status_code == 308 and ok.headers["Location"] in ("/app/", "http://localhost/app/")


def test_hosts_of_public_url_and_cors_origins_are_answered(app_factory: AppFactory) -> None:
    app = app_factory(
        BASTION_PUBLIC_URL="https://news.example.com",
        BASTION_CORS_ORIGINS="https://spa.example.org",
    )
    client = app.test_client()
    for base in ("https://news.example.com", "https://spa.example.org"):
        assert client.get("/api/auth/session", base_url=base).status_code == 401
    assert client.get("/api/auth/session", base_url="https://localhost").status_code == 400
    assert client.get("/api/auth/session", base_url="https://evil.example").status_code == 400


def test_behind_a_proxy_the_forwarded_host_is_checked(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_PUBLIC_URL="https://news.example.com", TRUSTED_PROXIES=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    bad = client.get("/app", headers={**forwarded, "X-Forwarded-Host": "evil.example"})
    assert bad.status_code == 400 and bad.json["code"] == "untrusted_host"
    good = client.get("/app", headers={**forwarded, "X-Forwarded-Host": "news.example.com"})
    assert good.status_code == 308
    assert good.headers["Location"] in ("/app/", "https://news.example.com/app/")


# ---- Flask's development server outside development --------------------------------------------


@pytest.fixture
def served() -> Iterator[Any]:
    servers: list[Any] = []

    def serve(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def test_the_development_server_refuses_to_answer_outside_development(
    app_factory: AppFactory, served: Any
) -> None:
    production = app_factory(
        BASTION_ENV="production",
        BASTION_PUBLIC_URL="http://127.0.0.1",
        BASTION_ARGON2_TIME_COST=2,
        BASTION_ARGON2_MEMORY_COST=19 * 1024,
    )
    answer = requests.get(served(production) + "/api/auth/session", timeout=10)
    assert answer.status_code == 500
    assert answer.json()["code"] == "development_server"
    # Control: in testing, the same server answers.
    testing = app_factory(BASTION_PUBLIC_URL="http://127.0.0.1")
    assert requests.get(served(testing) + "/api/auth/session", timeout=10).status_code == 401


# ---- Flask's cookie session stays closed: sign-in lives in bastion's server-side sessions -------


def test_flask_cookie_session_is_never_opened_nor_written(app: Flask, auth: Auth) -> None:
    @app.get("/api/test/flask-session")
    def flask_session() -> dict[str, str]:
        assert isinstance(flask.session, NullSession)
        with pytest.raises(RuntimeError):
            flask.session["user"] = "mallory"  # refused, never signed into a cookie
        return {"status": "ok"}

    auth.register()
    auth.client.set_cookie("session", "forged.cookie.value")
    response = auth.client.get("/api/test/flask-session")
    assert response.status_code == 200
    assert "session" not in set_cookie_names(response)
    assert auth.client.get("/api/auth/session").status_code == 200  # still signed in
