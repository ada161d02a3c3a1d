"""flask_bastion.testing, the kit our users' tests use: its helpers hold their promises."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion import clock as bastion_clock
from flask_bastion.testing import (
    CLIENT_KINDS,
    ClientKind,
    Clock,
    assert_problem,
    create_user,
    frozen_clock,
    invalid,
    problem,
    register,
    signed_in,
)
from tests.conftest import PASSWORD, AppFactory
from tests.problems import NOT_AUTHENTICATED

pytestmark = pytest.mark.minimal_app


def test_the_client_kinds_are_browser_and_app() -> None:
    assert CLIENT_KINDS == ("browser", "app")


def test_a_browser_carries_cookies_and_echoes_the_csrf_token(app: Flask) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    ann = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    assert ann.client.get_cookie("bastion_session") is not None
    assert ann.headers("GET") == {}
    assert set(ann.headers("POST")) == {"X-XSRF-TOKEN"}
    assert ann.post("/api/test/echo").json == {"ok": True}  # passes the CSRF rule


def test_an_app_carries_only_its_bearer_token(app: Flask) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    ann = signed_in(app.test_client(), "app", "ann", PASSWORD)
    assert ann.client.get_cookie("bastion_session") is None
    assert ann.client.get_cookie("XSRF-TOKEN") is None
    assert (
        ann.headers("GET") == ann.headers("POST") == {"Authorization": f"Bearer {ann.access_token}"}
    )
    assert ann.refresh_token
    assert (ann.id, ann.username) == (ann.user["id"], "ann")


def test_either_kind_speaks_for_the_same_user(app: Flask, client_kind: ClientKind) -> None:
    registered = register(
        app.test_client(), email="ann@example.com", username="ann", password=PASSWORD
    )
    ann = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    assert ann.kind == client_kind
    assert ann.id == registered.id
    assert ann.get("/api/test/me").json == {"username": "ann", "roles": []}


def test_assert_problem_takes_a_whole_body_or_its_parts(client: FlaskClient) -> None:
    response = client.get("/api/test/me")
    assert_problem(response, NOT_AUTHENTICATED)
    assert_problem(response, 401, "not_authenticated", detail="Sign in to continue.")
    with pytest.raises(AssertionError):
        assert_problem(response, 401, "not_authenticated", detail="Something else.")
    with pytest.raises(AssertionError):
        assert_problem(response, problem(403, "not_authenticated", "Sign in to continue."))


def test_invalid_builds_the_422_body_in_order() -> None:
    assert invalid(("a", "missing", "Field required"), ("b", "x", "y")) == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "Some fields are invalid.",
        "code": "validation_failed",
        "errors": [
            {"field": "a", "code": "missing", "message": "Field required"},
            {"field": "b", "code": "x", "message": "y"},
        ],
    }


def test_the_clock_fixture_freezes_and_moves_bastions_clock(clock: Clock) -> None:
    first = bastion_clock.now()
    assert bastion_clock.now() == first == clock.current
    clock.advance(90)
    assert (bastion_clock.now() - first).total_seconds() == 90
    when = datetime(2030, 1, 1, tzinfo=UTC)
    clock.set(when)
    assert bastion_clock.now() == when


def test_frozen_clock_puts_the_real_clock_back() -> None:
    real = bastion_clock.now
    with frozen_clock(datetime(2030, 1, 1, tzinfo=UTC)) as frozen:
        assert bastion_clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
        frozen.advance(1)
        assert bastion_clock.now().second == 1
    assert bastion_clock.now is real


def test_the_helpers_import_without_pytest() -> None:
    # An app whose tests use unittest still gets the helpers; only the fixtures need pytest.
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "import flask_bastion.testing as kit\n"
        "assert not hasattr(kit, 'client_kind') and callable(kit.signed_in)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_create_user_makes_a_confirmed_account_that_signs_in_when_confirmation_is_required(
    app_factory: AppFactory, kind: ClientKind
) -> None:
    app = app_factory(BASTION_EMAIL_CONFIRMATION="required")
    user_id = create_user(app, email="ann@example.com", username="ann", password=PASSWORD)
    ann = signed_in(app.test_client(), kind, "ann", PASSWORD)
    assert ann.id == user_id


def test_register_says_what_to_use_when_confirmation_is_required(
    app_factory: AppFactory,
) -> None:
    app = app_factory(BASTION_EMAIL_CONFIRMATION="required")
    with pytest.raises(AssertionError, match="use create_user"):
        register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
