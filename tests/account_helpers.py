"""The account tests' common parts: an app that mails through a real SMTP server, and a mailbox
that delivers the outbox in-process and reads links and codes out of what arrived.

Its fixtures (``mailbox``, ``ann``) reach every test module through ``pytest_plugins`` in
``tests/conftest.py``; a module that uses them points its ``app_config`` at ``smtp_server.url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from flask_bastion import current_bastion
from flask_bastion.models import User
from tests.smtp import SmtpServer, code_in, deliver_outbox, links_in

PASSWORD = "a-long-test-passphrase"
NEW_PASSWORD = "another-long-passphrase"
ACCEPTED = {
    "confirmation_sent": {"status": "confirmation_sent"},
    "reset_sent": {"status": "reset_sent"},
    "code_sent": {"status": "code_sent"},
    "email_change_sent": {"status": "email_change_sent"},
}


@dataclass
class Mailbox:
    """What the SMTP server received from one app, read as a person reads their mail."""

    app: Flask
    server: SmtpServer

    def deliver(self) -> list[EmailMessage]:
        with self.app.app_context():
            deliver_outbox(self.app)
        return list(self.server.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail delivered so far to ``address``, oldest first."""
        return [m for m in self.deliver() if m["To"] == address]

    def last(self, address: str) -> EmailMessage:
        mails = self.to(address)
        assert mails, f"no mail to {address}"
        return mails[-1]

    def link(self, address: str, contains: str = "/api/auth/") -> str:
        """The link of the newest mail to ``address`` that points at ``contains``."""
        found = [u for u in links_in(self.last(address)) if contains in u]
        assert found, f"no {contains} link in the last mail to {address}"
        return found[0]

    def code(self, address: str) -> str:
        return code_in(self.last(address))


def path_of(url: str) -> str:
    """The path of a mailed link, to open with the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def csrf(client: FlaskClient) -> dict[str, str]:
    client.get("/api/auth/session")
    cookie = client.get_cookie("XSRF-TOKEN")
    assert cookie is not None
    return {"X-XSRF-TOKEN": cookie.value}


def post(client: FlaskClient, path: str, body: Any) -> Any:
    """A browser's unsafe request: the CSRF token echoed, cookies kept."""
    return client.post(path, json=body, headers=csrf(client))


def register(client: FlaskClient, email: str, username: str, password: str = PASSWORD) -> Any:
    return post(
        client,
        "/api/auth/register",
        {"email": email, "username": username, "password": password},
    )


def user_row(app: Flask, username: str) -> User:
    with app.app_context(), current_bastion().db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username_key == username)).one()
        session.expunge(user)
        return user


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpServer) -> Mailbox:
    """The outbox of ``app`` delivered to ``smtp_server``, read back."""
    return Mailbox(app, smtp_server)


@pytest.fixture
def ann(app: Flask) -> None:
    """An account, ann@example.com / ann, registered through the API."""
    assert register(app.test_client(), "ann@example.com", "ann").status_code == 201
