"""`/dev/mail`: the outbox as a page in development, with clickable links; 404 in production."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from flask_bastion import clock, current_bastion
from flask_bastion.flows.context import command_context
from flask_bastion.mail import enqueue
from flask_bastion.mail.viewer import BODY_CSP, PAGE_CSP, linked
from tests.conftest import AppFactory
from tests.problems import assert_problem, problem
from tests.test_mail_sender import queue

NOT_FOUND = problem(404, "not_found", "Nothing is found at this address.")


def test_the_viewer_lists_the_outbox_newest_first_with_clickable_links(app: Flask) -> None:
    first, second = queue(app, 2)
    answer = app.test_client().get("/dev/mail")
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert answer.headers["Content-Security-Policy"] == PAGE_CSP
    assert answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    assert "<script" not in page
    assert page.index("a test message for Ada 1") < page.index("a test message for Ada 0")
    assert "<dd>ada@example.com</dd>" in page
    assert "<dd>queued</dd>" in page
    assert "is not set, so nothing is sent" not in page  # the test config has a MAIL_URL
    # The text part, escaped, with its links as anchors.
    assert (
        '<a href="http://localhost/mail/0?a=1&amp;b=2">http://localhost/mail/0?a=1&amp;b=2</a>'
        in page
    )
    # The HTML part in a sandboxed frame of its own.
    assert (
        f'src="/dev/mail/{second}/html" sandbox="allow-popups allow-popups-to-escape-sandbox"'
        in page
    )
    assert page.index(f'src="/dev/mail/{second}/html"') < page.index(
        f'src="/dev/mail/{first}/html"'
    )
    assert re.search(r'<time datetime="[^"]+">[^<]+ UTC</time>', page)


def test_without_a_mail_url_the_page_says_nothing_is_sent(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_MAIL_URL=None)
    empty = app.test_client().get("/dev/mail").get_data(as_text=True)
    assert "No mail yet." in empty
    assert "is not set, so nothing is sent" in empty


def test_a_mail_body_is_served_sandboxed_for_the_frame(app: Flask) -> None:
    (message_id,) = queue(app)
    answer = app.test_client().get(f"/dev/mail/{message_id}/html")
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == BODY_CSP
    assert "sandbox allow-popups" in BODY_CSP and "script-src" not in BODY_CSP
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = answer.get_data(as_text=True)
    assert body.startswith('<base target="_blank"><!doctype html>')
    assert '<a href="http://localhost/mail/0?a=1&amp;b=2"' in body
    assert app.test_client().get(f"/dev/mail/{message_id + 1}/html").status_code == 404


def test_what_a_mail_says_cannot_become_markup_on_the_page(app: Flask) -> None:
    with app.app_context():
        state = current_bastion()
        with state.db.unit_of_work() as db:
            enqueue(
                command_context(state, db, now=clock.now()),
                to="ada@example.com",
                template="test_message",
                context={"name": "<script>alert(1)</script>", "link": "javascript:alert(1)"},
            )
    page = app.test_client().get("/dev/mail").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_links_are_found_in_text_without_their_punctuation() -> None:
    assert str(linked("See http://a.test/x?y=1&z=2. Then <b>.")) == (
        'See <a href="http://a.test/x?y=1&amp;z=2">http://a.test/x?y=1&amp;z=2</a>. Then &lt;b&gt;.'
    )


@pytest.mark.parametrize("path", ["/dev/mail", "/dev/mail/1/html"])
def test_outside_development_there_is_no_viewer(app_factory: AppFactory, path: str) -> None:
    app = app_factory(
        BASTION_ENV="production",
        BASTION_ARGON2_TIME_COST=2,
        BASTION_ARGON2_MEMORY_COST=19 * 1024,
    )
    queue(app)
    assert_problem(app.test_client().get(path), NOT_FOUND)
    # Control: the same request in development finds the page.
    assert app_factory().test_client().get(path).status_code == 200
