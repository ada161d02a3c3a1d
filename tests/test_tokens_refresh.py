"""Refresh-token rotation, reuse detection, revocation, and what cuts off a bearer token."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from flask_bastion import current_bastion
from flask_bastion.models import AuthSession, RefreshToken
from flask_bastion.sessions import revoke_all_for_user
from flask_bastion.testing import Clock
from tests.conftest import AppFactory
from tests.problems import INVALID_GRANT, problem
from tests.token_helpers import (
    assert_invalid_token,
    bearer,
    claims_of,
    deactivate,
    issue,
    oauth,
    register,
)

pytestmark = pytest.mark.minimal_app

REFRESH = "/api/token/refresh"
REVOKE = "/api/token/revoke"
SESSION = "/api/auth/session"


@pytest.fixture
def user_id(app: Flask) -> int:
    return register(app.test_client())


@pytest.fixture
def pair(client: FlaskClient, user_id: int) -> dict[str, Any]:
    return issue(client)


def refresh(client: FlaskClient, token: str) -> Any:
    return client.post(REFRESH, json={"refresh_token": token})


def assert_invalid_grant(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json == oauth(INVALID_GRANT, "invalid_grant")


def token_sessions(app: Flask) -> int:
    with app.app_context():
        db = current_bastion().db.session
        return int(
            db.scalar(
                select(func.count()).select_from(AuthSession).where(AuthSession.kind == "token")
            )
            or 0
        )


def live_refresh_tokens(app: Flask) -> int:
    with app.app_context():
        db = current_bastion().db.session
        return int(
            db.scalar(
                select(func.count()).select_from(RefreshToken).where(RefreshToken.used_at.is_(None))
            )
            or 0
        )


# -- rotation -------------------------------------------------------------------------------


def test_refresh_returns_a_new_pair_in_the_same_session(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    response = refresh(client, pair["refresh_token"])
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    new = response.json
    assert new["refresh_token"] != pair["refresh_token"]
    assert new["access_token"] != pair["access_token"]
    assert claims_of(new["access_token"])["sid"] == claims_of(pair["access_token"])["sid"]
    assert client.get(SESSION, headers=bearer(new["access_token"])).status_code == 200
    assert token_sessions(app) == 1 and live_refresh_tokens(app) == 1


def test_each_refresh_token_works_once_along_a_chain(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    token = pair["refresh_token"]
    for _ in range(5):
        clock.advance(60)
        response = refresh(client, token)
        assert response.status_code == 200
        token = response.json["refresh_token"]
    assert token_sessions(app) == 1 and live_refresh_tokens(app) == 1


def test_refresh_keeps_the_session_alive_and_updates_last_seen(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    clock.advance(3600)
    new = refresh(client, pair["refresh_token"]).json
    listed = client.get("/api/auth/sessions", headers=bearer(new["access_token"])).json
    current = next(s for s in listed["sessions"] if s["current"])
    assert current["last_seen_at"].startswith(clock.current.strftime("%Y-%m-%dT%H:%M:%S"))


# -- reuse ----------------------------------------------------------------------------------


def test_reuse_after_the_grace_period_revokes_the_family_and_the_session(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    successor = refresh(client, pair["refresh_token"]).json
    clock.advance(11)  # past the 10 s grace period: this is a replay, not a race
    with caplog.at_level(logging.INFO, logger="flask_bastion.audit"):
        assert_invalid_grant(refresh(client, pair["refresh_token"]))
    events = [r for r in caplog.records if getattr(r, "event", "") == "refresh_token_reused"]
    assert len(events) == 1 and events[0].security is True  # type: ignore[attr-defined]
    assert pair["refresh_token"] not in caplog.text  # never a token in the logs
    # The active successor dies too, and so does every access token of the session.
    assert_invalid_grant(refresh(client, successor["refresh_token"]))
    assert_invalid_token(client.get(SESSION, headers=bearer(successor["access_token"])))
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert token_sessions(app) == 0 and live_refresh_tokens(app) == 0


def test_reuse_of_an_older_ancestor_also_revokes(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    second = refresh(client, pair["refresh_token"]).json
    clock.advance(30)
    third = refresh(client, second["refresh_token"]).json
    clock.advance(30)
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    assert_invalid_grant(refresh(client, third["refresh_token"]))
    assert token_sessions(app) == 0


def test_a_retry_within_the_grace_period_fails_but_keeps_the_family(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    successor = refresh(client, pair["refresh_token"]).json
    clock.advance(5)
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    # The winner's pair is untouched.
    assert client.get(SESSION, headers=bearer(successor["access_token"])).status_code == 200
    assert refresh(client, successor["refresh_token"]).status_code == 200
    assert token_sessions(app) == 1 and live_refresh_tokens(app) == 1


@pytest.mark.parametrize("app_config", [{"BASTION_REFRESH_GRACE_PERIOD": 0}])
def test_with_no_grace_period_any_reuse_revokes(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    successor = refresh(client, pair["refresh_token"]).json
    clock.advance(1)
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    assert_invalid_grant(refresh(client, successor["refresh_token"]))


def test_an_unknown_refresh_token_is_refused(client: FlaskClient, pair: dict[str, Any]) -> None:
    assert_invalid_grant(refresh(client, "not-a-token-we-issued"))
    assert_invalid_grant(refresh(client, pair["access_token"]))  # an access token is no refresh
    assert refresh(client, pair["refresh_token"]).status_code == 200  # and nothing was revoked


# -- lifetimes ------------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"BASTION_REFRESH_IDLE_TIMEOUT": 3600}])
def test_an_idle_refresh_token_expires(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    clock.advance(3601)
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    assert token_sessions(app) == 0


@pytest.mark.parametrize(
    "app_config",
    [{"BASTION_REFRESH_IDLE_TIMEOUT": 3600, "BASTION_REFRESH_ABSOLUTE_TIMEOUT": 3 * 3600}],
)
def test_refreshing_cannot_outlive_the_absolute_lifetime(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    token, refreshed = pair["refresh_token"], 0
    for _ in range(8):
        clock.advance(1800)
        response = refresh(client, token)
        if response.status_code != 200:
            break
        token, refreshed = response.json["refresh_token"], refreshed + 1
    assert refreshed == 5  # at 0.5 h .. 2.5 h; the 3 h mark is the absolute end
    assert_invalid_grant(response)
    assert token_sessions(app) == 0


@pytest.mark.parametrize("app_config", [{"BASTION_REFRESH_IDLE_TIMEOUT": 300}])
def test_an_access_token_dies_with_its_idle_session(
    client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    busy = issue(client)
    clock.advance(200)
    assert client.get(SESSION, headers=bearer(busy["access_token"])).status_code == 200
    clock.advance(250)  # 450 s in: the busy session was seen at 200 s, the other never
    assert client.get(SESSION, headers=bearer(busy["access_token"])).status_code == 200
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))


# -- what cuts off a bearer token on the next request ---------------------------------------


def test_logout_with_the_bearer_token_cuts_off_its_session(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    assert client.post("/api/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    assert token_sessions(app) == 0


def test_deactivating_the_user_cuts_off_bearer_access(
    app: Flask, client: FlaskClient, pair: dict[str, Any], user_id: int
) -> None:
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200
    deactivate(app, user_id)
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert_invalid_grant(refresh(client, pair["refresh_token"]))


def test_revoking_all_sessions_of_a_user_cuts_off_bearer_access(
    app: Flask, client: FlaskClient, pair: dict[str, Any], user_id: int
) -> None:
    with app.app_context():
        db = current_bastion().db.session
        revoke_all_for_user(db, user_id)
        db.commit()
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert_invalid_grant(refresh(client, pair["refresh_token"]))


def test_another_instance_sees_the_revocation(
    app: Flask, client: FlaskClient, pair: dict[str, Any], app_factory: AppFactory
) -> None:
    other = app_factory(SECRET_KEY=app.config["SECRET_KEY"])
    other_client = other.test_client()
    assert other_client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    assert_invalid_token(other_client.get(SESSION, headers=bearer(pair["access_token"])))


# -- revocation (RFC 7009) ------------------------------------------------------------------


def test_revoking_the_refresh_token_ends_the_family(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    response = client.post(REVOKE, json={"token": pair["refresh_token"]})
    assert response.status_code == 200
    assert response.get_data() == b""
    assert_invalid_grant(refresh(client, pair["refresh_token"]))
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert token_sessions(app) == 0


def test_revoking_the_access_token_ends_the_session(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    response = client.post(
        REVOKE, json={"token": pair["access_token"], "token_type_hint": "access_token"}
    )
    assert response.status_code == 200
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert_invalid_grant(refresh(client, pair["refresh_token"]))


def test_revoking_an_unknown_token_is_200_and_changes_nothing(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    for token in ("unknown", "a.b.c", "x" * 3000):
        assert client.post(REVOKE, json={"token": token}).status_code == 200
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_revoking_twice_is_200(client: FlaskClient, pair: dict[str, Any]) -> None:
    for _ in range(2):
        assert client.post(REVOKE, json={"token": pair["refresh_token"]}).status_code == 200


# -- the API's error rules on refresh and revoke --------------------------------------------


@pytest.mark.parametrize("path", [REFRESH, REVOKE])
def test_refresh_and_revoke_take_json_or_a_form_only(client: FlaskClient, path: str) -> None:
    response = client.post(path, data="token=x", headers={"Content-Type": "text/plain"})
    assert response.json == oauth(
        problem(
            415,
            "unsupported_media_type",
            "Send the body as application/json or application/x-www-form-urlencoded.",
        ),
        "invalid_request",
    )


@pytest.mark.parametrize("path", [REFRESH, REVOKE])
def test_refresh_and_revoke_refuse_malformed_json(client: FlaskClient, path: str) -> None:
    response = client.post(path, data="{", headers={"Content-Type": "application/json"})
    assert response.json == oauth(
        problem(400, "malformed_json", "The request body is not valid JSON."), "invalid_request"
    )


@pytest.mark.parametrize(("path", "name"), [(REFRESH, "refresh_token"), (REVOKE, "token")])
def test_refresh_and_revoke_refuse_oversized_bodies(
    client: FlaskClient, path: str, name: str
) -> None:
    response = client.post(path, json={name: "x" * 5000})
    assert response.json == oauth(
        problem(413, "body_too_large", "The request body is too large."), "invalid_request"
    )


@pytest.mark.parametrize(("path", "name"), [(REFRESH, "refresh_token"), (REVOKE, "token")])
def test_refresh_and_revoke_validate_fields(client: FlaskClient, path: str, name: str) -> None:
    assert client.post(path, json={}).json == oauth(
        problem(
            422,
            "validation_failed",
            "Some fields are invalid.",
            errors=[{"field": name, "code": "missing", "message": "Field required"}],
        ),
        "invalid_request",
    )
    wrong = client.post(path, json={name: 12})
    assert wrong.status_code == 422
    assert [(e["field"], e["code"]) for e in wrong.json["errors"]] == [(name, "string_type")]
    empty = client.post(path, json={name: ""})
    assert [(e["field"], e["code"]) for e in empty.json["errors"]] == [(name, "string_too_short")]


def test_revoke_validates_the_type_hint(client: FlaskClient) -> None:
    response = client.post(REVOKE, json={"token": "x", "token_type_hint": "id_token"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["token_type_hint"]


def test_refresh_needs_no_csrf_token_even_with_cookies(
    app: Flask, client: FlaskClient, pair: dict[str, Any]
) -> None:
    client.get(SESSION)  # the client now holds an XSRF-TOKEN cookie, and sends none back
    assert refresh(client, pair["refresh_token"]).status_code == 200
