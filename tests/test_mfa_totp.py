"""TOTP as a second factor: setup, confirm, the codes it accepts (once, within one step of
drift), recovery codes, and turning it off; for browser and app clients alike."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from flask_bastion import current_bastion
from flask_bastion.models import RecoveryCode, SecurityEvent, TotpCredential
from flask_bastion.security.second_factor import MfaKeys
from flask_bastion.testing import ClientKind, Clock, assert_problem, signed_in
from tests.account_helpers import PASSWORD, Mailbox
from tests.mfa_helpers import (
    BOTH,
    MFA,
    Authenticator,
    app_finish,
    app_login,
    enroll,
    enroll_ann,
)
from tests.smtp import SmtpServer, text_of

INVALID_MFA_CODE = {"detail": "The code is wrong or was already used."}
INVALID_CREDENTIALS = "The identity or password is wrong."
REAUTH = {
    "detail": "This needs a recent sign-in: confirm your password at the reauth endpoint first."
}
NOT_ENABLED = {"detail": "Two-step sign-in is not turned on."}
REAUTH_WINDOW = 120
RECOVERY_FORMAT = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    # A short reauth window, so a sign-in goes stale well before an app's access token does.
    return {
        "BASTION_MAIL_URL": smtp_server.url,
        "BASTION_MAIL_APP_NAME": "Newsroom",
        "BASTION_REAUTH_WINDOW": REAUTH_WINDOW,
    }


def events(app: Flask) -> list[tuple[str, Any]]:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        found = db.execute(
            select(SecurityEvent.kind, SecurityEvent.details).order_by(SecurityEvent.id)
        )
        return [(row.kind, row.details) for row in found]


def stored(app: Flask, model: Any) -> list[Any]:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        rows = list(db.scalars(select(model)))
        db.expunge_all()
        return rows


def test_setup_answers_a_secret_and_enables_nothing_until_confirmed(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    assert (me.get(MFA).status_code, me.get(MFA).json) == (
        200,
        {"methods": [], "recovery_codes_remaining": 0},
    )
    setup = me.post(f"{MFA}/totp/setup")
    assert setup.status_code == 200
    assert set(setup.json) == {"secret", "otpauth_uri", "qr_svg"}
    secret = setup.json["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    parsed = pyotp.parse_uri(setup.json["otpauth_uri"])
    assert (parsed.secret, parsed.name, parsed.issuer) == (secret, "ann@example.com", "Newsroom")
    assert setup.json["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert setup.json["qr_svg"].endswith("</svg>")
    assert me.get(MFA).json == {"methods": [], "recovery_codes_remaining": 0}
    # Not enabled: a password alone still signs in.
    assert app_login(app).status_code == 200
    # The secret is stored sealed, never as such.
    [row] = stored(app, TotpCredential)
    assert row.confirmed_at is None and secret not in row.secret


def test_a_new_setup_replaces_the_unconfirmed_one(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    first = Authenticator(me.post(f"{MFA}/totp/setup").json["secret"], clock)
    second = Authenticator(me.post(f"{MFA}/totp/setup").json["secret"], clock)
    assert first.secret != second.secret
    refused = me.post(f"{MFA}/totp/confirm", {"code": first.code()})
    assert_problem(refused, 401, "invalid_mfa_code", **INVALID_MFA_CODE)
    assert me.post(f"{MFA}/totp/confirm", {"code": second.code()}).status_code == 200
    assert len(stored(app, TotpCredential)) == 1


def test_confirm_enables_it_and_answers_ten_single_use_recovery_codes(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    no_setup = me.post(f"{MFA}/totp/confirm", {"code": "123456"})
    assert_problem(
        no_setup, 409, "totp_setup_required", detail="Start the authenticator setup first."
    )
    enrolled = enroll(me, clock)
    codes = enrolled.recovery_codes
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY_FORMAT.match(code) for code in codes)
    assert me.get(MFA).json == {"methods": BOTH, "recovery_codes_remaining": 10}
    # Stored hashed only.
    hashes = [row.code_hash for row in stored(app, RecoveryCode)]
    assert len(hashes) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in hashes)
    # A second setup while enabled is refused: turn it off first.
    again = me.post(f"{MFA}/totp/setup")
    assert_problem(
        again,
        409,
        "totp_already_enabled",
        detail="An authenticator app is already set up: turn it off first to set up another.",
    )
    confirmed_again = me.post(f"{MFA}/totp/confirm", {"code": enrolled.authenticator.code()})
    assert_problem(
        confirmed_again,
        409,
        "totp_already_enabled",
        detail="An authenticator app is already set up: turn it off first to set up another.",
    )


def test_setup_needs_a_signed_in_and_recent_sign_in(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    anonymous = app.test_client().post(f"{MFA}/totp/setup")
    assert anonymous.status_code in (401, 403)  # no session (or, for a browser, no CSRF token)
    assert app.test_client().get(MFA).status_code == 401
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    clock.advance(REAUTH_WINDOW + 1)
    assert_problem(me.post(f"{MFA}/totp/setup"), 401, "reauth_required", **REAUTH)
    assert me.post("/api/auth/reauth", {"password": PASSWORD}).status_code == 200
    assert me.post(f"{MFA}/totp/setup").status_code == 200


def test_codes_are_accepted_once_within_one_step_of_drift(
    app: Flask, ann: None, clock: Clock
) -> None:
    phone = enroll_ann(app, clock).authenticator
    clock.advance(10 * 30)  # ten steps after the confirming code

    def attempt(steps: int) -> Any:
        started = app_login(app)
        assert started.status_code == 401 and started.json["code"] == "mfa_required"
        return app_finish(app, started.json["mfa_token"], phone.code(steps))

    for too_far in (-2, 2):
        refused = attempt(too_far)
        assert refused.status_code == 401 and refused.json["code"] == "invalid_mfa_code"
    assert attempt(-1).status_code == 200  # a phone a step behind
    assert attempt(0).status_code == 200
    assert attempt(1).status_code == 200  # a phone a step ahead
    # Each of those is spent, and so is any older step: no replay within the window.
    for replayed in (-1, 0, 1):
        refused = attempt(replayed)
        assert refused.status_code == 401 and refused.json["code"] == "invalid_mfa_code"


def test_the_confirming_code_is_spent(app: Flask, ann: None, clock: Clock) -> None:
    phone = enroll_ann(app, clock).authenticator
    started = app_login(app).json
    replay = app_finish(app, started["mfa_token"], phone.code())
    assert replay.json["code"] == "invalid_mfa_code"
    assert app_finish(app, started["mfa_token"], phone.next_code()).status_code == 200


def test_recovery_codes_are_single_use_and_regenerating_voids_the_old_ones(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    enrolled = enroll(me, clock)
    codes = enrolled.recovery_codes
    first = app_login(app).json["mfa_token"]
    # Any case, with or without the dash.
    assert app_finish(app, first, codes[0].upper().replace("-", " ")).status_code == 200
    again = app_login(app).json["mfa_token"]
    reused = app_finish(app, again, codes[0])
    assert_problem(reused, 401, "invalid_mfa_code", **INVALID_MFA_CODE, **OAUTH_GRANT)
    assert me.get(MFA).json == {"methods": BOTH, "recovery_codes_remaining": 9}

    clock.advance(REAUTH_WINDOW + 1)
    assert_problem(me.post(f"{MFA}/recovery-codes"), 401, "reauth_required", **REAUTH)
    code = enrolled.authenticator.next_code()
    assert me.post("/api/auth/reauth", {"password": PASSWORD, "code": code}).status_code == 200
    renewed = me.post(f"{MFA}/recovery-codes")
    assert renewed.status_code == 200
    new_codes = renewed.json["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert me.get(MFA).json == {"methods": BOTH, "recovery_codes_remaining": 10}
    token = app_login(app).json["mfa_token"]
    assert app_finish(app, token, codes[1]).json["code"] == "invalid_mfa_code"
    assert app_finish(app, token, new_codes[1]).status_code == 200


OAUTH_GRANT = {
    "error": "invalid_grant",
    "error_description": INVALID_MFA_CODE["detail"],
}


def test_disabling_needs_a_recent_sign_in_and_mails_a_notice(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock, mailbox: Mailbox
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    assert_problem(me.delete(f"{MFA}/totp"), 409, "mfa_not_enabled", **NOT_ENABLED)
    enrolled = enroll(me, clock)
    before = len(mailbox.to("ann@example.com"))
    clock.advance(REAUTH_WINDOW + 1)
    assert_problem(me.delete(f"{MFA}/totp"), 401, "reauth_required", **REAUTH)
    assert me.get(MFA).json["methods"] == BOTH
    code = enrolled.authenticator.next_code()
    assert me.post("/api/auth/reauth", {"password": PASSWORD, "code": code}).status_code == 200

    off = me.delete(f"{MFA}/totp")
    assert (off.status_code, off.get_data()) == (204, b"")
    assert me.get(MFA).json == {"methods": [], "recovery_codes_remaining": 0}
    assert stored(app, TotpCredential) == [] and stored(app, RecoveryCode) == []
    mails = mailbox.to("ann@example.com")
    assert len(mails) == before + 1
    notice = mails[-1]
    assert notice["Subject"] == "Two-step sign-in was turned off for your Newsroom account"
    assert "reset your password now" in text_of(notice)
    # A password alone signs in again; the old codes are nothing.
    assert app_login(app).status_code == 200
    assert app_finish(app, "x" * 43, enrolled.recovery_codes[0]).json["code"] == (
        "mfa_challenge_invalid"
    )


REAUTH_PATH = "/api/auth/reauth"
MFA_REQUIRED = {"detail": "Enter a code from your authenticator app.", "methods": BOTH}


def test_reauth_of_a_user_with_a_second_factor_needs_a_code(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock, mailbox: Mailbox
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    enrolled = enroll(me, clock)
    phone = enrolled.authenticator
    clock.advance(REAUTH_WINDOW + 1)

    # The password alone no longer makes the sign-in recent: a code is due with it.
    bare = me.post(REAUTH_PATH, {"password": PASSWORD})
    assert_problem(bare, 401, "mfa_required", **MFA_REQUIRED)
    wrong = me.post(REAUTH_PATH, {"password": PASSWORD, "code": phone.code(-5)})
    assert_problem(wrong, 401, "invalid_mfa_code", **INVALID_MFA_CODE)
    bad_password = me.post(REAUTH_PATH, {"password": "wrong-password", "code": phone.next_code()})
    assert_problem(bad_password, 401, "invalid_credentials", detail=INVALID_CREDENTIALS)
    assert_problem(me.post(f"{MFA}/recovery-codes"), 401, "reauth_required", **REAUTH)

    code = phone.next_code()
    done = me.post(REAUTH_PATH, {"password": PASSWORD, "code": code})
    assert done.status_code == 200 and set(done.json) == {"authenticated_at", "reauth_until"}
    replayed = me.post(REAUTH_PATH, {"password": PASSWORD, "code": code})
    assert_problem(replayed, 401, "invalid_mfa_code", **INVALID_MFA_CODE)  # spent
    # A recovery code does too, and is used up by it.
    recovered = me.post(REAUTH_PATH, {"password": PASSWORD, "code": enrolled.recovery_codes[0]})
    assert recovered.status_code == 200
    assert me.get(MFA).json == {"methods": BOTH, "recovery_codes_remaining": 9}
    # A code asked for is the next step, not a failure; a wrong code is one.
    reauths = [
        (kind, (details or {}).get("reason"))
        for kind, details in events(app)
        if kind in {"reauth_failed", "reauth_succeeded", "recovery_code_used"}
    ]
    assert reauths == [
        ("reauth_failed", "invalid_mfa_code"),
        ("reauth_failed", "invalid_credentials"),
        ("reauth_succeeded", None),
        ("reauth_failed", "invalid_mfa_code"),
        ("recovery_code_used", None),
        ("reauth_succeeded", None),
    ]

    # Regenerating the codes mails the owner.
    before = len(mailbox.to("ann@example.com"))
    assert me.post(f"{MFA}/recovery-codes").status_code == 200
    mails = mailbox.to("ann@example.com")
    assert len(mails) == before + 1
    assert mails[-1]["Subject"] == "New recovery codes for your Newsroom account"
    assert "codes you kept before no longer work" in text_of(mails[-1])


def test_reauth_without_a_second_factor_ignores_a_code(
    app: Flask, ann: None, client_kind: ClientKind, clock: Clock
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    clock.advance(REAUTH_WINDOW + 1)
    assert me.post(REAUTH_PATH, {"password": PASSWORD}).status_code == 200
    assert me.post(REAUTH_PATH, {"password": PASSWORD, "code": "123456"}).status_code == 200


def test_the_sealed_secret_needs_the_secret_key(app: Flask, ann: None, clock: Clock) -> None:
    phone = enroll_ann(app, clock).authenticator
    [row] = stored(app, TotpCredential)
    assert phone.secret not in row.secret
    assert MfaKeys.derive([app.config["SECRET_KEY"]]).open(row.secret) == phone.secret
    assert MfaKeys.derive(["another-secret-key-of-at-least-32-chars"]).open(row.secret) is None
    # A rotated key still opens it while the old one is listed as a fallback.
    rotated = MfaKeys.derive(["a-new-secret-key-of-at-least-32-chars", app.config["SECRET_KEY"]])
    assert rotated.open(row.secret) == phone.secret


def test_malformed_and_invalid_bodies(app: Flask, ann: None, client_kind: ClientKind) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    me.post(f"{MFA}/totp/setup")
    for body in ({}, {"code": 123456}, {"code": ""}, {"code": "1" * 65}, {"code": "1", "x": 1}):
        answer = me.post(f"{MFA}/totp/confirm", body)
        assert answer.status_code == 422 and answer.json["code"] == "validation_failed", body
    broken = me.post(f"{MFA}/totp/confirm", data="{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json["code"] == "malformed_json"
    for code in ("abcdef", "12345", "1234567", "\uff10" * 6):  # fullwidth digits too
        answer = me.post(f"{MFA}/totp/confirm", {"code": code})
        assert answer.status_code == 401 and answer.json["code"] == "invalid_mfa_code", code
