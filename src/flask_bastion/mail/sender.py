"""Delivering the outbox: claim due rows, send each over SMTP, record each outcome at once.

**Claiming.** One short transaction moves up to ``batch`` due rows to ``sending``, stamps them
with this pass's claim token and a lease (``claimed_until``), and commits. On PostgreSQL the
rows are picked with ``SELECT ... FOR UPDATE SKIP LOCKED``: two senders (two instances, or
``newsroom mail send`` from cron next to a server) never pick the same row, and neither waits
for the other. SQLite has one writer at a time, so there the claim is one atomic ``UPDATE``.
No transaction stays open while we talk to the mail server.

**Sending once.** Each message is marked ``sent`` in its own transaction right after the server
has accepted its DATA, so what can repeat a message is only a crash (or a lost database) in the
moment between the server's "250" and that commit: then the lease runs out, the row is due
again, and it is sent a second time (with the same ``Message-ID``). Exactly-once is impossible
over SMTP (the server's acceptance and our commit cannot be one transaction); this keeps the
window to one round trip to the database. Nothing is ever lost: a row leaves ``queued`` or
``sending`` only as ``sent`` or ``failed``.

**Failures.** A temporary failure (the server is down, 4xx) puts the row back with exponential
backoff: 10 s, 20 s, 40 s, ... at most an hour, for ``BASTION_MAIL_RETRY_FOR`` (24 h), then
``failed``. A permanent refusal (5xx to this message) is ``failed`` at once. Failed rows are
kept, with the last error, for ``mail status``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from .. import clock, metrics
from ..config import Settings
from ..db import Database, rowcount
from ..models import OutboxMessage
from .transport import DeliveryError, SmtpTransport, compose
from .url import MailServer, parse_mail_url

log = logging.getLogger("flask_bastion.mail")

BATCH = 20
# How long a claim holds. A sender that died mid-pass leaves its rows to others after this; a
# live one stops offering messages well before it runs out (see Sender._lease_left).
LEASE = timedelta(minutes=5)
FIRST_RETRY = 10  # seconds: "the first retry within 15 seconds"
MAX_BACKOFF = 3600


class MailNotConfigured(RuntimeError):
    """There is no ``BASTION_MAIL_URL``: nothing can be sent (development keeps the outbox)."""


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 10 s, 20 s, 40 s, ... at most 1 h."""
    return timedelta(seconds=min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


@dataclass
class PassResult:
    """What one pass over the outbox did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but not tried (the lease was running out): due again at once


def sender_name() -> str:
    """This process, for ``claimed_by``: host and pid (a claim adds a random suffix)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}"


class Sender:
    """Delivers the outbox of one database to one SMTP server, a pass at a time.

    Build one per process (or thread) with :meth:`for_settings`; :meth:`run_once` claims and
    sends one batch. Safe to run alongside other senders on the same database.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        server: MailServer,
        *,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.server = server
        self.batch = batch
        self.lease = lease
        self.name = name or sender_name()
        self.transport = SmtpTransport(
            server, timeout=settings.mail_timeout, ca_file=settings.mail_ca_file
        )

    @classmethod
    def for_settings(
        cls,
        db: Database,
        settings: Settings,
        *,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        name: str | None = None,
    ) -> Sender:
        """A sender to ``BASTION_MAIL_URL``; :class:`MailNotConfigured` when it is not set."""
        if not settings.mail_url:
            raise MailNotConfigured(
                "BASTION_MAIL_URL (newsroom: MAIL_URL) is not set: there is no server to send to."
            )
        server = parse_mail_url(settings.mail_url)
        return cls(db, settings, server, batch=batch, lease=lease, name=name)

    # ---- claiming ----------------------------------------------------------------------------

    def claim(self, now: datetime) -> list[OutboxMessage]:
        """Move up to ``batch`` due rows to ``sending`` under a fresh claim token; return them."""
        token = f"{self.name}:{secrets.token_hex(4)}"[-64:]
        due = or_(
            and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
            # A claim whose lease ran out: its sender died (or lost the database) mid-pass.
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until <= now),
        )
        pick = (
            select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.batch)
        )
        claimed = {
            "status": "sending",
            "claimed_by": token,
            "claimed_until": now + self.lease,
            "attempts": OutboxMessage.attempts + 1,
        }
        with self.db.unit_of_work() as session:
            if self.db.engine.dialect.name == "postgresql":
                # Rows another sender holds are skipped, not waited for: it is sending them.
                ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
                if not ids:
                    return []
                session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**claimed),
                    execution_options={"synchronize_session": False},
                )
            else:
                # SQLite: one statement is one write under the database's single write lock.
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(pick.scalar_subquery()))
                    .values(**claimed),
                    execution_options={"synchronize_session": False},
                )
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.claimed_by == token)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            )
            return list(rows)

    # ---- sending -----------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> PassResult:
        """Claim one batch and send it; every claimed row ends sent, rescheduled or failed.

        When ``stop`` is set mid-pass, the message being sent finishes and the rest are handed
        back, due at once for the next sender.
        """
        result = PassResult()
        claimed = self.claim(clock.now())
        result.claimed = len(claimed)
        if not claimed:
            return result
        started = time.monotonic()
        try:
            for position, message in enumerate(claimed):
                if self._lease_left(started) <= 0 or (stop is not None and stop.is_set()):
                    result.released += self._release(claimed[position:])
                    break
                try:
                    self.transport.send(compose(message, self.settings.sender_address))
                except DeliveryError as error:
                    if error.connection:  # nothing can go out now: the rest wait alike
                        for waiting in claimed[position:]:
                            self._record_failure(waiting, error, result)
                        break
                    self._record_failure(message, error, result)
                else:
                    self._mark_sent(message)
                    result.sent += 1
        finally:
            self.transport.close()
        return result

    def depth(self) -> int:
        """How many messages wait to be sent (queued or being sent), for the metrics."""
        with self.db.unit_of_work() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("queued", "sending")))
                )
                or 0
            )

    def _lease_left(self, started: float) -> float:
        # Stop offering messages while a slow server could still take a whole message's worth
        # of timeouts before the lease ends.
        margin = longest_send(self.settings.mail_timeout)
        return self.lease.total_seconds() - (time.monotonic() - started) - margin

    def _mark_sent(self, message: OutboxMessage) -> None:
        now = clock.now()
        done = self._finish(
            message,
            status="sent",
            sent_at=now,
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )
        if not done:  # our lease ran out and another sender took the row: it may send it too
            log.warning("mail %s was sent after its claim expired", message.id)

    def _record_failure(
        self, message: OutboxMessage, error: DeliveryError, result: PassResult
    ) -> None:
        now = clock.now()
        retry_for = timedelta(seconds=self.settings.mail_retry_for)
        if error.permanent or now - message.created_at >= retry_for:
            self._finish(
                message,
                status="failed",
                last_error=str(error),
                claimed_by=None,
                claimed_until=None,
            )
            result.failed += 1
            metrics.outbox_send_failed()
            log.error("mail %s (%s) failed: %s", message.id, message.template, error)
            return
        self._finish(
            message,
            status="queued",
            next_attempt_at=now + backoff(message.attempts),
            last_error=str(error),
            claimed_by=None,
            claimed_until=None,
        )
        result.retrying += 1
        metrics.outbox_send_failed()
        log.warning("mail %s (%s) will be retried: %s", message.id, message.template, error)

    def _release(self, messages: list[OutboxMessage]) -> int:
        """Hand back rows this pass claimed but did not try: due again, the attempt not counted."""
        for message in messages:
            self._finish(
                message,
                status="queued",
                attempts=message.attempts - 1,
                claimed_by=None,
                claimed_until=None,
            )
        return len(messages)

    def _finish(self, message: OutboxMessage, **values: object) -> bool:
        """Record a row's outcome, if this pass still holds its claim (its own transaction)."""
        with self.db.unit_of_work() as session:
            done = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message.id,
                    OutboxMessage.claimed_by == message.claimed_by,
                )
                .values(**values),
                execution_options={"synchronize_session": False},
            )
            return rowcount(done) == 1


def longest_send(mail_timeout: int) -> int:
    """Seconds one message may take on a slow server: connect, MAIL, RCPT and DATA may each take
    ``mail_timeout`` (``BASTION_MAIL_TIMEOUT`` bounds each step, not the message), plus 5."""
    return 4 * mail_timeout + 5
