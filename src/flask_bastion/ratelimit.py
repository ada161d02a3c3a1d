"""Rate limits on sign-in and sign-up, shared across instances through Redis when configured.

Without Redis the counters live in this process's memory: they hold only while one process
serves the app (``newsroom serve`` refuses more than one worker without Redis), since N
processes would each allow the whole limit.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from . import clock
from .errors import BastionError, RateLimited

# A Redis that accepts connections and never answers must not hold a sign-in (and its worker
# thread) for long: a counter read takes well under a millisecond when Redis is healthy.
REDIS_TIMEOUT = 0.5
# How long a client should wait before trying again while the counter store is unreachable.
UNAVAILABLE_RETRY_AFTER = "5"


class LimitsUnavailable(BastionError):
    """The counter store did not answer: refuse rather than let attempts pass uncounted."""

    # The code and wording of a database outage: to a client, both are the same brief wait.
    status, code, detail = (
        503,
        "service_unavailable",
        "The service is briefly unavailable. Try again in a few seconds.",
    )


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


class RateLimits:
    def __init__(self, redis_url: str | None, *, prefix: str = "bastion") -> None:
        if redis_url:
            storage = storage_from_string(
                redis_url, key_prefix=prefix, wrap_exceptions=True, **redis_options()
            )
        else:
            storage = storage_from_string("memory://")
        self.limiter = MovingWindowRateLimiter(storage)

    @staticmethod
    def _key(parts: tuple[str, ...]) -> str:
        # Hash identities, so the limiter's store holds no email addresses.
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def check(self, limit: str, *parts: str) -> None:
        """Refuse (429) when the limit is spent, without counting this attempt."""
        item, key = parse(limit), self._key(parts)
        try:
            allowed = self.limiter.test(item, key)
        except StorageError:
            raise LimitsUnavailable(headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}) from None
        if not allowed:
            self._refuse(limit, key)

    def hit(self, limit: str, *parts: str) -> None:
        """Count one attempt; refuse (429) when that goes over the limit."""
        item, key = parse(limit), self._key(parts)
        try:
            allowed = self.limiter.hit(item, key)
        except StorageError:
            raise LimitsUnavailable(headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}) from None
        if not allowed:
            self._refuse(limit, key)

    def _refuse(self, limit: str, key: str) -> None:
        try:
            stats = self.limiter.get_window_stats(parse(limit), key)
        except StorageError:
            raise LimitsUnavailable(headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}) from None
        # The window itself is kept by the limits storage on its own time (Redis's in
        # production); only our reading of "now" goes through the clock.
        wait = max(1, math.ceil(stats.reset_time - clock.now().timestamp()))
        raise RateLimited(headers={"Retry-After": str(wait)})
