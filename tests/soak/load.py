"""The soak's load generator: a mixed workload from threads, every answer and every write kept.

Each worker signs in as one of the soak's users (an app client: bearer token and rotating
refresh token) and runs who-am-I, article lists, creates, edits with If-Match and refreshes.
A separate thread signs in now and then (Argon2 is costly, and sign-ins per address are
limited). Every create carries a nonce the generator chose; an acknowledged (201) create is
recorded with it, so afterwards the database can be counted against the record.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

CLIENT_TIMEOUT = 10.0  # a request not answered in this long is a hang: a failure, always
MIX = {"whoami": 25, "list": 30, "create": 15, "edit": 20, "refresh": 10}
SIGN_IN_EVERY = 2.0  # seconds; sign-ins per client address are limited to 60 a minute


@dataclass(frozen=True)
class Sample:
    op: str
    start: float  # seconds since the generator's epoch
    seconds: float
    status: int  # 0: no answer (timeout, connection error)
    problem: bool  # the body was application/problem+json
    error: str = ""


@dataclass
class Article:
    id: int
    nonce: str
    etag: str
    version: int
    state: tuple[str, str]  # (title, body) as last acknowledged or read back
    settled: bool = True  # False after a write whose outcome we do not know


@dataclass
class Record:
    """What the generator saw: every answer, and every write the service acknowledged."""

    epoch: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    attempted: set[str] = field(default_factory=set)  # create nonces sent
    acked: dict[str, int] = field(default_factory=dict)  # create nonce -> article id
    articles: dict[int, Article] = field(default_factory=dict)
    writes_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.epoch

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def title_of(nonce: str, version: int) -> str:
    return f"soak {nonce} v{version}"


def body_of(nonce: str, version: int) -> str:
    # Title and body carry the same version: a row with different ones is half-written.
    return f"{nonce} v{version}\n\nWritten by the soak's load generator."


class Worker:
    """One simulated app client, bound to one user."""

    def __init__(self, base: str, ca: str, user: str, password: str, record: Record) -> None:
        self.base, self.user, self.password, self.record = base, user, password, record
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = ca
        self.tokens: dict[str, Any] | None = None
        self.mine: list[Article] = []
        self.random = random.Random(secrets.randbits(32))

    # -- one request, measured --------------------------------------------------------------

    def call(self, op: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        headers = kwargs.pop("headers", {})
        if self.tokens is not None and op != "sign_in" and op != "refresh":
            headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        start = self.record.now()
        try:
            answer = self.http.request(
                method, self.base + path, headers=headers, timeout=CLIENT_TIMEOUT, **kwargs
            )
        except requests.RequestException as error:
            self.record.add(
                Sample(op, start, self.record.now() - start, 0, False, type(error).__name__)
            )
            return None
        is_problem = answer.headers.get("Content-Type", "").startswith("application/problem+json")
        self.record.add(
            Sample(op, start, self.record.now() - start, answer.status_code, is_problem)
        )
        return answer

    # -- the operations -------------------------------------------------------------------------

    def sign_in(self) -> bool:
        answer = self.call(
            "sign_in", "POST", "/api/token", json={"identity": self.user, "password": self.password}
        )
        if answer is not None and answer.status_code == 200:
            self.tokens = answer.json()
            return True
        return False

    def run_one(self, op: str) -> None:
        if self.tokens is None and not self.sign_in():
            return
        getattr(self, op)()

    def _signed_out(self, answer: requests.Response | None) -> None:
        if answer is not None and answer.status_code == 401:
            self.tokens = None  # refresh family ended (a lost refresh answer): sign in again

    def whoami(self) -> None:
        self._signed_out(self.call("whoami", "GET", "/api/auth/session"))

    def list(self) -> None:
        self._signed_out(self.call("list", "GET", "/api/articles?per_page=20"))

    def refresh(self) -> None:
        assert self.tokens is not None
        answer = self.call(
            "refresh",
            "POST",
            "/api/token/refresh",
            json={"refresh_token": self.tokens["refresh_token"]},
        )
        if answer is not None and answer.status_code == 200:
            self.tokens = answer.json()
        elif answer is not None and answer.status_code in (400, 401):
            self.tokens = None

    def create(self) -> None:
        nonce = secrets.token_hex(8)
        with self.record.lock:
            self.record.attempted.add(nonce)
            self.record.writes_in_flight += 1
        try:
            answer = self.call(
                "create",
                "POST",
                "/api/articles",
                json={"title": title_of(nonce, 0), "body": body_of(nonce, 0)},
            )
        finally:
            with self.record.lock:
                self.record.writes_in_flight -= 1
        self._signed_out(answer)
        if answer is not None and answer.status_code == 201:
            article = Article(
                answer.json()["id"],
                nonce,
                answer.headers["ETag"],
                0,
                (title_of(nonce, 0), body_of(nonce, 0)),
            )
            with self.record.lock:
                self.record.acked[nonce] = article.id
                self.record.articles[article.id] = article
            self.mine.append(article)

    def edit(self) -> None:
        if not self.mine:
            self.create()
            return
        article = self.random.choice(self.mine[-20:])
        if not article.settled and not self.settle(article):
            return
        version = article.version + 1
        wanted = (title_of(article.nonce, version), body_of(article.nonce, version))
        with self.record.lock:
            self.record.writes_in_flight += 1
        try:
            answer = self.call(
                "edit",
                "PATCH",
                f"/api/articles/{article.id}",
                json={"title": wanted[0], "body": wanted[1]},
                headers={"If-Match": article.etag},
            )
        finally:
            with self.record.lock:
                self.record.writes_in_flight -= 1
        self._signed_out(answer)
        if answer is not None and answer.status_code == 200:
            article.etag, article.version, article.state = answer.headers["ETag"], version, wanted
        elif answer is None or answer.status_code >= 500 or answer.status_code == 412:
            article.settled = False  # it may or may not have been written: read it back

    def settle(self, article: Article) -> bool:
        """Read an article back after a write whose outcome is unknown."""
        answer = self.call("read", "GET", f"/api/articles/{article.id}")
        if answer is None or answer.status_code != 200:
            self._signed_out(answer)
            return False
        body = answer.json()
        article.etag, article.state = answer.headers["ETag"], (body["title"], body["body"])
        article.version = int(body["title"].rsplit(" v", 1)[1])
        article.settled = True
        return True


def run_workers(
    workers: list[Worker],
    seconds: float,
    rate: float | None,
    record: Record,
    signer: Worker | None = None,
) -> Counter[str]:
    """Run ``workers`` for ``seconds``: as fast as they go (rate None), or at ``rate`` ops/s.

    ``signer`` signs in every few seconds meanwhile (the workload's sign-ins).
    """
    done: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds
    ops, weights = zip(*MIX.items(), strict=True)

    def loop(worker: Worker, index: int) -> None:
        interval = len(workers) / rate if rate else 0.0
        next_at = time.monotonic() + interval * index / len(workers)
        while time.monotonic() < stop_at:
            if rate:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -1:
                    next_at = time.monotonic()  # behind by a second: do not burst to catch up
                next_at += interval
            op = worker.random.choices(ops, weights)[0]
            worker.run_one(op)
            with record.lock:
                done[op] += 1

    def sign_ins(worker: Worker) -> None:
        while time.monotonic() < stop_at:
            time.sleep(SIGN_IN_EVERY)
            worker.sign_in()
            with record.lock:
                done["sign_in"] += 1

    threads = [threading.Thread(target=loop, args=(w, i)) for i, w in enumerate(workers)]
    if signer is not None:
        threads.append(threading.Thread(target=sign_ins, args=(signer,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def settle_all(workers: list[Worker]) -> list[int]:
    """After the load: read back every article left unsettled; the ids that cannot be read."""
    unreadable = []
    for worker in workers:
        if worker.tokens is None:
            worker.sign_in()
        for article in worker.mine:
            if not article.settled and not worker.settle(article):
                unreadable.append(article.id)
    return unreadable
