"""Password reset by email, end to end through a real SMTP server: the same answer for every
address, a link that a mail scanner cannot use up, a token that works once, dies with the
password, and signs every device out."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import assert_problem, invalid, signed_in
from tests.account_helpers import (
    ACCEPTED,
    NEW_PASSWORD,
    PASSWORD,
    Mailbox,
    path_of,
    post,
    query_of,
    register,
    user_row,
)
from tests.smtp import SmtpServer

INVALID = {"detail": "This link is invalid or was already used."}
EXPIRED = {"detail": "This link has expired; ask for a new one."}
RESET_VIEW = "http://localhost/app/reset-password#token="


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_EMAIL_CONFIRMATION": "optional", "BASTION_MAIL_URL": smtp_server.url}


def forgot(app: Flask, email: str = "ann@example.com") -> Any:
    return app.test_client().post("/api/auth/password/forgot", json={"email": email})


def reset_token(mailbox: Mailbox) -> str:
    return mailbox.link("ann@example.com", "/password/reset/").rsplit("/", 1)[1]


def test_forgot_answers_the_same_whether_or_not_the_account_exists(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    before = len(mailbox.deliver())
    known, unknown = forgot(app), forgot(app, "nobody@example.com")
    assert (known.status_code, known.json) == (202, ACCEPTED["reset_sent"])
    assert (unknown.status_code, unknown.get_data()) == (known.status_code, known.get_data())
    assert unknown.headers["Content-Type"] == known.headers["Content-Type"]
    assert [m["To"] for m in mailbox.deliver()[before:]] == ["ann@example.com"]


def test_reset_end_to_end_for_browser_and_app_sessions(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    browser = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    phone = signed_in(app.test_client(), "app", "ann", PASSWORD)
    forgot(app)
    link = mailbox.link("ann@example.com", "/password/reset/")
    token = link.rsplit("/", 1)[1]
    assert mailbox.last("ann@example.com")["Subject"].startswith("Reset your")

    # The scanner's GET, then the person's: both only check the token and move it into the
    # fragment, so the person's still works.
    for _ in range(2):
        page = app.test_client().get(path_of(link))
        assert page.status_code == 303
        assert page.headers["Location"] == RESET_VIEW + token
        assert page.headers["Referrer-Policy"] == "no-referrer"

    done = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (done.status_code, done.json) == (200, {"status": "password_reset"})
    assert app.test_client().get("/api/auth/session").status_code == 401  # no sign-in

    # Every session and refresh family ended.
    assert browser.get("/api/auth/session").status_code == 401
    assert phone.get("/api/auth/session").status_code == 401
    refreshed = app.test_client().post(
        "/api/token/refresh", json={"refresh_token": phone.refresh_token}
    )
    assert refreshed.status_code == 401
    # The old password is gone, the new one works.
    old = post(app.test_client(), "/api/auth/login", {"identity": "ann", "password": PASSWORD})
    assert old.status_code == 401
    assert signed_in(app.test_client(), "app", "ann", NEW_PASSWORD).username == "ann"

    # Used up: the POST fails, the link now leads to the error view.
    again = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": "yet-another-passphrase"}
    )
    assert_problem(again, 400, "token_invalid", **INVALID)
    page = app.test_client().get(path_of(link))
    assert page.headers["Location"] == "http://localhost/app/reset-password-error?code=invalid"


def test_a_reset_confirms_the_address(app_factory: Any, smtp_server: SmtpServer) -> None:
    app = app_factory(BASTION_EMAIL_CONFIRMATION="required", BASTION_MAIL_URL=smtp_server.url)
    mailbox = Mailbox(app, smtp_server)
    assert register(app.test_client(), "ann@example.com", "ann").status_code == 202
    forgot(app)
    token = reset_token(mailbox)
    app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert user_row(app, "ann").confirmed_at is not None
    assert signed_in(app.test_client(), "browser", "ann", NEW_PASSWORD).username == "ann"


def test_an_expired_link(app: Flask, ann: None, mailbox: Mailbox, clock: Any) -> None:
    forgot(app)
    link = mailbox.link("ann@example.com", "/password/reset/")
    clock.advance(30 * 60)
    page = app.test_client().get(path_of(link))
    assert page.status_code == 303
    assert page.headers["Location"].startswith("http://localhost/app/reset-password-error?")
    assert query_of(page.headers["Location"])["code"] == "expired"
    answer = app.test_client().post(
        "/api/auth/password/reset",
        json={"token": link.rsplit("/", 1)[1], "password": NEW_PASSWORD},
    )
    assert_problem(answer, 400, "token_expired", **EXPIRED)


@pytest.mark.parametrize("bad", ["x" * 43, "short", "a.b", "A" * 513])
def test_tampered_or_unknown_tokens(app: Flask, ann: None, mailbox: Mailbox, bad: str) -> None:
    forgot(app)
    answer = app.test_client().post(
        "/api/auth/password/reset", json={"token": bad, "password": NEW_PASSWORD}
    )
    if len(bad) > 512:
        assert answer.status_code == 422
    else:
        assert_problem(answer, 400, "token_invalid", **INVALID)
        page = app.test_client().get(f"/api/auth/password/reset/{bad}")
        assert page.headers["Location"] == "http://localhost/app/reset-password-error?code=invalid"


def test_a_confirm_link_is_no_reset_link(app: Flask, ann: None, mailbox: Mailbox) -> None:
    confirm_token = mailbox.link("ann@example.com", "/confirm/").rsplit("/", 1)[1]
    answer = app.test_client().post(
        "/api/auth/password/reset", json={"token": confirm_token, "password": NEW_PASSWORD}
    )
    assert_problem(answer, 400, "token_invalid", **INVALID)


def test_a_reset_voids_the_older_links(app: Flask, ann: None, mailbox: Mailbox) -> None:
    forgot(app)
    older = reset_token(mailbox)
    forgot(app)
    newer = reset_token(mailbox)
    assert older != newer
    ok = app.test_client().post(
        "/api/auth/password/reset", json={"token": newer, "password": NEW_PASSWORD}
    )
    assert ok.status_code == 200
    stale = app.test_client().post(
        "/api/auth/password/reset", json={"token": older, "password": "yet-another-passphrase"}
    )
    assert_problem(stale, 400, "token_invalid", **INVALID)


def test_changing_the_password_voids_reset_links(app: Flask, ann: None, mailbox: Mailbox) -> None:
    forgot(app)
    token = reset_token(mailbox)
    ann = signed_in(app.test_client(), "app", "ann", PASSWORD)
    changed = ann.post(
        "/api/auth/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    page = app.test_client().get(f"/api/auth/password/reset/{token}")
    assert page.headers["Location"] == "http://localhost/app/reset-password-error?code=invalid"
    stale = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": "yet-another-passphrase"}
    )
    assert_problem(stale, 400, "token_invalid", **INVALID)


def test_a_password_set_by_any_other_route_voids_reset_links(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    """The link is bound to the password it replaces: an admin tool writing the hash directly
    (no flow of ours involved) kills it too."""
    from sqlalchemy import update

    from flask_bastion import User, current_bastion

    forgot(app)
    token = reset_token(mailbox)
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        new_hash = current_bastion().passwords.hash(NEW_PASSWORD)
        db.execute(update(User).where(User.username_key == "ann").values(password_hash=new_hash))
    stale = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": "yet-another-passphrase"}
    )
    assert_problem(stale, 400, "token_invalid", **INVALID)


def test_the_new_password_follows_the_policy(app: Flask, ann: None, mailbox: Mailbox) -> None:
    forgot(app)
    token = reset_token(mailbox)
    weak = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": "ann@example.com"}
    )
    assert weak.status_code == 422
    assert weak.json["code"] == "validation_failed"
    assert [e["field"] for e in weak.json["errors"]] == ["password"]
    # The token was not used up by the refused attempt.
    ok = app.test_client().post(
        "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert ok.status_code == 200


def test_forgot_is_rate_limited_per_address(app: Flask, ann: None, mailbox: Mailbox) -> None:
    answers = [forgot(app).status_code for _ in range(5)]
    assert answers == [202] * 5
    over = forgot(app)
    assert over.status_code == 429
    assert over.json["code"] == "rate_limited"
    assert int(over.headers["Retry-After"]) > 0
    # An address without an account is counted the same way: the 429 tells nothing.
    unknown = [forgot(app, "nobody@example.com").status_code for _ in range(6)]
    assert unknown == [202] * 5 + [429]
    # Another address still works.
    assert forgot(app, "other@example.com").status_code == 202


def test_missing_fields(app: Flask) -> None:
    answer = app.test_client().post("/api/auth/password/reset", json={"token": "t"})
    assert_problem(answer, invalid(("password", "missing", "Field required")))
