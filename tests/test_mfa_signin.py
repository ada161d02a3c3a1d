"""A second factor on every way in: password and code sign-in, as a browser (a pending step
bound to that browser by its own cookie) and as an app (`mfa_token` at the token endpoint);
the pending step's expiry and tries; password reset still needing the code after."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from flask_bastion import clock as bastion_clock
from flask_bastion import current_bastion
from flask_bastion.flows import signin
from flask_bastion.flows.context import command_context
from flask_bastion.flows.signin import Method
from flask_bastion.models import User
from flask_bastion.prune import prune
from flask_bastion.testing import ClientKind, Clock, assert_problem, signed_in
from tests.account_helpers import NEW_PASSWORD, PASSWORD, Mailbox, csrf, post
from tests.mfa_helpers import (
    BOTH,
    MFA_COOKIE,
    Enrolled,
    app_finish,
    app_login,
    browser_login,
    enroll,
    enroll_ann,
    verify,
)
from tests.smtp import SmtpServer

MFA_REQUIRED = {"mfa_required": True, "methods": BOTH}
INVALID_MFA_CODE = {"detail": "The code is wrong or was already used."}
CHALLENGE_INVALID = {"detail": "This sign-in has expired or was used up: sign in again."}


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


@pytest.fixture
def enrolled(app: Flask, ann: None, clock: Clock) -> Enrolled:
    return enroll_ann(app, clock)


def audit_events(caplog: pytest.LogCaptureFixture, name: str) -> list[Any]:
    return [r for r in caplog.records if r.name == "flask_bastion.audit" and r.msg == name]


def begin(app: Flask, kind: ClientKind) -> Any:
    """Send ann's password as ``kind``; answers a function that sends a code to finish."""
    if kind == "browser":
        started = browser_login(app)
        assert (started.status_code, started.json) == (200, MFA_REQUIRED)
        return lambda code: verify(started.browser, code)
    started = app_login(app)
    assert started.status_code == 401 and started.json["code"] == "mfa_required"
    return lambda code: app_finish(app, started.json["mfa_token"], code)


def refused(kind: ClientKind, status: int, code: str, detail: str) -> dict[str, Any]:
    body = {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": status,
        "detail": detail,
        "code": code,
    }
    if kind == "app":  # the token endpoint adds the OAuth members
        body |= {"error": "invalid_grant", "error_description": detail}
    return body


def test_without_a_second_factor_nothing_changes(
    app: Flask, ann: None, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    assert me.get("/api/auth/session").json["user"]["username"] == "ann"
    assert me.get("/api/auth/mfa").json == {"methods": [], "recovery_codes_remaining": 0}


def test_a_browser_password_sign_in_waits_for_the_code(
    app: Flask, enrolled: Enrolled, caplog: pytest.LogCaptureFixture
) -> None:
    browser = app.test_client()
    planted = "planted-session-token"
    browser.set_cookie("bastion_session", planted)
    answer = post(browser, "/api/auth/login", {"identity": "ann", "password": PASSWORD})
    assert (answer.status_code, answer.json) == (200, MFA_REQUIRED)
    pending = browser.get_cookie(MFA_COOKIE)
    assert pending is not None and pending.http_only and pending.path == "/"
    assert 0 < (pending.max_age or 0) <= 300
    assert browser.get_cookie("bastion_session").value == planted  # no session yet
    assert browser.get("/api/auth/session").status_code == 401

    done = verify(browser, enrolled.authenticator.next_code())
    assert done.status_code == 200, done.json
    assert set(done.json) == {"user", "session", "csrf_token"}
    assert done.json["user"]["username"] == "ann"
    session = browser.get_cookie("bastion_session")
    assert session is not None and session.value != planted  # a fresh session id
    assert browser.get_cookie(MFA_COOKIE) is None  # the pending step is over
    assert browser.get("/api/auth/session").json["user"]["username"] == "ann"
    [success] = [r for r in audit_events(caplog, "login_succeeded") if getattr(r, "mfa", False)]
    assert (success.method, success.client) == ("password", "browser")


def test_an_app_gets_mfa_required_and_finishes_with_the_token(
    app: Flask, enrolled: Enrolled
) -> None:
    started = app_login(app)
    token = started.json["mfa_token"]
    assert_problem(
        started,
        {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "Enter a code from your authenticator app.",
            "code": "mfa_required",
            "methods": BOTH,
            "mfa_token": token,
            "error": "invalid_grant",
            "error_description": "Enter a code from your authenticator app.",
        },
    )
    issued = app_finish(app, token, enrolled.authenticator.next_code())
    assert issued.status_code == 200
    assert set(issued.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    me = app.test_client().get(
        "/api/auth/session", headers={"Authorization": f"Bearer {issued.json['access_token']}"}
    )
    assert me.json["user"]["username"] == "ann"
    # The token finished its sign-in: it is spent.
    again = app_finish(app, token, enrolled.recovery_codes[0])
    assert_problem(
        again,
        refused("app", 401, "mfa_challenge_invalid", CHALLENGE_INVALID["detail"]),
    )
    # The OAuth form works too.
    form = app.test_client().post(
        "/api/token",
        data={"grant_type": "password", "mfa_token": app_login(app).json["mfa_token"]}
        | {"code": enrolled.recovery_codes[1]},
    )
    assert form.status_code == 200


def test_a_code_sign_in_needs_the_second_factor_too(
    app: Flask, enrolled: Enrolled, mailbox: Mailbox, client_kind: ClientKind
) -> None:
    def mailed_code() -> str:
        assert (
            app.test_client().post("/api/auth/code/request", json={"identity": "ann"}).status_code
            == 202
        )
        return mailbox.code("ann@example.com")

    if client_kind == "browser":
        browser = app.test_client()
        answer = post(browser, "/api/auth/code/verify", {"identity": "ann", "code": mailed_code()})
        assert (answer.status_code, answer.json) == (200, MFA_REQUIRED)
        assert browser.get("/api/auth/session").status_code == 401
        assert verify(browser, enrolled.authenticator.next_code()).status_code == 200
        assert browser.get("/api/auth/session").json["user"]["username"] == "ann"
    else:
        started = app.test_client().post(
            "/api/token", json={"identity": "ann", "code": mailed_code()}
        )
        assert started.status_code == 401 and started.json["code"] == "mfa_required"
        assert started.json["methods"] == BOTH
        finished = app_finish(app, started.json["mfa_token"], enrolled.authenticator.next_code())
        assert finished.status_code == 200


def test_a_recovery_code_finishes_a_sign_in_and_is_audited(
    app: Flask, enrolled: Enrolled, client_kind: ClientKind, caplog: pytest.LogCaptureFixture
) -> None:
    finish = begin(app, client_kind)
    assert finish(enrolled.recovery_codes[3]).status_code == 200
    [used] = audit_events(caplog, "recovery_code_used")
    assert used.user_id is not None


def test_the_pending_step_is_bound_to_its_browser(app: Flask, enrolled: Enrolled) -> None:
    started = browser_login(app)
    assert started.json == MFA_REQUIRED
    code = enrolled.authenticator.next_code()
    with_own_cookie = app.test_client()
    with_own_cookie.set_cookie(MFA_COOKIE, "a-cookie-of-its-own")
    for stranger in (app.test_client(), with_own_cookie):
        answer = verify(stranger, code)
        assert_problem(answer, refused("browser", 401, "mfa_challenge_invalid", **_detail()))
    # An app's mfa_token is not a browser's cookie either.
    app_token = app_login(app).json["mfa_token"]
    thief = app.test_client()
    thief.set_cookie(MFA_COOKIE, app_token)
    assert verify(thief, code).json["code"] == "mfa_challenge_invalid"
    # Nor is a browser's cookie an mfa_token.
    cookie = started.browser.get_cookie(MFA_COOKIE)
    assert cookie is not None
    assert app_finish(app, cookie.value, code).json["code"] == "mfa_challenge_invalid"
    # Its own browser still finishes it.
    assert verify(started.browser, code).status_code == 200


def _detail() -> dict[str, str]:
    return {"detail": CHALLENGE_INVALID["detail"]}


def test_the_pending_step_expires_after_five_minutes(
    app: Flask, enrolled: Enrolled, clock: Clock, client_kind: ClientKind
) -> None:
    finish = begin(app, client_kind)
    clock.advance(5 * 60)
    late = finish(enrolled.authenticator.code())
    assert_problem(late, refused(client_kind, 401, "mfa_challenge_invalid", **_detail()))
    # Just in time works.
    finish = begin(app, client_kind)
    clock.advance(5 * 60 - 1)
    assert finish(enrolled.authenticator.code()).status_code == 200


def test_five_wrong_codes_void_the_pending_step(
    app: Flask, enrolled: Enrolled, client_kind: ClientKind, caplog: pytest.LogCaptureFixture
) -> None:
    finish = begin(app, client_kind)
    right = enrolled.authenticator.next_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for guess in (wrong, "zzzzz-zzzzz", wrong, wrong, wrong):
        answer = finish(guess)
        assert_problem(answer, refused(client_kind, 401, "invalid_mfa_code", **INVALID_MFA_CODE))
    assert len(audit_events(caplog, "mfa_failed")) == 5
    assert all(r.reason == "invalid_mfa_code" for r in audit_events(caplog, "mfa_failed"))
    assert_problem(finish(right), refused(client_kind, 401, "mfa_challenge_invalid", **_detail()))
    # Signing in again starts a new step with five new tries.
    assert begin(app, client_kind)(right).status_code == 200


def test_four_wrong_codes_leave_the_fifth_try(
    app: Flask, enrolled: Enrolled, client_kind: ClientKind
) -> None:
    finish = begin(app, client_kind)
    for _ in range(4):
        assert finish("000000x").status_code == 401
    assert finish(enrolled.authenticator.next_code()).status_code == 200


def test_a_password_reset_does_not_bypass_the_second_factor(
    app: Flask, enrolled: Enrolled, mailbox: Mailbox, client_kind: ClientKind
) -> None:
    assert (
        app.test_client()
        .post("/api/auth/password/forgot", json={"email": "ann@example.com"})
        .status_code
        == 202
    )
    token = mailbox.link("ann@example.com", "/password/reset/").rsplit("/", 1)[1]
    browser = app.test_client()
    reset = post(browser, "/api/auth/password/reset", {"token": token, "password": NEW_PASSWORD})
    assert (reset.status_code, reset.json) == (200, {"status": "password_reset"})
    assert browser.get("/api/auth/session").status_code == 401  # a reset signs nobody in
    if client_kind == "browser":
        again = browser_login(app, password=NEW_PASSWORD)
        assert (again.status_code, again.json) == (200, MFA_REQUIRED)
    else:
        again = app_login(app, password=NEW_PASSWORD)
        assert again.status_code == 401 and again.json["code"] == "mfa_required"


def test_verify_without_a_pending_step_and_its_csrf_rule(app: Flask, enrolled: Enrolled) -> None:
    nobody = app.test_client()
    assert_problem(
        verify(nobody, "123456"), refused("browser", 401, "mfa_challenge_invalid", **_detail())
    )
    started = browser_login(app)
    forged = started.browser.post("/api/auth/mfa/verify", json={"code": "123456"})
    assert forged.status_code == 403 and forged.json["code"] == "csrf_failed"
    bearer = started.browser.post(
        "/api/auth/mfa/verify",
        json={"code": "123456"},
        headers={**csrf(started.browser), "Authorization": "Bearer x"},
    )
    assert bearer.status_code in (400, 401)


def test_verify_is_rate_limited_per_client_address(app_factory: Any, smtp_server: Any) -> None:
    app = app_factory(BASTION_MFA_LIMIT_PER_IP="2/minute", BASTION_MAIL_URL=smtp_server.url)
    browser = app.test_client()
    for _ in range(2):
        assert verify(browser, "123456").json["code"] == "mfa_challenge_invalid"
    limited = verify(browser, "123456")
    assert limited.status_code == 429 and limited.json["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_turning_it_off_ends_pending_steps(
    app: Flask, ann: None, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    enrolled = enroll(me, clock)
    started = app_login(app).json["mfa_token"]
    assert me.delete("/api/auth/mfa/totp").status_code == 204
    assert app_finish(app, started, enrolled.authenticator.next_code()).json["code"] == (
        "mfa_challenge_invalid"
    )
    assert len(audit_events(caplog, "mfa_disabled")) == 1
    assert len(audit_events(caplog, "mfa_enabled")) == 1


def test_prune_removes_pending_steps_past_their_expiry(
    app: Flask, enrolled: Enrolled, clock: Clock
) -> None:
    old = app_login(app).json["mfa_token"]
    clock.advance(4 * 60)
    fresh = app_login(app).json["mfa_token"]
    clock.advance(60)
    with app.app_context():
        counts = prune(current_bastion().db.engine, now=clock.current)
    assert counts["mfa_challenges"] == 1
    assert app_finish(app, old, enrolled.authenticator.code()).json["code"] == (
        "mfa_challenge_invalid"
    )
    assert app_finish(app, fresh, enrolled.authenticator.next_code()).status_code == 200


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def test_the_server_rendered_forms_ask_for_the_second_factor(
    app: Flask, enrolled: Enrolled, mailbox: Mailbox
) -> None:
    browser = app.test_client()
    token = _form_token(browser.get("/login?next=/app/articles").text)
    page = browser.post(
        "/login",
        data={
            "csrf_token": token,
            "identity": "ann",
            "password": PASSWORD,
            "next": "/app/articles",
        },
    )
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<h1>Two-step sign-in</h1>" in page.text
    assert '<input type="hidden" name="next" value="/app/articles">' in page.text
    assert browser.get_cookie(MFA_COOKIE) is not None
    assert browser.get("/api/auth/session").status_code == 401

    def send(code: str, html: str) -> Any:
        return browser.post(
            "/login/mfa",
            data={"csrf_token": _form_token(html), "code": code, "next": "/app/articles"},
        )

    wrong = send("000000x", page.text)
    assert wrong.status_code == 401
    assert "The code is wrong or was already used." in wrong.text
    done = send(enrolled.authenticator.next_code(), wrong.text)
    assert (done.status_code, done.headers["Location"]) == (303, "/app/articles")
    assert browser.get("/api/auth/session").json["user"]["username"] == "ann"
    assert browser.get_cookie(MFA_COOKIE) is None

    # The code form too; and a pending step that is gone sends the browser back to sign in.
    other = app.test_client()
    asked = other.post(
        "/login/code",
        data={"csrf_token": _form_token(other.get("/login/code").text), "identity": "ann"},
    )
    assert asked.status_code == 200
    page = other.post(
        "/login/code",
        data={
            "csrf_token": _form_token(asked.text),
            "identity": "ann",
            "code": mailbox.code("ann@example.com"),
        },
    )
    assert "<h1>Two-step sign-in</h1>" in page.text
    for _ in range(5):
        page = send_as(other, "zzzzz-zzzzz", page.text)
        assert page.status_code == 401 and "The code is wrong or was already used." in page.text
    page = send_as(other, enrolled.authenticator.next_code(), page.text)
    assert page.status_code == 401
    assert "This sign-in has expired or was used up. Please sign in again." in page.text
    assert '<label for="password">' in page.text  # the sign-in form again


def send_as(browser: Any, code: str, html: str) -> Any:
    return browser.post("/login/mfa", data={"csrf_token": _form_token(html), "code": code})


CODES = st.text(max_size=70) | st.integers() | st.none() | st.lists(st.text(max_size=3), max_size=2)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=CODES, cookie=st.text(max_size=80))
def test_hostile_codes_and_cookies_never_fail(
    app: Flask, enrolled: Enrolled, code: Any, cookie: str
) -> None:
    browser = app.test_client()
    if cookie.isascii() and cookie.isprintable() and ";" not in cookie:
        browser.set_cookie(MFA_COOKIE, cookie)
    answer = verify(browser, code)
    assert answer.status_code in (401, 422, 429), answer.json
    token = app_finish(app, cookie or "x", code)
    assert token.status_code in (400, 401, 422, 429), token.json


def test_wrong_codes_are_limited_per_account_across_pending_steps(
    app_factory: Any, smtp_server: SmtpServer, clock: Clock
) -> None:
    app = app_factory(BASTION_MFA_LIMIT_PER_ACCOUNT="3/hour", BASTION_MAIL_URL=smtp_server.url)
    signed_in_ann = signed_in_registered(app)
    phone = enroll(signed_in_ann, clock).authenticator
    first = app_login(app).json["mfa_token"]
    for _ in range(2):
        assert app_finish(app, first, "000000x").json["code"] == "invalid_mfa_code"
    second = app_login(app).json["mfa_token"]  # a new sign-in brings no new guesses
    assert app_finish(app, second, "000000x").json["code"] == "invalid_mfa_code"
    limited = app_finish(app, second, phone.next_code())
    assert limited.status_code == 429 and limited.json["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def signed_in_registered(app: Flask) -> Any:
    assert post(
        app.test_client(),
        "/api/auth/register",
        {"email": "ann@example.com", "username": "ann", "password": PASSWORD},
    ).status_code in (201, 202)
    return signed_in(app.test_client(), "browser", "ann", PASSWORD)


@pytest.mark.parametrize(
    ("method", "second_factor", "signs_in"),
    [
        ("password", False, False),
        ("code", False, False),
        ("passkey", False, True),  # a user-verified passkey is two factors already
        ("password", True, True),
    ],
)
def test_the_pipeline_stage_asks_every_way_in_but_a_passkey(
    app: Flask,
    enrolled: Enrolled,
    client_kind: ClientKind,
    method: Method,
    second_factor: bool,
    signs_in: bool,
) -> None:
    with app.app_context():
        state = current_bastion()
        with state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=bastion_clock.now())
            user = db.scalars(select(User).where(User.username_key == "ann")).one()
            result = signin.sign_in(
                ctx, user, kind=client_kind, method=method, second_factor=second_factor
            )
            if signs_in:
                assert isinstance(result, signin.SignedIn)
            else:
                assert result == signin.Pending(user, signin.SECOND_FACTOR)
