"""SIGTERM to the server `newsroom serve` runs: requests in flight finish, then it exits 0."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, func, insert, select

from flask_bastion import AuthSession, User, clock
from flask_bastion.db import make_engine
from newsroom import migrate
from tests.conftest import fresh_database
from tests.servers import NEWSROOM, ROOT, free_port, production_env, run_newsroom, wait_until_up

pytestmark = pytest.mark.server

SLOW_SECONDS = 3.0  # how long tests/slow_app.py's view sleeps (TEST_SLOW_SECONDS)
# After SIGTERM: the slow request's remaining time plus a slow, shared machine's margin.
EXIT_BOUND = SLOW_SECONDS + 10

SERVE = (
    "import sys; from newsroom.serving import run; "
    "run('tests.slow_app:app', host='127.0.0.1', port=int(sys.argv[1]), "
    "workers=int(sys.argv[2]), threads=4, graceful_timeout=int(sys.argv[3]))"
)


def _sessions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(AuthSession)) or 0)


@dataclass
class Stopped:
    """What a server stopped with a request in flight did."""

    answer: requests.Response | BaseException  # what the request in flight got
    code: int | None  # the server's exit status (None: still running when given up on)
    exited: float  # seconds from SIGTERM to exit
    started: float  # when the request was sent (time.monotonic)
    output: str


def _ended(server: subprocess.Popen[bytes]) -> str:
    """What ``server`` printed, once it and its workers have ended (killed if not by now).

    Servers here lead a process group of their own: a worker left behind would hold the
    output pipe open, and reading it would hang the test instead of failing it.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    if server.stdout is None:
        return ""
    with server.stdout:
        return server.stdout.read().decode()


def _workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def _stop_with_a_request_in_flight(
    env: dict[str, str],
    port: int,
    *,
    workers: int,
    graceful: int,
    exit_bound: float,
    more_stops: int = 0,
) -> Stopped:
    """Serve tests/slow_app.py, send it /test/slow, SIGTERM it 1 s later (the request inside
    the view), and wait up to ``exit_bound`` seconds for the server to exit. ``more_stops``
    more SIGTERMs go straight to each worker, as an impatient operator's would."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), str(workers), str(graceful)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    answers: list[requests.Response | BaseException] = []

    def slow_request() -> None:
        try:
            answers.append(requests.get(base + "/test/slow", timeout=exit_bound + 30))
        except requests.RequestException as error:
            answers.append(error)

    code = None
    try:
        wait_until_up(base + "/healthz", server)
        in_flight = threading.Thread(target=slow_request)
        started = time.monotonic()
        in_flight.start()
        time.sleep(1.0)  # the request is inside the view, sleeping
        assert not answers
        workers_pids = _workers_of(server)
        server.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        for _ in range(more_stops):
            time.sleep(0.2)
            for pid in workers_pids:
                os.kill(pid, signal.SIGTERM)
        code = server.wait(timeout=exit_bound)
        exited = time.monotonic() - signalled
        in_flight.join(timeout=exit_bound)
    finally:
        output = _ended(server)
    (answer,) = answers
    return Stopped(answer, code, exited, started, output)


@pytest.mark.parametrize(("workers", "more_stops"), [(1, 0), (2, 0), (1, 2)])
def test_sigterm_lets_requests_in_flight_finish_then_exits_0(
    tmp_path: Path, workers: int, more_stops: int
) -> None:
    # more_stops: a worker sent three stops in all still drains and exits (newsroom.serving
    # .stops_reach_the_server); Granian's own handler would block on the third until killed.
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            port,
            REDIS_URL="redis://127.0.0.1:6379/15",  # several workers share their counters
            TEST_SLOW_SECONDS=str(SLOW_SECONDS),
        )
        stopped = _stop_with_a_request_in_flight(
            env, port, workers=workers, graceful=30, exit_bound=EXIT_BOUND, more_stops=more_stops
        )
    answer = stopped.answer
    assert isinstance(answer, requests.Response), f"{answer!r}\n{stopped.output}"
    assert (answer.status_code, answer.text) == (200, "finished")
    assert time.monotonic() - stopped.started >= SLOW_SECONDS  # it really ran to its end
    assert stopped.code == 0, stopped.output
    assert stopped.exited < EXIT_BOUND
    # New connections are refused once it has gone.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_a_request_that_outlives_the_graceful_timeout_is_cut_off_and_the_server_exits(
    tmp_path: Path,
) -> None:
    # The bound on a stop: a worker still busy after the graceful timeout is killed, so a stuck
    # request (or a worker that missed the signal) never keeps the server from exiting.
    port, graceful = free_port(), 2
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port, TEST_SLOW_SECONDS="120")  # two minutes
        stopped = _stop_with_a_request_in_flight(
            env, port, workers=1, graceful=graceful, exit_bound=graceful + 15
        )
    assert graceful <= stopped.exited < graceful + 15, stopped.output
    assert "Killing worker-1 after it refused to gracefully stop" in stopped.output
    assert isinstance(stopped.answer, requests.ConnectionError), stopped.answer  # cut off


def test_serve_refuses_a_graceful_timeout_that_would_cut_off_mail(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        # MAIL_URL set, BASTION_MAIL_TIMEOUT its default of 20 s: a mail takes up to 85 s
        refused = run_newsroom(
            ["serve", "--port", str(port), "--graceful-timeout", "85"],
            production_env(database_url, port),
        )
    assert refused.returncode == 2
    assert "--graceful-timeout (85 s) must be more than the 85 s one mail" in refused.stderr


def test_mail_timeout_sets_how_long_a_stop_waits_for_mail(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = {**production_env(database_url, port), "MAIL_TIMEOUT": "5"}  # up to 25 s a mail
        refused = run_newsroom(["serve", "--port", str(port), "--graceful-timeout", "25"], env)
        unreadable = run_newsroom(["serve", "--port", str(port)], {**env, "MAIL_TIMEOUT": "5s"})
    assert refused.returncode == 2
    assert "--graceful-timeout (25 s) must be more than the 25 s one mail" in refused.stderr
    assert unreadable.returncode != 0
    assert "BASTION_MAIL_TIMEOUT" in unreadable.stderr


def test_newsroom_serve_with_its_threads_exits_0_on_sigterm(tmp_path: Path) -> None:
    # The production entry point: prune threads in the workers, the metrics listener here.
    port, metrics_port = free_port(), free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            port,
            REDIS_URL="redis://127.0.0.1:6379/15",
            METRICS_PORT=str(metrics_port),
            PRUNE_INTERVAL="1",
            TMPDIR=str(tmp_path / "tmp"),  # where serve makes its metrics directory
        )
        (tmp_path / "tmp").mkdir()
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        engine = make_engine(database_url)
        migrate.upgrade(engine)
        with engine.begin() as conn:  # a session that died a day ago: a worker prunes it
            user_id = conn.execute(
                insert(User).values(
                    email="a@example.com",
                    email_key="a@example.com",
                    username="a",
                    username_key="a",
                    password_hash="x",
                    active=True,
                    created_at=clock.now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(AuthSession).values(
                    id="expired",
                    token_hash="0" * 64,
                    user_id=user_id,
                    kind="browser",
                    remember=False,
                    created_at=clock.now() - timedelta(days=2),
                    last_seen_at=clock.now() - timedelta(days=1),
                    authenticated_at=clock.now() - timedelta(days=2),
                    expires_at=clock.now() - timedelta(days=1),
                    idle_timeout=3600,
                    ip="",
                    user_agent="",
                )
            )
        server = subprocess.Popen(
            [str(NEWSROOM), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/readyz", server)
            scrape = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert "bastion_http_request_duration_seconds" in scrape.text
            assert len(list((tmp_path / "tmp").glob("newsroom-metrics-*"))) == 1
            deadline = time.monotonic() + 15
            while _sessions(engine):  # the first run comes within one interval
                assert time.monotonic() < deadline, "no worker pruned"
                time.sleep(0.2)
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=EXIT_BOUND)
        finally:
            output = _ended(server)
    engine.dispose()
    assert code == 0, output
    assert "pruning failed" not in output
    assert not list((tmp_path / "tmp").glob("newsroom-metrics-*"))  # removed on the way out
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2)
