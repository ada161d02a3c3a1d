"""Email confirmation, end to end through a real SMTP server: register, read the mail, open the
link (twice, as a mail scanner and then the person do), sign in; and the `optional` and `off`
modes, resend, and the answers that must not tell whether an address has an account."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion.config import DEFAULTS, Settings
from flask_bastion.testing import assert_problem, field_error, signed_in
from tests.account_helpers import (
    ACCEPTED,
    PASSWORD,
    Mailbox,
    path_of,
    post,
    query_of,
    register,
    user_row,
)
from tests.smtp import SmtpServer, links_in, text_of

WRONG_CREDENTIALS = "The identity or password is wrong."
EMAIL_UNCONFIRMED = {
    "detail": "Confirm your email address first: follow the link we mailed you.",
}


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_EMAIL_CONFIRMATION": "required", "BASTION_MAIL_URL": smtp_server.url}


def test_confirmation_is_required_by_default() -> None:
    assert Settings().email_confirmation == "required"
    assert DEFAULTS["BASTION_EMAIL_CONFIRMATION"] == "required"


def test_register_mails_a_link_and_signs_in_only_once_it_is_opened(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    response = register(client, "ann@example.com", "ann")
    assert response.status_code == 202
    assert response.json == ACCEPTED["confirmation_sent"]
    assert client.get_cookie("bastion_session") is None
    assert client.get("/api/auth/session").status_code == 401  # not signed in

    mail = mailbox.last("ann@example.com")
    assert mail["Subject"].startswith("Confirm your email address")
    link = mailbox.link("ann@example.com", "/api/auth/confirm/")
    assert link.startswith("http://localhost/api/auth/confirm/")
    assert link in mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]

    # Before confirming: the right password is 403 email_unconfirmed, as a browser and an app.
    login = post(client, "/api/auth/login", {"identity": "ann", "password": PASSWORD})
    assert_problem(login, 403, "email_unconfirmed", **EMAIL_UNCONFIRMED)
    token = app.test_client().post("/api/token", json={"identity": "ann", "password": PASSWORD})
    assert token.status_code == 403
    assert token.json["code"] == "email_unconfirmed"
    assert token.json["error"] == "invalid_grant"
    # A wrong password never learns that much.
    wrong = post(client, "/api/auth/login", {"identity": "ann", "password": "not-" + PASSWORD})
    assert_problem(wrong, 401, "invalid_credentials", detail=WRONG_CREDENTIALS)

    # A mail scanner opens the link first, then the person: both land on the confirmed view.
    first = app.test_client().get(path_of(link))
    assert first.status_code == 303
    assert first.headers["Location"] == "http://localhost/app/confirmed?email=ann%40example.com"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    second = app.test_client().get(path_of(link))
    assert second.status_code == 303
    assert second.headers["Location"] == (
        "http://localhost/app/confirmed?email=ann%40example.com&code=already_confirmed"
    )
    assert user_row(app, "ann").confirmed_at is not None

    for kind in ("browser", "app"):
        ann = signed_in(app.test_client(), kind, "ann", PASSWORD)  # type: ignore[arg-type]
        assert ann.get("/api/auth/session").json["user"]["email"] == "ann@example.com"


def test_post_confirm_for_clients_that_open_the_link_themselves(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    register(client, "ann@example.com", "ann")
    token = mailbox.link("ann@example.com").rsplit("/", 1)[1]
    app_client = app.test_client()  # no cookies, no CSRF token: an app client
    confirmed = app_client.post("/api/auth/confirm", json={"token": token})
    assert confirmed.status_code == 200
    user = confirmed.json["user"]
    assert (user["email"], user["username"]) == ("ann@example.com", "ann")
    again = app_client.post("/api/auth/confirm", json={"token": token})
    assert again.status_code == 200  # idempotent
    assert again.json == confirmed.json


@pytest.mark.parametrize("tamper", ["flip", "truncate", "junk"])
def test_a_tampered_link_is_invalid(
    app: Flask, client: FlaskClient, mailbox: Mailbox, tamper: str
) -> None:
    register(client, "ann@example.com", "ann")
    token = mailbox.link("ann@example.com").rsplit("/", 1)[1]
    bad = {
        "flip": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncate": token[:20],
        "junk": "../../etc/passwd%00",
    }[tamper]
    page = app.test_client().get(f"/api/auth/confirm/{bad}")
    assert page.status_code in (303, 404)  # a path with slashes is no route at all
    if page.status_code == 303:
        assert page.headers["Location"] == "http://localhost/app/confirm-error?code=invalid"
    assert_problem(
        app.test_client().post("/api/auth/confirm", json={"token": bad}),
        400,
        "token_invalid",
        detail="This link is invalid or was already used.",
    )
    assert user_row(app, "ann").confirmed_at is None


def test_an_expired_link_sends_to_the_error_view_with_the_address_for_a_resend(
    app: Flask, client: FlaskClient, mailbox: Mailbox, clock: Any
) -> None:
    register(client, "ann@example.com", "ann")
    link = mailbox.link("ann@example.com")
    clock.advance(3 * 24 * 3600 + 1)
    page = app.test_client().get(path_of(link))
    assert page.status_code == 303
    target = page.headers["Location"]
    assert target.startswith("http://localhost/app/confirm-error?")
    assert query_of(target) == {"code": "expired", "email": "ann@example.com"}
    assert_problem(
        app.test_client().post("/api/auth/confirm", json={"token": link.rsplit("/", 1)[1]}),
        400,
        "token_expired",
        detail="This link has expired; ask for a new one.",
    )
    assert user_row(app, "ann").confirmed_at is None

    # The error view's resend button: a new link, which works.
    resent = app.test_client().post("/api/auth/confirm/resend", json={"email": "ann@example.com"})
    assert (resent.status_code, resent.json) == (202, ACCEPTED["confirmation_sent"])
    fresh = mailbox.link("ann@example.com")
    assert fresh != link
    assert (
        app.test_client()
        .get(path_of(fresh))
        .headers["Location"]
        .startswith("http://localhost/app/confirmed?")
    )


def test_a_link_of_another_purpose_confirms_nothing(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    register(client, "ann@example.com", "ann")
    register(app.test_client(), "bob@example.com", "bob")
    app.test_client().get(path_of(mailbox.link("bob@example.com")))
    app.test_client().post("/api/auth/password/forgot", json={"email": "bob@example.com"})
    reset_token = mailbox.link("bob@example.com", "/password/reset/").rsplit("/", 1)[1]
    page = app.test_client().get(f"/api/auth/confirm/{reset_token}")
    assert page.headers["Location"] == "http://localhost/app/confirm-error?code=invalid"
    assert user_row(app, "ann").confirmed_at is None


def test_registering_a_taken_address_answers_the_same_and_warns_its_owner(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    first = register(client, "ann@example.com", "ann")
    again = register(app.test_client(), "Ann@Example.com", "someone", "other-long-passphrase")
    assert (again.status_code, again.json) == (first.status_code, first.json)
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    mails = mailbox.to("ann@example.com")
    assert len(mails) == 2
    assert mails[1]["Subject"].startswith("Someone tried to sign up")
    assert "already has an account" in text_of(mails[1])
    assert not any("/api/auth/confirm/" in link for link in links_in(mails[1]))
    # The second attempt created nothing: its password signs no one in.
    login = post(
        app.test_client(), "/api/auth/login", {"identity": "someone", "password": PASSWORD}
    )
    assert_problem(login, 401, "invalid_credentials", detail=WRONG_CREDENTIALS)


def test_a_taken_username_is_still_a_conflict(app: Flask, client: FlaskClient) -> None:
    register(client, "ann@example.com", "ann")
    taken = register(app.test_client(), "other@example.com", "ann")
    assert_problem(
        taken,
        409,
        "conflict",
        detail="The account already exists.",
        errors=[field_error("username", "taken", "This username is taken.")],
    )


def test_resend_answers_the_same_for_every_address_and_mails_only_the_unconfirmed(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    register(client, "ann@example.com", "ann")
    register(app.test_client(), "bob@example.com", "bob")
    app.test_client().get(path_of(mailbox.link("bob@example.com")))  # bob confirms
    before = len(mailbox.deliver())
    answers = [
        app.test_client().post("/api/auth/confirm/resend", json={"email": email})
        for email in ("ann@example.com", "bob@example.com", "nobody@example.com")
    ]
    assert {(r.status_code, r.get_data(as_text=True)) for r in answers} == {
        (202, '{"status":"confirmation_sent"}')
    }
    delivered = mailbox.deliver()[before:]
    assert [m["To"] for m in delivered] == ["ann@example.com"]


def test_sign_in_codes_confirm_the_address(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    register(client, "ann@example.com", "ann")
    app.test_client().post("/api/auth/code/request", json={"identity": "ann"})
    code = mailbox.code("ann@example.com")
    verified = post(client, "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert verified.status_code == 200
    assert user_row(app, "ann").confirmed_at is not None


def test_the_server_rendered_login_page_says_to_confirm_first(
    app: Flask, client: FlaskClient
) -> None:
    register(client, "ann@example.com", "ann")
    page = client.get("/login")
    token = client.get_cookie("XSRF-TOKEN")
    assert token is not None
    answer = client.post(
        "/login",
        data={"identity": "ann", "password": PASSWORD, "csrf_token": token.value},
    )
    assert answer.status_code == 403
    assert "Confirm your email address" in answer.get_data(as_text=True)
    assert page.status_code == 200


@pytest.mark.parametrize("mode", ["optional", "off"])
def test_optional_and_off_sign_in_at_once(
    app_factory: Any, smtp_server: SmtpServer, mode: str
) -> None:
    app = app_factory(BASTION_EMAIL_CONFIRMATION=mode, BASTION_MAIL_URL=smtp_server.url)
    mailbox = Mailbox(app, smtp_server)
    client = app.test_client()
    response = register(client, "ann@example.com", "ann")
    assert response.status_code == 201
    assert response.json["user"]["username"] == "ann"
    assert client.get("/api/auth/session").status_code == 200  # signed in
    mails = mailbox.to("ann@example.com")
    if mode == "optional":
        assert len(mails) == 1
        link = mailbox.link("ann@example.com")
        assert app.test_client().get(path_of(link)).status_code == 303
        assert user_row(app, "ann").confirmed_at is not None
    else:
        assert mails == []
        assert user_row(app, "ann").confirmed_at is None
    # Unconfirmed or not, signing in again works in these modes.
    assert signed_in(app.test_client(), "app", "ann", PASSWORD).username == "ann"


def test_make_run_shows_the_whole_flow_at_dev_mail(app_factory: Any) -> None:
    """Development without a mail server: the confirm link waits at /dev/mail, clickable."""
    app = app_factory(
        BASTION_ENV="development", BASTION_EMAIL_CONFIRMATION="required", BASTION_MAIL_URL=None
    )
    client = app.test_client()
    assert register(client, "ann@example.com", "ann").status_code == 202
    page = client.get("/dev/mail").get_data(as_text=True)
    found = re.search(r'href="(http://localhost/api/auth/confirm/[A-Za-z0-9_-]+)"', page)
    assert found is not None, page
    assert client.get(path_of(found.group(1))).status_code == 303
    assert signed_in(app.test_client(), "browser", "ann", PASSWORD).username == "ann"
