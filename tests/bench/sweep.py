"""Which `newsroom serve --workers/--threads` serves best: floor and session per configuration.

    python -m tests.bench.sweep [--duration 4] [--configs 1x1,2x1,2x4 ...] [--rounds 2]

SQLite, 10k articles; each configuration runs in its own server on the same database, and
the rounds interleave the configurations, so a burst of load elsewhere hits them all alike.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time

from tests.bench import client, wrk
from tests.bench.run import RESULTS, SMALL, uptime_load
from tests.bench.server import Server

DEFAULT_CONFIGS = "1x1,1x4,2x1,2x2,2x4,2x8,3x2,4x2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="WORKERSxTHREADS,...")
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads-wrk", type=int, default=2)
    args = parser.parse_args()
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    load = wrk.Load(args.threads_wrk, args.connections, args.duration, warmup=1.0)
    password = secrets.token_urlsafe(16)
    results: dict[str, list[dict[str, float | str]]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        seeder = Server(f"sqlite:///{workdir}/sweep.db", workers=1, threads=1, log_dir=RESULTS)
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
                entry = {
                    "floor_rps": floor.rps,
                    "session_rps": session.rps,
                    "ratio": round(session.rps / floor.rps, 3),
                    "floor_p99_ms": floor.p99_ms,
                    "session_p99_ms": session.p99_ms,
                    "errors": floor.failed + session.failed,
                    "load": uptime_load(),
                }
                results.setdefault(name, []).append(entry)
                print(f"round {round_ + 1} {name:>5}: {json.dumps(entry)}", flush=True)
    print(f"\n{'config':>6} {'floor rps':>10} {'session rps':>12} {'ratio':>6}  (medians)")
    for name, entries in results.items():
        f = statistics.median(float(e["floor_rps"]) for e in entries)
        s = statistics.median(float(e["session_rps"]) for e in entries)
        r = statistics.median(float(e["ratio"]) for e in entries)
        print(f"{name:>6} {f:10.0f} {s:12.0f} {r:6.2f}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"sweep-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"results in {path}")


if __name__ == "__main__":
    main()
