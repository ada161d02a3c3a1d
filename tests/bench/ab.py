"""Two checkouts of newsroom served side by side and measured in turns.

    python -m tests.bench.ab OTHER_CHECKOUT [--rounds 3] [--seconds 3] [--postgres]

On SQLite by default; with ``--postgres`` each side gets a database of its own on the server
``DATABASE_URL`` names (created for the run and dropped after it).

``make bench`` quotes each figure as a ratio to a floor measured in the same run, and that is the
right test of a target. It is the wrong test of a change that makes the floor itself cheaper: every
ratio then drops although nothing else got slower. To compare two versions of the code, this
serves both at once (each from its own checkout and virtualenv, same workers, threads and seed)
plus the bare-Flask floor, and measures every endpoint on each in alternating order, round after
round, so both see the same background load. It prints the median requests per second of each,
the ratio of this checkout to the other, and each figure over bare Flask's.

The other checkout needs its own ``.venv`` (``make setup`` in it).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.bench import wrk
from tests.bench.client import Api
from tests.bench.run import fresh_database
from tests.bench.server import bare_flask
from tests.servers import ROOT, free_port, production_env, wait_until_up

ENDPOINTS = [
    ("health", "/api/health", None),
    ("cookie session", "/api/auth/session", "cookie"),
    ("bearer session", "/api/auth/session", "bearer"),
    ("article page", "/api/articles?per_page=20", "cookie"),
    ("bearer articles", "/api/articles?per_page=20", "bearer"),
]


class Side:
    """One checkout, migrated, seeded and served, with a signed-in cookie and access token."""

    def __init__(
        self, name: str, root: Path, database_url: str, articles: int, redis: str, log_dir: Path
    ) -> None:
        self.name, self.root = name, root
        self.port = free_port()
        self.env = production_env(database_url, self.port)
        self.env.update(REDIS_URL=redis, RATELIMIT_PREFIX=f"ab-{secrets.token_hex(6)}")
        self.log = log_dir / f"{name}.log"
        newsroom = str(root / ".venv/bin/newsroom")
        self.command = [newsroom, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.command += ["--workers", "2", "--threads", "4"]
        run = {"env": self.env, "cwd": root, "check": True, "capture_output": True, "text": True}
        subprocess.run([newsroom, "db", "upgrade"], **run)  # type: ignore[call-overload]
        seeded = subprocess.run([newsroom, "seed", "--articles", str(articles)], **run)  # type: ignore[call-overload]
        found = re.search(r"demo password \(shown once\): (\S+)", seeded.stdout)
        if found is None:
            raise RuntimeError(f"{name}: no demo password in {seeded.stdout!r}")
        self.password = found.group(1)
        self.base = f"http://127.0.0.1:{self.port}"
        self.cookie = ""
        self.bearer = ""

    @contextmanager
    def serving(self) -> Iterator[None]:
        with (
            self.log.open("wb") as log,
            subprocess.Popen(
                self.command, env=self.env, cwd=self.root, stdout=log, stderr=log
            ) as process,
        ):
            try:
                wait_until_up(self.base + "/api/health", process, timeout=60)
                api = Api(self.base)
                self.cookie = api.login_cookie("alice", self.password)
                token, why_not = api.access_token("bob", self.password)
                if token is None:
                    raise RuntimeError(f"{self.name}: no access token: {why_not}")
                self.bearer = f"Bearer {token}"
                yield
            finally:
                process.terminate()
                process.wait(timeout=30)

    def measure(self, path: str, credential: str | None, load: wrk.Load) -> float:
        cookie = self.cookie if credential == "cookie" else None
        authorization = self.bearer if credential == "bearer" else None
        result = wrk.measure(self.base + path, load, cookie=cookie, authorization=authorization)
        if result.failed:
            raise RuntimeError(f"{self.name} {path}: {result.errors}")
        return result.rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("other", type=Path, help="the checkout to compare this one with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--only", nargs="*", help="endpoint names to measure (default: all)")
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--postgres", action="store_true", help="each side on its own database of DATABASE_URL"
    )
    args = parser.parse_args()
    load = wrk.Load(duration=args.seconds, warmup=1.0)
    endpoints = [e for e in ENDPOINTS if not args.only or e[0] in args.only]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        backend = "postgresql" if args.postgres else "sqlite"
        sides = [
            Side(
                name,
                root,
                stack.enter_context(fresh_database(backend, workdir)),
                args.articles,
                args.redis,
                workdir,
            )
            for name, root in (("this", ROOT), ("other", args.other.resolve()))
        ]
        for side in sides:
            stack.enter_context(side.serving())
        bare, _pid = stack.enter_context(bare_flask(2, 4, workdir))
        rps: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.rounds):
            for name, path, credential in endpoints:
                order = sides if (round_ + len(rps)) % 2 == 0 else sides[::-1]
                for side in order:
                    rps.setdefault((side.name, name), []).append(
                        side.measure(path, credential, load)
                    )
            rps.setdefault(("bare", "health"), []).append(
                wrk.measure(bare + "/api/health", load).rps
            )
    floor = statistics.median(rps[("bare", "health")])
    print(f"bare Flask /api/health: {floor:,.0f} req/s (median of {args.rounds})")
    print(
        f"{'endpoint':<18}{'this':>10}{'other':>10}{'this/other':>12}{'this/bare':>11}{'other/bare':>11}"
    )
    for name, _path, _credential in endpoints:
        this = statistics.median(rps[("this", name)])
        other = statistics.median(rps[("other", name)])
        print(
            f"{name:<18}{this:>10,.0f}{other:>10,.0f}{this / other:>12.2f}"
            f"{this / floor:>11.2f}{other / floor:>11.2f}"
        )


if __name__ == "__main__":
    main()
