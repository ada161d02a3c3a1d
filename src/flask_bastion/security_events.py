"""The security events table as the audit trail's second sink (docs/security-events.md).

:func:`flask_bastion.audit.record` hands every event here after its log line. Outside a request
(a command, a job) the row is written at once. Inside one it waits for the request's unit of
work (:mod:`flask_bastion.db`) to end, and is then written in one short transaction of its own:

* a **refusal** (an event recorded while an error propagates, or of a kind listed in
  :data:`flask_bastion.audit.KEPT_ON_ROLLBACK`) is kept either way: the refused sign-in's request
  rolls back, yet the attempt happened;
* any other event is kept only if the request's writes were committed: a sign-in whose session
  was rolled back did not happen.

A failure to write is logged, never turned into an error answer: the response is already
decided, and the log line of the event was written anyway.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Engine, Table, insert

from . import clock
from .models import SecurityEvent

log = logging.getLogger("flask_bastion.security_events")

_events = cast(Table, SecurityEvent.__table__)

# Enough of a User-Agent to tell clients apart (as the log keeps it); the rest would only let a
# client fill the table.
USER_AGENT_KEPT = 256
# A details value longer than this is cut: details name ids and outcomes, not documents.
DETAIL_TEXT_KEPT = 256
DETAILS_KEPT = 16  # members; more would be a caller logging what it should not

# Fields with a column of their own (the rest goes to ``details``), and the log's own members.
_COLUMNS = frozenset({"user_id", "session_id", "user_agent", "ip"})
_NOT_DETAILS = _COLUMNS | {"event", "security"}

_PENDING = "_bastion_security_events"
WORK_KEYS = (_PENDING,)  # what the extension's hooks look for on ``g`` before they flush


@dataclass(frozen=True)
class _Pending:
    row: dict[str, Any]
    kept_on_rollback: bool


def persist(kind: str, fields: dict[str, Any], *, refusal: bool) -> None:
    """Keep one event (``fields`` as the log line carries them) in the table.

    ``refusal``: the caller's kind is one that is kept even when the request rolls back.
    Without an app using Bastion (a bare script), the log line is all there is.
    """
    if not has_app_context():
        return
    state = current_app.extensions.get("bastion")
    if state is None:
        return
    try:
        row = _row(kind, fields)
    except Exception:  # a field that will not serialize must not fail the caller
        log.exception("security event %s not kept: its fields did not convert", kind)
        return
    if not has_request_context():
        write(state.db.engine, [row])
        return
    # Recorded while an error propagates (failures_recorded, an except block): a refusal.
    propagating = sys.exc_info()[1] is not None
    g.setdefault(_PENDING, []).append(_Pending(row, refusal or propagating))


def flush(engine: Engine, *, committed: bool) -> None:
    """Write this request's events once its unit of work has ended (``committed``: its writes
    stand). Cheap when nothing was recorded, which is most requests."""
    pending: list[_Pending] | None = g.pop(_PENDING, None)
    if not pending:
        return
    rows = [p.row for p in pending if committed or p.kept_on_rollback]
    if rows:
        write(engine, rows)


def write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in one transaction of their own; a failure is logged, not raised."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(_events), rows)
    except Exception as error:  # an outage or a bug: the log line of each event still stands
        log.error(
            "%d security event(s) not written: %s: %s",
            len(rows),
            type(error).__name__,
            (str(error).strip().splitlines() or [""])[0],
            extra={"kinds": [row["kind"] for row in rows]},
        )


def _row(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    principal = g.get("_bastion_principal") if has_request_context() else None
    user_id = fields["user_id"] if "user_id" in fields else getattr(principal, "user_id", None)
    session_id = (
        fields["session_id"] if "session_id" in fields else getattr(principal, "session_id", None)
    )
    user_agent = fields.get("user_agent")
    if user_agent is None and has_request_context():
        user_agent = request.user_agent.string or None
    details = {k: _detail(v) for k, v in fields.items() if k not in _NOT_DETAILS}
    if len(details) > DETAILS_KEPT:
        details = dict(sorted(details.items())[:DETAILS_KEPT])
    return {
        "occurred_at": _now(),
        "kind": kind[:64],
        "user_id": user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None,
        "ip": _text(fields.get("ip"), 64),
        "user_agent": _text(user_agent, USER_AGENT_KEPT),
        "session_id": _text(session_id, 32),
        "details": details,
    }


def _now() -> datetime:
    return clock.now()


def _text(value: Any, length: int) -> str | None:
    return None if value is None else str(value)[:length]


def _detail(value: Any) -> Any:
    """A details value as JSON keeps it: scalars as they are, lists of them, anything else as
    (cut) text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_detail(v) for v in list(value)[:DETAILS_KEPT]]
    return str(value)[:DETAIL_TEXT_KEPT]
