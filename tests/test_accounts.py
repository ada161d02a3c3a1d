"""The account flows through the HTTP API: register, login, logout and the session round trip."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from flask_bastion import AuthSession, User, clock, current_bastion
from flask_bastion.identity import identity_key
from tests.conftest import PASSWORD, Auth
from tests.problems import INVALID_CREDENTIALS, assert_problem, field, problem

NOT_AUTHENTICATED = problem(401, "not_authenticated", "Sign in to continue.")
TAKEN_EMAIL = field("email", "taken", "An account with this email already exists.")
TAKEN_USERNAME = field("username", "taken", "This username is taken.")


class Anything:
    """Equal to any value of ``kind``: for ids, timestamps and tokens in whole-body asserts."""

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.kind)

    def __repr__(self) -> str:
        return f"<any {self.kind.__name__}>"


ANY_STR, ANY_INT = Anything(str), Anything(int)


def fullwidth(text: str) -> str:
    """ASCII letters as their fullwidth compatibility forms (NFKC folds them back)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("bastion_session")
    return cookie.value if cookie else None


def count_sessions(app: Flask) -> int:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuthSession)).scalar_one())


def test_round_trip_session_register_logout_login_session(auth: Auth) -> None:
    anonymous = auth.client.get("/api/auth/session")
    assert_problem(anonymous, {**NOT_AUTHENTICATED, "csrf_token": ANY_STR})
    assert anonymous.json["csrf_token"] == auth.client.get_cookie("XSRF-TOKEN").value

    registered = auth.register()
    assert registered.status_code == 201
    user = {
        "id": ANY_INT,
        "email": "alice@example.com",
        "username": "alice",
        "roles": [],
        "created_at": ANY_STR,
    }
    session = {
        "id": ANY_STR,
        "kind": "browser",
        "created_at": ANY_STR,
        "expires_at": ANY_STR,
        "remember": False,
    }
    assert registered.json == {"user": user, "session": session, "csrf_token": ANY_STR}
    assert registered.json["csrf_token"] == auth.client.get_cookie("XSRF-TOKEN").value

    signed_in = auth.client.get("/api/auth/session")
    assert signed_in.status_code == 200
    assert signed_in.json == {"user": user, "session": session, "csrf_token": ANY_STR}
    assert signed_in.json["session"]["id"] == registered.json["session"]["id"]

    logout = auth.logout()
    assert logout.status_code == 204
    assert logout.get_data() == b""
    assert session_cookie(auth.client) is None
    assert_problem(
        auth.client.get("/api/auth/session"), {**NOT_AUTHENTICATED, "csrf_token": ANY_STR}
    )

    login = auth.login("alice")
    assert login.status_code == 200
    assert login.json == {"user": user, "session": session, "csrf_token": ANY_STR}
    assert login.json["session"]["id"] != registered.json["session"]["id"]
    assert auth.client.get("/api/auth/session").json["user"]["username"] == "alice"


def test_user_object_never_carries_the_password_hash(auth: Auth) -> None:
    body = auth.register().get_data(as_text=True)
    assert "argon2" not in body
    assert "password" not in body


@pytest.mark.parametrize(
    "credentials",
    [
        {"identity": "alice"},
        {"identity": "ALICE"},
        {"identity": "alice@example.com"},
        {"identity": "Alice@Example.COM"},
        {"identity": "  alice@example.com  "},
        {"identity": fullwidth("alice")},  # fullwidth letters normalise to the same key
        {"identity": "alice\uff20example.com"},  # a fullwidth @ is still an email
        {"email": "alice@example.com"},
        {"username": "alice"},
    ],
)
def test_login_by_email_or_username_and_their_alias_keys(
    auth: Auth, credentials: dict[str, str]
) -> None:
    auth.register()
    auth.logout()
    response = auth.post("/api/auth/login", {**credentials, "password": PASSWORD})
    assert response.status_code == 200, response.json
    assert response.json["user"]["username"] == "alice"


def test_unknown_user_and_wrong_password_get_the_same_answer(auth: Auth) -> None:
    auth.register()
    auth.logout()
    wrong_password = auth.login("alice", "not-the-password")
    unknown_name = auth.login("nobody", PASSWORD)
    unknown_email = auth.login("nobody@example.com", PASSWORD)
    for response in (wrong_password, unknown_name, unknown_email):
        assert_problem(response, INVALID_CREDENTIALS)
        assert "bastion_session" not in response.headers.get("Set-Cookie", "")
    assert wrong_password.get_data() == unknown_name.get_data() == unknown_email.get_data()
    assert dict(wrong_password.headers.items()).keys() == dict(unknown_email.headers.items()).keys()


@pytest.mark.parametrize(
    ("first", "second", "errors"),
    [
        (("Alice@Example.com", "alice"), ("alice@example.com", "bob"), [TAKEN_EMAIL]),
        (("alice@example.com", "alice"), ("ALICE@EXAMPLE.COM", "bob"), [TAKEN_EMAIL]),
        (
            ("alice@example.com", "alice"),
            (fullwidth("alice") + "@example.com", "bob"),
            [TAKEN_EMAIL],
        ),
        (("alice@example.com", "alice"), ("bob@example.com", "Alice"), [TAKEN_USERNAME]),
        (("alice@example.com", "alice"), ("bob@example.com", fullwidth("ALICE")), [TAKEN_USERNAME]),
        (("alice@example.com", "file"), ("bob@example.com", "\ufb01le"), [TAKEN_USERNAME]),
        (("alice@example.com", "kelvin"), ("bob@example.com", "\u212aelvin"), [TAKEN_USERNAME]),
        (
            ("alice@example.com", "alice"),
            ("Alice@example.com", "ALICE"),
            [TAKEN_EMAIL, TAKEN_USERNAME],
        ),
    ],
)
def test_duplicates_after_case_folding_and_normalisation_conflict(
    auth: Auth, first: tuple[str, str], second: tuple[str, str], errors: list[dict[str, str]]
) -> None:
    assert auth.register(*first).status_code == 201
    auth.logout()
    assert_problem(
        auth.register(*second), problem(409, "conflict", "The account already exists.", errors)
    )


@pytest.mark.parametrize("username", ["bob@example.com", "bob\uff20example.com", "@bob"])
def test_usernames_that_look_like_emails_are_refused(auth: Auth, username: str) -> None:
    message = "A username cannot contain '@' (it would look like an email address)."
    assert_problem(
        auth.register("bob@example.com", username),
        problem(
            422,
            "validation_failed",
            "Some fields are invalid.",
            [field("username", "value_error", message)],
        ),
    )


def test_username_length_is_checked_after_normalisation(auth: Auth) -> None:
    # U+3300 is one character that NFKC expands to four: 32 of them must not make 128.
    response = auth.register("bob@example.com", "\u3300" * 32)
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["username"]


def test_inactive_user_cannot_sign_in_and_loses_open_sessions(app: Flask, auth: Auth) -> None:
    auth.register()
    assert auth.client.get("/api/auth/session").status_code == 200
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        db.execute(update(User).values(active=False))
    assert auth.client.get("/api/auth/session").status_code == 401
    response = auth.login("alice")
    assert_problem(response, problem(403, "account_disabled", "This account has been deactivated."))
    assert "bastion_session" not in response.headers.get("Set-Cookie", "")
    # The right password is needed before the account's state is revealed.
    assert_problem(auth.login("alice", "not-the-password"), INVALID_CREDENTIALS)


def test_session_id_changes_at_login(app: Flask, auth: Auth) -> None:
    auth.register()
    before = session_cookie(auth.client)
    auth.login("alice")
    after = session_cookie(auth.client)
    assert before and after and before != after
    # The replaced session is gone, not just forgotten by this client.
    assert count_sessions(app) == 1
    other = app.test_client()
    other.set_cookie("bastion_session", before)
    assert other.get("/api/auth/session").status_code == 401


def test_a_planted_session_id_is_never_adopted(app: Flask, auth: Auth) -> None:
    auth.register()
    auth.logout()
    planted = "attacker-chosen-session-id"
    auth.client.set_cookie("bastion_session", planted)
    assert auth.login("alice").status_code == 200
    assert session_cookie(auth.client) not in (None, planted)


def test_a_cookie_replayed_after_logout_is_refused(app: Flask, auth: Auth) -> None:
    auth.register()
    stolen = session_cookie(auth.client)
    assert stolen
    assert auth.logout().status_code == 204
    assert count_sessions(app) == 0
    replay = app.test_client()
    replay.set_cookie("bastion_session", stolen)
    assert_problem(replay.get("/api/auth/session"), {**NOT_AUTHENTICATED, "csrf_token": ANY_STR})


def test_logout_without_a_session_still_answers_204(auth: Auth) -> None:
    response = auth.logout()
    assert response.status_code == 204
    assert "XSRF-TOKEN=" in " ".join(response.headers.getlist("Set-Cookie"))


def test_register_signs_in_and_sets_both_cookies(auth: Auth) -> None:
    response = auth.register()
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("bastion_session="))
    xsrf = next(c for c in cookies if c.startswith("XSRF-TOKEN="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert "HttpOnly" not in xsrf and "SameSite=Lax" in xsrf
    token = session.split(";")[0].removeprefix("bastion_session=")
    assert len(token) >= 22  # >= 128 bits, url-safe base64


def test_only_a_hash_of_the_session_token_is_stored(app: Flask, auth: Auth) -> None:
    auth.register()
    token = session_cookie(auth.client)
    assert token
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        rows = conn.execute(select(AuthSession.__table__)).all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])


def test_email_is_kept_as_given_but_compared_normalised(auth: Auth) -> None:
    response: Any = auth.register("Alice@Example.com", "alice")
    assert response.json["user"]["email"] == "Alice@example.com"
    auth.logout()
    assert auth.login("ALICE@example.COM").status_code == 200


def test_email_key_length_is_checked_after_normalisation(auth: Auth) -> None:
    # U+FDFA is one character that NFKC expands to eighteen: the key must still fit its column.
    response = auth.register("\ufdfa" * 20 + "@example.com", "bob")
    assert_problem(
        response,
        problem(
            422,
            "validation_failed",
            "Some fields are invalid.",
            [field("email", "value_error", "The email address is too long.")],
        ),
    )


def test_racing_registrations_of_one_account_give_one_201_and_409s(app: Flask) -> None:
    import threading

    clients = [Auth(app.test_client()) for _ in range(4)]
    headers = [c.headers() for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def register(auth: Auth, csrf: dict[str, str], n: int) -> None:
        barrier.wait()
        body = {"email": "alice@example.com", "username": f"alice{n}", "password": PASSWORD}
        response = auth.client.post("/api/auth/register", json=body, headers=csrf)
        if response.status_code == 409:
            assert response.json["code"] == "conflict"
            assert response.json["errors"][0]["field"] == "email"
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=register, args=(c, h, n))
        for n, (c, h) in enumerate(zip(clients, headers, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201, 409, 409, 409]
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 1


@pytest.mark.parametrize(
    "username",
    [
        "\u0430dmin",
        "adm\u0456n",
        "\u0430\u0501min",
        "\u0391dmin",
        "admi\u0578",
        "\u00e0dmin",
        "admin\u200b",
    ],
)
def test_look_alike_usernames_are_refused(auth: Auth, username: str) -> None:
    assert auth.register("admin@example.com", "admin").status_code == 201
    auth.logout()
    response = auth.register("mallory@example.com", username)
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["username"]
    assert auth.register("mallory@example.com", "admin-2").status_code == 201


def test_fullwidth_latin_is_the_same_username(auth: Auth) -> None:
    assert auth.register("admin@example.com", "admin").status_code == 201
    auth.logout()
    response = auth.register("mallory@example.com", "\uff41\uff44\uff4d\uff49\uff4e")
    assert_problem(
        response, problem(409, "conflict", "The account already exists.", [TAKEN_USERNAME])
    )


def test_newsroom_refuses_its_own_name_as_a_password(auth: Auth) -> None:
    response = auth.register(password="Newsroom2026")
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json["errors"]] == [
        ("password", "too_common")
    ]
    assert auth.register(password="newsroom-readers-read").status_code == 201


def test_an_existing_username_outside_the_new_alphabet_still_signs_in(
    app: Flask, auth: Auth
) -> None:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        state = current_bastion()
        db.add(
            User(
                email="jose@example.com",
                email_key="jose@example.com",
                username="José",
                username_key=identity_key("José"),
                password_hash=state.passwords.hash(PASSWORD),
                active=True,
                created_at=clock.now(),
            )
        )
    assert auth.login("josé").status_code == 200
    auth.logout()
    assert_problem(auth.login("josé", "wrong-password"), INVALID_CREDENTIALS)
