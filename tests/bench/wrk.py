"""Run wrk against one URL and read back its numbers (printed as JSON by report.lua)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "report.lua"
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class Load:
    """How hard wrk pushes: threads, open connections, seconds."""

    threads: int = 2
    connections: int = 32
    duration: float = 10.0
    warmup: float = 2.0


@dataclass(frozen=True)
class Measure:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    errors: dict[str, int]

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx/3xx, or never completed."""
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def available() -> bool:
    return shutil.which("wrk") is not None


def _run(url: str, threads: int, connections: int, seconds: float, env: dict[str, str]) -> str:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def measure(
    url: str, load: Load, *, cookie: str | None = None, authorization: str | None = None
) -> Measure:
    """Warm up, then measure ``url`` for ``load.duration`` seconds."""
    env = {**os.environ, "BENCH_COOKIE": cookie or "", "BENCH_AUTHORIZATION": authorization or ""}
    if load.warmup > 0:
        _run(url, load.threads, load.connections, load.warmup, env)
    output = _run(url, load.threads, load.connections, load.duration, env)
    line = next((ln for ln in output.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    data = json.loads(line.removeprefix(MARKER))
    seconds = data["duration_us"] / 1e6
    latency = data["latency_us"]
    return Measure(
        requests=data["requests"],
        seconds=round(seconds, 3),
        rps=round(data["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        errors={k: int(v) for k, v in data["errors"].items() if v},
    )
