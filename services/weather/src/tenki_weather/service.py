"""The lookup of the current weather: validate, then cache (single flight, stale-if-error), then the
provider in two upstream steps: geocoding (geocoding.Places, cached for a month) and the weather at the
place's coordinates.

Plain Python, no gRPC: the servicer translates protobuf to these calls and back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from .cache import ObservationCache
from .caller_limits import ANONYMOUS, Caller, CallerLimited, CallerLimits, cache_only_refusal
from .config import WeatherSettings
from .errors import RateLimited, WeatherError
from .geocoding import Geocoded, Places
from .metrics import THROTTLED, Metrics
from .model import Observation, Query, Report, Units
from .provider import Provider, build_provider
from .ratelimit import TokenBucket
from .units import precipitation, temperatures, wind
from .validation import validate

T = TypeVar("T")


class WeatherLookup:
    """Answers "what is the weather at this postal code?" in the units asked for; the domain's one entry."""

    def __init__(
        self,
        provider: Provider,
        cache: ObservationCache[Observation],
        limiter: TokenBucket | None = None,
        metrics: Metrics | None = None,
        caller_limits: CallerLimits | None = None,
        places_cache: ObservationCache[Geocoded] | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.limiter = limiter
        self.metrics = metrics or Metrics()
        self.caller_limits = caller_limits
        # Default: a month, as GEOCODE_TTL_SECONDS; stale for another month when the geocoder fails.
        month = 30 * 86400.0
        self.places = Places(
            provider,
            places_cache or ObservationCache(ttl_seconds=month, max_entries=100_000, stale_seconds=2 * month),
            self._upstream,
        )

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
        places_cache: ObservationCache[Geocoded] = ObservationCache(
            ttl_seconds=settings.geocode_ttl_seconds,
            max_entries=settings.cache_max_entries * 10,
            stale_seconds=2 * settings.geocode_ttl_seconds,
        )
        return cls(provider, cache, limiter, metrics, caller_limits, places_cache)

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
        # The entry is shared by every code of the area ("SW1A 1AA", "SW1A 2AA"): the answer names the
        # code that was asked, canonical, and the area the weather is for.
        location = replace(
            observation.location,
            postal_code=query.postal_code,
            district=query.lookup_code if query.district else "",
        )
        observation = replace(observation, location=location)
        return Report(
            observation=observation,
            units=query.units,
            temperature=temperatures(observation, query.units),
            wind=wind(observation, query.units),
            cache=result,
            precipitation=precipitation(observation, query.units),
        )

    def _fetch(self, query: Query, caller: Caller = ANONYMOUS) -> Observation:
        source = self.provider.source
        # A miss: the caller's own allowance first (caller_limits.py, once per lookup), then the shared
        # budget for each upstream call (geocoding, when the place is not cached, and the weather). A
        # refusal is counted as an upstream outcome of its kind (caller_rate_limited): nothing was sent.
        try:
            if caller.cache_only:
                raise cache_only_refusal()
            if self.caller_limits is not None:
                self.caller_limits.spend(caller)
        except CallerLimited as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        place = self.places.resolve(query)
        return self._upstream(lambda: self.provider.weather_at(place))

    def _upstream(self, call: Callable[[], T]) -> T:
        """One upstream call: it spends the budget (when there is one) and is counted by outcome."""
        source = self.provider.source
        if self.limiter is not None and not self.limiter.try_acquire():
            self.metrics.observe_upstream(source, THROTTLED)
            raise RateLimited("the weather service's upstream call budget is used up; try again in a minute")
        try:
            answer = call()
        except WeatherError as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        self.metrics.observe_upstream(source, "ok")
        return answer
