"""`newsroom serve` hands over to a supervisor that never loads the app; its workers do.

The supervisor (``newsroom.serving``) only starts and watches Granian's workers, so it must not
hold a second copy of the app: the packages load their names lazily so that importing it pulls
in neither Flask nor the library's modules.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import flask_bastion
from flask_bastion.db import make_engine
from newsroom import migrate
from tests.conftest import REDIS_URL, fresh_database
from tests.servers import NEWSROOM, ROOT, free_port, production_env, wait_until_up

# What the app's processes load and the supervisor must not: the heavy parts of a worker.
APP_ONLY = ("flask", "werkzeug", "sqlalchemy", "pydantic", "cryptography", "alembic")


def test_the_supervisor_and_the_metrics_listener_import_nothing_of_the_app() -> None:
    code = (
        "import sys, newsroom.serving, flask_bastion.exposition; "
        "print('\\n'.join(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = set(result.stdout.split())
    assert {"newsroom.serving", "flask_bastion.exposition"} <= loaded
    assert not {m for m in loaded if m.split(".")[0] in APP_ONLY}
    assert not {m for m in loaded if m.startswith("newsroom.")} - {"newsroom.serving"}
    assert not {m for m in loaded if m.startswith("flask_bastion.")} - {"flask_bastion.exposition"}


# What a worker imports only when a request needs it (docs/benchmark.md gives each one's MiB):
# Alembic (the commands), py_webauthn (passkey ceremonies), segno (a TOTP setup's QR code),
# cryptography's primitives and PyJWT (access tokens, signing keys, TOTP secrets). The bare
# `cryptography` package may load: redis-py imports it to see whether it is installed, which
# costs nothing like its primitives (the Rust bindings, under `cryptography.hazmat`).
ON_DEMAND = ("alembic", "mako", "webauthn", "segno", "cryptography.hazmat", "jwt")


def _on_demand(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ON_DEMAND)


_BROWSER_WORKER = """
import sys
from newsroom import create_app
client = create_app().test_client()
client.get("/api/auth/session")  # the XSRF-TOKEN cookie
xsrf = {"X-XSRF-TOKEN": client.get_cookie("XSRF-TOKEN").value}
account = {"email": "ada@example.com", "username": "ada", "password": "a-long-test-passphrase"}
assert client.post("/api/auth/register", json=account, headers=xsrf).status_code == 201
assert client.get("/api/auth/session").json["user"]["username"] == "ada"
for path in ("/api/health", "/healthz", "/readyz", "/api/articles"):
    assert client.get(path).status_code == 200, path
print("\\n".join(sorted(sys.modules)))
"""


def test_a_worker_serving_browsers_loads_no_token_passkey_or_migration_library(
    tmp_path: Path,
) -> None:
    # A cookie sign-up, the probes, the session and a page of articles: none of them needs the
    # libraries above, and each one imported at the top of a module again costs every worker.
    database_url = f"sqlite:///{tmp_path}/worker.db"
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)  # here, as `newsroom serve` does before its workers start
    finally:
        engine.dispose()
    result = subprocess.run(
        [sys.executable, "-c", _BROWSER_WORKER],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=production_env(database_url, free_port()),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = set(result.stdout.split())
    assert "newsroom.factory" in loaded and "sqlalchemy" in loaded  # the app did load
    assert sorted(m for m in loaded if _on_demand(m)) == []


def test_every_public_name_of_the_library_loads_from_the_module_it_is_listed_with() -> None:
    assert sorted(flask_bastion.__all__) == sorted(flask_bastion._EXPORTS)
    for name in flask_bastion.__all__:
        value = getattr(flask_bastion, name)
        module = flask_bastion._EXPORTS[name].lstrip(".")
        assert getattr(sys.modules[f"flask_bastion.{module}"], name) is value
    with pytest.raises(AttributeError):
        flask_bastion.no_such_name  # noqa: B018


@pytest.mark.server
def test_serve_becomes_the_supervisor_in_the_same_process(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port)
        command = [str(NEWSROOM), "serve", "--port", str(port), "--workers", "1"]
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/api/health", server)
            assert requests.get(base + "/readyz", timeout=10).status_code == 200
            proc = Path(f"/proc/{server.pid}")
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            assert argv[1:3] == [b"-m", b"newsroom.serving"]
            # The migrations ran before the hand-over; afterwards no library of the app is
            # mapped into the supervisor (each compiled extension would show as a file here).
            mapped = (proc / "maps").read_text()
            assert not [m for m in APP_ONLY if f"/site-packages/{m}" in mapped]
            workers = (proc / "task" / str(server.pid) / "children").read_text().split()
            assert len(workers) == 1
            worker_maps = Path(f"/proc/{workers[0]}/maps").read_text()
            assert "/site-packages/sqlalchemy" in worker_maps  # the worker holds the app
        finally:
            server.terminate()
            assert server.wait(timeout=20) == 0


def _printed_by(code: str) -> list[str]:
    """The words a fresh interpreter running ``code`` printed (it must exit 0 within 30 s)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=30,
    )
    return result.stdout.split()


# A supervisor with Granian's kind of stop handler (it only sets a flag), forking a worker that
# is sent SIGTERM at once, before it can run a line of its own. The worker must die of the
# signal, not sleep on and exit 0; the supervisor must still hear its own stops afterwards.
_STOPPED_AT_BIRTH = """
import os, signal, time
from newsroom import serving
heard = []
signal.signal(signal.SIGTERM, lambda *_: heard.append("stop"))
serving.hold_stop_signals_across_forks()
pid = os.fork()
if pid == 0:
    time.sleep(5)
    os._exit(0)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
os.kill(os.getpid(), signal.SIGTERM)
print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status), heard)
"""


def test_a_worker_stopped_as_it_is_forked_ends() -> None:
    # The gap load_stoppable cannot close: between the fork and its first line.
    for _ in range(3):
        assert _printed_by(_STOPPED_AT_BIRTH) == [str(int(signal.SIGTERM)), "['stop']"]


# Three stops reach a worker whose server is not draining them (Ctrl-C to the process group,
# the supervisor's SIGTERM, one more): with Granian's own handler the second set() of its
# signal object would block the main thread for ever.
_THREE_STOPS = """
import os, signal, time
from granian import _signals
from newsroom import serving
serving.stops_reach_the_server()
_signals.set_sync_signals()  # what Granian's worker calls as it starts to serve
for _ in range(3):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.1)
print("runs on", flush=True)
"""


def test_a_worker_takes_many_stops_without_blocking() -> None:
    assert _printed_by(_THREE_STOPS) == ["runs", "on"]


# A stop taken by a thread that is not the main one, while the main thread waits (as Granian's
# worker does once it serves): Python would run the handler only when the main thread wakes.
_STOP_TAKEN_ELSEWHERE = """
import signal, threading, time
from granian import _signals
stopped = threading.Event()
class ServerStop:  # stands in for Granian's signal object, whose set() shows nothing
    def set(self):
        stopped.set()
_signals.set_sync_signals = ServerStop
from newsroom import serving
serving.stops_reach_the_server()
_signals.set_sync_signals()
def taker():
    time.sleep(0.2)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
threading.Thread(target=taker, daemon=True).start()
print("stopped" if stopped.wait(5) else "missed", flush=True)
"""


def test_a_stop_another_thread_takes_reaches_the_server() -> None:
    assert _printed_by(_STOP_TAKEN_ELSEWHERE) == ["stopped"]


@pytest.mark.server
def test_a_server_stopped_while_a_worker_still_loads_the_app_exits(tmp_path: Path) -> None:
    # Each worker loads the app after the fork; until Granian's handlers are in place, a stop
    # signal must still end it (newsroom.serving.load_stoppable), or the supervisor would wait
    # for a worker that serves on. Stopped as soon as the first worker answers, the second is
    # often still loading: three tries.
    with fresh_database(tmp_path) as database_url:
        for _ in range(3):
            port = free_port()
            env = production_env(
                database_url, port, REDIS_URL=REDIS_URL or "redis://127.0.0.1:6379/15"
            )
            command = [str(NEWSROOM), "serve", "--port", str(port), "--workers", "2"]
            server = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                wait_until_up(f"http://127.0.0.1:{port}/api/health", server)
                server.send_signal(signal.SIGTERM)
                stopped = time.monotonic()
                assert server.wait(timeout=20) == 0
                assert time.monotonic() - stopped < 20
            finally:
                if server.poll() is None:
                    server.kill()
                    server.wait()
