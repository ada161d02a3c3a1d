"""The second floor: a bare Flask app (one trivial endpoint, no extension) under Granian.

    python -m tests.bench.bare --port 8001 --workers 2 --threads 4

Served by the same server as `newsroom serve`, with the same workers and blocking threads, so
`/api/health` against this shows what the extension and newsroom cost per request and in memory.
"""

from __future__ import annotations

import argparse

from flask import Flask, Response

app = Flask(__name__)


@app.get("/api/health")
def health() -> Response:
    return Response('{"status":"ok"}', mimetype="application/json")


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    # The same arguments `newsroom serve` gives Granian (app/newsroom/cli.py).
    Granian(
        target="tests.bench.bare:app",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
