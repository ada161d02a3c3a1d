"""The process ``newsroom serve`` becomes once the database is ready: Granian, and nothing else.

``serve`` loads the whole app to migrate the database and check the settings, then replaces
itself (``exec``, same process id) with this module::

    python -m newsroom.serving --host 127.0.0.1 --port 8000 --workers 2 --threads 4

It imports Granian, and with ``--metrics-port`` the metrics listener
(:mod:`flask_bastion.exposition`), but never the app: each worker loads ``newsroom.wsgi`` for
itself (and sends the mail outbox from a thread, see :mod:`newsroom.wsgi`), so the process that
only supervises them holds about 30 MiB instead of a second copy of the app. On SIGTERM (or
SIGINT) Granian stops accepting, lets the requests in flight finish, then exits 0.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

TARGET = "newsroom.wsgi:app"
# Seconds a stopping worker gets before it is killed (gunicorn's default). `serve` gives more
# when the workers send mail: enough to finish the message in flight (see its check).
GRACEFUL_TIMEOUT = 30


def command(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    metrics_host: str,
    metrics_port: int,
    graceful_timeout: int = GRACEFUL_TIMEOUT,
) -> list[str]:
    """The command line of this module for those arguments, with this interpreter."""
    return [
        sys.executable,
        "-m",
        __name__,
        f"--host={host}",
        f"--port={port}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--metrics-host={metrics_host}",
        f"--metrics-port={metrics_port}",
        f"--graceful-timeout={graceful_timeout}",
    ]


def hand_over(argv: list[str]) -> None:
    """Become ``argv`` (see :func:`command`): what this process printed is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    # Our own interpreter and module with arguments we formatted: no one's input is run.
    os.execv(argv[0], argv)  # noqa: S606


def run(
    target: str,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    graceful_timeout: int = GRACEFUL_TIMEOUT,
) -> None:
    """Serve ``target`` (a ``module:app`` path) with Granian, as ``serve`` does, until stopped.

    On SIGTERM (or SIGINT) it stops accepting, lets the requests in flight finish, then
    returns, and the process exits 0 (tests/test_shutdown.py runs it with a slow app of its
    own). A worker still busy ``graceful_timeout`` seconds after the signal is killed: a stop
    always ends, even for a request that never does or a worker that missed the signal.
    """
    from granian import Granian
    from granian.constants import Interfaces

    hold_stop_signals_across_forks()
    Granian(
        target=target,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        log_access=False,
        workers_kill_timeout=graceful_timeout,
    ).serve(target_loader=load_stoppable)


_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def _stop_ends_process() -> None:
    """A stop signal ends this process at once: right for a worker with nothing in flight yet.

    Granian's worker sets its own stop handlers only once the app is loaded; until then it
    runs the supervisor's, inherited through fork, which only flag the supervisor's copy: a
    SIGTERM sent then (a server stopped just after it started) would be lost, the worker would
    serve on, and the supervisor would wait for it until the graceful timeout kills it.
    """
    for number in _STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


def _hold_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _release_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _child_after_fork() -> None:
    _stop_ends_process()
    _release_stop_signals()  # one that came meanwhile was held, and now ends the child


@functools.cache
def hold_stop_signals_across_forks() -> None:
    """Close the gap between a worker's fork and :func:`load_stoppable` (once per process).

    Stop signals are held across each fork, and the child drops the supervisor's handlers
    before it lets them through: a stop that arrives while a worker is being born still ends it.
    """
    os.register_at_fork(
        before=_hold_stop_signals,
        after_in_parent=_release_stop_signals,
        after_in_child=_child_after_fork,
    )


def stops_reach_the_server() -> None:
    """Make each worker's first stop signal reach Granian's server, and drop any later one.

    Granian's worker handler (Python, so it runs in the main thread) passes a SIGTERM or
    SIGINT to its server with ``set()`` on a signal object whose channel holds one stop.
    Measured with granian 2.8.7, caught with py-spy in stress runs:
    - Python runs a handler only in the main thread, and only when it next runs or is
      interrupted. A stop the kernel hands to another thread (any thread may take a signal
      sent to the process) finds the main thread asleep in Granian's final wait, which it
      never leaves: the server serves on until the graceful timeout kills it (about once in
      150 servers stopped as they started, under load; a second SIGTERM ended each cleanly).
    - A ``set()`` more than the channel holds blocks for ever, in the main thread: a worker
      sent three stops (Ctrl-C reaches every process of the group, the supervisor forwards
      a SIGTERM, an impatient operator sends one more) runs until it is killed.
    So a thread of ours learns of every caught signal through Python's wakeup fd, which the
    C-level handler writes whichever thread took the signal, and forwards the first stop to
    the main thread itself; the handler passes the first stop on and drops the rest.

    Granian's worker imports ``set_sync_signals`` when it starts serving, after the app loads
    (:func:`load_stoppable`), so replacing it there is what the worker calls.
    """
    from granian import _signals as granian_signals

    install = granian_signals.set_sync_signals

    def set_sync_signals() -> Any:
        server_stop = install()  # type: ignore[no-untyped-call]  # Granian's, replaced below
        handed: list[int] = []

        def on_stop(number: int, _frame: Any) -> None:
            if handed:
                return  # the server has its stop: another set() could block this thread
            handed.append(number)
            server_stop.set()

        for number in _STOP_SIGNALS:
            signal.signal(number, on_stop)
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        main = threading.get_ident()  # signal.signal() above runs only in the main thread
        threading.Thread(
            target=_wake_main_on_stop, args=(read_end, main), name="newsroom-stop", daemon=True
        ).start()
        return server_stop

    granian_signals.set_sync_signals = set_sync_signals


def _wake_main_on_stop(read_end: int, main: int) -> None:
    number = 0
    while number not in _STOP_SIGNALS:
        number = os.read(read_end, 1)[0]
    # Interrupts the main thread's wait, so Python runs the handler there at once.
    signal.pthread_kill(main, number)


def load_stoppable(target: str) -> Any:
    """Load the app in a worker, which a stop signal ends at once while it loads.

    A forked worker has ended-by-stop handlers from its first instruction on (see
    :func:`hold_stop_signals_across_forks`); a spawned one gets them here. Once it serves,
    its stops go through :func:`stops_reach_the_server`.
    """
    _stop_ends_process()
    stops_reach_the_server()
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@contextmanager
def metrics_listener(host: str, port: int) -> Iterator[None]:
    """With a port: every worker records into one directory, and this process serves the sum.

    prometheus_client reads PROMETHEUS_MULTIPROC_DIR when first imported, so it is set here,
    before anything imports it; the workers inherit it and instrument their app (settings).
    """
    if not port:
        yield
        return
    from flask_bastion import exposition

    own = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
        prefix="newsroom-metrics-"
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    exposition.prepare_directory(directory)  # an earlier run's values must not add to ours
    _, stop = exposition.serve_exposition(host, port, directory)
    print(f"metrics on http://{host}:{port}/metrics", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        stop()
        if own:
            shutil.rmtree(directory, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newsroom.serving", description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--metrics-host", default="127.0.0.1")
    parser.add_argument("--metrics-port", type=int, default=0)
    parser.add_argument("--graceful-timeout", type=int, default=GRACEFUL_TIMEOUT)
    args = parser.parse_args(argv)
    with metrics_listener(args.metrics_host, args.metrics_port):
        run(
            TARGET,
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            graceful_timeout=args.graceful_timeout,
        )


if __name__ == "__main__":
    main()
