"""Throwaway PostgreSQL and Redis for the soak: our own, on free ports, so we may restart them.

Never the machine's shared servers (5432, 6379): other people and CI use those.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import redis

from tests.servers import NEWSROOM, ROOT, free_port, wait_until_up

PG_ROOT = Path("/usr/lib/postgresql")


def _as_postgres() -> list[str]:
    # initdb refuses root: as root we run PostgreSQL as its own user, else as ourselves.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg_bin() -> Path:
    found = sorted(PG_ROOT.glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(f"no PostgreSQL under {PG_ROOT}: apt-get install postgresql")
    return found[-1].parent


class Postgres:
    """A PostgreSQL cluster of our own in ``directory``: start, restart, stop."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.data = directory / "pg"
        self.log = directory / "pg.log"
        self.port = free_port()
        self.bin = _pg_bin()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*_as_postgres(), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed:\n{done.stdout}{done.stderr}")

    def init(self) -> None:
        for directory in (self.dir, self.dir.parent):
            directory.chmod(0o755)  # the postgres user walks through them
        self.data.mkdir(mode=0o700)
        self.log.touch(mode=0o600)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(self.log, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A",
                  "trust", "-E", "UTF8", "--no-locale")  # fmt: skip
        self.start()

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-o", options, *extra, action)  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Fast shutdown (every connection is cut) and start again: what a failover looks like."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")


class Redis:
    """A Redis of our own that keeps nothing on disk: stop it, start it again on its port."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Instance:
    """One `newsroom serve`, which the soak may SIGKILL and start again on the same port."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = dict(env)
        self.port = free_port()
        self.log = log
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    str(NEWSROOM),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                ],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # its worker processes die with the group
            )
        wait_until_up(self.base + "/api/health", self.process)

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful anything, as a crash or OOM kill."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None
