"""Ten parallel finishes with one code, over real HTTP and real concurrent connections: a TOTP
code is accepted once, and a pending step finishes once (one conditional UPDATE or DELETE
decides each); a double-submitted setup or confirm never answers 500 nor makes two sets of codes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from flask_bastion import current_bastion
from flask_bastion.models import PasskeyUser, RecoveryCode, TotpCredential
from flask_bastion.testing import Clock, signed_in
from tests.account_helpers import PASSWORD
from tests.mfa_helpers import MFA, Authenticator, app_login, enroll_ann

pytestmark = pytest.mark.postgres

PARALLEL = 10


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def finish_all_at_once(base_url: str, bodies: list[dict[str, Any]]) -> list[requests.Response]:
    barrier = threading.Barrier(len(bodies))

    def one(body: dict[str, Any]) -> requests.Response:
        with requests.Session() as http:  # a connection of its own
            barrier.wait()
            return http.post(f"{base_url}/api/token", json=body, timeout=30)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_one_code_in_ten_pending_steps_signs_in_once(
    app: Flask, ann: None, clock: Clock, base_url: str
) -> None:
    phone = enroll_ann(app, clock).authenticator
    code = phone.next_code()
    tokens = [app_login(app).json["mfa_token"] for _ in range(PARALLEL)]
    answers = finish_all_at_once(base_url, [{"mfa_token": t, "code": code} for t in tokens])
    assert sorted(a.status_code for a in answers) == [200] + [401] * (PARALLEL - 1)
    assert {a.json()["code"] for a in answers if a.status_code == 401} == {"invalid_mfa_code"}


def test_one_pending_step_finishes_once(app: Flask, ann: None, clock: Clock, base_url: str) -> None:
    codes = enroll_ann(app, clock).recovery_codes
    token = app_login(app).json["mfa_token"]
    answers = finish_all_at_once(base_url, [{"mfa_token": token, "code": c} for c in codes])
    assert sorted(a.status_code for a in answers) == [200] + [401] * (len(codes) - 1)
    refused = {a.json()["code"] for a in answers if a.status_code == 401}
    assert refused <= {"mfa_challenge_invalid", "invalid_mfa_code"}


def all_at_once(
    base_url: str, path: str, bodies: list[Any], headers: dict[str, str]
) -> list[requests.Response]:
    barrier = threading.Barrier(len(bodies))

    def one(body: Any) -> requests.Response:
        with requests.Session() as http:  # a connection of its own
            barrier.wait()
            return http.post(f"{base_url}{path}", json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def count(app: Flask, model: Any) -> int:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_double_submitted_setup_and_confirm_make_one_credential_and_one_set_of_codes(
    app: Flask, ann: None, clock: Clock, base_url: str
) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    bearer = {"Authorization": f"Bearer {me.access_token}"}

    setups = all_at_once(base_url, f"{MFA}/totp/setup", [None] * PARALLEL, bearer)
    assert [a.status_code for a in setups] == [200] * PARALLEL  # never a 500
    assert count(app, TotpCredential) == 1
    # One of the secrets answered is the one kept (the last setup's): a code from it confirms.
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        secret = current_bastion().mfa_keys.open(db.scalars(select(TotpCredential.secret)).one())
    assert secret is not None
    assert secret in {a.json()["secret"] for a in setups}
    code = Authenticator(secret, clock).code()

    confirms = all_at_once(base_url, f"{MFA}/totp/confirm", [{"code": code}] * PARALLEL, bearer)
    assert sorted(a.status_code for a in confirms) == [200] + [409] * (PARALLEL - 1)
    assert {a.json()["code"] for a in confirms if a.status_code == 409} == {"totp_already_enabled"}
    assert count(app, RecoveryCode) == 10
    [winner] = [a for a in confirms if a.status_code == 200]
    assert len(winner.json()["recovery_codes"]) == 10


def test_passkey_ceremonies_begun_at_once_share_one_user_handle(
    app: Flask, ann: None, base_url: str
) -> None:
    with requests.Session() as browser:  # a real browser's cookie jar, signed in
        browser.get(f"{base_url}/api/auth/session", timeout=30)
        xsrf = {"X-XSRF-TOKEN": browser.cookies["XSRF-TOKEN"]}
        login = {"identity": "ann", "password": PASSWORD}
        signed = browser.post(f"{base_url}/api/auth/login", json=login, headers=xsrf, timeout=30)
        assert signed.status_code == 200
        cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        xsrf = {"X-XSRF-TOKEN": browser.cookies["XSRF-TOKEN"]}
    headers = {**xsrf, "Cookie": cookies}
    path = "/api/auth/passkeys/register/options"
    answers = all_at_once(base_url, path, [None] * PARALLEL, headers)
    assert [a.status_code for a in answers] == [200] * PARALLEL  # never a 500
    assert count(app, PasskeyUser) == 1
    assert len({a.json()["user"]["id"] for a in answers}) == 1
