"""Queueing mail: rendered from templates, written with the request's unit of work, never sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from flask_bastion import csrf_exempt, current_bastion
from flask_bastion.errors import BastionError
from flask_bastion.mail import enqueue, render
from flask_bastion.models import OutboxMessage
from flask_bastion.views.context import flow_context
from tests.conftest import AppFactory


class Refused(BastionError):
    status = 409
    code = "refused_after_mail"
    detail = "Refused after queueing a mail."


def add_mail_views(app: Flask) -> None:
    """Two views that queue a mail: one succeeds, one fails after queueing."""

    @csrf_exempt
    def queue_ok() -> ResponseReturnValue:
        message = enqueue(
            flow_context(),
            to="ada@example.com",
            template="test_message",
            context={"name": "Ada", "link": "http://localhost/x?a=1&b=2"},
        )
        return jsonify(template=message.template)

    @csrf_exempt
    def queue_then_fail() -> ResponseReturnValue:
        enqueue(
            flow_context(),
            to="ada@example.com",
            template="test_message",
            context={"name": "Ada", "link": "http://localhost/x"},
        )
        raise Refused()

    app.add_url_rule("/t/queue", view_func=queue_ok, methods=["POST"])
    app.add_url_rule("/t/fail", view_func=queue_then_fail, methods=["POST"])


def outbox(app: Flask) -> list[OutboxMessage]:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_mail_is_queued_with_the_request_that_caused_it(app: Flask) -> None:
    add_mail_views(app)
    answer = app.test_client().post("/t/queue")
    assert answer.status_code == 200, answer.json
    (message,) = outbox(app)
    assert message.to_address == "ada@example.com"
    assert message.template == "test_message"
    assert message.status == "queued"
    assert message.attempts == 0
    assert message.sent_at is None
    assert message.next_attempt_at == message.created_at
    assert message.subject == "Newsroom: a test message for Ada"
    assert message.message_id.startswith("<") and message.message_id.endswith("@localhost>")


def test_a_mail_rolls_back_with_the_request_that_failed(app: Flask) -> None:
    add_mail_views(app)
    answer = app.test_client().post("/t/fail")
    assert answer.status_code == 409
    assert answer.json is not None and answer.json["code"] == "refused_after_mail"
    assert outbox(app) == []


def test_outside_a_request_the_unit_of_work_decides(app: Flask) -> None:
    from flask_bastion import clock
    from flask_bastion.flows.context import command_context

    with app.app_context():
        state = current_bastion()
        with pytest.raises(RuntimeError), state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=clock.now())
            enqueue(ctx, to="a@example.com", template="test_message", context={"name": "A"})
            raise RuntimeError("the change failed")
        with state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=clock.now())
            enqueue(ctx, to="b@example.com", template="test_message", context={"name": "B"})
        with state.db.unit_of_work() as db:
            assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
            assert db.scalar(select(OutboxMessage.to_address)) == "b@example.com"


def test_text_is_plain_and_html_is_escaped(app: Flask) -> None:
    with app.app_context():
        mail = render(
            current_bastion().settings,
            "test_message",
            {"name": "<b>Ada</b> & co", "link": "http://localhost/confirm?a=1&b=2"},
        )
    assert mail.subject == "Newsroom: a test message for <b>Ada</b> & co"
    assert "Hello <b>Ada</b> & co," in mail.text
    assert "http://localhost/confirm?a=1&b=2\n" in mail.text
    assert "Hello &lt;b&gt;Ada&lt;/b&gt; &amp; co," in mail.html
    assert '<a href="http://localhost/confirm?a=1&amp;b=2"' in mail.html
    assert "<b>Ada</b>" not in mail.html
    # The layout wraps the part: the app name and the public URL come from the defaults.
    assert "<title>Newsroom</title>" in mail.html
    assert "This mail was sent by Newsroom (http://localhost)." in mail.html


def test_the_subject_is_one_line_whatever_the_template(app: Flask) -> None:
    with app.app_context():
        mail = render(current_bastion().settings, "test_message", {"name": "Ada\r\nBcc: x@y"})
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.subject == "Newsroom: a test message for Ada Bcc: x@y"


def test_a_recipient_with_a_line_break_is_refused(app: Flask) -> None:
    from flask_bastion import clock
    from flask_bastion.flows.context import command_context

    with app.app_context():
        state = current_bastion()
        with pytest.raises(ValueError, match="one line"), state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=clock.now())
            enqueue(
                ctx,
                to="a@example.com\r\nBcc: b@example.com",
                template="test_message",
                context={"name": "A"},
            )


@pytest.mark.parametrize("name", ["../secret", "a/b", "Test", "", "x" * 65])
def test_a_template_name_is_never_a_path(app: Flask, name: str) -> None:
    with app.app_context(), pytest.raises(ValueError, match="not a mail template name"):
        render(current_bastion().settings, name, {})


@pytest.mark.minimal_app
def test_the_app_name_and_sender_default_to_the_public_host(app: Flask) -> None:
    with app.app_context():
        settings = current_bastion().settings
        mail = render(settings, "test_message", {"name": "Ada", "link": "x"})
    assert settings.sender_address == "no-reply@localhost"
    assert mail.subject == "localhost: a test message for Ada"


def test_the_app_name_and_sender_are_settings(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_MAIL_APP_NAME="Newsroom", BASTION_MAIL_FROM="desk@news.example")
    with app.app_context():
        settings = current_bastion().settings
        mail = render(settings, "test_message", {"name": "Ada", "link": "x"})
    assert settings.sender_address == "desk@news.example"
    assert mail.subject == "Newsroom: a test message for Ada"


def test_an_app_overrides_a_mail_template_by_its_path(
    app_factory: AppFactory, tmp_path: Path
) -> None:
    app = app_factory()
    folder = tmp_path / "templates" / "bastion" / "mail"
    folder.mkdir(parents=True)
    (folder / "test_message.subject.txt").write_text("Ours, for {{ name }}")
    app.template_folder = str(tmp_path / "templates")
    app.__dict__.pop("jinja_loader", None)  # a cached property: read the new folder
    with app.app_context():
        mail = render(current_bastion().settings, "test_message", {"name": "Ada", "link": "x"})
    assert mail.subject == "Ours, for Ada"
    assert "Hello Ada," in mail.text  # the parts it does not override stay the library's
