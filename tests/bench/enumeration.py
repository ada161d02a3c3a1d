"""Do register, resend, forgot and code request take as long for an unknown address as for one
with an account? Against a real `newsroom serve` (production settings, confirmation required).

    python -m tests.bench.enumeration            # 30 requests per case, SQLite
    python -m tests.bench.enumeration -n 50

Each endpoint gets ``n`` requests for addresses that have an account and ``n`` for addresses that
do not, interleaved so both see the same machine. Every request comes from its own client
address (``X-Forwarded-For`` through one trusted proxy) and names its own target, so the
per-address and per-target rate limits never answer for the measured endpoint. PASS when, for
every endpoint, the two medians are within 20% of each other (issue 10, item 9); the status
codes and bodies must also be identical. Exit status 1 on FAIL.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from flask_bastion import clock
from flask_bastion.identity import identity_key
from flask_bastion.models import User
from newsroom import migrate
from tests.bench.server import Server

TOLERANCE = 0.20
PASSWORD = "bench-passphrase-for-enumeration"


@dataclass
class Case:
    endpoint: str
    known_ms: float
    unknown_ms: float
    same_answers: bool

    @property
    def spread(self) -> float:
        low, high = sorted((self.known_ms, self.unknown_ms))
        return (high - low) / low

    @property
    def verdict(self) -> str:
        return "PASS" if self.spread <= TOLERANCE and self.same_answers else "FAIL"


def create_unconfirmed_users(app: Flask, count: int) -> list[tuple[str, str]]:
    """``count`` accounts that never confirmed (so resend mails them), one password hash for all."""
    with app.app_context():
        state = app.extensions["bastion"]
        migrate.upgrade(state.db.engine)
        password_hash = state.passwords.hash(PASSWORD)
        now = clock.now()
        users = [(f"known{n}@example.com", f"known{n}") for n in range(count)]
        with state.db.unit_of_work() as db:
            db.add_all(
                User(
                    email=email,
                    email_key=identity_key(email),
                    username=username,
                    username_key=identity_key(username),
                    password_hash=password_hash,
                    active=True,
                    created_at=now,
                    login_count=0,
                )
                for email, username in users
            )
    return users


class Client:
    """One HTTP client; each request from a new client address (the proxy header)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.get(f"{base}/api/auth/session", timeout=10)
        self.csrf = self.http.cookies.get("XSRF-TOKEN") or ""

    def post(self, path: str, body: dict[str, Any]) -> tuple[float, int, str]:
        address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
        started = time.perf_counter()
        response = self.http.post(
            self.base + path,
            json=body,
            headers={"X-XSRF-TOKEN": self.csrf, "X-Forwarded-For": address},
            timeout=60,
        )
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, response.status_code, response.text


Body = Callable[[str, str, int], dict[str, Any]]

ENDPOINTS: list[tuple[str, str, Body]] = [
    (
        "register",
        "/api/auth/register",
        lambda email, _user, n: {
            "email": email,
            "username": f"new{n}x{secrets.token_hex(3)}",
            "password": PASSWORD,
        },
    ),
    ("resend", "/api/auth/confirm/resend", lambda email, _user, _n: {"email": email}),
    ("forgot", "/api/auth/password/forgot", lambda email, _user, _n: {"email": email}),
    ("code request", "/api/auth/code/request", lambda _email, user, _n: {"identity": user}),
]


def measure(base: str, known: list[tuple[str, str]], count: int) -> list[Case]:
    client = Client(base)
    cases = []
    for name, path, body in ENDPOINTS:
        client.post(path, body("warmup@example.org", "warmup", -1))  # templates, caches
        times: dict[bool, list[float]] = {True: [], False: []}
        answers: dict[bool, set[tuple[int, str]]] = {True: set(), False: set()}
        for n in range(count):
            tag = secrets.token_hex(4)
            unknown = (f"nobody-{tag}@example.org", f"nobody{tag}")
            order = [(True, known[n]), (False, unknown)]
            if n % 2:
                order.reverse()
            for exists, (email, user) in order:
                elapsed, status, text = client.post(path, body(email, user, n))
                times[exists].append(elapsed)
                answers[exists].add((status, text))
        same = len(answers[True]) == 1 and answers[True] == answers[False]
        cases.append(
            Case(name, statistics.median(times[True]), statistics.median(times[False]), same)
        )
        if not same:
            print(f"  {name}: answers differ: {answers}", flush=True)
    return cases


def run(count: int, threads: int) -> list[Case]:
    with tempfile.TemporaryDirectory(prefix="bench-enum-") as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        server = Server(database_url, workers=1, threads=threads, log_dir=Path(workdir))
        # Production settings with confirmation required, behind one trusted proxy, so each
        # request can come from its own address.
        server.env.update(EMAIL_CONFIRMATION="required", TRUSTED_PROXIES="1")
        app = server.in_process_app()
        known = create_unconfirmed_users(app, count)
        server.dispose(app)
        with server.running() as base:
            return measure(base, known, count)


def report(cases: list[Case]) -> bool:
    print(f"{'endpoint':<14} {'known p50':>10} {'unknown p50':>12} {'spread':>7}  verdict")
    for case in cases:
        print(
            f"{case.endpoint:<14} {case.known_ms:>8.2f}ms {case.unknown_ms:>10.2f}ms "
            f"{case.spread:>6.0%}  {case.verdict}"
        )
    passed = all(case.verdict == "PASS" for case in cases)
    print(
        f"enumeration: {'PASS' if passed else 'FAIL'} (medians within {TOLERANCE:.0%}, "
        "same status and body)"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", "--requests", type=int, default=30, help="requests per case")
    parser.add_argument("--threads", type=int, default=4, help="server threads")
    args = parser.parse_args(argv)
    return 0 if report(run(args.requests, args.threads)) else 1


if __name__ == "__main__":
    sys.exit(main())
