"""Ten parallel finishes with one code, over real HTTP and real concurrent connections: a TOTP
code is accepted once, and a pending step finishes once (one conditional UPDATE or DELETE
decides each)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from flask_bastion.testing import Clock
from tests.mfa_helpers import app_login, enroll_ann

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
