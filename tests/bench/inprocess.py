"""Where a request's time goes, in process: cProfile over many calls of the WSGI app.

    python -m tests.bench.inprocess /api/auth/session [--requests 5000] [--bearer]

Same production settings as the benchmark, no server and no wrk, so the numbers are the
app's own cost per request (the part a server cannot make faster).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask

from newsroom import create_app, migrate, seed, settings


def build_app(workdir: Path, articles: int, password: str) -> Flask:
    database_url = os.environ.get("BENCH_PROFILE_DATABASE_URL") or f"sqlite:///{workdir}/p.db"
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "MAIL_URL": "smtp://127.0.0.1:25",
    }
    app = create_app(settings.from_env(env))
    with app.app_context():
        state = app.extensions["bastion"]
        migrate.upgrade(state.db.engine)
        seed.seed(state, articles=articles, password=password)
    return app


def credentials(app: Flask, password: str, bearer: bool) -> dict[str, str]:
    client = app.test_client()
    if bearer:
        response = client.post("/api/token", json={"identity": "alice", "password": password})
        assert response.status_code == 200, response.json
        return {"HTTP_AUTHORIZATION": f"Bearer {response.json['access_token']}"}
    client.get("/api/auth/session")
    token = client.get_cookie("XSRF-TOKEN")
    assert token is not None
    response = client.post(
        "/api/auth/login",
        json={"identity": "alice", "password": password},
        headers={"X-XSRF-TOKEN": token.value},
    )
    assert response.status_code == 200, response.json
    client.get("/api/auth/session")
    cookies = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    return {"HTTP_COOKIE": cookies}


def environ_for(path: str, headers: dict[str, str]) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }


def call(app: Flask, path: str, headers: dict[str, str]) -> str:
    status: list[str] = []

    def start_response(code: str, _headers: Any, _exc: Any = None) -> Any:
        status.append(code)
        return lambda _data: None

    body = app.wsgi_app(environ_for(path, headers), start_response)
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return status[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--bearer", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as workdir:
        app = build_app(Path(workdir), args.articles, password)
        headers = {} if args.path == "/api/health" else credentials(app, password, args.bearer)
        status = call(app, args.path, headers)
        assert status.startswith("200"), status
        for _ in range(200):  # warm caches (compiled SQL, pools)
            call(app, args.path, headers)
        started = time.perf_counter()
        for _ in range(args.requests):
            call(app, args.path, headers)
        plain = (time.perf_counter() - started) / args.requests
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call(app, args.path, headers)
        profiler.disable()
        print(f"{args.path}: {plain * 1e6:.0f} us per request without the profiler")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        app.extensions["bastion"].db.dispose()


if __name__ == "__main__":
    main()
