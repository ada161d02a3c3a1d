"""The second-factor tests' common parts: turning TOTP on for an account, and the codes an
authenticator app would show at a given moment of the frozen clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from flask import Flask

from flask_bastion.testing import ClientKind, Clock, SignedIn, signed_in
from tests.account_helpers import PASSWORD, csrf

MFA = "/api/auth/mfa"
VERIFY = "/api/auth/mfa/verify"
MFA_COOKIE = "bastion_session_mfa"
BOTH = ["totp", "recovery_code"]


@dataclass
class Authenticator:
    """The authenticator app the user scanned: codes at the clock's time, or steps around it."""

    secret: str
    clock: Clock

    def code(self, steps: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(self.clock.current, counter_offset=steps)

    def next_code(self) -> str:
        """A code not used yet: the clock moves on one step (30 s), as a person waits for one."""
        self.clock.advance(30)
        return self.code()


@dataclass
class Enrolled:
    authenticator: Authenticator
    recovery_codes: list[str]


def enroll(me: SignedIn, clock: Clock) -> Enrolled:
    """Set up and confirm TOTP for the signed-in ``me``."""
    setup = me.post(f"{MFA}/totp/setup")
    assert setup.status_code == 200, setup.get_data(as_text=True)
    authenticator = Authenticator(setup.json["secret"], clock)
    confirmed = me.post(f"{MFA}/totp/confirm", {"code": authenticator.code()})
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    return Enrolled(authenticator, confirmed.json["recovery_codes"])


def enroll_ann(app: Flask, clock: Clock, kind: ClientKind = "browser") -> Enrolled:
    return enroll(signed_in(app.test_client(), kind, "ann", PASSWORD), clock)


def browser_login(app: Flask, identity: str = "ann", password: str = PASSWORD) -> Any:
    """A fresh browser that sends the password; the client rides along as ``.browser``."""
    browser = app.test_client()
    answer = browser.post(
        "/api/auth/login", json={"identity": identity, "password": password}, headers=csrf(browser)
    )
    answer.browser = browser
    return answer


def verify(browser: Any, code: str) -> Any:
    return browser.post(VERIFY, json={"code": code}, headers=csrf(browser))


def app_login(app: Flask, identity: str = "ann", password: str = PASSWORD) -> Any:
    return app.test_client().post("/api/token", json={"identity": identity, "password": password})


def app_finish(app: Flask, mfa_token: str, code: str) -> Any:
    return app.test_client().post("/api/token", json={"mfa_token": mfa_token, "code": code})
