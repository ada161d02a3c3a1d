"""Liveness and readiness probes: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` says the process answers: no I/O, so a slow database never gets a live process
restarted. ``/readyz`` says this instance can serve: the database answers, its schema is at the
code's migration heads. Redis, when one is configured, is reported but does not fail readiness:
while it is down the rate limits count in each process's memory and sign-ins go on
(:mod:`flask_bastion.ratelimit`), so taking every instance out of rotation would turn a
weakened limit into an outage. A failure is ``503``
problem+json with the code ``not_ready``, ``failed`` (the names of the failed checks) and
``checks`` (each check's outcome), so a load balancer stops sending traffic and a person sees
why. Every check runs under one short deadline: readiness answers fast even when PostgreSQL
drops packets.

Mount them with :func:`init_app` (``newsroom`` does); they are not under the API prefix and
not in the OpenAPI document. The host check (``TRUSTED_HOSTS``) applies to them as to every
route: see ``docs/operations.md`` for probing by IP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, json
from sqlalchemy import Engine, column, select, table, text

from . import migrations
from .errors import BastionError
from .ratelimit import RateLimits
from .state import current_bastion

# A probe's own timeout is typically 1 to 5 s; answering within 2 s leaves it room.
READY_TIMEOUT = 2.0
EXTENSION_KEY = "bastion_probes"

OK = "ok"
# The outcomes a check may report; stable strings, part of the /readyz contract.
UNREACHABLE = "unreachable"  # the service refused, failed or errored
TIMEOUT = "timeout"  # no answer within READY_TIMEOUT
NOT_MIGRATED = "not_migrated"  # no alembic_version table: `db upgrade` never ran
PENDING = "pending"  # the code has migration heads the database has not applied

_alembic_version = table("alembic_version", column("version_num"))
_HEALTHY = b'{"status":"ok"}'
JSON = "application/json"

Check = Callable[[], str]


# Reported in ``checks`` but never a reason to be unready: the app serves without it.
ADVISORY = frozenset({"redis"})


def failed_checks(outcomes: dict[str, str]) -> list[str]:
    return [n for n, outcome in outcomes.items() if outcome != OK and n not in ADVISORY]


class NotReady(BastionError):
    """Readiness failed; ``failed`` and ``checks`` say which checks and how."""

    status, code = 503, "not_ready"

    def __init__(self, outcomes: dict[str, str]) -> None:
        failed = failed_checks(outcomes)
        super().__init__(
            f"Not ready: {', '.join(failed)}.",
            headers={"Retry-After": "5"},
            extra={"failed": failed, "checks": outcomes},
        )


def judge(history: migrations.History, applied: set[str]) -> str:
    """The outcome for the revisions a database has recorded, against the code's history.

    A database that records a revision this code does not know is newer than the code (a
    rolling deploy, whose new instances migrated first): that code cannot judge it, and
    the instance stays ready (migrations are expected to be backwards compatible).
    """
    if not applied:
        return NOT_MIGRATED
    if applied - history.known:
        return OK
    return PENDING if history.heads - applied else OK


@dataclass
class Probes:
    """The probes of one app: where its revision files are, and its history, once read."""

    version_locations: tuple[str, ...]
    _history: migrations.History | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def history(self) -> migrations.History:
        with self._lock:  # read the revision files once per process, on the first probe
            if self._history is None:
                self._history = migrations.history(self.version_locations)
            return self._history


def database_check(engine: Engine) -> Check:
    def check() -> str:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return OK

    return check


def migrations_check(engine: Engine, history: Callable[[], migrations.History]) -> Check:
    def check() -> str:
        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, "alembic_version"):
                return NOT_MIGRATED
            applied = set(conn.scalars(select(_alembic_version.c.version_num)))
        return judge(history(), applied)

    return check


def redis_check(limits: RateLimits) -> Check:
    def check() -> str:
        # limits' own health check: a PING under the client's short timeouts, False on error.
        return OK if limits.limiter.storage.check() else UNREACHABLE

    return check


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    # Created on first use, in the worker process that probes (threads do not survive a fork).
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bastion-readyz")
        return _executor


def run_checks(checks: dict[str, Check], timeout: float = READY_TIMEOUT) -> dict[str, str]:
    """Run ``checks`` at once; each one's outcome, ``timeout`` for those still running.

    A check that raises is ``unreachable``: readiness reports, it never fails with a 500. A
    check that overruns keeps its thread until its own timeouts end it (connect 3 s, Redis
    0.5 s), but the answer does not wait for it.
    """
    futures: dict[str, Future[str]] = {name: _pool().submit(fn) for name, fn in checks.items()}
    wait_all(futures.values(), timeout=timeout)
    outcomes: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            outcomes[name] = TIMEOUT
        elif future.exception() is not None:
            outcomes[name] = UNREACHABLE
        else:
            outcomes[name] = future.result()
    return outcomes


bp = Blueprint("bastion_probes", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. No I/O."""
    response = Response(_HEALTHY, mimetype=JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers and is migrated; Redis answers when configured."""
    state = current_bastion()
    probes: Probes = current_app.extensions[EXTENSION_KEY]
    engine = state.db.engine
    checks: dict[str, Check] = {
        "database": database_check(engine),
        "migrations": migrations_check(engine, probes.history),
    }
    if state.settings.redis_url:
        checks["redis"] = redis_check(state.limits)
    outcomes = run_checks(checks)
    if failed_checks(outcomes):
        raise NotReady(outcomes)
    response = Response(json.dumps({"status": "ready", "checks": outcomes}), mimetype=JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, *, version_locations: Iterable[str | Path] = ()) -> None:
    """Mount ``/healthz`` and ``/readyz`` on an app that already has :class:`Bastion`.

    :param version_locations: the app's own Alembic revision directories, as given to
        :func:`flask_bastion.migrations.alembic_config`; the library's branch is always
        included, so an app without migrations of its own passes none.
    """
    locations = tuple(migrations.all_version_locations(version_locations))
    app.extensions[EXTENSION_KEY] = Probes(locations)
    app.register_blueprint(bp)
