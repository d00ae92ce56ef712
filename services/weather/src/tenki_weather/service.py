"""The lookup of the current weather: validate, then cache (single flight, stale-if-error), then provider.

Plain Python, no gRPC: the servicer translates protobuf to these calls and back.
"""

from __future__ import annotations

from .cache import ObservationCache
from .caller_limits import ANONYMOUS, Caller, CallerLimited, CallerLimits, cache_only_refusal
from .config import WeatherSettings
from .errors import RateLimited, WeatherError
from .metrics import THROTTLED, Metrics
from .model import Observation, Query, Report, Units
from .provider import Provider, build_provider
from .ratelimit import (
    FALLBACK,
    FLEET,
    FleetBudget,
    MovingWindowBudget,
    UpstreamBudget,
    fallback_limit,
    local_budget,
    redis_storage,
)
from .units import temperatures, wind
from .validation import validate


class WeatherLookup:
    """Answers "what is the weather at this postal code?" in the units asked for; the domain's one entry."""

    def __init__(
        self,
        provider: Provider,
        cache: ObservationCache[Observation],
        budget: UpstreamBudget | None = None,
        metrics: Metrics | None = None,
        caller_limits: CallerLimits | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.budget = budget
        self.metrics = metrics or Metrics()
        self.caller_limits = caller_limits

    @classmethod
    def from_settings(cls, settings: WeatherSettings, metrics: Metrics | None = None) -> WeatherLookup:
        provider = build_provider(settings)
        cache: ObservationCache[Observation] = ObservationCache(
            ttl_seconds=settings.cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
            stale_seconds=settings.stale_if_error_seconds,
        )
        # The demo provider makes no upstream calls, so only OWM spends the budget.
        budget = build_budget(settings) if settings.provider == "owm" else None
        caller_limits = CallerLimits(
            settings.grpc_rate_limit_upstream, settings.grpc_rate_limit_exempt.split(",")
        )
        return cls(provider, cache, budget, metrics, caller_limits)

    def current_weather(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
    ) -> Report:
        """The current weather for a raw question; raises errors.WeatherError subclasses."""
        query = validate(postal_code, country_code, units)
        observation, result = self.cache.get(query.place_key, lambda: self._fetch(query, caller))
        self.metrics.observe_cache(result)
        return Report(
            observation=observation,
            units=query.units,
            temperature=temperatures(observation, query.units),
            wind=wind(observation, query.units),
            cache=result,
        )

    def _fetch(self, query: Query, caller: Caller = ANONYMOUS) -> Observation:
        source = self.provider.source
        # A miss: the caller's own allowance first (caller_limits.py), then the shared budget. A refusal
        # is counted as an upstream outcome of its kind (caller_rate_limited): nothing was sent.
        try:
            if caller.cache_only:
                raise cache_only_refusal()
            if self.caller_limits is not None:
                self.caller_limits.spend(caller)
        except CallerLimited as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        if self.budget is not None:
            decision = self.budget.acquire()
            self.metrics.observe_budget(decision.scope, decision.allowed)
            if not decision.allowed:
                self.metrics.observe_upstream(source, THROTTLED)
                raise RateLimited(
                    f"the weather service's upstream call budget ({self.budget.limit} OpenWeatherMap calls "
                    "a minute) is used up; try again in a minute"
                )
        try:
            observation = self.provider.current_weather(query.postal_code, query.country_code)
        except WeatherError as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        self.metrics.observe_upstream(source, "ok")
        return observation


def build_budget(settings: WeatherSettings) -> UpstreamBudget:
    """OWM_RATE_LIMIT_PER_MINUTE in-process, or the fleet's in Redis (REDIS_URL) with a local fallback."""
    limit = settings.owm_rate_limit_per_minute
    if not settings.redis_url:
        return local_budget(limit)
    shared = redis_storage(settings.redis_url, settings.redis_password, settings.redis_timeout_seconds)
    return FleetBudget(
        MovingWindowBudget(limit, shared, scope=FLEET),
        local_budget(fallback_limit(limit, settings.owm_rate_limit_replicas), scope=FALLBACK),
    )
