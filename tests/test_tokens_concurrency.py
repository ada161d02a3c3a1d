"""Ten parallel refreshes with one token, over real HTTP and real concurrent connections.

The rule (docs/tokens.md): one conditional UPDATE decides; exactly one request wins a new pair,
the others get 401 invalid_grant, and the family stays alive for the winner.
"""

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
from flask_bastion.models import AuthSession, RefreshToken
from tests.conftest import PASSWORD
from tests.problems import INVALID_GRANT
from tests.token_helpers import bearer, oauth, register

pytestmark = [pytest.mark.postgres, pytest.mark.minimal_app]

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


REFUSED = oauth(INVALID_GRANT, "invalid_grant")


def refresh_all_at_once(base_url: str, token: str) -> list[requests.Response]:
    barrier = threading.Barrier(PARALLEL)

    def one(_: int) -> requests.Response:
        with requests.Session() as http:  # a connection of its own
            barrier.wait()
            return http.post(
                f"{base_url}/api/token/refresh", json={"refresh_token": token}, timeout=30
            )

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def issue_over_http(base_url: str) -> dict[str, Any]:
    """A fresh token pair for alice, through the real server."""
    response = requests.post(
        f"{base_url}/api/token",
        json={"identity": "alice", "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def family_state(app: Flask) -> tuple[int, int]:
    """(token sessions, unused refresh tokens) in the database."""
    with app.app_context():
        db = current_bastion().db.session
        sessions = db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.kind == "token")
        )
        live = db.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.used_at.is_(None))
        )
        db.close()
    return int(sessions or 0), int(live or 0)


def test_ten_parallel_refreshes_give_one_live_family(app: Flask, base_url: str) -> None:
    register(app.test_client())
    pair = issue_over_http(base_url)
    token = pair["refresh_token"]
    for _round in range(3):
        responses = refresh_all_at_once(base_url, token)
        winners = [r for r in responses if r.status_code == 200]
        losers = [r for r in responses if r.status_code != 200]
        assert len(winners) == 1, [r.status_code for r in responses]
        assert all(r.status_code == 401 and r.json() == REFUSED for r in losers)
        # One session, one live refresh token: the winner's. No second family exists.
        assert family_state(app) == (1, 1)
        won: dict[str, Any] = winners[0].json()
        session = requests.get(
            f"{base_url}/api/auth/session", headers=bearer(won["access_token"]), timeout=30
        )
        assert session.status_code == 200
        token = won["refresh_token"]  # the next round races with the successor
    # The survivor still refreshes normally.
    final = requests.post(
        f"{base_url}/api/token/refresh", json={"refresh_token": token}, timeout=30
    )
    assert final.status_code == 200
    assert family_state(app) == (1, 1)


@pytest.mark.parametrize("app_config", [{"BASTION_REFRESH_GRACE_PERIOD": 0}])
def test_ten_parallel_replays_of_a_used_token_leave_no_live_family(
    app: Flask, base_url: str
) -> None:
    register(app.test_client())
    pair = issue_over_http(base_url)
    first = requests.post(
        f"{base_url}/api/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=30
    )
    assert first.status_code == 200
    responses = refresh_all_at_once(base_url, pair["refresh_token"])
    assert all(r.status_code == 401 and r.json() == REFUSED for r in responses)
    assert family_state(app) == (0, 0)  # reuse revoked the family, successor included


@pytest.mark.parametrize("app_config", [{"BASTION_REFRESH_GRACE_PERIOD": 0}])
def test_a_replay_racing_the_legitimate_refresh_revokes_without_errors(
    app: Flask, base_url: str
) -> None:
    register(app.test_client())
    pair = issue_over_http(base_url)
    successor = requests.post(
        f"{base_url}/api/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=30
    ).json()
    barrier = threading.Barrier(PARALLEL)

    def one(index: int) -> requests.Response:
        # Half replay the stolen ancestor, half refresh the legitimate successor.
        token = pair["refresh_token"] if index % 2 else successor["refresh_token"]
        with requests.Session() as http:
            barrier.wait()
            return http.post(
                f"{base_url}/api/token/refresh", json={"refresh_token": token}, timeout=30
            )

    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(pool.map(one, range(PARALLEL)))
    assert {r.status_code for r in responses} <= {200, 401}  # no deadlock, no 500
    assert sum(r.status_code == 200 for r in responses) <= 1
    assert family_state(app) == (0, 0)  # the replay ended the family, whoever won the race
