"""Server-side sessions in time: idle and absolute timeouts, and "remember me" within its caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from flask_bastion import AuthSession, clock, current_bastion
from tests.conftest import Auth

START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
IDLE, ABSOLUTE = 2 * 3600, 12 * 3600
REMEMBER_IDLE, REMEMBER_ABSOLUTE = 14 * 24 * 3600, 30 * 24 * 3600

Travel = Callable[[float], None]


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Travel:
    """Patch the one clock; ``travel(seconds)`` moves it to START + seconds."""
    now = [START]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def to(seconds: float) -> None:
        now[0] = START + timedelta(seconds=seconds)

    return to


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


def test_idle_timeout_ends_a_session_and_deletes_it(app: Flask, auth: Auth, travel: Travel) -> None:
    auth.register()
    travel(IDLE - 1)
    assert status(auth) == 200
    travel(IDLE - 1 + IDLE)  # idle again for the whole timeout since the last request
    assert status(auth) == 401
    assert rows(app) == 0


def test_activity_keeps_a_session_alive_until_the_absolute_timeout(
    auth: Auth, travel: Travel
) -> None:
    auth.register()
    elapsed = 0
    while elapsed + IDLE // 2 < ABSOLUTE:
        elapsed += IDLE // 2
        travel(elapsed)
        assert status(auth) == 200, elapsed
    travel(ABSOLUTE)
    assert status(auth) == 401


def test_a_request_within_the_touch_interval_does_not_extend_idle_time(
    auth: Auth, travel: Travel
) -> None:
    auth.register()
    travel(30)  # under the 60 s touch interval: last_seen_at is not rewritten
    assert status(auth) == 200
    travel(IDLE)
    assert status(auth) == 401


def test_without_remember_the_cookie_dies_with_the_browser(auth: Auth, travel: Travel) -> None:
    auth.register()
    auth.logout()
    response = auth.login("alice")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("bastion_session=")
    )
    assert "Max-Age" not in cookie and "Expires" not in cookie
    assert response.json["session"]["remember"] is False
    assert response.json["session"]["expires_at"] == "2030-01-01T21:00:00Z"


def test_remember_me_extends_both_timeouts_within_their_caps(auth: Auth, travel: Travel) -> None:
    auth.register()
    auth.logout()
    response = auth.login("alice", remember=True)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("bastion_session=")
    )
    assert f"Max-Age={REMEMBER_ABSOLUTE}" in cookie
    assert response.json["session"]["remember"] is True
    assert response.json["session"]["expires_at"] == "2030-01-31T09:00:00Z"
    travel(IDLE + 1)  # past the ordinary idle timeout
    assert status(auth) == 200
    travel(IDLE + 1 + REMEMBER_IDLE)
    assert status(auth) == 401


def test_remember_me_still_ends_at_its_absolute_cap(auth: Auth, travel: Travel) -> None:
    auth.register()
    auth.logout()
    auth.login("alice", remember=True)
    elapsed = 0
    while elapsed + 7 * 24 * 3600 < REMEMBER_ABSOLUTE:
        elapsed += 7 * 24 * 3600
        travel(elapsed)
        assert status(auth) == 200
    travel(REMEMBER_ABSOLUTE)
    assert status(auth) == 401


@pytest.mark.parametrize(
    ("idle", "absolute", "after", "expected"),
    [(60, 600, 59, 200), (60, 600, 61, 401), (600, 120, 121, 401)],
)
def test_timeouts_follow_the_settings(
    database_url: str, travel: Travel, idle: int, absolute: int, after: int, expected: int
) -> None:
    from tests.conftest import make_app

    app = make_app(
        database_url,
        BASTION_SESSION_IDLE_TIMEOUT=idle,
        BASTION_SESSION_ABSOLUTE_TIMEOUT=absolute,
    )
    try:
        auth = Auth(app.test_client())
        auth.register()
        travel(after)
        assert status(auth) == expected
    finally:
        app.extensions["bastion"].db.engine.dispose()
