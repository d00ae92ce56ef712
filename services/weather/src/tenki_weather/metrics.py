"""Prometheus metrics of the weather service, in a registry of its own.

A registry per server (not prometheus_client's global one) lets tests run several servers in one
process, and keeps the exposition to exactly what this service measures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

from .model import CacheResult
from .ratelimit import FALLBACK, LOCAL

# Upstream outcomes: "ok", an errors.WeatherError kind, or "throttled" (tenki's own budget refused
# the call, so nothing was sent), or "no_time" (the caller's deadline left no time for it: not sent).
THROTTLED = "throttled"
NO_TIME = "no_time"

# The *_created series double the exposition and no dashboard of ours reads them. (The cast: prometheus_client
# leaves this one function unannotated; it takes nothing and returns nothing.)
cast(Callable[[], None], disable_created_metrics)()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.rpcs = Counter(
            "tenki_weather_rpcs",
            "gRPC calls handled, by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.rpc_latency = Histogram(
            "tenki_weather_rpc_duration_seconds",
            "gRPC call latency, by method and status code",
            ["method", "code"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.cache_lookups = Counter(
            "tenki_weather_cache_lookups",
            "Cache lookups by result: hit (fresh), miss (fetched upstream), "
            "stale (served after an upstream error)",
            ["result"],
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "tenki_weather_upstream_calls",
            "Calls to the weather provider by outcome "
            "(throttled: refused by tenki's own rate limit, not sent; "
            "no_time: the caller's deadline left no time for it, not sent)",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.budget_decisions = Counter(
            "tenki_weather_upstream_budget_decisions",
            "The OWM call budget's answers before upstream calls, by scope (local: in-process; fleet: "
            "shared in Redis; fallback: the local share while Redis fails) and result (allowed, denied)",
            ["scope", "result"],
            registry=self.registry,
        )
        self.budget_degraded = Gauge(
            "tenki_weather_upstream_budget_degraded",
            "1 while the fleet budget's Redis fails and the local fallback budget answers (as of the last "
            "upstream call), else 0",
            registry=self.registry,
        )
        # The shared cache (REDIS_URL) and the near cache in front of it.
        self.near_cache = Counter(
            "tenki_weather_near_cache_lookups",
            "In-process near cache lookups in front of the shared cache, by result (hit, miss)",
            ["result"],
            registry=self.registry,
        )
        self.shared_cache = Counter(
            "tenki_weather_shared_cache_lookups",
            "Shared (Redis) cache lookups by result: hit, miss, stale (an old entry served on an error), "
            "undecodable (a value that does not decode, read as a miss), error (Redis failed)",
            ["result"],
            registry=self.registry,
        )
        self.shared_places = Counter(
            "tenki_weather_shared_places_lookups",
            "Geocoded places looked up in the shared (Redis) store when this process had none, by result: "
            "hit (the fleet knew the code, or knew it unknown), miss (geocoded here, then stored)",
            ["result"],
            registry=self.registry,
        )
        self.lock_waits = Counter(
            "tenki_weather_shared_lock_waits",
            "Waits for another replica's upstream fetch (single flight across replicas), by outcome: "
            "answer, negative (it failed), takeover (its lock expired: this replica fetched), deadline",
            ["outcome"],
            registry=self.registry,
        )
        self.redis_errors = Counter(
            "tenki_weather_redis_errors",
            "Redis commands that failed, by kind (connection, timeout, auth, response, other)",
            ["kind"],
            registry=self.registry,
        )
        self.redis_degraded = Gauge(
            "tenki_weather_redis_degraded",
            "1 while Redis is configured but failing (answers come from the near cache and upstream)",
            registry=self.registry,
        )
        self.negative_cache = Counter(
            "tenki_weather_negative_cache",
            "Remembered failures: event (stored, hit), kind (not_found or an upstream error kind), "
            "where (local, shared)",
            ["event", "kind", "where"],
            registry=self.registry,
        )
        self.stale_refused_key = Counter(
            "tenki_weather_stale_on_refused_key",
            "Stale answers served because OWM refused the API key (401): the key needs fixing",
            registry=self.registry,
        )
        # Known label values start at zero, so a dashboard shows them before the first event.
        for result in CacheResult:
            self.cache_lookups.labels(result.value)
        for label in ("hit", "miss"):
            self.near_cache.labels(label)
        for label in ("hit", "miss", "stale", "undecodable", "error"):
            self.shared_cache.labels(label)
        for label in ("hit", "miss"):
            self.shared_places.labels(label)
        for outcome in ("answer", "negative", "takeover", "deadline"):
            self.lock_waits.labels(outcome)
        for kind in ("connection", "timeout", "auth", "response", "other"):
            self.redis_errors.labels(kind)

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        self.rpcs.labels(method, code).inc()
        self.rpc_latency.labels(method, code).observe(seconds)

    def observe_cache(self, result: CacheResult) -> None:
        self.cache_lookups.labels(result.value).inc()

    def observe_upstream(self, provider: str, outcome: str) -> None:
        self.upstream_calls.labels(provider, outcome).inc()

    def observe_budget(self, scope: str, allowed: bool) -> None:
        self.budget_decisions.labels(scope, "allowed" if allowed else "denied").inc()
        if scope != LOCAL:
            self.budget_degraded.set(1 if scope == FALLBACK else 0)

    def serve(self, port: int, host: str) -> WSGIServer:
        """Start the /metrics HTTP listener in a daemon thread; returns the WSGI server (to shut down)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
