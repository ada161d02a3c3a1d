"""The passkey API: registration, listing, removal and sign-in, with a software authenticator
(tests/soft_authenticator.py) making real ES256 signatures. Chromium's own authenticator is
driven in tests/browser/test_passkeys.py."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flask_bastion import current_bastion
from flask_bastion.models import Passkey, PasskeyChallenge, PasskeyUser, User
from flask_bastion.prune import prune
from flask_bastion.security.passkeys import is_cloned
from flask_bastion.testing import Clock, assert_problem, invalid, problem
from tests.conftest import AppFactory, Auth
from tests.soft_authenticator import SoftAuthenticator, b64u, unb64u

ORIGIN = "http://localhost"  # BASTION_PUBLIC_URL of the tests
REGISTER_OPTIONS = "/api/auth/passkeys/register/options"
REGISTER = "/api/auth/passkeys/register"
LOGIN_OPTIONS = "/api/auth/passkeys/login/options"
LOGIN = "/api/auth/passkeys/login"
PASSKEYS = "/api/auth/passkeys"
CEREMONY_COOKIE = "bastion_session_passkey"

PASSKEY_INVALID = problem(400, "passkey_invalid", "The passkey could not be verified.")
SIGN_IN_FAILED = problem(401, "passkey_invalid", "The passkey could not be verified.")
CLONED = problem(
    401,
    "passkey_cloned",
    "This passkey's counter went backwards, so a copy of it exists; it was refused.",
)
CHALLENGE_INVALID = problem(
    400, "challenge_invalid", "This passkey request is unknown or was already used; start again."
)
CHALLENGE_EXPIRED = problem(
    400, "challenge_expired", "This passkey request has expired; start again."
)
REAUTH = problem(
    401,
    "reauth_required",
    "This needs a recent sign-in: confirm your password at the reauth endpoint first.",
)
NOT_FOUND = problem(404, "not_found", "There is no such passkey.")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def audit_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "flask_bastion.audit"]


def register_options(auth: Auth) -> dict[str, Any]:
    response = auth.post(REGISTER_OPTIONS)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    options: dict[str, Any] = response.get_json()
    return options


def add_passkey(auth: Auth, authenticator: SoftAuthenticator, name: str = "Laptop") -> Any:
    credential = authenticator.create(register_options(auth))
    response = auth.post(REGISTER, {"credential": credential, "name": name})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def login_options(auth: Auth) -> dict[str, Any]:
    response = auth.post(LOGIN_OPTIONS)
    assert response.status_code == 200, response.get_data(as_text=True)
    options: dict[str, Any] = response.get_json()
    return options


@pytest.fixture
def app_config() -> dict[str, Any]:
    # The tests here start many ceremonies from one address; the limit has its own test.
    return {"BASTION_PASSKEY_LIMIT_PER_IP": "10000/minute"}


@pytest.fixture
def alice(auth: Auth) -> Auth:
    assert auth.register().status_code == 201
    return auth


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN)


def test_registration_options_ask_for_a_discoverable_user_verified_passkey(
    alice: Auth, authenticator: SoftAuthenticator, app: Flask
) -> None:
    options = register_options(alice)
    assert options["rp"] == {"id": "localhost", "name": "Newsroom"}  # BASTION_MAIL_APP_NAME
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert options["user"]["name"] == "alice@example.com"
    assert options["user"]["displayName"] == "alice"
    assert options["excludeCredentials"] == []
    assert options["timeout"] == 300_000
    assert len(unb64u(options["challenge"])) == 32
    # The challenge is not what the server stored, and each ceremony has its own.
    assert options["challenge"] != register_options(alice)["challenge"]
    # The cookie that binds the ceremony to this browser is HttpOnly and no script's business.
    cookie = alice.client.get_cookie(CEREMONY_COOKIE)
    assert cookie is not None and cookie.http_only

    # The user handle: random bytes, not the numeric id, and the same at every registration.
    handle = unb64u(options["user"]["id"])
    assert len(handle) == 32
    added = add_passkey(alice, authenticator)
    again = register_options(alice)
    assert unb64u(again["user"]["id"]) == handle
    # The passkey just added is excluded, so the same authenticator is not registered twice.
    assert again["excludeCredentials"] == [
        {
            "id": b64u(authenticator.credentials[0].credential_id),
            "type": "public-key",
            "transports": ["internal"],
        }
    ]
    with app.app_context():
        db = current_bastion().db.session
        assert db.scalars(select(PasskeyUser.user_handle)).all() == [handle]
        assert db.scalars(select(Passkey.id)).all() == [added["id"]]


def test_a_passkey_is_registered_listed_and_removed(
    alice: Auth, authenticator: SoftAuthenticator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flask_bastion.audit")
    added = add_passkey(alice, authenticator, name="  Phone  ")
    assert set(added) == {"id", "name", "created_at", "last_used_at"}
    assert added["name"] == "Phone"
    assert added["last_used_at"] is None
    assert added["created_at"] == iso(clock.current)
    clock.advance(1)  # oldest first
    second = add_passkey(alice, authenticator, name="Key")

    listed = alice.client.get(PASSKEYS)
    assert listed.status_code == 200
    assert listed.get_json() == {"passkeys": [added, second]}

    removed = alice.client.delete(f"{PASSKEYS}/{added['id']}", headers=alice.headers())
    assert removed.status_code == 204
    assert alice.client.get(PASSKEYS).get_json() == {"passkeys": [second]}
    events = [(r.getMessage(), getattr(r, "passkey_id", None)) for r in audit_events(caplog)]
    assert ("passkey_added", added["id"]) in events
    assert ("passkey_added", second["id"]) in events
    assert ("passkey_removed", added["id"]) in events


def test_the_passkey_endpoints_need_a_signed_in_and_recent_user(
    client: FlaskClient, auth: Auth, authenticator: SoftAuthenticator, clock: Clock
) -> None:
    not_signed_in = problem(401, "not_authenticated", "Sign in to continue.")
    assert_problem(auth.post(REGISTER_OPTIONS), not_signed_in)
    assert_problem(auth.post(REGISTER, {"credential": {}, "name": "x"}), not_signed_in)
    assert_problem(client.get(PASSKEYS), not_signed_in)
    assert_problem(client.delete(f"{PASSKEYS}/abc", headers=auth.headers()), not_signed_in)

    assert auth.register().status_code == 201
    added = add_passkey(auth, authenticator)
    options = register_options(auth)
    clock.advance(11 * 60)  # past BASTION_REAUTH_WINDOW (10 minutes)
    assert_problem(auth.post(REGISTER_OPTIONS), REAUTH)
    credential = authenticator.create(options)
    assert_problem(auth.post(REGISTER, {"credential": credential, "name": "x"}), REAUTH)
    assert_problem(client.delete(f"{PASSKEYS}/{added['id']}", headers=auth.headers()), REAUTH)
    assert client.get(PASSKEYS).status_code == 200  # reading needs no recent sign-in

    reauth = auth.post("/api/auth/reauth", {"password": "a-long-test-passphrase"})
    assert reauth.status_code == 200
    assert client.delete(f"{PASSKEYS}/{added['id']}", headers=auth.headers()).status_code == 204


def test_someone_elses_or_an_unknown_passkey_is_not_found(
    app: Flask, alice: Auth, authenticator: SoftAuthenticator
) -> None:
    added = add_passkey(alice, authenticator)
    bob = Auth(app.test_client())
    assert bob.register("bob@example.com", "bob").status_code == 201
    for passkey_id in (added["id"], "unknown", "x" * 33, "not%20an%20id"):
        assert_problem(
            bob.client.delete(f"{PASSKEYS}/{passkey_id}", headers=bob.headers()), NOT_FOUND
        )
    assert bob.client.get(PASSKEYS).get_json() == {"passkeys": []}
    assert alice.client.get(PASSKEYS).get_json() == {"passkeys": [added]}


def test_a_passkey_signs_in_like_a_password_does(
    app: Flask,
    alice: Auth,
    authenticator: SoftAuthenticator,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="flask_bastion.audit")
    added = add_passkey(alice, authenticator)
    password_login = alice.login().get_json()
    assert alice.logout().status_code == 204

    clock.advance(60)
    options = login_options(alice)
    assert options["rpId"] == "localhost"
    assert options["allowCredentials"] == []  # discoverable: nobody names themselves first
    assert options["userVerification"] == "required"
    response = alice.post(LOGIN, {"credential": authenticator.get(options)})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    # The same answer as a password sign-in, with a new session and its CSRF token.
    assert set(body) == set(password_login) == {"user", "session", "csrf_token"}
    assert body["user"] == password_login["user"]
    assert body["session"]["id"] != password_login["session"]["id"]
    assert alice.client.get_cookie("bastion_session") is not None
    assert alice.client.get_cookie(CEREMONY_COOKIE) is None  # used up
    session = alice.client.get("/api/auth/session")
    assert session.status_code == 200
    assert session.get_json()["user"]["username"] == "alice"

    listed = alice.client.get(PASSKEYS).get_json()["passkeys"]
    assert listed == [{**added, "last_used_at": iso(clock.current)}]
    with app.app_context():
        assert current_bastion().db.session.scalars(select(Passkey.sign_count)).one() == 1
    success = [r for r in audit_events(caplog) if r.getMessage() == "login_succeeded"][-1]
    assert getattr(success, "method", None) == "passkey"
    assert getattr(success, "session_id", None) == body["session"]["id"]


def test_a_cloned_passkey_is_refused_and_recorded(
    alice: Auth, authenticator: SoftAuthenticator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flask_bastion.audit")
    added = add_passkey(alice, authenticator)
    original = authenticator.credentials[0]
    copy = original.clone()  # taken now, at counter 0
    assert (
        alice.post(LOGIN, {"credential": authenticator.get(login_options(alice))}).status_code
        == 200
    )
    assert (
        alice.post(LOGIN, {"credential": authenticator.get(login_options(alice))}).status_code
        == 200
    )

    # The copy signs correctly, but its counter (1) is behind the original's (2).
    cloned = alice.post(LOGIN, {"credential": authenticator.get(login_options(alice), copy)})
    assert_problem(cloned, CLONED)
    # A counter that stands still is no better.
    still = alice.post(
        LOGIN, {"credential": authenticator.get(login_options(alice), original, advance=0)}
    )
    assert_problem(still, CLONED)
    alerts = [r for r in audit_events(caplog) if r.getMessage() == "passkey_clone_detected"]
    assert [getattr(r, "passkey_id", None) for r in alerts] == [added["id"]] * 2
    assert all(getattr(r, "security", None) is True for r in alerts)
    failed = [r for r in audit_events(caplog) if r.getMessage() == "login_failed"]
    assert [getattr(r, "reason", None) for r in failed] == ["passkey_cloned"] * 2
    # The original, moving on, still signs in.
    assert (
        alice.post(LOGIN, {"credential": authenticator.get(login_options(alice))}).status_code
        == 200
    )


def replay_cookie(auth: Auth) -> str:
    """The ceremony cookie's value now, to present again after the server cleared it."""
    cookie = auth.client.get_cookie(CEREMONY_COOKIE)
    assert cookie is not None
    return cookie.value


def test_an_assertion_cannot_be_replayed(alice: Auth, authenticator: SoftAuthenticator) -> None:
    add_passkey(alice, authenticator)
    captured = authenticator.get(login_options(alice))
    handle = replay_cookie(alice)
    assert alice.post(LOGIN, {"credential": captured}).status_code == 200
    # The ceremony it answered is used up: without its cookie...
    assert alice.client.get_cookie(CEREMONY_COOKIE) is None
    assert_problem(alice.post(LOGIN, {"credential": captured}), CHALLENGE_INVALID)
    # ...and, on the server, with its cookie presented again.
    alice.client.set_cookie(CEREMONY_COOKIE, handle)
    assert_problem(alice.post(LOGIN, {"credential": captured}), CHALLENGE_INVALID)
    # ...and under a new ceremony its challenge is the wrong one.
    login_options(alice)
    assert_problem(alice.post(LOGIN, {"credential": captured}), SIGN_IN_FAILED)


def test_a_wrong_answer_uses_up_the_ceremony(alice: Auth, authenticator: SoftAuthenticator) -> None:
    add_passkey(alice, authenticator)
    options = login_options(alice)
    good = authenticator.get(options)
    forged = {**good, "response": {**good["response"], "signature": b64u(b"\x30\x00")}}
    handle = replay_cookie(alice)
    assert_problem(alice.post(LOGIN, {"credential": forged}), SIGN_IN_FAILED)
    alice.client.set_cookie(CEREMONY_COOKIE, handle)
    assert_problem(alice.post(LOGIN, {"credential": good}), CHALLENGE_INVALID)


def test_the_ceremony_is_bound_to_the_browser_that_started_it(
    app: Flask, alice: Auth, authenticator: SoftAuthenticator
) -> None:
    add_passkey(alice, authenticator)
    assert alice.logout().status_code == 204
    options = login_options(alice)
    answer = authenticator.get(options)
    other = Auth(app.test_client())
    # Another browser, with no ceremony of its own: nothing to answer.
    assert_problem(other.post(LOGIN, {"credential": answer}), CHALLENGE_INVALID)
    # With its own ceremony, the answer to this one does not fit.
    login_options(other)
    assert_problem(other.post(LOGIN, {"credential": answer}), SIGN_IN_FAILED)
    # The browser that asked still can (the other browser did not use its ceremony up).
    assert alice.post(LOGIN, {"credential": answer}).status_code == 200


def test_a_ceremony_expires_after_five_minutes(
    alice: Auth, authenticator: SoftAuthenticator, clock: Clock
) -> None:
    add_passkey(alice, authenticator)
    options = login_options(alice)
    clock.advance(5 * 60 - 1)
    assert alice.post(LOGIN, {"credential": authenticator.get(options)}).status_code == 200

    options = login_options(alice)
    clock.advance(5 * 60)
    assert_problem(alice.post(LOGIN, {"credential": authenticator.get(options)}), CHALLENGE_EXPIRED)

    registration = register_options(alice)
    clock.advance(5 * 60)
    alice.post("/api/auth/reauth", {"password": "a-long-test-passphrase"})
    credential = authenticator.create(registration)
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), CHALLENGE_EXPIRED)


def test_a_registration_ceremony_is_for_registration_only(
    alice: Auth, authenticator: SoftAuthenticator
) -> None:
    add_passkey(alice, authenticator)
    options = login_options(alice)  # a sign-in ceremony's challenge...
    credential = authenticator.create(
        {**register_options(alice), "challenge": options["challenge"]}
    )
    login_options(alice)  # ...and the cookie now names a sign-in ceremony
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), CHALLENGE_INVALID)


def test_registration_refuses_what_does_not_verify(
    alice: Auth, authenticator: SoftAuthenticator
) -> None:
    # No user verification: a passkey must be a second factor on its own.
    lazy = SoftAuthenticator(ORIGIN, user_verified=False)
    credential = lazy.create(register_options(alice))
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), PASSKEY_INVALID)
    # Another origin (a phishing site relaying the options).
    credential = authenticator.create(register_options(alice), origin="http://evil.localhost")
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), PASSKEY_INVALID)
    # Another relying party.
    options = register_options(alice)
    credential = authenticator.create({**options, "rp": {"id": "evil.localhost", "name": "x"}})
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), PASSKEY_INVALID)
    # Garbage of every shape: a clear 400, never a 500.
    for garbage in (
        {},
        {"id": "x", "rawId": "x", "response": {}, "type": "public-key"},
        {
            "id": "!!",
            "rawId": "!!",
            "type": "public-key",
            "response": {"clientDataJSON": "%%%", "attestationObject": 7},
        },
        {
            "id": "AA",
            "rawId": "AA",
            "type": "public-key",
            "response": {"clientDataJSON": b64u(b"{}"), "attestationObject": b64u(b"\xff\x00")},
        },
    ):
        register_options(alice)
        response = alice.post(REGISTER, {"credential": garbage, "name": "x"})
        assert_problem(response, PASSKEY_INVALID)
    assert alice.client.get(PASSKEYS).get_json() == {"passkeys": []}


def test_the_same_passkey_cannot_be_registered_twice(
    app: Flask, alice: Auth, authenticator: SoftAuthenticator
) -> None:
    options = register_options(alice)
    credential = authenticator.create(options)
    assert alice.post(REGISTER, {"credential": credential, "name": "x"}).status_code == 201
    # Replaying the same answer: the ceremony is used up.
    assert_problem(alice.post(REGISTER, {"credential": credential, "name": "x"}), CHALLENGE_INVALID)
    # Another account attesting the same credential again under its own ceremony.
    bob = Auth(app.test_client())
    assert bob.register("bob@example.com", "bob").status_code == 201
    again = authenticator.create(register_options(bob), reuse=authenticator.credentials[0])
    handle = replay_cookie(bob)
    response = bob.post(REGISTER, {"credential": again, "name": "x"})
    assert_problem(response, 409, "passkey_exists", detail="This passkey is already registered.")
    assert bob.client.get(PASSKEYS).get_json() == {"passkeys": []}
    # Its ceremony is used up all the same, on the server.
    bob.client.set_cookie(CEREMONY_COOKIE, handle)
    response = bob.post(REGISTER, {"credential": again, "name": "x"})
    assert_problem(response, CHALLENGE_INVALID)


def test_bad_bodies_are_400_or_422(alice: Auth) -> None:
    register_options(alice)
    headers = {**alice.headers(), "Content-Type": "application/json"}
    malformed = alice.client.post(REGISTER, data="{nope", headers=headers)
    assert_problem(malformed, 400, "malformed_json", detail="The request body is not valid JSON.")
    assert_problem(
        alice.post(REGISTER, {"credential": "a string", "name": ""}),
        invalid(
            ("credential", "dict_type", "Input should be a valid dictionary"),
            ("name", "string_too_short", "String should have at least 1 character"),
        ),
    )
    assert_problem(
        alice.post(LOGIN, {"credential": [1, 2]}),
        invalid(("credential", "dict_type", "Input should be a valid dictionary")),
    )
    assert_problem(alice.post(LOGIN, {}), invalid(("credential", "missing", "Field required")))


def test_a_sign_in_names_a_known_passkey_of_the_right_user(
    alice: Auth, authenticator: SoftAuthenticator
) -> None:
    add_passkey(alice, authenticator)
    unknown = SoftAuthenticator(ORIGIN)
    unknown.create(register_options(alice))  # made, never registered
    assert_problem(
        alice.post(LOGIN, {"credential": unknown.get(login_options(alice))}), SIGN_IN_FAILED
    )

    answer = authenticator.get(login_options(alice))
    answer["response"]["userHandle"] = b64u(b"someone else")
    assert_problem(alice.post(LOGIN, {"credential": answer}), SIGN_IN_FAILED)

    for garbage in ({}, {"rawId": 5}, {"rawId": "%%%"}, {"rawId": "AA" * 2000}):
        login_options(alice)
        assert_problem(alice.post(LOGIN, {"credential": garbage}), SIGN_IN_FAILED)


def test_a_removed_passkey_signs_nobody_in(alice: Auth, authenticator: SoftAuthenticator) -> None:
    added = add_passkey(alice, authenticator)
    assert (
        alice.client.delete(f"{PASSKEYS}/{added['id']}", headers=alice.headers()).status_code == 204
    )
    assert_problem(
        alice.post(LOGIN, {"credential": authenticator.get(login_options(alice))}), SIGN_IN_FAILED
    )


def test_a_deactivated_account_cannot_sign_in_with_its_passkey(
    app: Flask, alice: Auth, authenticator: SoftAuthenticator
) -> None:
    add_passkey(alice, authenticator)
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        db.scalars(select(User)).one().active = False
    response = alice.post(LOGIN, {"credential": authenticator.get(login_options(alice))})
    assert_problem(response, 403, "account_disabled", detail="This account has been deactivated.")


def test_passkey_sign_in_needs_the_csrf_token_and_refuses_bearer(
    client: FlaskClient, alice: Auth
) -> None:
    refused = client.post(LOGIN_OPTIONS)
    assert_problem(refused, 403, "csrf_failed", detail="The CSRF token is missing or invalid.")
    for path in (LOGIN_OPTIONS, LOGIN, REGISTER_OPTIONS, REGISTER):
        bearer = client.post(path, headers={"Authorization": "Bearer abc"})
        assert_problem(
            bearer,
            400,
            "bearer_not_accepted",
            detail="This endpoint signs a browser in with cookies and takes no Authorization: "
            "Bearer header; app clients sign in at the token endpoint.",
        )


def test_passkey_sign_in_is_rate_limited_per_client_address(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_PASSKEY_LIMIT_PER_IP="3/minute")
    auth = Auth(app.test_client())
    for _ in range(3):
        assert auth.post(LOGIN_OPTIONS).status_code == 200
    limited = auth.post(LOGIN_OPTIONS)
    assert limited.status_code == 429
    assert limited.get_json()["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    assert auth.post(LOGIN, {"credential": {}}).status_code == 429


def test_unfinished_ceremonies_are_pruned_when_they_expire(
    app: Flask, alice: Auth, clock: Clock
) -> None:
    login_options(alice)
    register_options(alice)
    with app.app_context():
        engine = current_bastion().db.engine
        assert prune(engine, now=clock.current)["passkey_challenges"] == 0
        clock.advance(5 * 60)
        assert prune(engine, now=clock.current)["passkey_challenges"] == 2
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(PasskeyChallenge)) == 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
B64 = st.binary(max_size=300).map(b64u)


def credential_shapes(response_fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Credentials shaped like the real ones, with arbitrary bytes in each field, and
    anything at all: the parsers behind them must never turn into a 500."""
    shaped = st.fixed_dictionaries(
        {
            "id": B64,
            "rawId": B64,
            "type": st.sampled_from(["public-key", "other"]),
            "response": st.fixed_dictionaries({name: B64 | JSON for name in response_fields}),
        }
    )
    return shaped | st.dictionaries(st.text(max_size=10), JSON, max_size=5)


def test_no_credential_makes_a_server_error(alice: Auth, authenticator: SoftAuthenticator) -> None:
    add_passkey(alice, authenticator)
    fuzz = settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )

    @fuzz
    @given(
        credential=credential_shapes(
            ("clientDataJSON", "authenticatorData", "signature", "userHandle")
        )
    )
    def sign_in(credential: dict[str, Any]) -> None:
        login_options(alice)
        response = alice.post(LOGIN, {"credential": credential})
        assert response.status_code in (400, 401, 422), response.get_data(as_text=True)

    @fuzz
    @given(credential=credential_shapes(("clientDataJSON", "attestationObject", "transports")))
    def register(credential: dict[str, Any]) -> None:
        register_options(alice)
        response = alice.post(REGISTER, {"credential": credential, "name": "x"})
        assert response.status_code in (400, 422), response.get_data(as_text=True)

    sign_in()
    register()
    assert alice.client.get(PASSKEYS).get_json()["passkeys"][0]["last_used_at"] is None


@pytest.mark.parametrize(
    ("stored", "presented", "cloned"),
    [(0, 0, False), (0, 1, False), (1, 2, False), (2, 2, True), (5, 3, True), (5, 0, True)],
)
def test_the_counter_rule(stored: int, presented: int, cloned: bool) -> None:
    assert is_cloned(stored, presented) is cloned


def test_a_passkey_without_a_counter_signs_in_every_time(
    alice: Auth, authenticator: SoftAuthenticator
) -> None:
    # Synced passkeys report 0 every time: no counter, so nothing to compare.
    add_passkey(alice, authenticator)
    for _ in range(2):
        answer = authenticator.get(login_options(alice), advance=0)
        assert alice.post(LOGIN, {"credential": answer}).status_code == 200
