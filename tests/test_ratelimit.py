"""Rate limits on sign-in and sign-up: memory storage on SQLite, Redis in the PostgreSQL pass."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from limits.storage import MemoryStorage, RedisStorage

from tests.conftest import PASSWORD, REDIS_URL, AppFactory, Auth
from tests.problems import INVALID_CREDENTIALS, RATE_LIMITED, assert_problem, problem

pytestmark = pytest.mark.minimal_app


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "BASTION_LOGIN_LIMIT_PER_IDENTITY": "3/minute",
        "BASTION_LOGIN_LIMIT_PER_IP": "6/minute",
        "BASTION_REGISTER_LIMIT_PER_IP": "2/hour",
    }


def assert_limited(response: Any) -> None:
    assert_problem(response, RATE_LIMITED)
    assert 1 <= int(response.headers["Retry-After"]) <= 60 * 60
    assert response.headers["Cache-Control"] == "no-store"


def test_storage_is_redis_when_configured_else_memory(app: Flask) -> None:
    storage = app.extensions["bastion"].limits.limiter.storage
    assert isinstance(storage, RedisStorage if REDIS_URL else MemoryStorage)


def test_login_failures_per_identity_are_limited(auth: Auth) -> None:
    auth.register()
    auth.logout()
    for _ in range(3):
        assert_problem(auth.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_limited(auth.login("alice", "wrong-password"))
    # Even the right password waits now, or the limit would only slow down wrong guesses.
    assert_limited(auth.login("alice", PASSWORD))
    # The limit is per identity after normalisation: the email and case variants share it.
    assert_limited(auth.login("ALICE", PASSWORD))


def test_the_identity_limit_counts_failures_not_successes(auth: Auth) -> None:
    auth.register()
    auth.logout()
    for _ in range(3):
        assert auth.login("alice").status_code == 200
    assert auth.login("alice").status_code == 200


def test_login_attempts_per_ip_are_limited_across_identities(auth: Auth) -> None:
    for n in range(6):
        assert_problem(auth.login(f"user{n}", PASSWORD), INVALID_CREDENTIALS)
    assert_limited(auth.login("someone-else", PASSWORD))


def test_registrations_per_ip_are_limited(auth: Auth) -> None:
    assert auth.register("a@example.com", "aaa").status_code == 201
    assert auth.register("b@example.com", "bbb").status_code == 201
    assert_limited(auth.register("c@example.com", "ccc"))


def test_limits_are_per_app_prefix(app: Flask, app_factory: AppFactory) -> None:
    first = Auth(app.test_client())
    for _ in range(3):
        first.login("alice", "wrong-password")
    assert_limited(first.login("alice", "wrong-password"))
    other = app_factory(BASTION_LOGIN_LIMIT_PER_IDENTITY="3/minute")
    assert_problem(Auth(other.test_client()).login("alice", "x-password"), INVALID_CREDENTIALS)


def test_failures_count_per_account_whichever_identifier_is_typed(auth: Auth) -> None:
    auth.register()
    auth.register("bob@example.com", "bob")
    auth.logout()
    assert_problem(auth.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_problem(auth.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_problem(auth.login("alice@example.com", "wrong-password"), INVALID_CREDENTIALS)
    # Three failures on the account, through two identifiers: the account's count is spent.
    assert_limited(auth.login("alice@example.com", PASSWORD))
    assert_limited(auth.login("Alice@Example.com", PASSWORD))
    # The control: another account on the same address still signs in.
    assert auth.login("bob", PASSWORD).status_code == 200


def test_unknown_identities_count_per_identifier(auth: Auth) -> None:
    for _ in range(3):
        assert_problem(auth.login("ghost", "wrong-password"), INVALID_CREDENTIALS)
    assert_limited(auth.login("ghost", "wrong-password"))
    # A different unknown identifier has its own count, as a different account would.
    assert_problem(auth.login("phantom", "wrong-password"), INVALID_CREDENTIALS)


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_silent_redis_is_a_quick_503_not_a_hang(
    app_factory: AppFactory, silent_redis: str
) -> None:
    app = app_factory(BASTION_REDIS_URL=silent_redis)
    auth = Auth(app.test_client())
    started = time.monotonic()
    response = auth.login("alice", PASSWORD)
    assert time.monotonic() - started < 2
    assert_problem(
        response,
        problem(
            503,
            "service_unavailable",
            "The service is briefly unavailable. Try again in a few seconds.",
        ),
    )
    assert response.headers["Retry-After"] == "5"


def test_an_unreachable_redis_is_a_503(app_factory: AppFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = app_factory(BASTION_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    response = Auth(app.test_client()).register()
    assert response.status_code == 503
    assert response.json["code"] == "service_unavailable"
