"""Changing the password while signed in, as a browser (cookies + CSRF) and as an app (bearer):
the current password is needed, every other session ends and the caller's stays, a notice is
mailed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import ClientKind, assert_problem, invalid, signed_in
from tests.account_helpers import NEW_PASSWORD, PASSWORD, Mailbox
from tests.smtp import SmtpServer, text_of

CHANGE = "/api/auth/password/change"


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


def test_change_ends_every_other_session_and_keeps_the_callers(
    app: Flask, ann: None, mailbox: Mailbox, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    other_browser = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    other_app = signed_in(app.test_client(), "app", "ann", PASSWORD)

    answer = me.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (answer.status_code, answer.json) == (200, {"status": "password_changed"})

    assert me.get("/api/auth/session").status_code == 200
    assert other_browser.get("/api/auth/session").status_code == 401
    assert other_app.get("/api/auth/session").status_code == 401
    refreshed = app.test_client().post(
        "/api/token/refresh", json={"refresh_token": other_app.refresh_token}
    )
    assert refreshed.status_code == 401
    if client_kind == "app":  # the caller's own refresh family lives on
        mine = app.test_client().post(
            "/api/token/refresh", json={"refresh_token": me.refresh_token}
        )
        assert mine.status_code == 200

    notice = mailbox.last("ann@example.com")
    assert notice["Subject"].startswith("Your") and "password was changed" in notice["Subject"]
    assert "other devices were signed out" in text_of(notice)
    assert signed_in(app.test_client(), "app", "ann", NEW_PASSWORD).username == "ann"
    old = app.test_client().post("/api/token", json={"identity": "ann", "password": PASSWORD})
    assert old.status_code == 401


def test_a_wrong_current_password_changes_nothing(
    app: Flask, ann: None, mailbox: Mailbox, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    other = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    before = len(mailbox.deliver())
    answer = me.post(CHANGE, {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD})
    assert_problem(answer, 401, "invalid_credentials", detail="The identity or password is wrong.")
    assert me.get("/api/auth/session").status_code == 200
    assert other.get("/api/auth/session").status_code == 200
    assert len(mailbox.deliver()) == before


def test_the_new_password_follows_the_policy(
    app: Flask, ann: None, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    answer = me.post(CHANGE, {"current_password": PASSWORD, "new_password": "short"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json["errors"]] == ["password"]


def test_signed_out_callers_are_refused(app: Flask) -> None:
    answer = app.test_client().post(
        CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert answer.status_code in (401, 403)  # no session: CSRF or authentication refuses


def test_fields_are_required(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    assert_problem(
        me.post(CHANGE, {"current_password": PASSWORD}),
        invalid(("new_password", "missing", "Field required")),
    )
