"""Per-client limits (Flask-Limiter): one client cannot spend everyone's OpenWeatherMap budget.

Two limits per client (the address proxies.py decided on), both in Flask-Limiter's notation:

* RATE_LIMIT_DEFAULT (120/minute): every request, pages and API together (an application-wide limit).
  /healthz, /readyz, /metrics, static files and unknown paths are never limited. A person reading pages
  makes a few requests a minute; 120 leaves room for a household or an office behind one address.
* RATE_LIMIT_UPSTREAM (20/minute): lookups that miss the weather service's cache, the ones that cost an
  upstream call from the shared budget (OWM_RATE_LIMIT_PER_MINUTE, 60 on OWM's free plan). The weather
  service says in its answer how its cache answered (`cache`); a miss or a stale answer (upstream was
  asked and failed), and every failed lookup except invalid input, counts one after the answer.
  Before each lookup the limit is tested, not spent: a client still under it asks normally; a client
  over it asks with `cache_only`, so places anyone looked up recently still answer (200) and only a new
  place is refused (429), without an upstream call. Concurrent lookups of one client can overshoot the
  limit by at most their number (test, then spend after the answer).

Over a limit: 429 with Retry-After, the error page in tenki's style (the API: its JSON error shape, code
`too_many_requests`), an INFO log line `rate limited` and tenki_frontend_rate_limited_requests_total.
Never a 5xx: a storage failure lets the request through.

Storage: without REDIS_URL each process counts alone (moving windows in memory), so N gunicorn workers
times M pods multiply the allowance by up to N x M. With REDIS_URL (password in the URL or REDIS_PASSWORD)
every worker and pod shares the counters. Redis down or slow (socket timeouts of 0.25 s, no retries):
Flask-Limiter falls back to in-process counting, checks Redis again with a growing back-off, and returns
to it by itself; the pages keep answering.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry

from tenki.weather.v1 import weather_pb2

from . import request_id
from .config import FrontendSettings
from .errors import FrontendError, render_error

log = logging.getLogger("tenki_frontend.limiting")
T = TypeVar("T")

EXTENSION_KEY = "tenki_upstream_limit"
# The probes (metrics are not on this app: the gunicorn master serves them on FRONTEND_METRICS_PORT).
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
KEY_PREFIX = "tenki-frontend"
UPSTREAM_SCOPE = "upstream"
REDIS_TIMEOUT_SECONDS = 0.25
# Failed lookups that cost no upstream call: the weather service refused the input before its cache.
_FREE_FAILURES = frozenset({grpc.StatusCode.INVALID_ARGUMENT})

RATE_LIMITED = Counter(
    "tenki_frontend_rate_limited_requests_total",
    "Requests refused with 429 by the per-client limits, by limit "
    "(default: all requests; upstream: lookups that miss the cache).",
    ["limit"],
)
for _limit in ("default", "upstream"):
    RATE_LIMITED.labels(_limit)


def client_key() -> str:
    """The client's address as decided by proxies.py (ProxyFix with TRUSTED_PROXY_HOPS)."""
    return request.remote_addr or "unknown"


def storage_uri(settings: FrontendSettings) -> str:
    """The `limits` storage for REDIS_URL (redis://, rediss://, unix://), or memory:// without one."""
    url = settings.redis_url
    if not url:
        return "memory://"
    # REDIS_URL is redis-py's notation (shared with the weather service); `limits` spells a socket redis+unix.
    return "redis+" + url if url.startswith("unix://") else url


def storage_options(settings: FrontendSettings) -> dict[str, Any]:
    """redis-py options: short timeouts and no retries, so a dead Redis costs a request little."""
    if not settings.redis_url:
        return {}
    options: dict[str, Any] = {
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
    }
    password = settings.redis_password.get_secret_value()
    if password:  # a password in REDIS_URL wins (redis-py lets the URL override keyword options)
        options["password"] = password
    return options


@dataclass
class UpstreamLimit:
    """RATE_LIMIT_UPSTREAM per client, through the limiter's storage (or its in-memory fallback)."""

    limiter: Limiter
    items: list[RateLimitItem]
    # Ours, for a storage error in between Flask-Limiter's own checks.
    fallback: RateLimiter = field(default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))

    def _run(self, action: Callable[[RateLimiter], T]) -> T:
        try:
            return action(self.limiter.limiter)
        except Exception as exc:  # noqa: BLE001 -- a storage failure must never fail the request
            log.warning("rate limit storage failed; counting in this process", extra={"error": repr(exc)})
            return action(self.fallback)

    def allows(self, client: str) -> bool:
        return self._run(lambda s: all(s.test(item, *self._key(client)) for item in self.items))

    def spend(self, client: str) -> None:
        self._run(lambda s: [s.hit(item, *self._key(client)) for item in self.items])

    def retry_after(self, client: str) -> int:
        """Seconds until the client's exhausted window lets a new lookup through again."""

        def seconds(strategy: RateLimiter) -> int:
            waits = [
                min(item.get_expiry(), math.ceil(stats.reset_time - time.time()))
                for item, stats in ((i, strategy.get_window_stats(i, *self._key(client))) for i in self.items)
                if stats.remaining <= 0
            ]
            return max([1, *waits])

        return self._run(seconds)

    @staticmethod
    def _key(client: str) -> tuple[str, str, str]:
        return KEY_PREFIX, UPSTREAM_SCOPE, client


def too_many_requests(retry_after: int, upstream: bool) -> FrontendError:
    if upstream:
        message = (
            "You have looked up more new places than tenki fetches for one person in a short time. "
            "Places looked up recently still answer; please wait "
            f"{retry_after} seconds before asking for a new one."
        )
    else:
        message = (
            "You have sent tenki more requests than it answers for one person in a short time. "
            f"Please wait {retry_after} seconds and try again."
        )
    return FrontendError(429, "too_many_requests", "Too many requests", message, retry_after=retry_after)


def _refused(limit: str, client: str, retry_after: int) -> None:
    RATE_LIMITED.labels(limit).inc()
    log.info(
        "rate limited",
        extra={
            "request_id": request_id.current(),
            "limit": limit,
            "client": client,
            "path": request.path,
            "retry_after": retry_after,
        },
    )


def _status_code(error: grpc.RpcError) -> grpc.StatusCode:
    """The status of a failed call (grpc raises an RpcError that is also a Call); UNKNOWN otherwise."""
    method = getattr(error, "code", None)
    code: grpc.StatusCode = method() if callable(method) else grpc.StatusCode.UNKNOWN
    return code


Reply = TypeVar("Reply", weather_pb2.GetCurrentWeatherResponse, weather_pb2.GetForecastResponse)


def upstream_limited(ask: Callable[[bool], Reply]) -> Reply:
    """One lookup under the client's upstream limit; `ask(cache_only)` makes the gRPC call."""
    limit: UpstreamLimit = current_app.extensions[EXTENSION_KEY]
    client = client_key()
    over = not limit.allows(client)
    try:
        reply = ask(over)
    except grpc.RpcError as exc:
        code = _status_code(exc)
        if over and code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            # The cache could not answer and this client may not ask upstream now.
            seconds = limit.retry_after(client)
            _refused("upstream", client, seconds)
            raise too_many_requests(seconds, upstream=True) from None
        if not over and code not in _FREE_FAILURES:
            limit.spend(client)
        raise
    if not over and reply.cache != weather_pb2.CACHE_STATUS_HIT:
        limit.spend(client)
    return reply


def init_app(app: Flask, settings: FrontendSettings) -> Limiter:
    """Per-client limits on `app`: Flask-Limiter for every request, UpstreamLimit for cache misses."""
    limiter = Limiter(
        client_key,
        application_limits=[settings.rate_limit_default],
        storage_uri=storage_uri(settings),
        storage_options=storage_options(settings),
        strategy="moving-window",
        in_memory_fallback_enabled=True,
        # Any other storage error: logged, and the request goes through (never a 5xx for a limit).
        swallow_errors=True,
        key_prefix=KEY_PREFIX,
        headers_enabled=False,
    )
    limiter.request_filter(lambda: request.path in EXEMPT_PATHS)
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = UpstreamLimit(limiter, parse_many(settings.rate_limit_upstream))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded) -> Response:
        seconds = 60
        try:
            current = limiter.current_limit
            if current is not None:
                wait = math.ceil(current.reset_at - time.time())
                seconds = max(1, min(current.limit.get_expiry(), wait))
        except Exception:  # noqa: BLE001 -- the storage died in between: a minute is a fine guess
            pass
        _refused("default", client_key(), seconds)
        return render_error(too_many_requests(seconds, upstream=False))

    return limiter
