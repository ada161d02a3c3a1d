"""Serving the metrics: the sum over every worker's files, on a listener of its own.

The process that starts the workers (``newsroom serve``'s supervisor, :mod:`newsroom.serving`)
empties the multiprocess directory with :func:`prepare_directory`, then serves
:func:`exposition_app` with :func:`serve_exposition`. This module imports nothing of the app or
of Flask, so that process stays small; :mod:`flask_bastion.metrics` is the workers' side.
"""

from __future__ import annotations

import glob
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_PID_OF_LIVE_GAUGE = re.compile(r"gauge_live\w+_(\d+)\.db$")


def prepare_directory(directory: str) -> None:
    """Empty a multiprocess directory before the workers start (values of an earlier run would
    be added to this one's). Call it once, in the parent, before anything is observed."""
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def _sweep_dead_processes(directory: str) -> None:
    # Live gauges must forget a worker that died; nothing calls us when one does (a server's
    # workers run no exit hook), so look at each scrape.
    from prometheus_client import multiprocess

    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        match = _PID_OF_LIVE_GAUGE.search(path)
        if match and not _alive(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition_app(directory: str | None = None) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that answers every GET with the metrics in the Prometheus text format.

    With ``directory`` (the ``PROMETHEUS_MULTIPROC_DIR``), the sum over every worker's files;
    without, this process's own metrics.
    """
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        if directory is not None:
            _sweep_dead_processes(directory)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest(REGISTRY)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]

    return app


def serve_exposition(
    host: str, port: int, directory: str | None = None
) -> tuple[threading.Thread, Callable[[], None]]:
    """Serve :func:`exposition_app` on ``host:port`` in a daemon thread; returns it and a stop."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # a scrape every few seconds is not worth a log line

    server = make_server(host, port, exposition_app(directory), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="bastion-metrics", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return thread, stop
