"""Review fixes to the rate limits (docs/rate-limits.md): the second-factor step and passkey
sign-in are guarded per account by a delay that never holds the owner's known device, every
refusal is recorded where the limiter makes it (server-rendered forms included), and each
refusal on a known account carries its user id, so the owner sees it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from flask_bastion import current_bastion
from flask_bastion.models import MfaChallenge, SecurityEvent
from flask_bastion.testing import Clock, signed_in
from tests.account_helpers import PASSWORD, post, register
from tests.conftest import AppFactory
from tests.mfa_helpers import Authenticator, enroll, verify
from tests.smtp import SmtpServer
from tests.soft_authenticator import SoftAuthenticator, b64u
from tests.test_newsroom_signin import form_token, post_login
from tests.test_security_events import rows, user_id

ORIGIN = "http://localhost"
CEREMONY_COOKIE = "bastion_session_passkey"
RATE_LIMITED = {
    "type": "about:blank",
    "title": "Too Many Requests",
    "status": 429,
    "detail": "Too many attempts; wait and try again.",
    "code": "rate_limited",
}


def elsewhere(app: Flask, ip: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def password_step(browser: FlaskClient) -> Any:
    answer = post(browser, "/api/auth/login", {"identity": "ann", "password": PASSWORD})
    assert answer.status_code == 200 and answer.json["mfa_required"] is True, answer.json
    return answer


def ann_with_totp(app: Flask, clock: Clock) -> tuple[FlaskClient, Authenticator]:
    """Ann registers and turns TOTP on in her own browser, which is a known device from then."""
    home = app.test_client()
    assert register(home, "ann@example.com", "ann").status_code == 201
    phone = enroll(signed_in(home, "browser", "ann", PASSWORD), clock).authenticator
    return home, phone


def attack_codes(app: Flask, clock: Clock, wrong: int) -> None:
    """Someone with the password sends ``wrong`` wrong codes from elsewhere, starting a new
    pending sign-in whenever one is used up and waiting out every delay (the frozen clock)."""
    attacker = elsewhere(app, "198.51.100.66")
    password_step(attacker)
    sent = 0
    for _ in range(10 * wrong):
        if sent == wrong:
            return
        answer = verify(attacker, "000000")
        if answer.status_code == 429:
            clock.advance(int(answer.headers["Retry-After"]))
        elif answer.json["code"] == "mfa_challenge_invalid":
            password_step(attacker)
        else:
            assert answer.json["code"] == "invalid_mfa_code", answer.json
            sent += 1
    pytest.fail(f"only {sent} wrong codes got through; the limit held the attacker for good")


@pytest.fixture
def app(app_factory: AppFactory, smtp_server: SmtpServer) -> Flask:
    return app_factory(
        BASTION_MAIL_URL=smtp_server.url,
        BASTION_LOGIN_DELAY_MAX="4",  # the attacker's waits stay short on the frozen clock
        BASTION_MFA_LIMIT_PER_IP="10000/minute",
    )


def test_wrong_codes_from_elsewhere_never_lock_the_owner_out(app: Flask, clock: Clock) -> None:
    home, phone = ann_with_totp(app, clock)
    attack_codes(app, clock, wrong=25)  # more than any fixed hourly budget of the old rule

    # A stranger with the password and even the right code waits out the delay...
    stranger = elsewhere(app, "203.0.113.9")
    password_step(stranger)
    delayed = verify(stranger, phone.code())
    assert (delayed.status_code, delayed.json) == (429, RATE_LIMITED)
    assert delayed.headers["RateLimit-Policy"].startswith('"mfa-account";')
    assert int(delayed.headers["Retry-After"]) >= 1

    # ...while the owner, on the browser she used before, signs in with hers.
    assert post(home, "/api/auth/logout", None).status_code == 204
    password_step(home)
    finished = verify(home, phone.next_code())
    assert finished.status_code == 200, finished.json
    assert finished.json["user"]["username"] == "ann"


def test_the_owners_known_device_still_finishes_on_the_server_rendered_form(
    app: Flask, clock: Clock
) -> None:
    home, phone = ann_with_totp(app, clock)
    attack_codes(app, clock, wrong=25)
    assert post(home, "/api/auth/logout", None).status_code == 204
    page = post_login(home, identity="ann", password=PASSWORD)
    assert "<h1>Two-step sign-in</h1>" in page.text
    done = home.post("/login/mfa", data={"csrf_token": form_token(page), "code": phone.next_code()})
    assert done.status_code == 303, done.text
    assert home.get("/api/auth/session").json["user"]["username"] == "ann"


def test_the_known_devices_own_budget_refuses_without_taking_a_try(
    app_factory: AppFactory, smtp_server: SmtpServer, clock: Clock
) -> None:
    app = app_factory(BASTION_MAIL_URL=smtp_server.url, BASTION_LOGIN_LIMIT_PER_IDENTITY="2/hour")
    home, _ = ann_with_totp(app, clock)
    assert post(home, "/api/auth/logout", None).status_code == 204
    password_step(home)
    # The known device's own budget is two: both wrong codes are answered as wrong codes...
    assert [verify(home, "000000").json["code"] for _ in range(2)] == ["invalid_mfa_code"] * 2
    # ...then it is spent (429); the two wrong tries stay counted, the refusal took none.
    assert verify(home, "000000").status_code == 429
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        assert list(db.scalars(select(MfaChallenge.attempts))) == [2]


# ---- every refusal recorded where the limiter makes it, with the account's id ---------------


def refusals(app: Flask) -> list[SecurityEvent]:
    return rows(app, kind="rate_limited")


def test_refusals_on_the_server_rendered_forms_are_recorded(
    app_factory: AppFactory, smtp_server: SmtpServer
) -> None:
    app = app_factory(
        BASTION_MAIL_URL=smtp_server.url,
        BASTION_LOGIN_LIMIT_PER_IDENTITY="2/minute",
        BASTION_MAIL_LIMIT_PER_ADDRESS="1/hour",
    )
    assert register(app.test_client(), "ann@example.com", "ann").status_code == 201
    ann = user_id(app, "ann")
    browser = elsewhere(app, "198.51.100.20")
    statuses = [
        post_login(browser, identity="ann", password="wrong-password-1").status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 429, 429]
    forgot = browser.get("/forgot-password")
    for _ in range(2):
        page = browser.post(
            "/forgot-password",
            data={"csrf_token": form_token(forgot), "email": "ann@example.com"},
        )
    assert page.status_code == 429
    found = [(r.details["scope"], r.user_id, r.ip) for r in refusals(app)]
    # One row per key and window: the second refused sign-in adds none.
    assert found == [
        ("login-identity", ann, "198.51.100.20"),
        ("mail-reset", None, "198.51.100.20"),
    ]
    failed = rows(app, kind="login_failed")
    assert [(r.details["reason"], r.user_id) for r in failed][-1] == ("rate_limited", ann)


def test_a_refused_second_factor_is_recorded_for_its_owner_to_see(
    app_factory: AppFactory, smtp_server: SmtpServer, clock: Clock
) -> None:
    app = app_factory(BASTION_MAIL_URL=smtp_server.url, BASTION_LOGIN_LIMIT_PER_IDENTITY="1/hour")
    home, phone = ann_with_totp(app, clock)
    attacker = elsewhere(app, "198.51.100.66")
    password_step(attacker)
    assert verify(attacker, "000000").json["code"] == "invalid_mfa_code"
    assert verify(attacker, phone.code()).status_code == 429
    (refusal,) = refusals(app)
    assert (refusal.details["scope"], refusal.user_id) == ("mfa-account", user_id(app, "ann"))
    mine = home.get("/api/auth/security-events").json
    kinds = [item["kind"] for item in mine["items"]]
    assert "rate_limited" in kinds


# ---- passkey sign-in per account -----------------------------------------------------------


def passkey_login(client: FlaskClient, authenticator: SoftAuthenticator, forge: bool) -> Any:
    options = post(client, "/api/auth/passkeys/login/options", None)
    assert options.status_code == 200, options.json
    assertion = authenticator.get(options.json)
    if forge:
        assertion = {
            **assertion,
            "response": {**assertion["response"], "signature": b64u(b"\x30\x00")},
        }
    return post(client, "/api/auth/passkeys/login", {"credential": assertion})


def test_failed_assertions_of_a_passkey_delay_strangers_not_the_owners_device(
    app_factory: AppFactory, clock: Clock
) -> None:
    app = app_factory(
        BASTION_PASSKEY_LIMIT_PER_IP="10000/minute", BASTION_LOGIN_LIMIT_PER_IDENTITY="2/hour"
    )
    home = app.test_client()
    assert register(home, "ann@example.com", "ann").status_code == 201
    authenticator = SoftAuthenticator(ORIGIN)
    options = post(home, "/api/auth/passkeys/register/options", None).json
    created = post(
        home,
        "/api/auth/passkeys/register",
        {"credential": authenticator.create(options), "name": "Laptop"},
    )
    assert created.status_code == 201, created.json
    ann = user_id(app, "ann")

    # Someone replays assertions of ann's passkey with bad signatures, from elsewhere.
    stranger = elsewhere(app, "198.51.100.77")
    for _ in range(2):
        assert passkey_login(stranger, authenticator, forge=True).json["code"] == "passkey_invalid"
    options = post(stranger, "/api/auth/passkeys/login/options", None).json
    handle = stranger.get_cookie(CEREMONY_COOKIE)
    assert handle is not None
    good = authenticator.get(options)
    delayed = post(stranger, "/api/auth/passkeys/login", {"credential": good})
    assert (delayed.status_code, delayed.json) == (429, RATE_LIMITED)  # even a good one waits
    assert delayed.headers["RateLimit-Policy"].startswith('"passkey-account";')
    # The refused answer used its ceremony up all the same: after the delay, no second go.
    clock.advance(int(delayed.headers["Retry-After"]))
    stranger.set_cookie(CEREMONY_COOKIE, handle.value)
    again = post(stranger, "/api/auth/passkeys/login", {"credential": good})
    assert (again.status_code, again.json["code"]) == (400, "challenge_invalid")

    # The owner's known device is not held by that delay.
    assert post(home, "/api/auth/logout", None).status_code == 204
    assert passkey_login(home, authenticator, forge=False).status_code == 200

    failed = rows(app, kind="login_failed")
    assert [(r.details["reason"], r.user_id) for r in failed] == [
        ("passkey_invalid", ann),
        ("passkey_invalid", ann),
        ("rate_limited", ann),
        ("challenge_invalid", None),
    ]
    assert [(r.details["scope"], r.user_id) for r in refusals(app)] == [("passkey-account", ann)]
