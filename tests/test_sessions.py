"""Server-side sessions in time: idle and absolute timeouts, and "remember me" within its caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from flask_bastion import AuthSession, current_bastion
from flask_bastion.testing import Clock
from tests.conftest import AppFactory, Auth

pytestmark = pytest.mark.minimal_app

START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
IDLE, ABSOLUTE = 2 * 3600, 12 * 3600
REMEMBER_IDLE, REMEMBER_ABSOLUTE = 14 * 24 * 3600, 30 * 24 * 3600


@pytest.fixture
def clock(clock: Clock) -> Clock:
    """The frozen clock, starting at START."""
    clock.set(START)
    return clock


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def status(auth: Auth) -> int:
    return int(auth.client.get("/api/auth/session").status_code)


def rows(app: Flask) -> int:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuthSession)).scalar_one())


def test_defaults_are_documented_values(app: Flask) -> None:
    with app.app_context():
        settings = current_bastion().settings
    assert (settings.session_idle_timeout, settings.session_absolute_timeout) == (IDLE, ABSOLUTE)
    assert (settings.remember_idle_timeout, settings.remember_absolute_timeout) == (
        REMEMBER_IDLE,
        REMEMBER_ABSOLUTE,
    )


def test_idle_timeout_ends_a_session_and_deletes_it(app: Flask, auth: Auth, clock: Clock) -> None:
    auth.register()
    clock.set(at(IDLE - 1))
    assert status(auth) == 200
    clock.set(at(IDLE - 1 + IDLE))  # idle again for the whole timeout since the last request
    assert status(auth) == 401
    assert rows(app) == 0


def test_activity_keeps_a_session_alive_until_the_absolute_timeout(
    auth: Auth, clock: Clock
) -> None:
    auth.register()
    elapsed = 0
    while elapsed + IDLE // 2 < ABSOLUTE:
        elapsed += IDLE // 2
        clock.set(at(elapsed))
        assert status(auth) == 200, elapsed
    clock.set(at(ABSOLUTE))
    assert status(auth) == 401


def test_a_request_within_the_touch_interval_does_not_extend_idle_time(
    auth: Auth, clock: Clock
) -> None:
    auth.register()
    clock.set(at(30))  # under the 60 s touch interval: last_seen_at is not rewritten
    assert status(auth) == 200
    clock.set(at(IDLE))
    assert status(auth) == 401


def test_without_remember_the_cookie_dies_with_the_browser(auth: Auth, clock: Clock) -> None:
    auth.register()
    auth.logout()
    response = auth.login("alice")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("bastion_session=")
    )
    assert "Max-Age" not in cookie and "Expires" not in cookie
    assert response.json["session"]["remember"] is False
    assert response.json["session"]["expires_at"] == "2030-01-01T21:00:00Z"


def test_remember_me_extends_both_timeouts_within_their_caps(auth: Auth, clock: Clock) -> None:
    auth.register()
    auth.logout()
    response = auth.login("alice", remember=True)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("bastion_session=")
    )
    assert f"Max-Age={REMEMBER_ABSOLUTE}" in cookie
    assert response.json["session"]["remember"] is True
    assert response.json["session"]["expires_at"] == "2030-01-31T09:00:00Z"
    clock.set(at(IDLE + 1))  # past the ordinary idle timeout
    assert status(auth) == 200
    clock.set(at(IDLE + 1 + REMEMBER_IDLE))
    assert status(auth) == 401


def test_remember_me_still_ends_at_its_absolute_cap(auth: Auth, clock: Clock) -> None:
    auth.register()
    auth.logout()
    auth.login("alice", remember=True)
    elapsed = 0
    while elapsed + 7 * 24 * 3600 < REMEMBER_ABSOLUTE:
        elapsed += 7 * 24 * 3600
        clock.set(at(elapsed))
        assert status(auth) == 200
    clock.set(at(REMEMBER_ABSOLUTE))
    assert status(auth) == 401


@pytest.mark.parametrize(
    ("idle", "absolute", "after", "expected"),
    [(60, 600, 59, 200), (60, 600, 61, 401), (600, 120, 121, 401)],
)
def test_timeouts_follow_the_settings(
    app_factory: AppFactory, clock: Clock, idle: int, absolute: int, after: int, expected: int
) -> None:
    app = app_factory(
        BASTION_SESSION_IDLE_TIMEOUT=idle,
        BASTION_SESSION_ABSOLUTE_TIMEOUT=absolute,
    )
    auth = Auth(app.test_client())
    auth.register()
    clock.set(at(after))
    assert status(auth) == expected
