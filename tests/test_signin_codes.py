"""Sign-in codes: six digits by mail, for a browser (cookies + CSRF, a new session id, like a
password sign-in) and for an app (`POST /api/token` with `{"identity", "code"}`)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import assert_problem
from tests.account_helpers import ACCEPTED, Mailbox, post, register
from tests.smtp import SmtpServer

INVALID_CODE = {"detail": "The code is wrong or has expired."}


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


def ask(app: Flask, identity: str = "ann") -> Any:
    return app.test_client().post("/api/auth/code/request", json={"identity": identity})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_request_answers_the_same_for_unknown_identities(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    before = len(mailbox.deliver())
    answers = [ask(app, identity) for identity in ("ann", "ann@example.com", "nobody", "x@y.z")]
    assert {(a.status_code, a.get_data(as_text=True)) for a in answers} == {
        (202, '{"status":"code_sent"}')
    }
    assert answers[0].json == ACCEPTED["code_sent"]
    assert [m["To"] for m in mailbox.deliver()[before:]] == ["ann@example.com"] * 2


def test_a_browser_signs_in_with_a_code(app: Flask, ann: None, mailbox: Mailbox) -> None:
    browser = app.test_client()
    browser.get("/api/auth/session")
    planted = browser.get_cookie("bastion_session")
    assert ask(app).status_code == 202
    mail = mailbox.last("ann@example.com")
    code = mailbox.code("ann@example.com")
    assert code in mail["Subject"]
    answer = post(browser, "/api/auth/code/verify", {"identity": "ann@example.com", "code": code})
    assert answer.status_code == 200
    assert answer.json["user"]["username"] == "ann"
    assert answer.json["session"]["kind"] == "browser"
    cookie = browser.get_cookie("bastion_session")
    assert cookie is not None and cookie != planted
    assert browser.get("/api/auth/session").json["user"]["username"] == "ann"
    # Single use.
    again = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert_problem(again, 401, "invalid_code", **INVALID_CODE)


def test_the_browser_endpoint_keeps_the_csrf_rule(app: Flask, ann: None, mailbox: Mailbox) -> None:
    ask(app)
    code = mailbox.code("ann@example.com")
    forged = app.test_client().post("/api/auth/code/verify", json={"identity": "ann", "code": code})
    assert forged.status_code == 403
    assert forged.json["code"] == "csrf_failed"


def test_an_app_gets_tokens_with_a_code(app: Flask, ann: None, mailbox: Mailbox) -> None:
    ask(app)
    code = mailbox.code("ann@example.com")
    client = app.test_client()
    issued = client.post("/api/token", json={"identity": "ann", "code": code})
    assert issued.status_code == 200, issued.json
    assert set(issued.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert client.get_cookie("bastion_session") is None
    me = client.get(
        "/api/auth/session", headers={"Authorization": f"Bearer {issued.json['access_token']}"}
    )
    assert me.json["user"]["username"] == "ann"
    reused = client.post("/api/token", json={"identity": "ann", "code": code})
    assert reused.status_code == 401
    assert (reused.json["code"], reused.json["error"]) == ("invalid_code", "invalid_grant")


def test_five_wrong_tries_spend_the_code(app: Flask, ann: None, mailbox: Mailbox) -> None:
    ask(app)
    code = mailbox.code("ann@example.com")
    for _ in range(5):
        miss = post(
            app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": wrong(code)}
        )
        assert_problem(miss, 401, "invalid_code", **INVALID_CODE)
    late = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert_problem(late, 401, "invalid_code", **INVALID_CODE)
    # A new code works again.
    ask(app)
    fresh = mailbox.code("ann@example.com")
    ok = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": fresh})
    assert ok.status_code == 200


def test_a_code_expires_after_ten_minutes(
    app: Flask, ann: None, mailbox: Mailbox, clock: Any
) -> None:
    ask(app)
    code = mailbox.code("ann@example.com")
    clock.advance(10 * 60)
    late = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert_problem(late, 401, "invalid_code", **INVALID_CODE)


def test_a_new_request_replaces_the_old_code(app: Flask, ann: None, mailbox: Mailbox) -> None:
    ask(app)
    first = mailbox.code("ann@example.com")
    ask(app)
    second = mailbox.code("ann@example.com")
    if first != second:  # one chance in a million that the new code is the same
        old = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": first})
        assert_problem(old, 401, "invalid_code", **INVALID_CODE)
    ok = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": second})
    assert ok.status_code == 200


def test_a_code_is_bound_to_its_account(app: Flask, ann: None, mailbox: Mailbox) -> None:
    register(app.test_client(), "bob@example.com", "bob")
    ask(app, "bob")
    bobs = mailbox.code("bob@example.com")
    ask(app, "ann")
    as_ann = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": bobs})
    if bobs != mailbox.code("ann@example.com"):
        assert_problem(as_ann, 401, "invalid_code", **INVALID_CODE)
    unknown = post(app.test_client(), "/api/auth/code/verify", {"identity": "nobody", "code": bobs})
    assert_problem(unknown, 401, "invalid_code", **INVALID_CODE)


def test_the_code_must_be_six_digits(app: Flask) -> None:
    answer = post(app.test_client(), "/api/auth/code/verify", {"identity": "ann", "code": "12345"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json["errors"]] == ["code"]


def test_code_requests_are_rate_limited_per_identity(app: Flask, ann: None) -> None:
    answers = [ask(app).status_code for _ in range(6)]
    assert answers == [202] * 5 + [429]
    assert ask(app, "someone-else").status_code == 202
