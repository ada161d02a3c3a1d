"""`make soak` (``python -m tests.soak``): nginx, two instances, PostgreSQL and Redis under a mixed
load at 80% of the capacity measured first, with faults injected; then every acknowledged write
is counted in the database.

``SOAK_SECONDS`` (default 600; CI runs 60). Exit status 1 when any check fails. The figures go
to stdout and to ``bench-results/soak.json``. docs/deployment.md describes the checks.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from tests.servers import ROOT, free_port, make_tls, nginx, production_env
from tests.soak.load import Record, Sample, Worker, run_workers, settle_all
from tests.soak.services import Instance, Postgres, Redis

PASSWORD = "soak-test-passphrase-9"
USERS = 6
WORKERS = 8
LOAD_SHARE = 0.8  # of the capacity measured first
RECOVERY = 10.0  # seconds after a fault ends in which failures may still be seen
REDIS_DOWN = 5.0  # seconds; sign-ins (every 2 s) need Redis for their rate limits
FAST = 6.0  # a failure during a fault must be answered within this (pool timeout 5 s + margin)
RESULTS = ROOT / "bench-results" / "soak.json"


@dataclass
class Window:
    fault: str
    start: float
    end: float = 0.0


def _register(base: str, ca: str, name: str) -> None:
    client = requests.Session()
    client.trust_env = False
    client.verify = ca
    csrf = client.get(f"{base}/api/auth/session").json()["csrf_token"]
    answer = client.post(
        f"{base}/api/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf, "Origin": base},
    )
    answer.raise_for_status()


def _inject(
    record: Record, seconds: float, pg: Postgres, cache: Redis, victim: Instance
) -> tuple[threading.Thread, list[Window]]:
    windows: list[Window] = []

    def redis_outage() -> None:
        cache.stop()
        time.sleep(REDIS_DOWN)
        cache.start()

    def kill_mid_write() -> None:
        deadline = time.monotonic() + 2
        while record.writes_in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        victim.kill()
        time.sleep(2)
        victim.start()

    plan: list[tuple[float, str, Callable[[], None]]] = [
        (0.2, "postgres restarted", pg.restart),
        (0.45, f"redis stopped for {REDIS_DOWN:.0f} s", redis_outage),
        (0.7, "instance SIGKILLed mid-write", kill_mid_write),
    ]

    def run() -> None:
        for share, name, action in plan:
            time.sleep(max(0.0, record.epoch + share * seconds - time.monotonic()))
            window = Window(name, record.now())
            windows.append(window)
            action()
            window.end = record.now()

    return threading.Thread(target=run), windows


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _cut_by_kill(sample: Sample, window: Window) -> bool:
    """A response the SIGKILLed instance was sending when it died: the connection breaks.

    nginx had passed the status line on, so it cannot answer 503 instead, and it never resends
    a request that may have been applied (a POST). Such a cut is a failure of the fault window,
    like its 503s; a timeout is not among them: a hang is a failure anywhere.
    """
    cut = sample.error in ("ChunkedEncodingError", "ConnectionError")
    return cut and window.fault.startswith("instance") and sample.seconds <= FAST


def _failed(sample: Sample) -> bool:
    return sample.status == 0 or sample.status >= 500


def _judge(record: Record, windows: list[Window]) -> tuple[dict[str, object], list[str]]:
    problems: list[str] = []

    def window_of(sample: Sample) -> Window | None:
        for w in reversed(windows):  # the latest fault that began before the answer came
            if sample.start <= w.end + RECOVERY and sample.start + sample.seconds >= w.start:
                return w
        return None

    recovery: dict[str, float] = {w.fault: 0.0 for w in windows}
    in_fault: Counter[str] = Counter()
    last_failure: dict[str, str] = {}
    for sample in record.samples:
        if not _failed(sample):
            continue
        window = window_of(sample)
        where = f"{sample.op} at {sample.start:.1f}s"
        if sample.status == 0 and not (window is not None and _cut_by_kill(sample, window)):
            problems.append(f"no answer ({sample.error}) for {where} after {sample.seconds:.1f}s")
        elif window is None:
            problems.append(f"{sample.status} outside any fault window: {where}")
        else:
            in_fault[f"{window.fault}: {sample.op} {sample.status or 'cut'}"] += 1
            if sample.status != 0 and (sample.status != 503 or not sample.problem):
                problems.append(f"{sample.status} (not a 503 problem) during a fault: {where}")
            if sample.seconds > FAST:
                problems.append(f"slow failure during a fault: {where} took {sample.seconds:.1f}s")
            ended = sample.start + sample.seconds - window.end
            recovery[window.fault] = max(recovery[window.fault], round(ended, 2))
            last_failure[window.fault] = f"{sample.op} at {sample.start:.2f}s+{sample.seconds:.2f}s"
    ok = [s.seconds * 1000 for s in record.samples if not _failed(s)]
    by_op: dict[str, dict[str, float]] = {}
    for op in sorted({s.op for s in record.samples}):
        times = [s.seconds * 1000 for s in record.samples if s.op == op and not _failed(s)]
        by_op[op] = {
            "count": len(times),
            "p50_ms": round(_percentile(times, 0.5), 1),
            "p99_ms": round(_percentile(times, 0.99), 1),
        }
    statuses = Counter(str(s.status) for s in record.samples)
    figures: dict[str, object] = {
        "requests": len(record.samples),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": round(statistics.median(ok), 1) if ok else 0,
        "p99_ms": round(_percentile(ok, 0.99), 1),
        "by_op": by_op,
        "faults": [asdict(w) for w in windows],
        "failures_in_fault_windows": dict(in_fault),
        "recovery_seconds": recovery,
        "last_failure": last_failure,
    }
    return figures, problems


def _count_writes(database_url: str, record: Record) -> tuple[dict[str, object], list[str]]:
    """Every acknowledged create exactly once, no row half-written, edits as acknowledged."""
    problems: list[str] = []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, title, body FROM articles WHERE title LIKE 'soak %'")
        ).all()
    engine.dispose()
    by_nonce: dict[str, list[tuple[int, str, str]]] = {}
    for row_id, title, body in rows:
        nonce, version = title.removeprefix("soak ").rsplit(" v", 1)
        by_nonce.setdefault(nonce, []).append((row_id, title, body))
        if not body.startswith(f"{nonce} v{version}\n"):
            problems.append(f"article {row_id} is half-written: {title!r} / {body[:30]!r}")
    for nonce, article_id in record.acked.items():
        found = by_nonce.get(nonce, [])
        if len(found) != 1 or found[0][0] != article_id:
            problems.append(f"acknowledged create {nonce} (id {article_id}) found {len(found)}x")
    for nonce, found in by_nonce.items():
        if nonce not in record.attempted:
            problems.append(f"article with nonce {nonce} that the generator never sent")
        elif len(found) > 1:
            problems.append(f"create {nonce} written {len(found)} times")
    by_id = {row_id: (title, body) for row_id, title, body in rows}
    for article in record.articles.values():
        if article.settled and by_id.get(article.id) != article.state:
            problems.append(f"article {article.id} is not as last acknowledged")
    unacked = [n for n in by_nonce if n not in record.acked]
    return {
        "creates_acknowledged": len(record.acked),
        "creates_sent": len(record.attempted),
        "rows_found": len(rows),
        "unacknowledged_creates_that_committed": len(unacked),
        "articles_edited": sum(1 for a in record.articles.values() if a.version > 0),
    }, problems


def soak(seconds: float, workdir: Path) -> tuple[dict[str, object], list[str]]:
    capacity_seconds = min(30.0, max(8.0, seconds / 10))
    with ExitStack() as stack:
        (workdir / "db").mkdir()
        pg = Postgres(workdir / "db")
        pg.init()
        stack.callback(pg.stop)
        cache = Redis(workdir)
        cache.start()
        stack.callback(cache.stop)
        tls = make_tls(workdir / "tls")
        https_port = free_port()
        env = production_env(
            pg.url,
            https_port,
            PUBLIC_URL=f"https://localhost:{https_port}",
            TRUSTED_PROXIES="1",
            REDIS_URL=cache.url,
            LOG_LEVEL="WARNING",
        )
        a, b = Instance(env, workdir / "a.log"), Instance(env, workdir / "b.log")
        for instance in (a, b):  # one after the other: the first one migrates
            instance.start()
            stack.callback(instance.stop)
        edge = stack.enter_context(nginx(workdir / "nginx", [a.port, b.port], tls, https_port))
        ca = str(tls.ca)
        users = [f"soak{i}" for i in range(USERS)]
        for user in users:
            _register(edge.base, ca, user)

        measured = Record()
        workers = [
            Worker(edge.base, ca, users[i % USERS], PASSWORD, measured) for i in range(WORKERS)
        ]
        run_workers(workers, capacity_seconds, None, measured)
        capacity = len(measured.samples) / capacity_seconds
        rate = LOAD_SHARE * capacity
        print(f"capacity {capacity:.0f} req/s; soaking at {rate:.0f} req/s for {seconds:.0f}s",
              file=sys.stderr)  # fmt: skip

        # The writes made while measuring count too: only the samples start again.
        record = Record(
            attempted=measured.attempted, acked=measured.acked, articles=measured.articles
        )
        for worker in workers:
            worker.record = record
        signer = Worker(edge.base, ca, users[0], PASSWORD, record)
        faults, windows = _inject(record, seconds, pg, cache, a)
        faults.start()
        done = run_workers(workers, seconds, rate, record, signer=signer)
        faults.join()
        unreadable = settle_all(workers)
        figures, problems = _judge(record, windows)
        writes, write_problems = _count_writes(pg.url, record)
        problems += write_problems
        problems += [f"article {i} could not be read back after the load" for i in unreadable]
        if not record.acked:
            problems.append("no create was acknowledged: the load did not run")
        return {
            "seconds": seconds,
            "capacity_rps": round(capacity, 1),
            "target_rps": round(rate, 1),
            "achieved_rps": round(len(record.samples) / seconds, 1),
            "operations": dict(done),
            **figures,
            "writes": writes,
            "problems": problems[:50],
        }, problems


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        result, problems = soak(seconds, workdir)
    finally:
        logs = RESULTS.parent / "soak-logs"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        for log in ("a.log", "b.log", "db/pg.log", "nginx/error.log"):
            if (workdir / log).is_file():
                shutil.copy(workdir / log, logs / log.replace("/", "-"))
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if problems:
        print(f"SOAK FAILED: {len(problems)} problem(s); first: {problems[0]}", file=sys.stderr)
        return 1
    print("soak passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
