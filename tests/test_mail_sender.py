"""Delivering the outbox to a real SMTP server (aiosmtpd): TLS, retries, refusals, two senders."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_bastion import current_bastion
from flask_bastion.db import Database
from flask_bastion.flows.context import command_context
from flask_bastion.mail import MailWorker, Sender, backoff, enqueue
from flask_bastion.models import OutboxMessage
from flask_bastion.testing import Clock
from tests.conftest import ON_POSTGRES, AppFactory
from tests.smtp import (
    SMTP_PASSWORD,
    SMTP_USER,
    Certificate,
    SmtpServer,
    html_of,
    links_in,
    text_of,
)


def queue(app: Flask, count: int = 1, *, to: str = "ada@example.com") -> list[int]:
    """Queue ``count`` test mails, committed as a request's unit of work would be."""
    from flask_bastion import clock

    with app.app_context():
        state = current_bastion()
        with state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=clock.now())
            rows = [
                enqueue(
                    ctx,
                    to=to,
                    template="test_message",
                    context={"name": f"Ada {n}", "link": f"http://localhost/mail/{n}?a=1&b=2"},
                )
                for n in range(count)
            ]
            db.flush()
            return [row.id for row in rows]


def rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sender_for(app: Flask, **options: Any) -> Sender:
    state = app.extensions["bastion"]
    return Sender.for_settings(state.db, state.settings, **options)


@pytest.fixture
def mail_app(app_factory: AppFactory, smtp_server: SmtpServer) -> Flask:
    return app_factory(BASTION_MAIL_URL=smtp_server.url, BASTION_MAIL_FROM="desk@news.example")


# ---- delivery ------------------------------------------------------------------------------------


def test_queued_mail_is_delivered_once_with_both_parts(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    ids = queue(mail_app, 2)
    sender = sender_for(mail_app)
    assert sender.depth() == 2  # what the outbox-depth metric reports after a pass
    result = sender.run_once()
    assert (result.claimed, result.sent, result.retrying, result.failed) == (2, 2, 0, 0)
    assert sender.depth() == 0

    first, second = smtp_server.wait_for(2)
    stored = rows(mail_app)
    assert [r.id for r in stored] == ids
    assert [r.status for r in stored] == ["sent", "sent"]
    assert all(r.sent_at is not None and r.claimed_by is None for r in stored)
    assert first["From"] == "desk@news.example"
    assert first["To"] == "ada@example.com"
    assert first["Subject"] == "Newsroom: a test message for Ada 0"
    assert first["Message-ID"] == stored[0].message_id
    assert first["Auto-Submitted"] == "auto-generated"
    assert first.get_content_type() == "multipart/alternative"
    assert links_in(first) == ["http://localhost/mail/0?a=1&b=2", "http://localhost"]
    assert "Hello Ada 0," in text_of(first)
    assert '<a href="http://localhost/mail/0?a=1&amp;b=2"' in html_of(first)
    assert second["Subject"] == "Newsroom: a test message for Ada 1"
    assert smtp_server.handler.envelopes == [
        ("desk@news.example", ["ada@example.com"]),
        ("desk@news.example", ["ada@example.com"]),
    ]
    # Nothing is left to send, and a second pass sends nothing again.
    assert sender_for(mail_app).run_once().claimed == 0
    assert len(smtp_server.messages) == 2


def test_starttls_with_credentials(
    app_factory: AppFactory, starttls_server: SmtpServer, tls_certificate: Certificate
) -> None:
    app = app_factory(
        BASTION_MAIL_URL=starttls_server.url, BASTION_MAIL_CA_FILE=str(tls_certificate.cert)
    )
    assert "p%40ss%3Aw%2Frd%25" in starttls_server.url  # the password travels percent-encoded
    queue(app)
    assert sender_for(app).run_once().sent == 1
    (message,) = starttls_server.wait_for(1)
    assert message["To"] == "ada@example.com"
    assert starttls_server.handler.logins == [(SMTP_USER, SMTP_PASSWORD)]  # decoded
    assert [r.status for r in rows(app)] == ["sent"]


def test_smtps_with_credentials(
    app_factory: AppFactory, smtps_server: SmtpServer, tls_certificate: Certificate
) -> None:
    app = app_factory(
        BASTION_MAIL_URL=smtps_server.url, BASTION_MAIL_CA_FILE=str(tls_certificate.cert)
    )
    queue(app)
    assert sender_for(app).run_once().sent == 1
    assert len(smtps_server.wait_for(1)) == 1
    assert smtps_server.handler.logins == [(SMTP_USER, SMTP_PASSWORD)]


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_a_certificate_nobody_vouches_for_is_refused(
    app_factory: AppFactory, tls_certificate: Certificate, mode: str
) -> None:
    server = SmtpServer(mode=mode, certificate=tls_certificate)
    server.start()
    try:
        app = app_factory(BASTION_MAIL_URL=server.url)  # no CA file: the system's CAs only
        queue(app)
        result = sender_for(app).run_once()
    finally:
        server.stop()
    assert (result.sent, result.retrying) == (0, 1)
    (row,) = rows(app)
    assert row.status == "queued"
    assert row.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert server.messages == [] and server.handler.logins == []


def test_starttls_is_required_never_skipped(
    app_factory: AppFactory, smtp_server: SmtpServer
) -> None:
    # A plain server (or an attacker stripping STARTTLS from the greeting) gets no credentials.
    app = app_factory(BASTION_MAIL_URL=f"smtp+starttls://u:p@127.0.0.1:{smtp_server.port}")
    queue(app)
    assert sender_for(app).run_once().retrying == 1
    (row,) = rows(app)
    assert row.status == "queued"
    assert row.last_error is not None and "STARTTLS" in row.last_error
    assert smtp_server.messages == []


# ---- failures ------------------------------------------------------------------------------------


def test_backoff_starts_within_15_seconds_and_doubles_up_to_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 12)]
    assert waits[:5] == [10, 20, 40, 80, 160]
    assert waits[0] <= 15
    assert max(waits) == 3600
    assert waits == sorted(waits)


def test_smtp_down_then_up_retries_on_schedule_and_loses_nothing(
    mail_app: Flask, smtp_server: SmtpServer, clock: Clock
) -> None:
    smtp_server.stop()
    queue(mail_app, 3)
    sender = sender_for(mail_app)

    first = sender.run_once()
    assert (first.claimed, first.retrying, first.sent) == (3, 3, 0)
    stored = rows(mail_app)
    assert {r.status for r in stored} == {"queued"}
    assert {r.attempts for r in stored} == {1}
    assert all(r.next_attempt_at - clock.current <= timedelta(seconds=15) for r in stored)
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in stored)

    assert sender.run_once().claimed == 0  # not due yet
    clock.advance(10)
    second = sender.run_once()
    assert (second.claimed, second.retrying) == (3, 3)
    stored = rows(mail_app)
    assert {r.attempts for r in stored} == {2}
    assert {r.next_attempt_at - clock.current for r in stored} == {timedelta(seconds=20)}

    smtp_server.start()  # the server is back, on the same port
    clock.advance(19)
    assert sender.run_once().claimed == 0
    clock.advance(1)
    assert sender.run_once().sent == 3
    assert len(smtp_server.wait_for(3)) == 3
    stored = rows(mail_app)
    assert {r.status for r in stored} == {"sent"}
    assert {r.last_error for r in stored} == {None}
    assert sorted(m["Message-ID"] for m in smtp_server.messages) == sorted(
        r.message_id for r in stored
    )


def test_a_temporary_refusal_is_retried_for_a_day_then_failed_and_kept(
    mail_app: Flask, smtp_server: SmtpServer, clock: Clock
) -> None:
    smtp_server.fail_with = "451 4.3.0 try again later"
    queue(mail_app)
    sender = sender_for(mail_app)
    attempts = 0
    start = clock.current
    while True:
        result = sender.run_once()
        attempts += result.claimed
        if result.failed:
            break
        assert result.retrying == 1
        (row,) = rows(mail_app)
        clock.set(row.next_attempt_at)
    (row,) = rows(mail_app)
    assert row.status == "failed"
    assert row.last_error == "refused: 451 4.3.0 try again later"
    assert clock.current - start >= timedelta(hours=24)
    assert clock.current - start < timedelta(hours=25)
    assert row.attempts == attempts > 20
    assert smtp_server.messages == []
    clock.advance(7 * 24 * 3600)
    assert sender.run_once().claimed == 0  # failed is final, and kept


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [
        ({"refuse": {"nobody@example.com": "550 5.1.1 no such user"}}, "550 5.1.1 no such user"),
        ({"fail_with": "554 5.7.1 message rejected"}, "554 5.7.1 message rejected"),
    ],
)
def test_a_permanent_refusal_fails_at_once_and_the_rest_still_go(
    mail_app: Flask, smtp_server: SmtpServer, refusal: dict[str, Any], expected: str
) -> None:
    if "refuse" in refusal:
        smtp_server.refuse.update(refusal["refuse"])
    queue(mail_app, to="nobody@example.com")
    if "fail_with" in refusal:
        smtp_server.fail_with = refusal["fail_with"]
    result = sender_for(mail_app).run_once()
    assert (result.failed, result.retrying) == (1, 0)
    (row,) = rows(mail_app)
    assert row.status == "failed"
    assert row.last_error is not None and expected in row.last_error
    assert row.attempts == 1

    smtp_server.fail_with = None
    queue(mail_app, to="ada@example.com")
    assert sender_for(mail_app).run_once().sent == 1
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["ada@example.com"]


def test_a_claim_whose_sender_died_is_sent_after_its_lease(
    mail_app: Flask, smtp_server: SmtpServer, clock: Clock
) -> None:
    queue(mail_app)
    crashed = sender_for(mail_app, name="crashed")
    (claimed,) = crashed.claim(clock.current)  # ... and the process dies before sending
    assert claimed.status == "sending" and claimed.claimed_by.startswith("crashed:")  # type: ignore[union-attr]

    other = sender_for(mail_app)
    assert other.run_once().claimed == 0  # held by the (dead) sender's lease
    clock.advance(crashed.lease.total_seconds())
    assert other.run_once().sent == 1
    (row,) = rows(mail_app)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp_server.wait_for(1)) == 1


def test_a_stop_mid_pass_hands_the_rest_back(mail_app: Flask, smtp_server: SmtpServer) -> None:
    queue(mail_app, 3)
    stop = threading.Event()
    sender = sender_for(mail_app)
    original = sender.transport.send

    def send_then_stop(mail: Any) -> None:
        original(mail)
        stop.set()  # asked to stop while the first message was going out

    sender.transport.send = send_then_stop  # type: ignore[method-assign]
    result = sender.run_once(stop)
    assert (result.claimed, result.sent, result.released) == (3, 1, 2)
    assert [(r.status, r.attempts) for r in rows(mail_app)] == [
        ("sent", 1),
        ("queued", 0),
        ("queued", 0),
    ]
    assert sender_for(mail_app).run_once().sent == 2


# ---- two senders ---------------------------------------------------------------------------------


@pytest.fixture
def second_database(mail_app: Flask) -> Iterator[Database]:
    """Another instance's connection pool on the same database."""
    database = Database(mail_app.extensions["bastion"].settings.database_url)
    yield database
    database.engine.dispose()


@pytest.mark.postgres
def test_skip_locked_gives_two_senders_different_rows(
    mail_app: Flask, second_database: Database, clock: Clock
) -> None:
    queue(mail_app, 4)
    settings = mail_app.extensions["bastion"].settings
    one = sender_for(mail_app, batch=2)
    other = Sender.for_settings(second_database, settings, batch=10)
    # The first sender's claim transaction is still open (its rows locked) when the second
    # claims: the second skips them instead of waiting, and takes the rest.
    with one.db.unit_of_work() as holding:
        locked = list(
            holding.scalars(
                select(OutboxMessage.id)
                .order_by(OutboxMessage.id)
                .limit(2)
                .with_for_update(skip_locked=True)
            )
        )
        started = time.monotonic()
        taken = [m.id for m in other.claim(clock.current)]
        assert time.monotonic() - started < 2
    assert len(locked) == 2
    assert sorted(taken + locked) == sorted(r.id for r in rows(mail_app))
    assert not set(taken) & set(locked)


def test_two_senders_deliver_each_message_once_through_an_outage(
    mail_app: Flask, smtp_server: SmtpServer, second_database: Database, clock: Clock
) -> None:
    """SMTP down, then up, with two senders (each its own connection pool) running at once."""
    settings = mail_app.extensions["bastion"].settings
    smtp_server.stop()
    workers = [
        MailWorker(sender_for(mail_app, batch=4, name="one"), interval=0.02),
        MailWorker(
            Sender.for_settings(second_database, settings, batch=4, name="two"), interval=0.02
        ),
    ]
    sent_by: dict[str, int] = {"one": 0, "two": 0}
    for worker in workers:
        original = worker.sender.run_once

        def counted(
            stop: Any = None, *, _run: Any = original, _name: str = worker.sender.name
        ) -> Any:
            result = _run(stop)
            sent_by[_name] += result.sent
            return result

        worker.sender.run_once = counted  # type: ignore[method-assign]
    for worker in workers:
        worker.start()
    try:
        ids = queue(mail_app, 12)  # queued while the server is down
        deadline = time.monotonic() + 20
        # Every message tried and put back (none mid-pass: the frozen clock would strand a
        # failure recorded after it moves), none sent.
        while any(r.attempts == 0 or r.status != "queued" for r in rows(mail_app)):
            assert time.monotonic() < deadline, "the senders never tried"
            time.sleep(0.05)
        assert smtp_server.messages == []

        smtp_server.start()
        clock.advance(backoff(1).total_seconds())
        queue(mail_app, 12)  # and more arrive once it is back
        smtp_server.wait_for(24, timeout=30)
        deadline = time.monotonic() + 20
        while {r.status for r in rows(mail_app)} != {"sent"}:
            assert time.monotonic() < deadline, [r.status for r in rows(mail_app)]
            time.sleep(0.05)
        time.sleep(0.3)  # a duplicate would have arrived by now
    finally:
        for worker in workers:
            worker.stop(timeout=10)
    stored = rows(mail_app)
    assert len(ids) == 12 and len(stored) == 24
    delivered = [m["Message-ID"] for m in smtp_server.messages]
    assert len(delivered) == 24
    assert sorted(delivered) == sorted(r.message_id for r in stored)  # each once, none lost
    assert sum(sent_by.values()) == 24
    assert all(not w._thread.is_alive() for w in workers)  # type: ignore[union-attr]
    if ON_POSTGRES:  # both really ran at once, claiming past each other's locks
        assert all(sent_by.values()), sent_by


def test_the_test_kit_delivers_a_whole_outbox_and_reads_codes(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    from flask_bastion import clock
    from tests.smtp import code_in, deliver_outbox

    queue(mail_app, 25)  # more than one batch
    with mail_app.app_context():
        state = current_bastion()
        with state.db.unit_of_work() as db:
            enqueue(
                command_context(state, db, now=clock.now()),
                to="code@example.com",
                template="test_message",
                # A name with six digits in a row, then the code on a line of its own.
                context={
                    "name": "a059340b4a1, your code is:\n\n    048213\n",
                    "link": "http://localhost/1234567",
                },
            )
    assert deliver_outbox(mail_app) == 26
    messages = smtp_server.wait_for(26)
    assert deliver_outbox(mail_app) == 0
    (coded,) = [m for m in messages if m["To"] == "code@example.com"]
    assert code_in(coded) == "048213"  # the line that holds only a code, not the name's digits
