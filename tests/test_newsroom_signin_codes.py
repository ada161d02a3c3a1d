"""The server-rendered pages without JavaScript: "forgot password" from /login, and signing in
with an emailed code; both answer the same whether or not the account exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.account_helpers import Mailbox
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found is not None
    return found.group(1)


def test_the_login_page_links_to_forgot_password_and_offers_a_code(client: FlaskClient) -> None:
    html = client.get("/login").text
    wording = json.loads((ROOT / "web" / "src" / "signin-wording.json").read_text())
    assert f'<a href="/forgot-password">{wording["forgot_password"]}</a>' in html
    assert '<a href="/login/code?next=/app/">Sign in with a code sent by email</a>' in html
    form = client.get("/login/code").text
    assert 'action="/login/code"' in form
    assert 'name="identity"' in form and 'name="code"' not in form


def test_forgot_password_without_javascript(
    app: Flask, client: FlaskClient, ann: None, mailbox: Mailbox
) -> None:
    page = client.get("/forgot-password")
    assert page.status_code == 200
    token = form_token(page.text)
    answers = [
        client.post("/forgot-password", data={"email": email, "csrf_token": token})
        for email in ("ann@example.com", "nobody@example.com")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    notice = "If an account has this address, we mailed it a link to choose a new password."
    assert all(notice in a.text for a in answers)
    assert TOKEN.sub("", answers[0].text) == TOKEN.sub("", answers[1].text)
    assert "/api/auth/password/reset/" in mailbox.link("ann@example.com", "/password/reset/")
    assert [m["To"] for m in mailbox.deliver()].count("ann@example.com") == 2  # confirm + reset


def test_a_forged_forgot_form_is_refused(client: FlaskClient) -> None:
    client.get("/forgot-password")
    answer = client.post("/forgot-password", data={"email": "ann@example.com"})
    assert answer.status_code == 403


def test_sign_in_with_a_code_without_javascript(
    app: Flask, client: FlaskClient, ann: None, mailbox: Mailbox
) -> None:
    token = form_token(client.get("/login/code?next=/app/articles").text)
    asked = client.post(
        "/login/code", data={"identity": "ann", "csrf_token": token, "next": "/app/articles"}
    )
    assert asked.status_code == 200
    assert "If an account matches, we mailed it a six-digit code." in asked.text
    unknown = client.post("/login/code", data={"identity": "nobody", "csrf_token": token})
    assert unknown.status_code == 200
    assert "If an account matches, we mailed it a six-digit code." in unknown.text

    code = mailbox.code("ann@example.com")
    token = form_token(asked.text)
    wrong = client.post(
        "/login/code",
        data={"identity": "ann", "code": f"{(int(code) + 1) % 10**6:06d}", "csrf_token": token},
    )
    assert wrong.status_code == 401
    assert "The code is wrong or has expired." in wrong.text
    done = client.post(
        "/login/code",
        data={"identity": "ann", "code": code, "csrf_token": token, "next": "/app/articles"},
    )
    assert done.status_code == 303
    assert done.headers["Location"] == "/app/articles"
    assert client.get("/api/auth/session").json["user"]["username"] == "ann"


def test_code_forms_refuse_non_forms(client: FlaskClient) -> None:
    client.get("/login")
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    answer = client.post(
        "/login/code", json={"identity": "ann"}, headers={"X-XSRF-TOKEN": cookie.value}
    )
    assert answer.status_code == 415
