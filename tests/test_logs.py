"""Structured logs: auth events are recorded, with ids, and never a password, token or cookie."""

from __future__ import annotations

import json
import logging
import os

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion import audit
from flask_bastion.logs import JsonFormatter, request_id_from
from flask_bastion.testing import Clock
from tests.conftest import PASSWORD, AppFactory, Auth

pytestmark = pytest.mark.minimal_app


def audit_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "flask_bastion.audit"]


def rendered(record: logging.LogRecord) -> str:
    """Everything a log handler could write for this record."""
    return JsonFormatter().format(record) + repr(record.__dict__) + record.getMessage()


def test_auth_events_are_logged_without_secrets(
    auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: set[str] = {PASSWORD, "wrong-password-123"}

    def remember_cookies() -> None:
        for name in ("bastion_session", "XSRF-TOKEN"):
            cookie = auth.client.get_cookie(name)
            if cookie:
                secrets.add(cookie.value)

    auth.register()
    remember_cookies()
    auth.logout()
    remember_cookies()
    auth.login("alice", "wrong-password-123")
    auth.login("nobody@example.com", PASSWORD)
    auth.login("alice")
    remember_cookies()
    auth.client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": "forged-token"})
    auth.client.post(
        "/api/auth/logout",
        headers={"X-XSRF-TOKEN": auth.csrf_token(), "Origin": "https://evil.example"},
    )
    remember_cookies()
    auth.logout()

    events = [r.getMessage() for r in audit_events(caplog)]
    assert events == [
        "user_registered",
        "logout",
        "login_failed",
        "login_failed",
        "login_succeeded",
        "csrf_failed",
        "csrf_failed",
        "logout",
    ]
    failures = [r for r in audit_events(caplog) if r.getMessage() == "login_failed"]
    assert [getattr(r, "reason", None) for r in failures] == ["invalid_credentials"] * 2
    csrf = [r for r in audit_events(caplog) if r.getMessage() == "csrf_failed"]
    assert [getattr(r, "reason", None) for r in csrf] == ["token", "origin"]
    success = next(r for r in audit_events(caplog) if r.getMessage() == "login_succeeded")
    assert isinstance(getattr(success, "user_id", None), int)
    assert all(getattr(r, "ip", None) == "127.0.0.1" for r in audit_events(caplog))

    assert len(secrets) >= 6
    for record in caplog.records:
        text = rendered(record)
        for secret in secrets:
            assert secret not in text, (record.getMessage(), secret[:6])


def test_a_rate_limited_login_is_logged(
    app_factory: AppFactory, caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    app = app_factory(BASTION_LOGIN_LIMIT_PER_IDENTITY="1/minute")
    auth = Auth(app.test_client())
    auth.login("alice", "wrong-password-1")
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert auth.login("alice", "wrong-password-2").status_code == 429  # the delay (frozen clock)
    # The refusal, recorded by the limiter where it refuses (once per key and window), then
    # the failed sign-in with its reason.
    assert [(r.getMessage(), getattr(r, "reason", None)) for r in audit_events(caplog)] == [
        ("rate_limited", None),
        ("login_failed", "rate_limited"),
    ]


def test_json_lines_carry_the_request_id(app: Flask) -> None:
    with app.test_request_context("/api/auth/login", headers={"X-Request-ID": "abcdefgh-1234"}):
        from flask import g

        g.request_id = "abcdefgh-1234"
        record = logging.LogRecord("flask_bastion.audit", logging.INFO, "", 0, "x", (), None)
        record.__dict__.update({"event": "login_failed", "reason": "invalid_credentials"})
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abcdefgh-1234"
    assert line["path"] == "/api/auth/login"
    assert line["event"] == "login_failed" and line["reason"] == "invalid_credentials"
    assert line["level"] == "info" and line["logger"] == "flask_bastion.audit"


def test_audit_outside_a_request_still_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    audit.record(audit.AuditEvent.SIGNING_KEY_ROTATED, ip=None, kid="k1")
    assert [r.getMessage() for r in audit_events(caplog)] == ["signing_key_rotated"]


@pytest.mark.parametrize("incoming", ["abcdef12-3456", "nginx.req_0123456789", "A" * 64, "f" * 32])
def test_a_well_formed_request_id_is_kept(client: FlaskClient, incoming: str) -> None:
    response = client.get("/api/test/whoami", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "short",
        "A" * 65,
        "has space in it",
        "<script>alert(1)</script>",
        "ok/../id",
        "",
    ],
)
def test_a_malformed_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/api/test/whoami", headers={"X-Request-ID": incoming})
    minted = response.headers["X-Request-ID"]
    assert minted != incoming
    assert len(minted) == 32 and all(c in "0123456789abcdef" for c in minted)


def test_a_request_id_with_a_final_newline_is_replaced() -> None:
    # A client cannot send it through werkzeug, but a WSGI server could pass it on: a "$" alone
    # matches before a final newline, and the id goes back out in a header.
    minted = request_id_from("abcdefgh\n")
    assert minted != "abcdefgh\n"
    assert len(minted) == 32


def test_every_response_gets_a_fresh_request_id(client: FlaskClient) -> None:
    ids = {client.get("/api/test/whoami").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_a_forked_worker_mints_ids_of_its_own() -> None:
    # Servers fork their workers after the app may have been imported (a preloading server):
    # each child seeds its own generator, so it does not repeat the ids its parent goes on to make.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send two ids, then leave without running the parent's cleanup
        os.close(read)
        os.write(write, f"{request_id_from(None)} {request_id_from(None)}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_ids = pipe.read().split()
    os.waitpid(pid, 0)
    ours = [request_id_from(None) for _ in range(2)]
    assert len(child_ids) == 2
    assert len({*child_ids, *ours}) == 4
