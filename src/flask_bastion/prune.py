"""Housekeeping: delete dead rows in small batches, from a command or a thread in each worker.

Each kind of dead row is one :class:`Step`: a table and the condition that makes a row dead.
Steps run in order, each in batches of at most ``batch`` rows, one short transaction per batch,
walking the table by primary key, so no transaction holds many locks or runs long, and requests
go on meanwhile. A table added later (say, one-time email tokens) is one more line in
:data:`STEPS`::

    Step("email_tokens", _t, lambda now: or_(_t.c.expires_at <= now, _t.c.used_at.is_not(None)))

What is dead:

* a **session** past its absolute expiry or idle for longer than its idle timeout: exactly the
  rule that refuses it at lookup (``sessions._live_principal``), which also deletes the ones it
  finds; pruning catches those nobody presents again;
* a **refresh token** whose session (its rotation family) is dead. A used token of a live
  family is kept, whatever its age: presenting it again is the evidence of a replay that revokes
  the family (``flows/tokens.refresh``). Once the family is gone nothing can be revoked, so its
  tokens go with it (before their session, so the cascade never deletes a large family at once);
* a **one-time token** (a mailed link or sign-in code) past its expiry, used or not. A used one is
  kept until then: a link opened a second time (a mail scanner first) finds it and answers
  "already done" instead of "invalid";
* a **pending second-factor step** (``mfa_challenges``) past its expiry;
* a **sent mail** older than :data:`SENT_MAIL_KEPT`: it was delivered, and is kept a while only for
  ``mail status`` and the development viewer. Queued and failed mails are never pruned;
* a **security event** older than ``BASTION_SECURITY_EVENT_RETENTION`` (default a year; 0 keeps
  them all): past it, the record has served its users and investigations.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app, has_app_context
from sqlalchemy import ColumnElement, Engine, Table, delete, false, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from . import clock
from .config import Settings
from .db import UTCDateTime, rowcount
from .models import (
    AccountToken,
    AuthSession,
    MfaChallenge,
    OutboxMessage,
    PasskeyChallenge,
    RefreshToken,
    SecurityEvent,
)

log = logging.getLogger("flask_bastion.prune")

BATCH = 1000

_s = cast(Table, AuthSession.__table__)
_rt = cast(Table, RefreshToken.__table__)
_at = cast(Table, AccountToken.__table__)
_mail = cast(Table, OutboxMessage.__table__)
_mfa = cast(Table, MfaChallenge.__table__)
_pc = cast(Table, PasskeyChallenge.__table__)
_ev = cast(Table, SecurityEvent.__table__)

SENT_MAIL_KEPT = timedelta(days=30)


class seconds_after(FunctionElement[datetime]):  # noqa: N801 (a SQL function, named like one)
    """``timestamp + seconds`` (an integer column) in SQL, on SQLite and PostgreSQL."""

    type = UTCDateTime()  # binds the compared time as naive UTC, as the columns hold it
    inherit_cache = True
    name = "seconds_after"


@compiles(seconds_after, "postgresql")
def _seconds_after_postgresql(element: seconds_after, compiler: SQLCompiler, **kw: Any) -> str:
    timestamp, seconds = list(element.clauses)
    return (
        f"({compiler.process(timestamp, **kw)}"
        f" + make_interval(secs => {compiler.process(seconds, **kw)}))"
    )


@compiles(seconds_after, "sqlite")
def _seconds_after_sqlite(element: seconds_after, compiler: SQLCompiler, **kw: Any) -> str:
    # Timestamps are stored as 'YYYY-MM-DD HH:MM:SS.ffffff'; %f keeps milliseconds, and a
    # thousandth of a second early is as good as on time for housekeeping.
    timestamp, seconds = list(element.clauses)
    return (
        f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(timestamp, **kw)},"
        f" '+' || {compiler.process(seconds, **kw)} || ' seconds')"
    )


def session_is_dead(now: datetime) -> ColumnElement[bool]:
    """The sessions that lookup would refuse at ``now``: expired, or idle too long."""
    idle_until = seconds_after(_s.c.last_seen_at, _s.c.idle_timeout)
    return or_(_s.c.expires_at <= now, idle_until <= now)


def security_event_is_old(now: datetime) -> ColumnElement[bool]:
    """Events past the current app's retention (its settings: prune runs in an app context)."""
    retention = Settings.security_event_retention
    if has_app_context() and "bastion" in current_app.extensions:
        retention = current_app.extensions["bastion"].settings.security_event_retention
    if retention <= 0:
        return false()  # 0: keep every event
    return _ev.c.occurred_at <= now - timedelta(seconds=retention)


@dataclass(frozen=True)
class Step:
    """One kind of dead row: a table (with a one-column primary key) and what makes a row dead."""

    name: str
    table: Table
    dead: Callable[[datetime], ColumnElement[bool]]


STEPS: Sequence[Step] = (
    # Tokens first: their family's session is still there to say it is dead.
    Step(
        "refresh_tokens",
        _rt,
        lambda now: _rt.c.session_id.in_(select(_s.c.id).where(session_is_dead(now))),
    ),
    Step("sessions", _s, session_is_dead),
    Step("account_tokens", _at, lambda now: _at.c.expires_at <= now),
    Step(
        "mail_outbox",
        _mail,
        lambda now: (_mail.c.status == "sent") & (_mail.c.sent_at <= now - SENT_MAIL_KEPT),
    ),
    # A pending second-factor step past its few minutes can finish nothing.
    Step("mfa_challenges", _mfa, lambda now: _mfa.c.expires_at <= now),
    # A passkey ceremony nobody finished: useless once expired (a finished one is deleted).
    Step("passkey_challenges", _pc, lambda now: _pc.c.expires_at <= now),
    Step("security_events", _ev, security_event_is_old),
)


def prune_step(engine: Engine, step: Step, now: datetime, *, batch: int = BATCH) -> int:
    """Delete the dead rows of one step, ``batch`` at a time; how many went."""
    (pk,) = step.table.primary_key.columns
    total, after = 0, None
    while True:
        with engine.begin() as conn:
            query = select(pk).where(step.dead(now)).order_by(pk).limit(batch)
            if after is not None:
                query = query.where(pk > after)
            ids = list(conn.scalars(query))
            if not ids:
                return total
            # The condition again: a row is deleted only if it is still dead.
            total += rowcount(conn.execute(delete(step.table).where(pk.in_(ids), step.dead(now))))
        if len(ids) < batch:
            return total
        after = ids[-1]


def prune(
    engine: Engine,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    steps: Sequence[Step] = STEPS,
) -> dict[str, int]:
    """Run every step; the number of rows each deleted, by step name."""
    moment = now or clock.now()
    return {step.name: prune_step(engine, step, moment, batch=batch) for step in steps}


class PeriodicPrune:
    """A daemon thread that prunes every ``interval`` seconds, give or take a tenth.

    Each worker process may run one: the first run comes after a random part of the interval,
    so workers started together do not prune together, and two that overlap only find fewer
    rows (a deleted row is not deleted twice). Errors (a database outage) are logged; the
    thread carries on.
    """

    def __init__(self, app: Flask, interval: float) -> None:
        self.app, self.interval = app, interval
        self._stop = threading.Event()
        self._random = secrets.SystemRandom()
        self.thread = threading.Thread(target=self._run, name="bastion-prune", daemon=True)

    def start(self) -> PeriodicPrune:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()

    def _run(self) -> None:
        delay = self._random.uniform(0, self.interval)
        while not self._stop.wait(delay):
            self.run_once()
            delay = self.interval * self._random.uniform(0.9, 1.1)

    def run_once(self) -> dict[str, int] | None:
        try:
            with self.app.app_context():
                engine = self.app.extensions["bastion"].db.engine
                counts = prune(engine)
        except Exception as error:  # an outage or a bug: log it, try again next time
            log.warning("pruning failed: %s: %s", type(error).__name__, error)
            return None
        if any(counts.values()):
            log.info("pruned %s", ", ".join(f"{n} {name}" for name, n in counts.items()))
        return counts


def start_periodic(app: Flask) -> PeriodicPrune | None:
    """Start pruning in this process every ``BASTION_PRUNE_INTERVAL`` seconds (0: never)."""
    interval = app.extensions["bastion"].settings.prune_interval
    if interval <= 0:
        return None
    return PeriodicPrune(app, interval).start()
