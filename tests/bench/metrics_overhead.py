"""What the Prometheus metrics add to each request, in process.

    python -m tests.bench.metrics_overhead [--multiprocess] [--requests 200000]

Times the metrics middleware around a trivial WSGI app against the trivial app alone (the
before-request hook's one environ write included), interleaved over seven rounds; prints the
medians and their difference. ``--multiprocess`` sets ``PROMETHEUS_MULTIPROC_DIR`` first, as
``newsroom serve --metrics-port`` does (values go to memory-mapped files).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--multiprocess", action="store_true")
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    if args.multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    from flask_bastion import metrics  # after the variable: prometheus_client reads it once

    class Rule:
        rule = "/api/health"

    rule = Rule()

    def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[metrics.ROUTE_KEY] = rule  # what the before-request hook does
        start_response("200 OK", [])
        return [b"{}"]

    instrumented = metrics._Instrumented(bare)  # type: ignore[arg-type]
    metrics.metrics()
    environ = {"REQUEST_METHOD": "GET"}

    def start_response(*_: Any) -> None:
        return None

    def per_request(app: Callable[..., Any], n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            app(environ, start_response)
        return (time.perf_counter() - started) / n * 1e6

    per_request(bare, 10_000), per_request(instrumented, 10_000)  # warm up
    plain, measured = [], []
    for _ in range(7):
        plain.append(per_request(bare, args.requests))
        measured.append(per_request(instrumented, args.requests))
    mode = "multiprocess" if args.multiprocess else "single process"
    p, m = statistics.median(plain), statistics.median(measured)
    print(f"{mode}: bare {p:.2f} us, with metrics {m:.2f} us, overhead {m - p:.2f} us/request")


if __name__ == "__main__":
    main()
