"""The server under test: `newsroom serve` in a subprocess with production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask

from newsroom import create_app, migrate, seed, settings
from tests.servers import NEWSROOM, ROOT, free_port, production_env, wait_until_up


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
        app.extensions["bastion"].db.engine.dispose()

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
