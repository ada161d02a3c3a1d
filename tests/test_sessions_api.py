"""The sessions (devices) API: one list for browser and app sessions, ending them, reauth."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion.testing import ClientKind, Clock, SignedIn, signed_in
from flask_bastion.testing import register as register_account
from tests.conftest import PASSWORD, Auth
from tests.problems import (
    CSRF_FAILED,
    INVALID_CREDENTIALS,
    MALFORMED,
    NOT_AUTHENTICATED,
    TOO_LARGE,
    UNSUPPORTED,
    invalid,
    problem,
)
from tests.token_helpers import (
    assert_invalid_token,
    bearer,
    claims_of,
    issue,
    register,
)

pytestmark = pytest.mark.minimal_app

SESSIONS = "/api/auth/sessions"
REAUTH = "/api/auth/reauth"
SESSION = "/api/auth/session"
REAUTH_REQUIRED = problem(
    401,
    "reauth_required",
    "This needs a recent sign-in: confirm your password at the reauth endpoint first.",
)
NO_SUCH_SESSION = problem(404, "not_found", "There is no such session.")


@pytest.fixture
def alice(app: Flask, auth: Auth) -> Auth:
    """Alice signed in with a browser (the ``client`` cookie jar)."""
    assert auth.register().status_code == 201
    return auth


@pytest.fixture
def caller(app: Flask, client_kind: ClientKind) -> SignedIn:
    """Alice, signed in as each kind of client in turn, for the rules both kinds share."""
    register_account(
        app.test_client(), email="alice@example.com", username="alice", password=PASSWORD
    )
    return signed_in(app.test_client(), client_kind, "alice", PASSWORD)


@pytest.fixture
def phone(app: Flask, alice: Auth) -> dict[str, Any]:
    """Alice's app session on another device."""
    return issue(app.test_client())


def sid(pair: dict[str, Any]) -> str:
    return str(claims_of(pair["access_token"])["sid"])


def browser_session_id(auth: Auth) -> str:
    return str(auth.client.get(SESSION).json["session"]["id"])


def delete(auth: Auth, path: str) -> Any:
    return auth.client.delete(path, headers=auth.headers())


# -- listing --------------------------------------------------------------------------------


def test_the_list_shows_browser_and_token_sessions_and_marks_the_current(
    app: Flask, alice: Auth, phone: dict[str, Any]
) -> None:
    response = alice.client.get(SESSIONS)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    sessions = response.json["sessions"]
    by_id = {s["id"]: s for s in sessions}
    assert set(by_id) == {browser_session_id(alice), sid(phone)}
    assert by_id[browser_session_id(alice)]["kind"] == "browser"
    assert by_id[browser_session_id(alice)]["current"] is True
    assert by_id[sid(phone)]["kind"] == "token"
    assert by_id[sid(phone)]["current"] is False
    assert set(sessions[0]) == {
        "id",
        "kind",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ip",
        "user_agent",
        "current",
    }
    assert by_id[sid(phone)]["ip"] == "127.0.0.1"
    # The app sees the same list, with its own session marked current.
    as_app = app.test_client().get(SESSIONS, headers=bearer(phone["access_token"])).json
    assert {s["id"]: s["current"] for s in as_app["sessions"]} == {
        browser_session_id(alice): False,
        sid(phone): True,
    }


def test_the_list_never_shows_other_users_sessions(
    app: Flask, alice: Auth, phone: dict[str, Any]
) -> None:
    register(app.test_client(), "bob@example.com", "bob")
    bob = issue(app.test_client(), "bob")
    listed = app.test_client().get(SESSIONS, headers=bearer(bob["access_token"])).json
    ids = {s["id"] for s in listed["sessions"]}
    assert len(ids) == 2 and sid(bob) in ids  # bob's browser (from registering) and app
    assert sid(phone) not in ids
    assert browser_session_id(alice) not in ids


def test_the_list_leaves_out_timed_out_sessions(
    app: Flask, alice: Auth, phone: dict[str, Any], clock: Clock
) -> None:
    clock.advance(3 * 3600)  # the browser session's idle timeout (2 h) has passed
    fresh = issue(app.test_client())
    listed = app.test_client().get(SESSIONS, headers=bearer(fresh["access_token"])).json
    assert {s["id"] for s in listed["sessions"]} == {sid(phone), sid(fresh)}


def test_anonymous_callers_get_401(client: FlaskClient) -> None:
    assert client.get(SESSIONS).json == NOT_AUTHENTICATED
    assert client.delete(SESSIONS).json == CSRF_FAILED  # the CSRF rule comes first
    for method in (client.get, client.delete):
        response = method(SESSIONS, headers={"Authorization": "Bearer nope"})
        assert_invalid_token(response)


def test_anonymous_unsafe_calls_with_csrf_get_401(auth: Auth) -> None:
    assert auth.client.delete(SESSIONS, headers=auth.headers()).json == NOT_AUTHENTICATED
    assert auth.client.delete(f"{SESSIONS}/abc", headers=auth.headers()).json == NOT_AUTHENTICATED
    assert auth.post(REAUTH, {"password": PASSWORD}).json == NOT_AUTHENTICATED


# -- ending one session ---------------------------------------------------------------------


def test_ending_another_session_right_after_sign_in_works_and_cuts_it_off(
    app: Flask, alice: Auth, phone: dict[str, Any]
) -> None:
    response = delete(alice, f"{SESSIONS}/{sid(phone)}")
    assert response.status_code == 204
    assert_invalid_token(app.test_client().get(SESSION, headers=bearer(phone["access_token"])))
    refreshed = app.test_client().post(
        "/api/token/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert refreshed.json["code"] == "invalid_grant"
    assert alice.client.get(SESSION).status_code == 200  # the caller's own session lives on


def test_an_app_can_end_a_browser_session(app: Flask, alice: Auth, phone: dict[str, Any]) -> None:
    app_client = app.test_client()
    # No CSRF header: a bearer request is never CSRF-checked.
    response = app_client.delete(
        f"{SESSIONS}/{browser_session_id(alice)}", headers=bearer(phone["access_token"])
    )
    assert response.status_code == 204
    assert alice.client.get(SESSION).status_code == 401
    assert app_client.get(SESSION, headers=bearer(phone["access_token"])).status_code == 200


def test_ending_another_session_needs_a_recent_sign_in(
    app: Flask, alice: Auth, phone: dict[str, Any], clock: Clock
) -> None:
    clock.advance(601)
    response = delete(alice, f"{SESSIONS}/{sid(phone)}")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json == REAUTH_REQUIRED
    assert sid(phone) in {s["id"] for s in alice.client.get(SESSIONS).json["sessions"]}


def test_reauth_unlocks_ending_another_session(
    app: Flask, alice: Auth, phone: dict[str, Any], clock: Clock
) -> None:
    clock.advance(601)
    assert delete(alice, f"{SESSIONS}/{sid(phone)}").json == REAUTH_REQUIRED
    response = alice.post(REAUTH, {"password": PASSWORD})
    assert response.status_code == 200
    assert response.json["authenticated_at"].startswith(clock.current.strftime("%Y-%m-%dT%H:%M"))
    assert set(response.json) == {"authenticated_at", "reauth_until"}
    assert delete(alice, f"{SESSIONS}/{sid(phone)}").status_code == 204
    clock.advance(601)  # the window closes again
    other = issue(app.test_client())
    assert delete(alice, f"{SESSIONS}/{sid(other)}").json == REAUTH_REQUIRED


def test_a_bearer_caller_reauthenticates_too(
    app: Flask, alice: Auth, phone: dict[str, Any], clock: Clock
) -> None:
    clock.advance(700)
    app_client = app.test_client()
    fresh = app_client.post(
        "/api/token/refresh", json={"refresh_token": phone["refresh_token"]}
    ).json
    target = f"{SESSIONS}/{browser_session_id(alice)}"
    assert app_client.delete(target, headers=bearer(fresh["access_token"])).json == (
        REAUTH_REQUIRED
    )
    reauth = app_client.post(
        REAUTH, json={"password": PASSWORD}, headers=bearer(fresh["access_token"])
    )
    assert reauth.status_code == 200
    # The same access token now passes: the check reads the session row on every request.
    assert app_client.delete(target, headers=bearer(fresh["access_token"])).status_code == 204


def test_a_wrong_reauth_password_is_refused(caller: SignedIn) -> None:
    response = caller.post(REAUTH, {"password": "not-my-password"})
    assert response.json == INVALID_CREDENTIALS


def test_ending_the_current_session_needs_no_reauth_and_signs_out(
    alice: Auth, clock: Clock
) -> None:
    current = browser_session_id(alice)
    clock.advance(3600)
    response = delete(alice, f"{SESSIONS}/{current}")
    assert response.status_code == 204
    assert alice.client.get_cookie("bastion_session") is None  # the cookie is cleared
    assert alice.client.get(SESSION).status_code == 401


def test_someone_elses_session_is_404(app: Flask, caller: SignedIn) -> None:
    register(app.test_client(), "bob@example.com", "bob")
    bob = issue(app.test_client(), "bob")
    response = caller.delete(f"{SESSIONS}/{sid(bob)}")
    assert response.json == NO_SUCH_SESSION
    assert app.test_client().get(SESSION, headers=bearer(bob["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "session_id", ["0" * 24, "nope", "x" * 300, "%00", "a%00b", "%C3%A9", "%E2%80%AE"]
)
def test_unknown_session_ids_are_404(caller: SignedIn, session_id: str) -> None:
    assert caller.delete(f"{SESSIONS}/{session_id}").json == NO_SUCH_SESSION


# -- ending all others ----------------------------------------------------------------------


def test_ending_all_other_sessions(app: Flask, alice: Auth, phone: dict[str, Any]) -> None:
    tablet = issue(app.test_client())
    second_browser = Auth(app.test_client())
    assert second_browser.login().status_code == 200
    response = delete(alice, SESSIONS)
    assert response.status_code == 200
    assert response.json == {"ended": 3}
    for pair in (phone, tablet):
        assert_invalid_token(app.test_client().get(SESSION, headers=bearer(pair["access_token"])))
    assert second_browser.client.get(SESSION).status_code == 401
    assert [s["current"] for s in alice.client.get(SESSIONS).json["sessions"]] == [True]


def test_ending_all_other_sessions_needs_a_recent_sign_in(
    app: Flask, alice: Auth, phone: dict[str, Any], clock: Clock
) -> None:
    clock.advance(601)
    assert delete(alice, SESSIONS).json == REAUTH_REQUIRED
    assert len(alice.client.get(SESSIONS).json["sessions"]) == 2


def test_an_app_ends_all_other_sessions_without_csrf(
    app: Flask, alice: Auth, phone: dict[str, Any]
) -> None:
    response = app.test_client().delete(SESSIONS, headers=bearer(phone["access_token"]))
    assert response.json == {"ended": 1}
    assert alice.client.get(SESSION).status_code == 401


# -- CSRF and bodies ------------------------------------------------------------------------


def test_cookie_callers_need_the_csrf_token(alice: Auth, phone: dict[str, Any]) -> None:
    assert alice.client.delete(f"{SESSIONS}/{sid(phone)}").json == CSRF_FAILED
    assert alice.client.delete(SESSIONS).json == CSRF_FAILED
    assert alice.client.post(REAUTH, json={"password": PASSWORD}).json == CSRF_FAILED
    assert len(alice.client.get(SESSIONS).json["sessions"]) == 2


def test_a_valid_cookie_with_an_invalid_bearer_is_refused(
    alice: Auth, phone: dict[str, Any]
) -> None:
    headers = {**alice.headers(), "Authorization": "Bearer forged"}
    assert_invalid_token(alice.client.get(SESSIONS, headers=headers))
    assert_invalid_token(alice.client.delete(f"{SESSIONS}/{sid(phone)}", headers=headers))
    assert len(alice.client.get(SESSIONS).json["sessions"]) == 2


def test_reauth_refuses_malformed_json(caller: SignedIn) -> None:
    response = caller.post(REAUTH, data="{", headers={"Content-Type": "application/json"})
    assert response.json == MALFORMED


def test_reauth_refuses_other_media_types(caller: SignedIn) -> None:
    response = caller.post(REAUTH, data={"password": PASSWORD})
    assert response.json == UNSUPPORTED


def test_reauth_refuses_oversized_bodies(caller: SignedIn) -> None:
    response = caller.post(REAUTH, {"password": "x" * 5000})
    assert response.json == TOO_LARGE


def test_reauth_validates_fields(caller: SignedIn) -> None:
    assert caller.post(REAUTH, {}).json == invalid(("password", "missing", "Field required"))
    wrong = caller.post(REAUTH, {"password": 5, "extra": 1})
    assert wrong.status_code == 422
    assert [(e["field"], e["code"]) for e in wrong.json["errors"]] == [
        ("password", "string_type"),
        ("extra", "extra_forbidden"),
    ]
