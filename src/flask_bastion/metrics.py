"""Prometheus metrics, correct across worker processes, served on a listener of their own.

:func:`instrument` wraps an app: every request is observed once, when the app has answered,
in a histogram labelled by route (the URL rule, never the raw path: a path holds ids, and each
label value is a series), method and status. Audit events add sign-in outcomes and refresh-token
reuse. The names are listed in ``docs/operations.md``.

Worker processes: with ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps each process's
values in files there, and :mod:`flask_bastion.exposition` (run by the parent on its own port,
never on the app's) adds them up at each scrape. prometheus_client reads that variable when it
is first imported, so this module imports it only when a metric is first needed: a server sets
the variable, then starts its workers (``newsroom serve --metrics-port``).

``prometheus-client`` is optional (``flask-bastion[metrics]``); without it :func:`instrument`
refuses and the other functions do nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request

from . import audit

if TYPE_CHECKING:  # imported late at run time (see the module's docstring)
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from prometheus_client import Counter, Gauge, Histogram

# Seconds. Most answers take a few milliseconds; sign-ins hash a password (about 0.1 to 0.5 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no URL rule matched (a 404, a 405): one series, not one per path
ROUTE_KEY = "bastion.url_rule"  # where the request leaves its matched rule for the middleware


class Metrics:
    """Bastion's metrics in this process (one set per process, made on first use)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests: Histogram = Histogram(
            "bastion_http_request_duration_seconds",
            "Time to answer a request; its _count is the number of requests.",
            ("route", "method", "status"),
            buckets=LATENCY_BUCKETS,
        )
        self.rate_limited: Counter = Counter(
            "bastion_rate_limited_requests",
            "Requests refused with 429 by a rate limit.",
            ("route",),
        )
        self.signins: Counter = Counter(
            "bastion_signins",
            "Sign-in attempts by outcome (succeeded, or the error code) and client kind.",
            ("outcome", "client"),
        )
        self.refresh_reuse: Counter = Counter(
            "bastion_refresh_token_reuse",
            "Refresh tokens presented again after rotation (a replay: the family was revoked).",
        )
        # Set by the mail sender (see set_outbox_depth): the most recent value any process saw.
        self.outbox_depth: Gauge = Gauge(
            "bastion_outbox_depth",
            "Messages waiting in the outbox.",
            multiprocess_mode="mostrecent",
        )
        self.outbox_failures: Counter = Counter(
            "bastion_outbox_send_failures",
            "Attempts to send an outbox message that failed.",
        )
        # Observed children by labels: a dict read per request instead of labels()'s lock and
        # string conversions. A race only makes labels() run twice for the same child.
        self._request_children: dict[tuple[str, str, str], Any] = {}

    def observe_request(self, route: str, method: str, status: str, seconds: float) -> None:
        key = (route, method, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.observe(seconds)
        if status == "429":
            self.rate_limited.labels(route).inc()

    def on_audit(self, event: str, fields: dict[str, Any]) -> None:
        if event == audit.AuditEvent.LOGIN_SUCCEEDED:
            self.signins.labels("succeeded", str(fields.get("client", ""))).inc()
        elif event == audit.AuditEvent.LOGIN_FAILED:
            outcome = str(fields.get("reason", "failed"))
            self.signins.labels(outcome, str(fields.get("client", ""))).inc()
        elif event == audit.AuditEvent.REFRESH_TOKEN_REUSED:
            self.refresh_reuse.inc()


_metrics: Metrics | None = None
_metrics_lock = threading.Lock()


def available() -> bool:
    """Whether ``prometheus-client`` is installed."""
    try:
        import prometheus_client  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


def metrics() -> Metrics:
    """This process's metrics, made (and prometheus_client imported) on the first call."""
    global _metrics
    if _metrics is None:
        with _metrics_lock:
            if _metrics is None:
                _metrics = Metrics()
                audit.observers.append(_metrics.on_audit)
    return _metrics


def set_outbox_depth(depth: int) -> None:
    """The hook for a mail sender: how many messages wait now (after each pass)."""
    if available():
        metrics().outbox_depth.set(depth)


def outbox_send_failed() -> None:
    """The hook for a mail sender: one attempt to send a message failed."""
    if available():
        metrics().outbox_failures.inc()


class _Instrumented:
    """WSGI middleware: times the app's answer and observes it once, by route and status."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["500"]  # what an app that raises answers through the server

        def remember_status(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = code[:3]
            return start_response(code, headers, exc_info)

        try:
            return self.wsgi_app(environ, remember_status)
        finally:
            rule = environ.get(ROUTE_KEY)
            method = environ.get("REQUEST_METHOD", "")
            metrics().observe_request(
                rule.rule if rule is not None else UNMATCHED,
                method if method in METHODS else "other",
                status[0],
                time.perf_counter() - started,
            )


def instrument(app: Flask) -> None:
    """Observe every request of ``app`` (a histogram by route, method and status)."""
    if not available():
        raise RuntimeError("flask_bastion.metrics needs prometheus-client: flask-bastion[metrics]")
    metrics()  # made now, so the sign-in counters listen to the audit trail from the start
    app.wsgi_app = _Instrumented(app.wsgi_app)  # type: ignore[method-assign]
    # First of the before-request hooks, so a hook that refuses the request (CSRF, host) still
    # leaves the rule: Flask takes its request object out of the environ before we look.
    app.before_request_funcs.setdefault(None, []).insert(0, _leave_rule)


def _leave_rule() -> None:
    request.environ[ROUTE_KEY] = request.url_rule
