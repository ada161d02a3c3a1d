"""The mail-sending endpoints answer no sooner than BASTION_ACCOUNT_MAIL_MIN_DURATION, for known
and unknown addresses alike (the medians themselves are measured by tests/bench/enumeration.py,
not here: a timed unit test would be flaky on a busy machine)."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from flask_bastion.config import Settings
from tests.conftest import AppFactory

FLOOR = 0.3


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    return app_factory(BASTION_ACCOUNT_MAIL_MIN_DURATION=FLOOR)


def test_the_default_floor_is_a_quarter_second() -> None:
    assert Settings().account_mail_min_duration == 0.25


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/password/forgot", {"email": "nobody@example.com"}),
        ("/api/auth/confirm/resend", {"email": "nobody@example.com"}),
        ("/api/auth/code/request", {"identity": "nobody"}),
    ],
)
def test_answers_wait_for_the_floor(app: Flask, path: str, body: dict[str, str]) -> None:
    started = time.monotonic()
    response = app.test_client().post(path, json=body)
    assert response.status_code == 202
    assert time.monotonic() - started >= FLOOR
