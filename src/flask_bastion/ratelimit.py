"""Rate limits, shared across instances through Redis when configured, never switched off.

Without Redis the counters live in this process's memory: they hold only while one process
serves the app (``newsroom serve`` refuses more than one worker without Redis), since N
processes would each allow the whole limit. When a configured Redis stops answering, the same
limits go on in this process's memory (:class:`Fallback`) until Redis answers again: an outage
of the counter store weakens a limit to per-process, it never lifts it and never refuses
sign-ins.

A refusal is 429 ``rate_limited`` with ``Retry-After`` and the IETF ``RateLimit-Policy`` and
``RateLimit`` fields (:func:`limit_headers`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from . import clock
from .backoff import Delayed, DelayPolicy, DelayStore, MemoryDelays, RedisDelays
from .errors import RateLimited

log = logging.getLogger("flask_bastion.ratelimit")

T = TypeVar("T")

# A Redis that accepts connections and never answers must not hold a sign-in (and its worker
# thread) for long: a counter read takes well under a millisecond when Redis is healthy.
REDIS_TIMEOUT = 0.5
# After Redis failed, requests use memory counters for this long before Redis is tried again:
# a dead Redis costs one timeout per interval, not one per request.
RECONNECT_AFTER = 5.0


def redis_options() -> dict[str, Any]:
    """Options for the Redis client: short timeouts and no retries (a retry would multiply
    the wait the timeout bounds). Redis is an optional dependency: imported only when used."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": REDIS_TIMEOUT,
        "socket_connect_timeout": REDIS_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }


def limit_headers(
    policy: str, item: RateLimitItem, *, remaining: int, reset: int
) -> dict[str, str]:
    """The IETF rate-limit fields for one policy, as structured fields.

    Syntax of draft-ietf-httpapi-ratelimit-headers-10 (September 2025): ``RateLimit-Policy``
    names the policy with its quota ``q`` and window ``w`` in seconds; ``RateLimit`` the same
    name with what ``r`` remains and ``t`` seconds until it resets.
    """
    return {
        "RateLimit-Policy": f'"{policy}";q={item.amount};w={item.get_expiry()}',
        "RateLimit": f'"{policy}";r={max(0, remaining)};t={max(0, reset)}',
    }


def refusal(
    policy: str, item: RateLimitItem, wait: int, *, user_id: int | None = None
) -> RateLimited:
    """The 429 for ``policy``: come back in ``wait`` seconds (at least one)."""
    wait = max(1, wait)
    headers = {"Retry-After": str(wait), **limit_headers(policy, item, remaining=0, reset=wait)}
    return RateLimited(headers=headers, scope=policy, user_id=user_id)


class Fallback:
    """Which store counts: Redis while it answers, this process's memory while it does not.

    The switch is logged once each way. Redis is tried again :data:`RECONNECT_AFTER` seconds
    after it failed (process time: an operational interval, not a security timestamp).
    """

    def __init__(self, name: str, errors: tuple[type[BaseException], ...]) -> None:
        self.name = name
        self.errors = errors
        self._down_until: float | None = None
        self._lock = threading.Lock()

    def run(self, primary: Callable[[], T] | None, fallback: Callable[[], T]) -> T:
        """``primary()`` unless its store is down (or absent); else ``fallback()``."""
        if primary is None or self._resting():
            return fallback()
        try:
            result = primary()
        except self.errors:
            self._went_down()
            return fallback()
        self._came_back()
        return result

    @property
    def down(self) -> bool:
        return self._down_until is not None

    def _resting(self) -> bool:
        with self._lock:
            return self._down_until is not None and time.monotonic() < self._down_until

    def _went_down(self) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + RECONNECT_AFTER
        if first:
            log.warning(
                "%s unreachable: counting in this process's memory until it answers", self.name
            )

    def _came_back(self) -> None:
        with self._lock:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            log.warning("%s answers again: counting there again", self.name)


class RateLimits:
    def __init__(self, redis_url: str | None, *, prefix: str = "bastion") -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.memory_delays = MemoryDelays()
        self.redis: MovingWindowRateLimiter | None = None
        self.redis_delays: DelayStore | None = None
        errors: tuple[type[BaseException], ...] = (StorageError,)
        if redis_url:
            import redis

            storage = storage_from_string(
                redis_url, key_prefix=prefix, wrap_exceptions=True, **redis_options()
            )
            self.redis = MovingWindowRateLimiter(storage)
            client = redis.Redis.from_url(redis_url, **redis_options())
            self.redis_delays = RedisDelays(client, prefix)
            errors = (StorageError, redis.RedisError)
        # The configured store (the readiness probe pings it).
        self.limiter = self.redis or self.memory
        self.fallback = Fallback("Redis (rate limits)", errors)
        # Told of each refusal that is the first of its key in its window (the extension
        # records it in the audit trail): whoever catches the 429 later, it is recorded here.
        self.on_refusal: Callable[[RateLimited], None] | None = None

    @staticmethod
    def key(parts: tuple[str, ...]) -> str:
        # Hash identities, so the limiter's store holds no email addresses.
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def _on(self, use: Callable[[MovingWindowRateLimiter], T]) -> T:
        redis = self.redis
        return self.fallback.run(
            (lambda: use(redis)) if redis is not None else None, lambda: use(self.memory)
        )

    def check(self, limit: str, *parts: str, user_id: int | None = None) -> None:
        """Refuse (429) when the limit is spent, without counting this attempt."""
        item, key = parse(limit), self.key(parts)
        if not self._on(lambda limiter: limiter.test(item, key)):
            raise self._refused(item, key, parts[0], user_id)

    def hit(self, limit: str, *parts: str, user_id: int | None = None) -> None:
        """Count one attempt; refuse (429) when that goes over the limit.

        ``parts[0]`` names the policy (``"login-ip"``) in the answer's headers and the audit
        trail; the rest say whose count it is.
        """
        item, key = parse(limit), self.key(parts)
        if not self._on(lambda limiter: limiter.hit(item, key)):
            raise self._refused(item, key, parts[0], user_id)

    def count(self, limit: str, *parts: str) -> None:
        """Count one attempt and refuse nothing: the next :meth:`check` reads it. For a failure
        counted after the answer is decided (a wrong code stays a wrong code)."""
        item, key = parse(limit), self.key(parts)
        self._on(lambda limiter: limiter.hit(item, key))

    def spent(self, limit: str, *parts: str) -> bool:
        """Whether the limit has nothing left (nothing is counted)."""
        item, key = parse(limit), self.key(parts)
        return not self._on(lambda limiter: limiter.test(item, key))

    def _refused(
        self, item: RateLimitItem, key: str, policy: str, user_id: int | None
    ) -> RateLimited:
        stats = self._on(lambda limiter: limiter.get_window_stats(item, key))
        # The window itself is kept by the limits storage on its own time (Redis's in
        # production); only our reading of "now" goes through the clock.
        wait = math.ceil(stats.reset_time - clock.now().timestamp())
        return self._noted(refusal(policy, item, wait, user_id=user_id), key, item)

    def _noted(self, error: RateLimited, key: str, item: RateLimitItem) -> RateLimited:
        """``error`` marked first of its key in the window or not; a first one is reported."""
        error.first_refusal = self.first_refusal(key, item.get_expiry())
        if error.first_refusal and self.on_refusal is not None:
            self.on_refusal(error)
        return error

    def first_refusal(self, key: str, window: int) -> bool:
        """Whether this is the first refusal of ``key`` in ``window`` seconds: only that one is
        audited, so an attack cannot flood the security events with one line per try."""
        once = RateLimitItemPerSecond(1, max(1, window))
        return self._on(lambda limiter: limiter.hit(once, "refused", key))

    # ---- progressive delay (see backoff.py) ----------------------------------------------------

    def _delays(self, use: Callable[[DelayStore], T]) -> T:
        redis = self.redis_delays
        return self.fallback.run(
            (lambda: use(redis)) if redis is not None else None,
            lambda: use(self.memory_delays),
        )

    def delayed(
        self, limit: str, delay: DelayPolicy, *parts: str, user_id: int | None = None
    ) -> None:
        """Refuse (429) while the delay of ``parts`` runs; nothing is counted."""
        now, key = clock.now().timestamp(), self.key(parts)
        state: Delayed = self._delays(lambda store: store.read(key, now, delay))
        wait = state.wait(now)
        if wait:
            item = parse(limit)
            raise self._noted(refusal(parts[0], item, wait, user_id=user_id), key, item)

    def failed(self, limit: str, delay: DelayPolicy, *parts: str) -> None:
        """Count a failure of ``parts``: free while ``limit`` lasts, from then on each one sets
        a longer delay (and once delayed, every later failure does, until forgotten)."""
        item, key, now = parse(limit), self.key(parts), clock.now().timestamp()
        self._on(lambda limiter: limiter.hit(item, key))
        spent = not self._on(lambda limiter: limiter.test(item, key))
        if spent or self._delays(lambda store: store.read(key, now, delay)).count:
            self._delays(lambda store: store.add(key, now, delay))
