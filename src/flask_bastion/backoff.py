"""Progressive delay: how failed sign-ins on one account slow guessing down without locking the
account.

A free budget of failures (``BASTION_LOGIN_LIMIT_PER_IDENTITY``, a moving window) costs nothing.
From the failure that spends it on, each failure sets a time before which the next try on that
account, from a device the account does not know, is answered 429 with ``Retry-After`` and its
password is not even checked: 1 s, then 2 s, 4 s ... up to ``BASTION_LOGIN_DELAY_MAX``. Once
delayed, every further failure doubles the delay (the window emptying again does not reset it),
until the account has had no failure for ``BASTION_LOGIN_DELAY_MEMORY``.

Nothing but time resets it. A successful sign-in does not: the owner signing in (say, from a
known device, which the delay never holds) must not hand the attacker a fresh free budget. Only
the attacker's own traffic is what the count is made of, and the attacker cannot shorten it.

Counts live beside the rate limits (Redis, else memory; memory while Redis is down). Times are
Bastion's clock, so tests move them; Redis's own expiry only collects old keys.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from .config import Settings


@dataclass(frozen=True)
class DelayPolicy:
    base: float  # the first delay, in seconds
    cap: float  # no delay is longer
    memory: int  # seconds without a failure after which the count is forgotten

    def delay(self, count: int) -> float:
        """The wait after the ``count``-th failure past the free budget (count >= 1)."""
        # Exponential, capped: each guess past the budget costs twice the last one.
        return float(min(self.cap, self.base * 2 ** min(count - 1, 62)))


def delay_policy(settings: Settings) -> DelayPolicy:
    return DelayPolicy(
        base=settings.login_delay_base,
        cap=settings.login_delay_max,
        memory=settings.login_delay_memory,
    )


@dataclass(frozen=True)
class Delayed:
    """The state of one key: failures past the budget, and until when tries are not heard."""

    count: int = 0
    not_before: float = 0.0  # a POSIX timestamp on Bastion's clock

    def wait(self, now: float) -> int:
        """Whole seconds left to wait at ``now`` (0: a try may be heard)."""
        return max(0, math.ceil(self.not_before - now))


class DelayStore(Protocol):
    def read(self, key: str, now: float, policy: DelayPolicy) -> Delayed: ...

    def add(self, key: str, now: float, policy: DelayPolicy) -> Delayed: ...


class MemoryDelays:
    """This process's delays (development, one process, or while Redis is down)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[int, float, float]] = {}  # count, not_before, last failure
        self._lock = threading.Lock()

    def read(self, key: str, now: float, policy: DelayPolicy) -> Delayed:
        with self._lock:
            row = self._rows.get(key)
            if row is None or now - row[2] > policy.memory:
                self._rows.pop(key, None)
                return Delayed()
            return Delayed(row[0], row[1])

    def add(self, key: str, now: float, policy: DelayPolicy) -> Delayed:
        with self._lock:
            row = self._rows.get(key)
            count = 1 if row is None or now - row[2] > policy.memory else row[0] + 1
            state = Delayed(count, now + policy.delay(count))
            self._rows[key] = (state.count, state.not_before, now)
            if len(self._rows) > 100_000:  # an attack on many names must not grow memory forever
                self._forget_old(now, policy)
            return state

    def _forget_old(self, now: float, policy: DelayPolicy) -> None:
        for key in [k for k, row in self._rows.items() if now - row[2] > policy.memory]:
            del self._rows[key]


class RedisDelays:
    """Delays shared by every instance: one hash per key (count, not before, last failure)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}:delay:{key}"

    def read(self, key: str, now: float, policy: DelayPolicy) -> Delayed:
        row = self.client.hmget(self._name(key), "count", "not_before", "last")
        if row[0] is None or now - float(row[2]) > policy.memory:
            return Delayed()
        return Delayed(int(row[0]), float(row[1]))

    def add(self, key: str, now: float, policy: DelayPolicy) -> Delayed:
        name = self._name(key)
        if self.read(key, now, policy).count == 0:
            self.client.delete(name)  # forgotten on our clock: start again from one
        count = int(self.client.hincrby(name, "count", 1))  # atomic across instances
        state = Delayed(count, now + policy.delay(count))
        pipe = self.client.pipeline()
        pipe.hset(name, mapping={"not_before": state.not_before, "last": now})
        pipe.expire(name, policy.memory + int(policy.cap) + 60)  # only collects old keys
        pipe.execute()
        return state
