"""The upstream call budget (OWM_RATE_LIMIT_PER_MINUTE): at most that many OWM calls in any 60 seconds.

A moving window from the maintained `limits` library (`MovingWindowRateLimiter`): a call is allowed only
when fewer than `limit` calls were allowed in the `window_seconds` before it, so no window of that
length ever holds more than `limit` calls (a token bucket lets a full bucket plus its refill through:
up to twice the limit in some minute). In-process the window lives in `limits`' MemoryStorage; with
REDIS_URL it lives in Redis (one Lua script per call, atomic), so the limit is the whole fleet's.

When Redis fails, FleetBudget answers from a local fallback window (the limit divided by the number of
processes expected to share the key, OWM_RATE_LIMIT_REPLICAS) and tries Redis again at most once a
`retry_seconds`; the first answer from Redis ends the fallback. Plain Python, no gRPC: the domain asks
`acquire()` and the servicer never sees Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from pydantic import SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# The fleet's window in Redis: "tenki:budget:<limits' key, which names the limit and the window>".
REDIS_KEY_PREFIX = "tenki:budget"
IDENTIFIER = "owm-upstream"

# Where a decision came from: the in-process window (no REDIS_URL), the fleet's window in Redis, or
# the local fallback window while Redis fails.
LOCAL = "local"
FLEET = "fleet"
FALLBACK = "fallback"

# What a failing Redis raises through limits (wrapped) or redis-py itself (a socket error on connect).
REDIS_FAILURES = (StorageError, redis.RedisError, OSError)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    scope: str


class UpstreamBudget(Protocol):
    """What the domain asks before each upstream call."""

    limit: int

    def acquire(self) -> Decision:
        """Spend one call of the budget if the window allows it; never blocks beyond one Redis command."""
        ...


class MovingWindowBudget:
    """At most `limit` acquisitions in any `window_seconds`, kept in a `limits` storage."""

    def __init__(
        self, limit: int, storage: Storage, window_seconds: int = WINDOW_SECONDS, scope: str = LOCAL
    ) -> None:
        if limit <= 0:
            raise ValueError("the limit must be positive")
        self.limit = limit
        self.scope = scope
        self._item = RateLimitItemPerSecond(limit, window_seconds)
        self._limiter = MovingWindowRateLimiter(storage)

    def acquire(self) -> Decision:
        return Decision(self._limiter.hit(self._item, IDENTIFIER), self.scope)


def local_budget(limit: int, window_seconds: int = WINDOW_SECONDS, scope: str = LOCAL) -> MovingWindowBudget:
    return MovingWindowBudget(limit, MemoryStorage(), window_seconds, scope)


def fallback_limit(limit: int, replicas: int) -> int:
    """Each process's share of the key while Redis fails: limit // replicas, at least one call."""
    return max(1, limit // replicas)


def redis_storage(url: str, password: SecretStr, timeout_seconds: float) -> RedisStorage:
    """limits' Redis storage on a redis-py pool from REDIS_URL (redis://, rediss://, unix://).

    Every command is bounded by `timeout_seconds` (connect and read), and redis-py's own retries (three,
    with up to seconds of backoff by default) are off: a failing Redis costs one timeout, then the
    fallback answers. Nothing connects here; the first command does.
    """
    options: dict[str, object] = {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
    }
    if password.get_secret_value():
        options["password"] = password.get_secret_value()
    pool = redis.ConnectionPool.from_url(url, **options)
    # limits reads only the scheme of its uri when given a pool (so unix:// URLs work too).
    return RedisStorage("redis://", connection_pool=pool, key_prefix=REDIS_KEY_PREFIX, wrap_exceptions=True)


class FleetBudget:
    """The fleet's window in Redis; while Redis fails, a local window of the fallback size.

    The switch is logged once each way. While degraded, Redis is tried again at most once a
    `retry_seconds` (by `clock`), so a dead Redis costs one bounded command a second, not one per call.
    """

    def __init__(
        self,
        shared: UpstreamBudget,
        fallback: UpstreamBudget,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = shared.limit
        self.shared = shared
        self.fallback = fallback
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._degraded = False
        self._next_try = 0.0

    @property
    def degraded(self) -> bool:
        return self._degraded

    def acquire(self) -> Decision:
        now = self._clock()
        with self._lock:
            try_shared = not self._degraded or now >= self._next_try
            if try_shared and self._degraded:
                self._next_try = now + self.retry_seconds
        if try_shared:
            try:
                decision = self.shared.acquire()
            except REDIS_FAILURES as exc:
                self._enter_fallback(exc, now)
            else:
                self._leave_fallback()
                return decision
        return self.fallback.acquire()

    def _enter_fallback(self, exc: BaseException, now: float) -> None:
        cause = exc.__cause__ or exc  # limits wraps redis-py's error in a StorageError
        with self._lock:
            self._next_try = now + self.retry_seconds
            if self._degraded:
                return
            self._degraded = True
        log.warning(
            "upstream budget degraded: Redis failed (%s: %s); each process now allows %d OWM calls a minute "
            "on its own until Redis answers again",
            type(cause).__name__,
            cause,
            self.fallback.limit,
            extra={"budget": FALLBACK, "redis_error": type(cause).__name__},
        )

    def _leave_fallback(self) -> None:
        with self._lock:
            if not self._degraded:
                return
            self._degraded = False
        log.info(
            "upstream budget recovered: Redis answers again; the fleet shares %d OWM calls a minute",
            self.limit,
            extra={"budget": FLEET},
        )
