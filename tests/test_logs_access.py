"""The audit trail records refused authorisation and failed sign-ins with their context."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from flask_bastion.testing import SignedIn
from tests.conftest import PASSWORD, Auth
from tests.newsroom_helpers import insert_articles, member


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "flask_bastion.audit" and r.msg == name]


@pytest.fixture
def ann(app: Flask) -> SignedIn:
    return member(app, "ann")


@pytest.fixture
def bob(app: Flask) -> SignedIn:
    return member(app, "bob")


def test_editing_another_users_article_is_logged(
    app: Flask, ann: SignedIn, bob: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    (article,) = insert_articles(app, ann.id, 1)
    caplog.set_level(logging.INFO)
    assert bob.patch(f"/api/articles/{article}", {"title": "Mine now"}).status_code == 403
    assert bob.delete(f"/api/articles/{article}").status_code == 403
    denied = events(caplog, "access_denied")
    assert [(r.user_id, r.method, r.path, r.article_id) for r in denied] == [  # type: ignore[attr-defined]
        (bob.id, "PATCH", f"/api/articles/{article}", article),
        (bob.id, "DELETE", f"/api/articles/{article}", article),
    ]
    assert {r.reason for r in denied} == {"not_article_editor"}  # type: ignore[attr-defined]
    # The control: the author's own edit is no denial.
    caplog.clear()
    assert ann.patch(f"/api/articles/{article}", {"title": "Still mine"}).status_code == 200
    assert events(caplog, "access_denied") == []


def test_a_non_admin_on_the_admin_api_is_logged(
    app: Flask, bob: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    root = member(app, "root", "admin")
    caplog.set_level(logging.INFO)
    assert bob.get("/api/admin/users").status_code == 403
    (denied,) = events(caplog, "access_denied")
    assert (denied.user_id, denied.method, denied.path) == (bob.id, "GET", "/api/admin/users")  # type: ignore[attr-defined]
    assert denied.required == ["admin"]  # type: ignore[attr-defined]
    caplog.clear()
    assert root.get("/api/admin/users").status_code == 200
    assert events(caplog, "access_denied") == []


def test_failed_sign_ins_name_the_account_and_user_agent_never_the_identity(
    app: Flask, ann: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    auth = Auth(app.test_client())
    caplog.set_level(logging.INFO)
    agent = {"User-Agent": "Probe/1.0 " + "x" * 1000}
    auth.post(
        "/api/auth/login", {"identity": "ann@example.com", "password": "wrong-pw"}, headers=agent
    )
    auth.post(
        "/api/auth/login", {"identity": "ghost@example.com", "password": PASSWORD}, headers=agent
    )
    known, unknown = events(caplog, "login_failed")
    assert known.user_id == ann.id  # type: ignore[attr-defined]
    assert not hasattr(unknown, "user_id")
    for record in (known, unknown):
        assert record.user_agent == ("Probe/1.0 " + "x" * 1000)[:256]  # type: ignore[attr-defined]
        assert record.reason == "invalid_credentials"  # type: ignore[attr-defined]
        text = str(record.__dict__)
        for secret in ("ann@example.com", "ghost@example.com", "wrong-pw", PASSWORD):
            assert secret not in text
