"""The lookup of the current weather: validate, then cache (single flight, stale-if-error), then provider.

Plain Python, no gRPC: the servicer translates protobuf to these calls and back.
"""

from __future__ import annotations

from . import budget
from .cache import ObservationCache
from .caller_limits import ANONYMOUS, Caller, CallerLimited, CallerLimits, cache_only_refusal
from .config import WeatherSettings
from .errors import RateLimited, Unavailable, WeatherError
from .metrics import NO_TIME, THROTTLED, Metrics
from .model import Observation, Query, Report, Units
from .provider import Provider, build_provider
from .ratelimit import TokenBucket
from .units import temperatures, wind
from .validation import validate


class WeatherLookup:
    """Answers "what is the weather at this postal code?" in the units asked for; the domain's one entry."""

    def __init__(
        self,
        provider: Provider,
        cache: ObservationCache[Observation],
        limiter: TokenBucket | None = None,
        metrics: Metrics | None = None,
        caller_limits: CallerLimits | None = None,
        margin_seconds: float = 0.0,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.limiter = limiter
        self.metrics = metrics or Metrics()
        self.caller_limits = caller_limits
        # Kept back from a caller's budget for the answer itself (a stale entry or an error).
        self.margin_seconds = margin_seconds

    @classmethod
    def from_settings(cls, settings: WeatherSettings, metrics: Metrics | None = None) -> WeatherLookup:
        provider = build_provider(settings)
        cache: ObservationCache[Observation] = ObservationCache(
            ttl_seconds=settings.cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
            stale_seconds=settings.stale_if_error_seconds,
        )
        # The demo provider makes no upstream calls, so only OWM spends the budget.
        limiter = TokenBucket(settings.owm_rate_limit_per_minute) if settings.provider == "owm" else None
        caller_limits = CallerLimits(
            settings.grpc_rate_limit_upstream, settings.grpc_rate_limit_exempt.split(",")
        )
        return cls(provider, cache, limiter, metrics, caller_limits, settings.deadline_margin_seconds)

    def current_weather(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
        budget_seconds: float | None = None,
    ) -> Report:
        """The current weather for a raw question; raises errors.WeatherError subclasses.

        `budget_seconds` is the time the caller still waits (None: no limit). Upstream gets that less
        the margin, never more than the provider's own timeout, so a slow upstream ends in time for a
        stale entry (or the error) to reach the caller before its deadline.
        """
        query = validate(postal_code, country_code, units)
        upstream = None if budget_seconds is None else budget_seconds - self.margin_seconds
        with budget.upstream_deadline(upstream):
            observation, result = self.cache.get(
                query.place_key, lambda: self._fetch(query, caller), wait_seconds=budget.remaining()
            )
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
        if budget.remaining() == 0:
            # The caller's deadline leaves no time for upstream: no call (and no token) spent on it.
            self.metrics.observe_upstream(source, NO_TIME)
            raise Unavailable("the caller's deadline leaves no time to ask upstream; try again shortly")
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
        if self.limiter is not None and not self.limiter.try_acquire():
            self.metrics.observe_upstream(source, THROTTLED)
            raise RateLimited("the weather service's upstream call budget is used up; try again in a minute")
        try:
            observation = self.provider.current_weather(query.postal_code, query.country_code)
        except WeatherError as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        self.metrics.observe_upstream(source, "ok")
        return observation
