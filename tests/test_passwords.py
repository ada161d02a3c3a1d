"""Passwords: the policy, Argon2id parameters, rehash on login, and the dummy verification."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from flask_bastion import User, current_bastion
from flask_bastion.config import DEFAULTS, OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST
from flask_bastion.security.passwords import Passwords, _zxcvbn_passwords, common_passwords
from tests.conftest import PASSWORD, AppFactory, Auth
from tests.problems import INVALID_CREDENTIALS, assert_problem, field, problem

pytestmark = pytest.mark.minimal_app


class CountingHasher:
    """The real argon2 PasswordHasher, with a count of what it was asked to do."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.calls = {"hash": 0, "verify": 0}

    def hash(self, password: str, **kwargs: Any) -> str:
        self.calls["hash"] += 1
        return self.real.hash(password, **kwargs)

    def verify(self, password_hash: str, password: str) -> bool:
        self.calls["verify"] += 1
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(app: Flask) -> CountingHasher:
    passwords = app.extensions["bastion"].passwords
    counting = CountingHasher(passwords.hasher)
    passwords.hasher = counting
    return counting


def refused(code: str, message: str) -> dict[str, Any]:
    return problem(
        422, "validation_failed", "Some fields are invalid.", [field("password", code, message)]
    )


@pytest.mark.parametrize(
    ("email", "username", "password", "code", "message"),
    [
        ("bob@example.com", "bob", "short7!", "too_short", "Use at least 8 characters."),
        ("bob@example.com", "bob", "x" * 257, "too_long", "Use at most 256 characters."),
        ("bob@example.com", "bob", "password", "too_common", None),
        ("bob@example.com", "bob", "Sunshine", "too_common", None),
        ("bob@example.com", "bob", "12345678", "too_common", None),
        ("bob@example.com", "bobbybobby", "BobbyBobby", "too_personal", None),
        ("bob.smith@example.com", "bob", "bob.smith@example.com", "too_personal", None),
        ("bob.smith@example.com", "bob", "Bob.Smith", "too_personal", None),
    ],
)
def test_password_policy_refuses_weak_passwords(
    auth: Auth,
    hasher: CountingHasher,
    email: str,
    username: str,
    password: str,
    code: str,
    message: str | None,
) -> None:
    messages = {
        "too_common": "This password is among the most common; choose another.",
        "too_personal": "The password must not be your email or username.",
    }
    response = auth.register(email, username, password)
    assert_problem(response, refused(code, message or messages[code]))
    assert hasher.calls["hash"] == 0  # refused before any hashing


@pytest.mark.parametrize("length", [8, 256])
def test_password_length_bounds_are_inclusive(auth: Auth, length: int) -> None:
    password = ("correct horse battery staple " * 10)[:length]
    assert auth.register(password=password).status_code == 201
    auth.logout()
    assert auth.login("alice", password).status_code == 200


def test_an_overlong_password_at_login_is_refused_before_hashing(
    auth: Auth, hasher: CountingHasher
) -> None:
    auth.register()
    auth.logout()
    hasher.calls.update(hash=0, verify=0)
    assert_problem(auth.login("alice", "x" * 1024), INVALID_CREDENTIALS)
    assert hasher.calls == {"hash": 0, "verify": 0}


def test_a_password_beyond_the_parse_cap_is_a_field_error(auth: Auth) -> None:
    response = auth.login("alice", "x" * 1025)
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["password"]


def test_unknown_users_cost_one_real_verification(auth: Auth, hasher: CountingHasher) -> None:
    auth.register()
    auth.logout()
    auth.login("nobody", PASSWORD)  # the first one also computes the dummy hash
    hasher.calls.update(hash=0, verify=0)
    assert_problem(auth.login("nobody", PASSWORD), INVALID_CREDENTIALS)
    assert hasher.calls == {"hash": 0, "verify": 1}
    assert_problem(auth.login("nobody@example.com", PASSWORD), INVALID_CREDENTIALS)
    assert hasher.calls == {"hash": 0, "verify": 2}
    assert_problem(auth.login("alice", "wrong-password"), INVALID_CREDENTIALS)
    assert hasher.calls == {"hash": 0, "verify": 3}


def test_stored_hashes_are_argon2id_with_the_configured_parameters(app: Flask, auth: Auth) -> None:
    auth.register()
    with app.app_context():
        stored = current_bastion().db.session.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PASSWORD not in stored


def test_default_parameters_meet_owasp() -> None:
    memory = DEFAULTS["BASTION_ARGON2_MEMORY_COST"]
    time_cost = DEFAULTS["BASTION_ARGON2_TIME_COST"]
    parallelism = DEFAULTS["BASTION_ARGON2_PARALLELISM"]
    assert memory >= OWASP_MIN_MEMORY_KIB == 19 * 1024
    assert time_cost >= OWASP_MIN_TIME_COST == 2
    assert parallelism >= 1
    passwords = Passwords(time_cost=time_cost, memory_cost=memory, parallelism=parallelism)
    stored = passwords.hash(PASSWORD)
    assert stored.startswith(f"$argon2id$v=19$m={memory},t={time_cost},p={parallelism}$")
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")


def test_login_rehashes_when_the_parameters_change(app_factory: AppFactory) -> None:
    old = app_factory()
    Auth(old.test_client()).register()

    new = app_factory(BASTION_ARGON2_TIME_COST=2, BASTION_ARGON2_MEMORY_COST=2048)
    with new.app_context():
        before = current_bastion().db.session.execute(select(User.password_hash)).scalar_one()
    assert before.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert Auth(new.test_client()).login("alice").status_code == 200
    with new.app_context():
        after = current_bastion().db.session.execute(select(User.password_hash)).scalar_one()
        assert after != before
        assert after.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
        assert current_bastion().passwords.verify(after, PASSWORD)
    assert Auth(new.test_client()).login("alice").status_code == 200


def test_a_failed_login_does_not_rehash(app_factory: AppFactory) -> None:
    old = app_factory()
    Auth(old.test_client()).register()
    new = app_factory(BASTION_ARGON2_TIME_COST=2)
    with new.app_context():
        before = current_bastion().db.session.execute(select(User.password_hash)).scalar_one()
    assert Auth(new.test_client()).login("alice", "wrong-password").status_code == 401
    with new.app_context():
        after = current_bastion().db.session.execute(select(User.password_hash)).scalar_one()
    assert after == before


def test_passwords_are_compared_after_unicode_normalisation(auth: Auth) -> None:
    composed, decomposed = "caf\u00e9-passphrase", "cafe\u0301-passphrase"
    assert auth.register(password=composed).status_code == 201
    auth.logout()
    assert auth.login("alice", decomposed).status_code == 200


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44", "too_common"),  # fullwidth password
        ("\uff30\uff21\uff33\uff33\uff37\uff2f\uff32\uff24", "too_common"),  # and upper case
        ("\uff41\uff4c\uff49\uff43\uff45\uff41\uff4c\uff49\uff43\uff45", "too_personal"),
        ("AliceAlice2024!", "too_personal"),
    ],
)
def test_the_policy_judges_the_normalised_form(auth: Auth, password: str, code: str) -> None:
    response = auth.register("bob@example.com", "alicealice", password)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json["errors"]] == [("password", code)]
    assert auth.register("bob@example.com", "alicealice", PASSWORD).status_code == 201


SERVICE = "The password must not be the name of this service."


@pytest.mark.parametrize(
    "password",
    ["bastion1", "Bastion2024!", "newsroom", "NEWSROOM!!", "dailyplanet", "Daily-Planet"],
)
def test_the_services_own_names_are_refused(app_factory: AppFactory, password: str) -> None:
    app = app_factory(
        BASTION_PUBLIC_URL="http://dailyplanet.example.org",
        BASTION_PASSWORD_REFUSED_WORDS=("newsroom",),
        TRUSTED_HOSTS=["localhost"],  # the test client's host
    )
    auth = Auth(app.test_client())
    if password == "Daily-Planet":  # the host is one word; its spelling with a dash is another
        assert auth.register(password=password).status_code == 201
        return
    assert_problem(auth.register(password=password), refused("too_common", SERVICE))
    assert auth.register(password="dailyplanet-is-a-newspaper").status_code == 201


def test_hashing_beyond_the_bound_is_shed_with_503(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_PASSWORD_HASH_CONCURRENCY=1)
    auth = Auth(app.test_client())
    assert auth.register().status_code == 201
    auth.logout()
    passwords = app.extensions["bastion"].passwords
    passwords.wait = 0.05
    assert passwords.slots.acquire(timeout=1)  # another request is hashing
    try:
        response = auth.login("alice")
        assert_problem(response, problem(503, "busy", "The server is busy; try again shortly."))
        assert response.headers["Retry-After"] == "1"
    finally:
        passwords.slots.release()
    assert auth.login("alice").status_code == 200


def test_no_more_hashes_run_at_once_than_the_setting(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_PASSWORD_HASH_CONCURRENCY=2)
    passwords = app.extensions["bastion"].passwords
    passwords.wait = 30
    lock, running, peak = threading.Lock(), [0], [0]
    real = passwords.hasher

    class Watching:
        def hash(self, password: str) -> str:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                time.sleep(0.05)
                return real.hash(password)
            finally:
                with lock:
                    running[0] -= 1

    passwords.hasher = Watching()
    threads = [threading.Thread(target=passwords.hash, args=(PASSWORD,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_the_common_password_list_is_zxcvbns_own() -> None:
    # The list is read from zxcvbn's data file as text, not by running its module: every word
    # zxcvbn ranks among its top passwords must be in, in zxcvbn's order, and nothing else.
    import importlib.util

    spec = importlib.util.find_spec("zxcvbn.frequency_lists")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = [word.lower() for word in module.FREQUENCY_LISTS["passwords"]]
    assert _zxcvbn_passwords() == module.FREQUENCY_LISTS["passwords"]
    top = common_passwords(30_000)
    assert len(top) == len(set(theirs[:30_000]))
    assert all(word in top for word in theirs[:30_000])
    assert not any(word in top for word in theirs[30_000:30_500] if word not in theirs[:30_000])
    assert "correct horse battery staple" not in top
    assert 123456 not in top  # only text is ever a password
