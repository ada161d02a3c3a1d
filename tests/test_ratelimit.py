"""Rate limits on sign-in and sign-up: memory storage on SQLite, Redis in the PostgreSQL pass."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from limits.storage import MemoryStorage, RedisStorage

from flask_bastion import ratelimit
from flask_bastion.testing import Clock
from flask_bastion.transports.browser import device_cookie_name
from tests.conftest import PASSWORD, REDIS_URL, AppFactory, Auth
from tests.problems import INVALID_CREDENTIALS, RATE_LIMITED, assert_problem
from tests.soak.services import Redis

pytestmark = pytest.mark.minimal_app


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "BASTION_LOGIN_LIMIT_PER_IDENTITY": "3/minute",
        "BASTION_LOGIN_LIMIT_PER_IP": "6/minute",
        "BASTION_REGISTER_LIMIT_PER_IP": "2/hour",
    }


def assert_limited(response: Any, policy: str | None = None, *, quota: str = "") -> int:
    """A 429 with its headers; with ``policy``, the IETF fields exactly. The wait in seconds."""
    assert_problem(response, RATE_LIMITED)
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60 * 60
    assert response.headers["Cache-Control"] == "no-store"
    if policy is not None:
        assert response.headers["RateLimit-Policy"] == f'"{policy}";{quota}'
        assert response.headers["RateLimit"] == f'"{policy}";r=0;t={wait}'
    return wait


def stranger(app: Flask, ip: str = "198.51.100.7") -> Auth:
    """Another browser elsewhere, which never signed in to anyone: no known-device cookie."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return Auth(client)


def test_storage_is_redis_when_configured_else_memory(app: Flask) -> None:
    storage = app.extensions["bastion"].limits.limiter.storage
    assert isinstance(storage, RedisStorage if REDIS_URL else MemoryStorage)


def test_failures_past_the_budget_are_delayed_not_locked(
    app: Flask, auth: Auth, clock: Clock
) -> None:
    auth.register()
    attacker = stranger(app)
    for _ in range(3):
        assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    # The budget is spent: the next try waits a second, with the IETF fields, unchecked.
    response = attacker.login("alice", PASSWORD)
    assert assert_limited(response, "login-identity", quota="q=3;w=60") == 1
    # The identity as typed is normalised: case variants share the delay.
    assert_limited(attacker.login("ALICE", PASSWORD), "login-identity", quota="q=3;w=60")
    # After the wait, a try is heard again: the right password gets in; no lockout.
    clock.advance(1)
    assert attacker.login("alice", PASSWORD).status_code == 200


def test_the_delay_doubles_with_each_failure_up_to_its_cap(
    app_factory: AppFactory, clock: Clock
) -> None:
    app = app_factory(BASTION_LOGIN_LIMIT_PER_IDENTITY="2/minute", BASTION_LOGIN_DELAY_MAX=16)
    Auth(app.test_client()).register()
    attacker = stranger(app)
    for _ in range(2):
        assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    waits = []
    for _ in range(7):
        wait = assert_limited(attacker.login("alice", "wrong-password"))
        waits.append(wait)
        clock.advance(wait - 0.5)
        assert_limited(attacker.login("alice", "wrong-password"))  # not a moment early
        clock.advance(0.5)
        assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert waits == [1, 2, 4, 8, 16, 16, 16]
    # Forgotten only after a quiet day (BASTION_LOGIN_DELAY_MEMORY), not by a success.
    clock.advance(24 * 3600 + 1)
    assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)


def test_a_known_device_signs_in_while_an_attacker_is_delayed(
    app: Flask, auth: Auth, clock: Clock
) -> None:
    auth.register()  # this browser is now a known device of alice
    auth.logout()
    attacker = stranger(app)
    for _ in range(3):
        attacker.login("alice", "wrong-password")
    for n in range(5):  # the attacker keeps at it from many addresses, and keeps being delayed
        attacker.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 10}"
        clock.advance(assert_limited(attacker.login("alice", "wrong-password")))
        assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_limited(attacker.login("alice", PASSWORD), "login-identity", quota="q=3;w=60")
    # The owner, on the browser that signed in before, is not held by the account's delay,
    # by either of the account's names.
    assert auth.login("alice", PASSWORD).status_code == 200
    auth.logout()
    assert auth.login("alice@example.com", PASSWORD).status_code == 200
    # The owner's success hands the attacker nothing: the delay still runs.
    assert_limited(attacker.login("alice", PASSWORD))


def test_a_known_device_has_a_budget_of_its_own(app: Flask, auth: Auth) -> None:
    auth.register()
    auth.logout()
    for _ in range(3):
        assert_problem(auth.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_limited(auth.login("alice", PASSWORD), "login-device", quota="q=3;w=60")
    # Its failures were its own: a stranger's tries on the account are not delayed by them.
    assert stranger(app).login("alice", PASSWORD).status_code == 200


def test_a_forged_device_cookie_is_a_stranger(app: Flask, auth: Auth, clock: Clock) -> None:
    auth.register()
    name = device_cookie_name(app.extensions["bastion"].settings)
    cookie = auth.client.get_cookie(name)
    assert cookie is not None
    user_id = cookie.value.split(".")[1].split(":")[0]
    attacker = stranger(app)
    # The account's id with a made-up device id and MAC: not a known device.
    attacker.client.set_cookie(name, f"d1.{user_id}:{'A' * 22}.bad-mac")
    for _ in range(3):
        attacker.login("alice", "wrong-password")
    assert_limited(attacker.login("alice", PASSWORD), "login-identity", quota="q=3;w=60")


def test_login_attempts_per_ip_are_limited_across_identities(auth: Auth) -> None:
    for n in range(6):
        assert_problem(auth.login(f"user{n}", PASSWORD), INVALID_CREDENTIALS)
    assert_limited(auth.login("someone-else", PASSWORD), "login-ip", quota="q=6;w=60")


def test_registrations_per_ip_are_limited(auth: Auth) -> None:
    assert auth.register("a@example.com", "aaa").status_code == 201
    assert auth.register("b@example.com", "bbb").status_code == 201
    assert_limited(auth.register("c@example.com", "ccc"), "register-ip", quota="q=2;w=3600")


def forged_login(auth: Auth, identity: str, headers: dict[str, str]) -> Any:
    body = {"identity": identity, "password": PASSWORD}
    return auth.post("/api/auth/login", body, headers=headers)


def test_a_spoofed_forwarded_for_is_not_a_new_address(auth: Auth) -> None:
    # No proxy is trusted here: X-Forwarded-For is the client's own word, and not believed.
    for n in range(6):
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert_problem(forged_login(auth, f"user{n}", forged), INVALID_CREDENTIALS)
    forged = {"X-Forwarded-For": "203.0.113.99"}
    assert_limited(forged_login(auth, "other", forged), "login-ip", quota="q=6;w=60")


def test_limits_are_per_app_prefix(app: Flask, app_factory: AppFactory, clock: Clock) -> None:
    first = stranger(app)
    for _ in range(3):
        first.login("alice", "wrong-password")
    assert_limited(first.login("alice", "wrong-password"))
    other = app_factory(BASTION_LOGIN_LIMIT_PER_IDENTITY="3/minute")
    assert_problem(stranger(other).login("alice", "x-password"), INVALID_CREDENTIALS)


def test_failures_count_per_account_whichever_identifier_is_typed(
    app: Flask, auth: Auth, clock: Clock
) -> None:
    auth.register()
    auth.register("bob@example.com", "bob")
    attacker = stranger(app)
    assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_problem(attacker.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert_problem(attacker.login("alice@example.com", "wrong-password"), INVALID_CREDENTIALS)
    # Three failures on the account, through two identifiers: the account's budget is spent.
    assert_limited(attacker.login("alice@example.com", PASSWORD), "login-account", quota="q=3;w=60")
    assert_limited(attacker.login("Alice@Example.com", PASSWORD))
    # The control: another account on the same address still signs in.
    assert attacker.login("bob", PASSWORD).status_code == 200


def test_unknown_identities_count_per_identifier(auth: Auth, clock: Clock) -> None:
    for _ in range(3):
        assert_problem(auth.login("ghost", "wrong-password"), INVALID_CREDENTIALS)
    assert_limited(auth.login("ghost", "wrong-password"), "login-identity", quota="q=3;w=60")
    # A different unknown identifier has its own count, as a different account would.
    assert_problem(auth.login("phantom", "wrong-password"), INVALID_CREDENTIALS)


def test_a_refusal_is_audited_once_per_key_and_window(
    app: Flask, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flask_bastion.audit")
    for n in range(6):
        auth.login(f"user{n}", PASSWORD)
    for _ in range(3):
        assert_limited(auth.login("someone-else", PASSWORD))
    refused = [r for r in caplog.records if r.getMessage() == "rate_limited"]
    assert [(r.scope, r.ip) for r in refused] == [("login-ip", "127.0.0.1")]  # type: ignore[attr-defined]


def test_a_delay_refusal_names_the_account(
    app: Flask, auth: Auth, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    auth.register()
    user_id = auth.client.get("/api/auth/session").json["user"]["id"]
    caplog.set_level(logging.INFO, logger="flask_bastion.audit")
    attacker = stranger(app)
    for _ in range(3):
        attacker.login("alice", "wrong-password")
    assert_limited(attacker.login("alice", PASSWORD))
    assert_limited(attacker.login("alice", PASSWORD))
    refused = [r.__dict__ for r in caplog.records if r.getMessage() == "rate_limited"]
    assert [(r["scope"], r["user_id"]) for r in refused] == [("login-identity", user_id)]


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


def test_a_silent_redis_is_not_a_hang_and_limits_go_on_in_memory(
    app_factory: AppFactory, silent_redis: str
) -> None:
    app = app_factory(BASTION_REDIS_URL=silent_redis, BASTION_LOGIN_LIMIT_PER_IP="3/minute")
    auth = Auth(app.test_client())
    started = time.monotonic()
    for _ in range(3):
        assert_problem(auth.login("alice", PASSWORD), INVALID_CREDENTIALS)
    # One Redis timeout (0.5 s), then memory until the reconnect interval: no hang, no 503.
    assert time.monotonic() - started < 2
    assert_limited(auth.login("alice", PASSWORD), "login-ip", quota="q=3;w=60")


def test_an_unreachable_redis_still_serves(app_factory: AppFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = app_factory(BASTION_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    assert Auth(app.test_client()).register().status_code == 201


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_stopped_mid_run_still_limits_and_redis_is_used_again_after(
    app_factory: AppFactory, own_redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_factory(BASTION_REDIS_URL=own_redis.url, BASTION_LOGIN_LIMIT_PER_IP="4/minute")
    limits = app.extensions["bastion"].limits
    auth = Auth(app.test_client())
    assert_problem(auth.login("user0", PASSWORD), INVALID_CREDENTIALS)
    assert_problem(auth.login("user1", PASSWORD), INVALID_CREDENTIALS)
    assert own_redis_keys(own_redis)  # counted in Redis
    own_redis.stop()
    # From here on the same limit counts in this process's memory: never "no limit".
    for n in range(4):
        assert_problem(auth.login(f"other{n}", PASSWORD), INVALID_CREDENTIALS)
    assert limits.fallback.down
    assert_limited(auth.login("one-more", PASSWORD), "login-ip", quota="q=4;w=60")
    # Redis back: after the reconnect interval the counts are kept there again.
    own_redis.start()
    monkeypatch.setattr(ratelimit, "RECONNECT_AFTER", 0.0)
    limits.fallback._down_until = 0.0  # the interval set while Redis was down has run out
    auth.login("another", PASSWORD)
    assert not limits.fallback.down
    assert own_redis_keys(own_redis)


def own_redis_keys(server: Redis) -> list[bytes]:
    client = redis.Redis.from_url(server.url)
    try:
        return list(client.keys("*"))
    finally:
        client.close()
