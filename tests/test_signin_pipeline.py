"""Every way in goes through the one sign-in pipeline: password login as a browser, the token
grant as an app, and register-then-sign-in. A pending stage stops all of them alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from flask_bastion import AuthSession, current_bastion
from flask_bastion.flows import signin
from flask_bastion.flows.context import FlowContext
from flask_bastion.flows.signin import Attempt, ClientKind, Pending
from flask_bastion.models import User
from flask_bastion.testing import ClientKind as KitKind
from flask_bastion.testing import assert_problem, register, signed_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.minimal_app

SESSION_COOKIE = "bastion_session"
PENDING = {"detail": "Another step is needed to sign in.", "pending": "confirm_email"}


def sessions(app: Flask) -> int:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        return len(db.query(AuthSession).all())


class ConfirmEmailStage:
    """A stage like email confirmation: once on, every sign-in stops before a session."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.seen: list[ClientKind] = []

    def __call__(self, ctx: FlowContext, user: User, attempt: Attempt) -> Pending | None:
        self.seen.append(attempt.kind)
        return Pending(user, "confirm_email")

    def turn_on(self) -> None:
        self.monkeypatch.setattr(signin, "STAGES", (self,))


@pytest.fixture
def confirm_email_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfirmEmailStage]:
    yield ConfirmEmailStage(monkeypatch)


def ann(app: Flask, stage: ConfirmEmailStage) -> None:
    """Register ann (before the stage is on: registering signs in), then turn the stage on."""
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    stage.turn_on()


def test_without_stages_both_kinds_sign_in(app: Flask, client_kind: KitKind) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    ann = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    assert ann.get("/api/test/me").json == {"username": "ann", "roles": []}


def test_a_pending_stage_stops_a_browser_sign_in_before_any_session(
    app: Flask, confirm_email_stage: ConfirmEmailStage
) -> None:
    ann(app, confirm_email_stage)
    before = sessions(app)
    browser = app.test_client()
    browser.get("/api/auth/session")
    csrf = browser.get_cookie("XSRF-TOKEN")
    assert csrf is not None
    response = browser.post(
        "/api/auth/login",
        json={"identity": "ann", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf.value},
    )
    assert_problem(response, 401, "sign_in_pending", **PENDING)
    assert browser.get_cookie(SESSION_COOKIE) is None
    assert sessions(app) == before
    assert confirm_email_stage.seen == ["browser"]


def test_a_pending_stage_stops_the_token_grant_before_any_token(
    app: Flask, confirm_email_stage: ConfirmEmailStage
) -> None:
    ann(app, confirm_email_stage)
    before = sessions(app)
    response = app.test_client().post("/api/token", json={"identity": "ann", "password": PASSWORD})
    # The token endpoint speaks OAuth 2.0 too: its errors carry RFC 6749's members.
    oauth = {"error": "invalid_grant", "error_description": PENDING["detail"]}
    assert_problem(response, 401, "sign_in_pending", **PENDING, **oauth)
    assert "access_token" not in (response.json or {})
    assert sessions(app) == before
    assert confirm_email_stage.seen == ["app"]


def test_a_pending_stage_stops_the_sign_in_that_follows_registration(
    app: Flask, confirm_email_stage: ConfirmEmailStage
) -> None:
    confirm_email_stage.turn_on()
    browser = app.test_client()
    browser.get("/api/auth/session")
    csrf = browser.get_cookie("XSRF-TOKEN")
    assert csrf is not None
    response = browser.post(
        "/api/auth/register",
        json={"email": "ann@example.com", "username": "ann", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf.value},
    )
    assert_problem(response, 401, "sign_in_pending", **PENDING)
    assert browser.get_cookie(SESSION_COOKIE) is None
    assert sessions(app) == 0
    assert confirm_email_stage.seen == ["browser"]


def test_wrong_passwords_never_reach_the_stages(
    app: Flask, confirm_email_stage: ConfirmEmailStage
) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    response = app.test_client().post(
        "/api/token", json={"identity": "ann", "password": "nope" * 4}
    )
    assert_problem(
        response,
        401,
        "invalid_credentials",
        detail="The identity or password is wrong.",
        error="invalid_grant",
        error_description="The identity or password is wrong.",
    )
    assert confirm_email_stage.seen == []
