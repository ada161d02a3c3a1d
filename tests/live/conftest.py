"""`newsroom serve` in a subprocess with production settings, reached over real HTTP."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import DATABASE_URL, ON_POSTGRES, REDIS_URL

NEWSROOM = Path(sys.executable).parent / "newsroom"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CORS_ORIGINS", "SECRET_KEY_FALLBACKS")
    }
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        # Our own counters: other servers (and earlier runs) share this Redis and this IP.
        RATELIMIT_PREFIX=f"live-{uuid.uuid4().hex}",
    )
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    env.update(extra)
    return env


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(NEWSROOM), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temp SQLite file, or a PostgreSQL database created for this run and dropped after."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'newsroom.db'}"
        return
    name = f"live_{uuid.uuid4().hex[:12]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Live:
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def live(live_database_url: str) -> Iterator[Live]:
    port = free_port()
    process = serve(production_env(live_database_url, port), port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"newsroom serve exited with {process.returncode}:\n{output}")
            try:
                if requests.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("newsroom serve did not answer /api/health within 60 s")
            time.sleep(0.1)
        yield Live(base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
