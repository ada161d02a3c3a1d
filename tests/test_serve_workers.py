"""`newsroom serve` keeps the documented sign-in limits whatever its worker count.

Without Redis the counters live in each worker's memory, so more than one worker is refused;
with Redis, every worker counts in the same place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, REDIS_URL, fresh_database
from tests.servers import free_port, newsroom_server, production_env, run_newsroom

pytestmark = pytest.mark.server

LIMIT = 10  # BASTION_LOGIN_LIMIT_PER_IDENTITY's default, "10/minute"


def _register(base: str) -> None:
    browser = requests.Session()
    csrf = browser.get(f"{base}/api/auth/session").json()["csrf_token"]
    response = browser.post(
        f"{base}/api/auth/register",
        json={"email": "ann@example.com", "username": "ann", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf, "Origin": base},
    )
    assert response.status_code == 201, response.text


def _token(base: str, identity: str, password: str) -> int:
    # A new connection for every attempt, so the workers share them out between them.
    with requests.Session() as fresh:
        response = fresh.post(
            f"{base}/api/token",
            json={"grant_type": "password", "identity": identity, "password": password},
            headers={"Connection": "close"},
        )
    return response.status_code


def _assert_limit_holds(base: str) -> None:
    _register(base)
    identities = ["ann", "ann@example.com"]
    statuses = [_token(base, identities[n % 2], "wrong-password") for n in range(LIMIT)]
    assert statuses == [401] * LIMIT
    assert _token(base, "ann", "wrong-password") == 429
    assert _token(base, "ann@example.com", PASSWORD) == 429


def test_the_sign_in_limit_holds_across_workers(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port)
        if REDIS_URL:
            with newsroom_server(env, port, workers=2) as base:
                _assert_limit_holds(base)
            return
        refused = run_newsroom(["serve", "--port", str(port), "--workers", "2"], env)
        assert refused.returncode == 2
        assert "--workers above 1 needs REDIS_URL" in refused.stderr
        # The control: the one worker served by default keeps the limit.
        with newsroom_server(env, port, workers=0) as base:
            _assert_limit_holds(base)
