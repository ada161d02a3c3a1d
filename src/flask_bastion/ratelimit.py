"""Rate limits on sign-in and sign-up, shared across instances through Redis when configured."""

from __future__ import annotations

import hashlib
import math

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from . import clock
from .errors import RateLimited


class RateLimits:
    def __init__(self, redis_url: str | None, *, prefix: str = "bastion") -> None:
        if redis_url:
            storage = storage_from_string(redis_url, key_prefix=prefix)
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
        if not self.limiter.test(item, key):
            self._refuse(limit, key)

    def hit(self, limit: str, *parts: str) -> None:
        """Count one attempt; refuse (429) when that goes over the limit."""
        item, key = parse(limit), self._key(parts)
        if not self.limiter.hit(item, key):
            self._refuse(limit, key)

    def _refuse(self, limit: str, key: str) -> None:
        stats = self.limiter.get_window_stats(parse(limit), key)
        # The window itself is kept by the limits storage on its own time (Redis's in
        # production); only our reading of "now" goes through the clock.
        wait = max(1, math.ceil(stats.reset_time - clock.now().timestamp()))
        raise RateLimited(headers={"Retry-After": str(wait)})
