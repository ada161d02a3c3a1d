"""The issue-2 contract over real HTTP, against `newsroom serve` with production settings."""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import PASSWORD
from tests.live.conftest import Live
from tests.problems import CSRF_FAILED, TOO_LARGE
from tests.servers import NEWSROOM, ROOT, free_port, production_env

pytestmark = pytest.mark.server
TIMEOUT = 10


class Browser:
    """A requests session that behaves like an SPA: it echoes the XSRF-TOKEN cookie."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.live.url(path), timeout=TIMEOUT)

    def token(self) -> str:
        return str(self.get("/api/auth/session").json()["csrf_token"])

    def post(
        self, path: str, body: Any = None, csrf: bool = True, **headers: str
    ) -> requests.Response:
        if csrf:
            headers["X-XSRF-TOKEN"] = self.token()
        return self.http.post(self.live.url(path), json=body, headers=headers, timeout=TIMEOUT)


def new_user() -> dict[str, str]:
    name = "u" + uuid.uuid4().hex[:10]
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD}


def test_round_trip(live: Live) -> None:
    browser = Browser(live)
    first = browser.get("/api/auth/session")
    assert first.status_code == 401
    assert first.headers["Content-Type"] == "application/problem+json"
    assert first.json()["code"] == "not_authenticated"
    assert first.json()["csrf_token"] == browser.http.cookies["XSRF-TOKEN"]

    user = new_user()
    registered = browser.post("/api/auth/register", user)
    assert registered.status_code == 201, registered.text
    assert registered.json()["user"]["username"] == user["username"]
    assert "HttpOnly" in registered.headers["Set-Cookie"]
    assert browser.get("/api/auth/session").json()["user"]["email"] == user["email"]

    assert browser.post("/api/auth/logout").status_code == 204
    assert browser.get("/api/auth/session").status_code == 401

    login = browser.post("/api/auth/login", {"identity": user["email"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.headers["Cache-Control"] == "no-store"
    session = browser.get("/api/auth/session")
    assert session.status_code == 200
    assert session.json()["user"]["username"] == user["username"]
    assert session.headers["X-Content-Type-Options"] == "nosniff"


def test_a_cookie_replayed_after_logout_gets_401(live: Live) -> None:
    browser = Browser(live)
    assert browser.post("/api/auth/register", new_user()).status_code == 201
    stolen = browser.http.cookies["bastion_session"]
    assert browser.post("/api/auth/logout").status_code == 204
    replay = requests.get(
        live.url("/api/auth/session"), cookies={"bastion_session": stolen}, timeout=TIMEOUT
    )
    assert replay.status_code == 401
    assert replay.json()["code"] == "not_authenticated"


def test_session_id_changes_at_login(live: Live) -> None:
    browser = Browser(live)
    user = new_user()
    browser.post("/api/auth/register", user)
    before = browser.http.cookies["bastion_session"]
    assert browser.post("/api/auth/login", {"username": user["username"], "password": PASSWORD}).ok
    assert browser.http.cookies["bastion_session"] != before


def test_wrong_password_and_unknown_user_get_the_same_401(live: Live) -> None:
    browser = Browser(live)
    user = new_user()
    browser.post("/api/auth/register", user)
    browser.post("/api/auth/logout")
    wrong = browser.post("/api/auth/login", {"identity": user["username"], "password": "nope-nope"})
    unknown = browser.post(
        "/api/auth/login", {"identity": "nobody-" + user["username"], "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content


def test_csrf_refusal_and_success(live: Live) -> None:
    browser = Browser(live)
    assert browser.post("/api/auth/register", new_user()).status_code == 201
    missing = browser.post("/api/auth/logout", csrf=False)
    assert (missing.status_code, missing.json()) == (403, CSRF_FAILED)
    wrong = browser.post("/api/auth/logout", csrf=False, **{"X-XSRF-TOKEN": "forged.token"})
    assert (wrong.status_code, wrong.json()) == (403, CSRF_FAILED)
    other = Browser(live)
    other.post("/api/auth/register", new_user())
    foreign = browser.post("/api/auth/logout", csrf=False, **{"X-XSRF-TOKEN": other.token()})
    assert (foreign.status_code, foreign.json()) == (403, CSRF_FAILED)
    cross = browser.post("/api/auth/logout", Origin="https://evil.example")
    assert cross.status_code == 403 and cross.json()["code"] == "csrf_failed"
    assert browser.get("/api/auth/session").status_code == 200  # nothing above signed us out
    assert browser.post("/api/auth/logout", **{"Origin": live.base}).status_code == 204


def test_bearer_requests_skip_csrf_and_ignore_the_cookie(live: Live) -> None:
    browser = Browser(live)
    browser.post("/api/auth/register", new_user())
    response = browser.http.post(
        live.url("/api/auth/logout"),
        headers={"Authorization": "Bearer not-a-real-token"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert browser.get("/api/auth/session").status_code == 200


def chunked(live: Live, chunks: list[bytes], browser: Browser) -> tuple[int, bytes]:
    token = browser.token()  # bound to the browser's pre-session cookie, sent along below
    cookies = "; ".join(f"{name}={value}" for name, value in browser.http.cookies.items())
    parts = urlsplit(live.base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(
                "POST",
                "/api/auth/login",
                body=iter(chunks),
                headers={
                    "Content-Type": "application/json",
                    "Cookie": cookies,
                    "X-XSRF-TOKEN": token,
                },
                encode_chunked=True,
            )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_chunked_body_over_the_limit_gets_413(live: Live) -> None:
    browser = Browser(live)
    big = [b'{"identity": "' + b"x" * 1024] + [b"x" * 1024] * 16 + [b'", "password": "p"}']
    status, body = chunked(live, big, browser)
    assert status == 413, body
    assert json.loads(body) == TOO_LARGE
    small = [b'{"identity": "nobody-at-all", ', b'"password": "' + PASSWORD.encode() + b'"}']
    status, body = chunked(live, small, browser)
    assert status == 401, body


def test_a_body_with_a_large_content_length_gets_413(live: Live) -> None:
    browser = Browser(live)
    token = browser.token()
    response = browser.http.post(
        live.url("/api/auth/login"),
        data=b'{"identity": "' + b"x" * 10_000 + b'"}',
        headers={"Content-Type": "application/json", "X-XSRF-TOKEN": token},
        timeout=TIMEOUT,
    )
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_serve_refuses_an_unsafe_setting(live_database_url: str) -> None:
    # One process start is enough here: test_config covers every refusal in-process.
    variables = {"SECRET_KEY": "changeme", "CORS_ORIGINS": "*"}
    port = free_port()
    result = subprocess.run(
        [str(NEWSROOM), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=production_env(live_database_url, port, **variables),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Refusing to start with unsafe settings" in output
    assert "SECRET_KEY is missing or a well-known placeholder" in output
    assert "CORS_ORIGINS contains '*'" in output
    assert "Traceback" not in output  # a message for people, not a stack trace
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
