"""Which `newsroom serve --workers/--threads` serves best: floor, session, articles per config.

    python -m tests.bench.sweep [--duration 4] [--configs 1x1,2x1,2x4 ...] [--rounds 2]

SQLite (or PostgreSQL: --backend postgresql, from DATABASE_URL), 10k articles; each
configuration runs in its own server on the same database, and the rounds interleave the
configurations, so a burst of load elsewhere hits them all alike.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench import client, wrk
from tests.bench.run import RESULTS, SMALL, fresh_database, uptime_load
from tests.bench.server import Server

DEFAULT_CONFIGS = "1x1,1x4,2x1,2x2,2x4,2x8,3x2,4x2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="WORKERSxTHREADS,...")
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads-wrk", type=int, default=2)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    load = wrk.Load(args.threads_wrk, args.connections, args.duration, warmup=1.0)
    password = secrets.token_urlsafe(16)
    results: dict[str, list[dict[str, float | str]]] = {}
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.backend, Path(workdir)) as database_url,
    ):
        seeder = Server(database_url, workers=1, threads=1, log_dir=RESULTS)
        app = seeder.in_process_app()
        seeder.seed(app, SMALL, password)
        seeder.dispose(app)
        for round_ in range(args.rounds):
            for workers, threads in configs:
                name = f"{workers}x{threads}"
                server = Server(
                    seeder.env["DATABASE_URL"], workers=workers, threads=threads, log_dir=RESULTS
                )
                server.env["SECRET_KEY"] = seeder.env["SECRET_KEY"]
                with server.running() as base:
                    cookie = client.Api(base).login_cookie("alice", password)
                    floor = wrk.measure(f"{base}/api/health", load)
                    session = wrk.measure(f"{base}/api/auth/session", load, cookie=cookie)
                    page = wrk.measure(f"{base}/api/articles?per_page=20", load, cookie=cookie)
                entry = {
                    "floor_rps": floor.rps,
                    "session_rps": session.rps,
                    "articles_rps": page.rps,
                    "ratio": round(session.rps / floor.rps, 3),
                    "articles_ratio": round(page.rps / floor.rps, 3),
                    "floor_p99_ms": floor.p99_ms,
                    "session_p99_ms": session.p99_ms,
                    "articles_p99_ms": page.p99_ms,
                    "errors": floor.failed + session.failed + page.failed,
                    "load": uptime_load(),
                }
                results.setdefault(name, []).append(entry)
                print(f"round {round_ + 1} {name:>5}: {json.dumps(entry)}", flush=True)
    print(f"\n{'config':>6} {'floor':>8} {'session':>8} {'articles':>9} {'s/f':>5} {'a/f':>5}")
    for name, entries in results.items():
        f, s, a, r, ar = (
            statistics.median(float(e[key]) for e in entries)
            for key in ("floor_rps", "session_rps", "articles_rps", "ratio", "articles_ratio")
        )
        print(f"{name:>6} {f:8.0f} {s:8.0f} {a:9.0f} {r:5.2f} {ar:5.2f}  (req/s, medians)")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"sweep-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"results in {path}")


if __name__ == "__main__":
    main()
