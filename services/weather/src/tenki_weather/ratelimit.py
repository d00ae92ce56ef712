"""A token bucket capping upstream calls (OWM_RATE_LIMIT_PER_MINUTE; the free tier allows 60)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_minute` tokens a minute, refilled continuously, holding at most `capacity` tokens.

    The capacity defaults to a minute's worth: OWM counts calls per minute, so a burst of that size
    after a quiet minute stays within the plan.
    """

    def __init__(
        self,
        rate_per_minute: int,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate_per_second = rate_per_minute / 60
        self.capacity = float(capacity if capacity is not None else rate_per_minute)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take one token if there is one; never blocks."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate_per_second)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False
