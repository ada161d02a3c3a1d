"""Real servers for tests: `newsroom serve` subprocesses and nginx in front of them."""

from __future__ import annotations

import functools
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NEWSROOM = Path(sys.executable).parent / "newsroom"
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], timeout: float = 60, verify: bool | str = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if requests.get(url, timeout=1, verify=verify).status_code == 200:
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


def run_newsroom(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``newsroom ARGS`` to its end (a command that refuses, say), its output captured."""
    return subprocess.run(
        [str(NEWSROOM), *args], env=dict(env), cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@contextmanager
def newsroom_server(
    env: Mapping[str, str], port: int, workers: int = 1, log: Path | None = None
) -> Iterator[str]:
    """Run `newsroom serve` until the block ends; yields its base URL.

    Its output goes to ``log`` when given (read it while it runs), else to a pipe read only
    if it fails to start: a server that logs much must be given a file.
    """
    output = log.open("ab") if log is not None else subprocess.PIPE
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
        stdout=output,
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
        if log is not None and not isinstance(output, int):
            output.close()


@dataclass(frozen=True)
class Tls:
    """A throwaway CA and a leaf certificate for localhost and 127.0.0.1, signed by it."""

    ca: Path
    cert: Path
    key: Path


def make_tls(directory: Path) -> Tls:
    """Make a CA and a leaf with openssl; clients trust ``ca`` (never verify=False)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    cert, key, csr = directory / "cert.pem", directory / "key.pem", directory / "leaf.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run = functools.partial(subprocess.run, check=True, capture_output=True)
    run(["openssl", "req", "-x509", *ec, "-days", "2", "-subj", "/CN=Bastion test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
         "-keyout", ca_key, "-out", ca])  # fmt: skip
    run(["openssl", "req", *ec, "-subj", "/CN=localhost", "-keyout", key, "-out", csr])
    extensions = directory / "leaf.ext"
    extensions.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n"
    )
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "2", "-extfile", extensions, "-out", cert])  # fmt: skip
    return Tls(ca=ca, cert=cert, key=key)


@dataclass(frozen=True)
class Edge:
    """A running nginx: its https base URL, its plain http one, and its config file."""

    base: str
    http_base: str
    config: Path
    run_dir: Path


@contextmanager
def nginx(
    run_dir: Path,
    upstream_ports: list[int],
    tls: Tls,
    https_port: int | None = None,
    http_port: int | None = None,
    wait_for: str = "/api/health",
) -> Iterator[Edge]:
    """Our own nginx (no system service), configured by `newsroom deploy nginx`'s renderer."""
    from newsroom.deploy import NginxSite, render_nginx

    run_dir.mkdir(parents=True, exist_ok=True)
    https_port, http_port = https_port or free_port(), http_port or free_port()
    site = NginxSite(
        host="localhost",
        upstreams=tuple(f"127.0.0.1:{p}" for p in upstream_ports),
        tls_cert=tls.cert,
        tls_key=tls.key,
        https_listen=f"127.0.0.1:{https_port}",
        http_listen=f"127.0.0.1:{http_port}",
        run_dir=run_dir,
        user="root" if os.geteuid() == 0 else None,
    )
    config = run_dir / "nginx.conf"
    config.write_text(render_nginx(site))
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(run_dir),
            "-e",
            str(run_dir / "error.log"),
            "-c",
            str(config),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    edge = Edge(site.origin, f"http://localhost:{http_port}", config, run_dir)
    try:
        wait_until_up(edge.base + wait_for, process, verify=str(tls.ca))
        yield edge
    finally:
        process.terminate()
        process.wait(timeout=10)
