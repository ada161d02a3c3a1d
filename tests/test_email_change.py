"""Changing the email address: a link to the new address applies it (opening it twice is fine),
a notice goes to the old one, and uniqueness is decided when the link is opened."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import ClientKind, assert_problem, signed_in
from tests.account_helpers import ACCEPTED, PASSWORD, Mailbox, path_of, register, user_row
from tests.smtp import SmtpServer, text_of

CHANGE = "/api/auth/email/change"


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


def test_change_email_end_to_end(
    app: Flask, ann: None, mailbox: Mailbox, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    answer = me.post(CHANGE, {"email": "ann@new.example", "password": PASSWORD})
    assert (answer.status_code, answer.json) == (202, ACCEPTED["email_change_sent"])
    assert user_row(app, "ann").email == "ann@example.com"  # nothing changed yet

    notice = mailbox.last("ann@example.com")
    assert "about to change" in notice["Subject"]
    assert "ann@new.example" not in text_of(notice)  # the old inbox does not learn the new one
    link = mailbox.link("ann@new.example", "/api/auth/email/change/")

    first = app.test_client().get(path_of(link))
    assert first.status_code == 303
    assert first.headers["Location"] == "http://localhost/app/email-changed?email=ann%40new.example"
    second = app.test_client().get(path_of(link))
    assert second.headers["Location"] == (
        "http://localhost/app/email-changed?email=ann%40new.example&code=already_changed"
    )
    row = user_row(app, "ann")
    assert (row.email, row.email_key) == ("ann@new.example", "ann@new.example")
    assert row.confirmed_at is not None
    assert me.get("/api/auth/session").json["user"]["email"] == "ann@new.example"
    assert signed_in(app.test_client(), "app", "ann@new.example", PASSWORD).username == "ann"


def test_a_wrong_password_changes_nothing(app: Flask, ann: None, mailbox: Mailbox) -> None:
    me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    before = len(mailbox.deliver())
    answer = me.post(CHANGE, {"email": "ann@new.example", "password": "not-the-password"})
    assert_problem(answer, 401, "invalid_credentials", detail="The identity or password is wrong.")
    assert len(mailbox.deliver()) == before


def test_an_address_taken_meanwhile_is_refused_when_the_link_is_opened(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    taken_now = me.post(CHANGE, {"email": "bob@example.com", "password": PASSWORD})
    assert taken_now.status_code == 202  # the same answer: the request does not probe accounts
    link = mailbox.link("bob@example.com", "/api/auth/email/change/")
    register(app.test_client(), "bob@example.com", "bob")
    page = app.test_client().get(path_of(link))
    assert page.headers["Location"] == "http://localhost/app/email-change-error?code=email_taken"
    assert user_row(app, "ann").email == "ann@example.com"


def test_expired_and_tampered_links(app: Flask, ann: None, mailbox: Mailbox, clock: Any) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    me.post(CHANGE, {"email": "ann@new.example", "password": PASSWORD})
    link = mailbox.link("ann@new.example", "/api/auth/email/change/")
    tampered = app.test_client().get(path_of(link)[:-2] + "zz")
    assert tampered.headers["Location"] == ("http://localhost/app/email-change-error?code=invalid")
    clock.advance(24 * 3600)
    expired = app.test_client().get(path_of(link))
    assert expired.headers["Location"].startswith(
        "http://localhost/app/email-change-error?code=expired"
    )
    assert user_row(app, "ann").email == "ann@example.com"


def test_a_newer_request_voids_the_older_link(app: Flask, ann: None, mailbox: Mailbox) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    me.post(CHANGE, {"email": "first@example.com", "password": PASSWORD})
    older = mailbox.link("first@example.com", "/api/auth/email/change/")
    me.post(CHANGE, {"email": "second@example.com", "password": PASSWORD})
    page = app.test_client().get(path_of(older))
    assert page.headers["Location"] == "http://localhost/app/email-change-error?code=invalid"
    assert user_row(app, "ann").email == "ann@example.com"
