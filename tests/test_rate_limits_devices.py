"""Known devices and the new-device mail; every sign-in path and mail endpoint limited; the
client address only from trusted proxy hops (docs/rate-limits.md)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion.testing import Clock, signed_in
from tests.account_helpers import PASSWORD, Mailbox, path_of, post, register
from tests.conftest import AppFactory
from tests.mfa_helpers import enroll
from tests.problems import RATE_LIMITED, assert_problem
from tests.smtp import SmtpServer

NEW_DEVICE_SUBJECT = "New sign-in to your "


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url, "BASTION_LOGIN_LIMIT_PER_IDENTITY": "3/minute"}


def login(client: FlaskClient, identity: str = "ann", password: str = PASSWORD) -> Any:
    return post(client, "/api/auth/login", {"identity": identity, "password": password})


def new_device_mails(mailbox: Mailbox, address: str = "ann@example.com") -> list[Any]:
    return [m for m in mailbox.to(address) if m["Subject"].startswith(NEW_DEVICE_SUBJECT)]


def elsewhere(app: Flask, ip: str = "198.51.100.7") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_a_new_device_is_mailed_once_and_registration_is_not(app: Flask, mailbox: Mailbox) -> None:
    home = app.test_client()
    assert register(home, "ann@example.com", "ann").status_code == 201
    assert new_device_mails(mailbox) == []  # the registration's own sign-in
    assert post(home, "/api/auth/logout", None).status_code == 204
    assert login(home).status_code == 200  # the same browser: known, no mail
    assert new_device_mails(mailbox) == []

    phone = elsewhere(app, "203.0.113.5")
    phone.environ_base["HTTP_USER_AGENT"] = "PhoneBrowser/1.0"
    assert login(phone).status_code == 200
    (mail,) = new_device_mails(mailbox)
    text = mail.get_body(("plain",)).get_content()
    assert "203.0.113.5" in text and "PhoneBrowser/1.0" in text and " UTC" in text
    # Signing out and in again on that phone: it is known now.
    assert post(phone, "/api/auth/logout", None).status_code == 204
    assert login(phone).status_code == 200
    assert len(new_device_mails(mailbox)) == 1


def test_the_first_sign_in_after_confirming_is_not_a_new_device(
    app_factory: AppFactory, smtp_server: SmtpServer
) -> None:
    app = app_factory(BASTION_MAIL_URL=smtp_server.url, BASTION_EMAIL_CONFIRMATION="required")
    mailbox = Mailbox(app, smtp_server)
    client = app.test_client()
    assert register(client, "ann@example.com", "ann").status_code == 202
    assert client.get(path_of(mailbox.link("ann@example.com", "/confirm/"))).status_code == 303
    assert login(client).status_code == 200
    assert new_device_mails(mailbox) == []
    assert login(elsewhere(app)).status_code == 200  # a second browser is new beside the first
    assert len(new_device_mails(mailbox)) == 1


def test_an_app_sign_in_is_always_mailed(app: Flask, ann: None, mailbox: Mailbox) -> None:
    for _ in range(2):
        answer = app.test_client().post(
            "/api/token", json={"identity": "ann", "password": PASSWORD}
        )
        assert answer.status_code == 200
    assert len(new_device_mails(mailbox)) == 2


def test_a_browser_keeps_the_claims_of_several_accounts(app: Flask, mailbox: Mailbox) -> None:
    shared = app.test_client()
    assert register(shared, "ann@example.com", "ann").status_code == 201
    assert register(shared, "bob@example.com", "bob").status_code == 201
    assert login(shared, "ann").status_code == 200
    assert login(shared, "bob").status_code == 200
    assert new_device_mails(mailbox) == new_device_mails(mailbox, "bob@example.com") == []


def test_code_sign_in_failures_are_delayed_and_a_known_device_still_gets_in(
    app: Flask, mailbox: Mailbox, clock: Clock
) -> None:
    home = app.test_client()
    assert register(home, "ann@example.com", "ann").status_code == 201
    attacker = elsewhere(app)
    for _ in range(3):
        wrong = post(attacker, "/api/auth/code/verify", {"identity": "ann", "code": "000000"})
        assert wrong.status_code == 401
    refused = post(attacker, "/api/auth/code/verify", {"identity": "ann", "code": "000000"})
    assert_problem(refused, RATE_LIMITED)
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit-Policy"] == '"code-identity";q=3;w=60'
    assert refused.headers["RateLimit"] == '"code-identity";r=0;t=1'
    # The owner, on the browser that signed up, asks for a code and uses it.
    assert home.post("/api/auth/code/request", json={"identity": "ann"}).status_code == 202
    code = mailbox.code("ann@example.com")
    answer = post(home, "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert answer.status_code == 200


def test_mail_endpoints_are_limited_per_target_with_headers(app: Flask) -> None:
    for n in range(5):
        client = elsewhere(app, f"198.51.100.{n + 1}")  # many addresses, one target
        answer = client.post("/api/auth/password/forgot", json={"email": "ann@example.com"})
        assert answer.status_code == 202
    refused = elsewhere(app, "198.51.100.99").post(
        "/api/auth/password/forgot", json={"email": "ANN@example.com"}
    )
    assert_problem(refused, RATE_LIMITED)
    wait = refused.headers["Retry-After"]
    assert refused.headers["RateLimit-Policy"] == '"mail-reset";q=5;w=3600'
    assert refused.headers["RateLimit"] == f'"mail-reset";r=0;t={wait}'


def test_reauth_counts_like_a_sign_in(app: Flask, ann: None) -> None:
    client = app.test_client()
    assert login(client).status_code == 200
    for _ in range(3):
        answer = post(client, "/api/auth/reauth", {"password": "wrong-password"})
        assert answer.status_code == 401
    refused = post(client, "/api/auth/reauth", {"password": PASSWORD})
    assert_problem(refused, RATE_LIMITED)
    assert refused.headers["RateLimit-Policy"] == '"login-device";q=3;w=60'


def test_behind_one_proxy_only_its_hop_is_the_client_address(app_factory: AppFactory) -> None:
    app = app_factory(TRUSTED_PROXIES=1, BASTION_LOGIN_LIMIT_PER_IP="3/minute")
    client = app.test_client()

    def attempt(forged: str) -> Any:
        # What nginx forwards: the client's own header, then the address nginx saw.
        headers = {"X-Forwarded-For": f"{forged}, 192.0.2.10"}
        body = {"identity": "nobody", "password": PASSWORD}
        return post_with(client, body, headers)

    for n in range(3):
        assert attempt(f"203.0.113.{n}").status_code == 401
    refused = attempt("203.0.113.200")
    assert_problem(refused, RATE_LIMITED)
    assert refused.headers["RateLimit-Policy"] == '"login-ip";q=3;w=60'
    # Another real client behind the same proxy has its own count.
    other = {"X-Forwarded-For": "192.0.2.11"}
    assert post_with(client, {"identity": "nobody", "password": PASSWORD}, other).status_code == 401


def post_with(client: FlaskClient, body: Any, headers: dict[str, str]) -> Any:
    client.get("/api/auth/session", headers=headers)
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    return client.post(
        "/api/auth/login", json=body, headers={**headers, "X-XSRF-TOKEN": cookie.value}
    )


def test_every_documented_429_names_its_headers(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").json
    limited = [
        (path, method, answer)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for status, answer in operation["responses"].items()
        if status == "429"
    ]
    assert ("/api/auth/login", "post") in {(p, m) for p, m, _ in limited}
    assert ("/api/token", "post") in {(p, m) for p, m, _ in limited}
    for _, _, answer in limited:
        assert set(answer["headers"]) == {"Retry-After", "RateLimit-Policy", "RateLimit"}


def test_wrong_codes_at_reauth_are_delayed_like_the_code_step(
    app: Flask, ann: None, clock: Clock
) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    phone = enroll(me, clock).authenticator
    for _ in range(3):  # the free budget (BASTION_LOGIN_LIMIT_PER_IDENTITY, 3 here)
        wrong = me.post("/api/auth/reauth", {"password": PASSWORD, "code": phone.code(-5)})
        assert wrong.status_code == 401 and wrong.json["code"] == "invalid_mfa_code"
    held = me.post("/api/auth/reauth", {"password": PASSWORD, "code": phone.code(1)})
    assert_problem(held, RATE_LIMITED)  # an app is no known device: it waits like a stranger
    assert held.headers["RateLimit-Policy"].startswith('"mfa-')
    clock.advance(int(held.headers["Retry-After"]))
    assert (
        me.post("/api/auth/reauth", {"password": PASSWORD, "code": phone.code(1)}).status_code
        == 200
    )
