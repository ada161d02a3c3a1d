"""The server under test: `newsroom serve` in a subprocess with production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask

from newsroom import create_app, migrate, seed, settings
from tests.servers import NEWSROOM, ROOT, free_port, production_env, wait_until_up

DEFAULT_THREADS = 4  # `newsroom serve --threads`'s default


def resident_memory(pid: int) -> int:
    """Bytes of resident memory of ``pid`` and all its descendants (a server and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class Server:
    def __init__(self, database_url: str, *, workers: int, threads: int, log_dir: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.log_dir = log_dir
        self.env = production_env(database_url, self.port, SECRET_KEY=secrets.token_urlsafe(48))
        # Several workers share rate-limit counters through Redis (`newsroom serve` refuses more
        # than one without it); BENCH_REDIS_URL names one, under a prefix of this run's own.
        self.env.pop("REDIS_URL", None)
        if os.environ.get("BENCH_REDIS_URL"):
            self.env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
            self.env["RATELIMIT_PREFIX"] = f"bench-{secrets.token_hex(8)}"
        self.pid: int | None = None

    def resolved_workers(self) -> int:
        """The workers `newsroom serve` runs: as asked, else one per CPU with Redis, else 1."""
        if self.workers:
            return self.workers
        return (os.cpu_count() or 1) if "REDIS_URL" in self.env else 1

    def resolved_threads(self) -> int:
        return self.threads or DEFAULT_THREADS

    def in_process_app(self) -> Flask:
        """The same app, settings and Argon2 parameters as the server, in this process."""
        return create_app(settings.from_env(self.env))

    def seed(self, app: Flask, articles: int, password: str) -> float:
        """Migrate, then seed with `newsroom seed`'s code; returns the seconds it took."""
        started = time.perf_counter()
        with app.app_context():
            state = app.extensions["bastion"]
            migrate.upgrade(state.db.engine)
            with click.progressbar(length=articles, label="  seeding articles") as bar:
                seed.seed(state, articles=articles, password=password, progress=bar.update)
        return time.perf_counter() - started

    def dispose(self, app: Flask) -> None:
        app.extensions["bastion"].db.dispose()

    @contextmanager
    def running(self) -> Iterator[str]:
        command = [str(NEWSROOM), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers:
            command += ["--workers", str(self.workers)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        self.log_dir.mkdir(exist_ok=True)
        log_path = self.log_dir / f"server-{self.port}.log"
        with (
            log_path.open("wb") as log,
            subprocess.Popen(command, env=self.env, stdout=log, stderr=log, cwd=ROOT) as process,
        ):
            base = f"http://127.0.0.1:{self.port}"
            self.pid = process.pid
            try:
                wait_until_up(base + "/api/health", process, timeout=60)
                yield base
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def bare_flask(workers: int, threads: int, log_dir: Path) -> Iterator[tuple[str, int]]:
    """The bare-Flask floor (tests/bench/bare.py) under Granian: its base URL and its pid."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.bench.bare",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    log_dir.mkdir(exist_ok=True)
    with (
        (log_dir / f"bare-{port}.log").open("wb") as log,
        subprocess.Popen(command, stdout=log, stderr=log, cwd=ROOT) as process,
    ):
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/api/health", process, timeout=60)
            yield base, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
