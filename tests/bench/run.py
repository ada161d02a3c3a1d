"""`make bench`: newsroom under wrk, on SQLite and (when DATABASE_URL says so) PostgreSQL.

One run starts `newsroom serve` with production settings per database, seeds it with the
seed code, and measures the floor (GET /api/health) and every endpoint against it on the same
server, so the ratios hold however busy the machine is. Results go to bench-results/.

    python -m tests.bench.run            # full: 10 s per measure, 10k then 1M articles
    python -m tests.bench.run --quick    # a couple of minutes: 3 s per measure, 10k only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.bench import client, enumeration, wrk
from tests.bench.server import Server, bare_flask, resident_memory

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"
SMALL, LARGE = 10_000, 1_000_000
PER_PAGE = 20

# Targets: (name, what is compared, bound, description); ratios are to the floor of the run.
TARGETS: list[tuple[str, str, float, str]] = [
    ("session", "rps_ratio", 0.5, "cookie GET /api/auth/session >= 0.5 x floor rps"),
    ("articles_page", "rps_ratio", 0.3, "GET /api/articles?per_page=20 >= 0.3 x floor rps"),
    ("cursor_1m", "latency_ratio", 1.5, "cursor page p50 at 1M <= 1.5 x at 10k"),
    ("login", "argon2_ratio", 1.2, "login p50 <= 1.2 x one Argon2 verify"),
    ("bearer_session", "rps_ratio", 0.5, "bearer GET /api/auth/session >= 0.5 x floor rps"),
    ("floor", "bare_ratio", 0.85, "GET /api/health >= 0.85 x bare Flask's rps"),
    ("memory", "memory_ratio", 1.5, "server RSS <= 1.5 x bare Flask's (all processes)"),
    ("articles_page_1m", "page_latency_ratio", 1.5, "page 1 p50 at 1M <= 1.5 x at 10k"),
]


def uptime_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass
class Row:
    """One line of the table: a wrk measure, or a sampled latency (login, Argon2)."""

    name: str
    label: str
    rps: float | None
    p50_ms: float
    p99_ms: float
    load: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BackendRun:
    backend: str
    articles: int
    rows: dict[str, Row] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    # Resident memory (bytes) of each server's process group, read after the measures.
    memory: dict[str, int] = field(default_factory=dict)


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """A database only this run uses: a new SQLite file, or CREATE DATABASE bench_<random>."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(dir=workdir) as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    base = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(
    run: BackendRun,
    name: str,
    label: str,
    url: str,
    load: wrk.Load,
    *,
    cookie: str | None = None,
    authorization: str | None = None,
) -> Row:
    result = wrk.measure(url, load, cookie=cookie, authorization=authorization)
    row = Row(
        name, label, result.rps, result.p50_ms, result.p99_ms, uptime_load(), result.as_dict()
    )
    if result.failed:
        run.notes.append(f"{name}: {result.failed} failed requests {result.errors}")
    run.rows[name] = row
    print(f"  {label:<44} {result.rps:>9.0f} req/s  p50 {result.p50_ms:7.2f} ms", flush=True)
    return row


def bench_backend(backend: str, args: argparse.Namespace, load: wrk.Load) -> BackendRun:
    large = backend == "postgresql" and not args.quick
    run = BackendRun(backend, SMALL)
    print(f"\n== {backend} ==  (load {uptime_load()})", flush=True)
    workdir = RESULTS / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    with fresh_database(backend, workdir) as database_url:
        server = Server(database_url, workers=args.workers, threads=args.threads, log_dir=RESULTS)
        password = secrets.token_urlsafe(16)
        app = server.in_process_app()
        seconds = server.seed(app, SMALL, password)
        run.notes.append(f"seeded {SMALL} articles in {seconds:.1f} s")
        workers, threads = server.resolved_workers(), server.resolved_threads()
        with (
            bare_flask(workers, threads, RESULTS) as (bare_base, bare_pid),
            server.running() as base,
        ):
            bare_url = f"{bare_base}/api/health"
            measure(run, "bare_floor", "bare Flask GET /api/health (2nd floor)", bare_url, load)
            bench_with_server(run, base, app, password, load, args, large, server)
            measure(run, "bare_floor_end", "bare Flask GET /api/health, again", bare_url, load)
            assert server.pid is not None
            # What a deployment's readiness probes load too (/readyz reads the migration
            # history), in every worker: new connections, so the workers share them out.
            for _ in range(10 * workers):
                urllib.request.urlopen(f"{base}/readyz", timeout=10).close()
            run.memory = {"server": resident_memory(server.pid), "bare": resident_memory(bare_pid)}
            run.notes.append(
                f"resident memory: server {run.memory['server'] / 2**20:.0f} MiB, bare Flask"
                f" {run.memory['bare'] / 2**20:.0f} MiB ({workers} workers x {threads} threads)"
            )
        server.dispose(app)
    return run


def bench_with_server(
    run: BackendRun,
    base: str,
    app: Any,
    password: str,
    load: wrk.Load,
    args: argparse.Namespace,
    large: bool,
    server: Server,
) -> None:
    api = client.Api(base)
    cookie = api.login_cookie("alice", password)
    measure(run, "floor", "GET /api/health (floor)", f"{base}/api/health", load)
    measure(
        run,
        "session",
        "cookie GET /api/auth/session",
        f"{base}/api/auth/session",
        load,
        cookie=cookie,
    )
    page_url = f"{base}/api/articles?per_page={PER_PAGE}"
    has_articles = api.status(page_url, cookie=cookie) == 200
    deep_cursor = None
    if has_articles:
        measure(
            run,
            "articles_page",
            "cookie GET /api/articles?per_page=20",
            page_url,
            load,
            cookie=cookie,
        )
        deep_cursor = api.deep_cursor(cookie, total=SMALL)
        measure(
            run,
            "cursor_10k",
            f"cursor page at depth {SMALL - 100:,} of {SMALL:,}",
            api.cursor_url(deep_cursor, PER_PAGE),
            load,
            cookie=cookie,
        )
    else:
        run.notes.append("GET /api/articles is not there (status != 200): article rows skipped")
    login_and_argon2(run, api, app, password, args.login_samples)
    token, why_not = api.access_token("bob", password)
    if token is None:
        run.notes.append(f"{why_not}: bearer rows skipped")
    else:
        bearer = f"Bearer {token}"
        measure(
            run,
            "bearer_session",
            "bearer GET /api/auth/session",
            f"{base}/api/auth/session",
            load,
            authorization=bearer,
        )
        if has_articles:
            measure(
                run,
                "bearer_articles",
                "bearer GET /api/articles?per_page=20",
                page_url,
                load,
                authorization=bearer,
            )
    measure(run, "floor_end", "GET /api/health (floor, again)", f"{base}/api/health", load)
    if large and deep_cursor is not None:
        print(f"  seeding up to {LARGE:,} articles ...", flush=True)
        seconds = server.seed(app, LARGE - SMALL, password)
        run.notes.append(f"seeded {LARGE - SMALL} more articles in {seconds:.1f} s")
        run.articles = LARGE
        measure(
            run,
            "cursor_1m",
            f"same cursor page, depth {LARGE - 100:,} of {LARGE:,}",
            api.cursor_url(deep_cursor, PER_PAGE),
            load,
            cookie=cookie,
        )
        measure(
            run,
            "articles_page_1m",
            "GET /api/articles?per_page=20 at 1M",
            page_url,
            load,
            cookie=cookie,
        )


def login_and_argon2(
    run: BackendRun, api: client.Api, app: Any, password: str, samples: int
) -> None:
    """Sequential logins against the server, then Argon2 verifies here with its parameters."""
    logins, verifies = api.login_and_verify_latencies(app, "alice", password, samples)
    for name, label, values in (
        ("login", "POST /api/auth/login (sequential)", logins),
        ("argon2", "one Argon2 verify (in process)", verifies),
    ):
        ordered = sorted(values)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        run.rows[name] = Row(name, label, None, p50, p99, uptime_load(), {"samples": len(values)})
        print(f"  {label:<44} {'':>9}        p50 {p50:7.2f} ms", flush=True)


def floor_rps(run: BackendRun) -> float:
    floors = [run.rows[n].rps for n in ("floor", "floor_end") if n in run.rows]
    return statistics.mean(f for f in floors if f)


def bare_floor_rps(run: BackendRun) -> float | None:
    floors = [run.rows[n].rps for n in ("bare_floor", "bare_floor_end") if n in run.rows]
    return statistics.mean(f for f in floors if f) if floors else None


def judge(run: BackendRun) -> None:
    floor = floor_rps(run)
    bare = bare_floor_rps(run)
    rows = run.rows
    for name, kind, bound, description in TARGETS:
        value: float | None = None
        if kind == "rps_ratio" and name in rows and rows[name].rps:
            value = (rows[name].rps or 0) / floor
        elif kind == "latency_ratio" and "cursor_1m" in rows and "cursor_10k" in rows:
            value = rows["cursor_1m"].p50_ms / rows["cursor_10k"].p50_ms
        elif kind == "argon2_ratio" and "login" in rows and "argon2" in rows:
            value = rows["login"].p50_ms / rows["argon2"].p50_ms
        elif kind == "bare_ratio" and bare:
            value = floor / bare
        elif kind == "memory_ratio" and run.memory.get("bare"):
            value = run.memory["server"] / run.memory["bare"]
        elif kind == "page_latency_ratio" and "articles_page_1m" in rows:
            value = rows["articles_page_1m"].p50_ms / rows["articles_page"].p50_ms
        if value is None:
            verdict = "SKIP"
        elif kind in ("rps_ratio", "bare_ratio"):
            verdict = "PASS" if value >= bound else "FAIL"
        else:
            verdict = "PASS" if value <= bound else "FAIL"
        run.targets.append(
            {
                "target": name,
                "description": description,
                "value": None if value is None else round(value, 3),
                "verdict": verdict,
            }
        )


def print_report(runs: list[BackendRun]) -> None:
    for run in runs:
        floor = floor_rps(run)
        bare = bare_floor_rps(run)
        print(f"\n{run.backend}: {run.articles:,} articles; floor {floor:.0f} req/s (mean of 2)")
        if bare:
            print(f"  bare Flask floor {bare:.0f} req/s (mean of 2): health at {floor / bare:.2f}")
        print(f"  {'measure':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}  load")
        for row in run.rows.values():
            rps = f"{row.rps:9.0f}" if row.rps is not None else f"{'':>9}"
            ratio = f"{row.rps / floor:7.2f}" if row.rps is not None else f"{'':>7}"
            print(
                f"  {row.label:<44} {rps} {row.p50_ms:8.2f} {row.p99_ms:8.2f} {ratio}  {row.load}"
            )
        for target in run.targets:
            value = "-" if target["value"] is None else f"{target['value']:.2f}"
            print(f"  {target['verdict']:<4}  {target['description']:<50} measured {value}")
        for note in run.notes:
            print(f"  note: {note}")


def write_json(runs: list[BackendRun], args: argparse.Namespace, load: wrk.Load) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"bench-{stamp}.json"
    document = {
        "started": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_end": uptime_load(),
        "wrk": load.__dict__,
        "server": {"workers": args.workers, "threads": args.threads},
        "quick": args.quick,
        "backends": {
            run.backend: {
                "articles": run.articles,
                "floor_rps": floor_rps(run),
                "bare_floor_rps": bare_floor_rps(run),
                "memory": run.memory,
                "rows": {name: row.__dict__ for name, row in run.rows.items()},
                "targets": run.targets,
                "notes": run.notes,
            }
            for run in runs
        },
    }
    path.write_text(json.dumps(document, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2))
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="3 s per measure, 10k articles only")
    parser.add_argument("--duration", type=float, help="seconds per measure (default 10, quick 3)")
    parser.add_argument("--threads-wrk", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--workers", type=int, default=0, help="server workers (0: serve's default)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="server threads (0: serve's default)"
    )
    parser.add_argument("--login-samples", type=int, default=20)
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk.available():
        print("wrk is not installed: `make setup-system` (apt-get install wrk)", file=sys.stderr)
        return 2
    duration = args.duration or (3.0 if args.quick else 10.0)
    load = wrk.Load(
        threads=args.threads_wrk,
        connections=args.connections,
        duration=duration,
        warmup=1.0 if args.quick else 2.0,
    )
    backends = [] if args.postgres_only else ["sqlite"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and not args.sqlite_only:
        backends.append("postgresql")
    elif not args.sqlite_only:
        print("DATABASE_URL does not point at PostgreSQL: SQLite only.", flush=True)
    print(f"load average at start: {uptime_load()} ({os.cpu_count()} CPUs)", flush=True)
    runs = []
    for backend in backends:
        run = bench_backend(backend, args, load)
        judge(run)
        runs.append(run)
    print_report(runs)
    path = write_json(runs, args, load)
    print(f"\nload average at end: {uptime_load()}; results in {path.relative_to(ROOT)}")
    failed = [t for run in runs for t in run.targets if t["verdict"] == "FAIL"]
    failed += [{"enumeration": "FAIL"}] if enumeration.main([]) else []  # answer times per account
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
