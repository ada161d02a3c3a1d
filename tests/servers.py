"""Real servers for tests: `newsroom serve` subprocesses and nginx in front of them."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NEWSROOM = Path(sys.executable).parent / "newsroom"
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def production_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """Environment for `newsroom serve` with production settings (what the safety checks see)."""
    inherited = ("DATABASE_URL", "REDIS_URL", "CORS_ORIGINS", "SECRET_KEY_FALLBACKS")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        # Our own counters: other servers (and earlier runs) share this Redis and this IP.
        RATELIMIT_PREFIX=f"test-{secrets.token_hex(8)}",
        # Servers under test sign up and in at once (docs/accounts.md covers `required`).
        EMAIL_CONFIRMATION="optional",
        # Production refuses to start without one; a test that reads mail passes its own
        # (tests/smtp.py). Nothing listens on this port: the sender retries quietly.
        MAIL_URL="smtp://127.0.0.1:9",
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env.update(extra)
    return env


@contextmanager
def newsroom_server(env: Mapping[str, str], port: int, workers: int = 1) -> Iterator[str]:
    """Run `newsroom serve` until the block ends; yields its base URL."""
    process = subprocess.Popen(
        [
            str(NEWSROOM),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/api/health", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@contextmanager
def nginx(run_dir: Path, upstream_ports: list[int], port: int) -> Iterator[str]:
    """Our own nginx (no system service) proxying to the given local ports."""
    run_dir.mkdir(parents=True, exist_ok=True)
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    config = template.format(
        user_directive="user root;" if os.geteuid() == 0 else "",
        run_dir=run_dir,
        listen=f"127.0.0.1:{port}",
        upstream_servers="\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports),
    )
    (run_dir / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(run_dir),
            "-e",
            str(run_dir / "error.log"),
            "-c",
            str(run_dir / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/api/health", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
