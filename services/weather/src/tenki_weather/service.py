"""The lookups of the current weather and the forecast: validate, then cache (single flight,
stale-if-error), then the provider in two upstream steps: geocoding (geocoding.Places, cached for a
month, shared by both) and the weather or forecast at the place's coordinates.

Both lookups go through one path (`_lookup`): the same validation, cache machinery, upstream budget
and metrics; only the cache (and its TTL) and the provider call differ.

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
from .forecast import days, slot_in
from .model import (
    CacheResult,
    Forecast,
    ForecastReport,
    Location,
    Observation,
    Place,
    Query,
    Report,
    Units,
)
from .provider import Provider, build_provider
from .ratelimit import TokenBucket
from .units import precipitation, temperatures, wind
from .validation import validate

T = TypeVar("T")
V = TypeVar("V")


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
        forecast_cache: ObservationCache[Forecast] | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.limiter = limiter
        self.metrics = metrics or Metrics()
        self.caller_limits = caller_limits
        # Default: FORECAST_CACHE_TTL_SECONDS' 30 minutes, stale for an hour like the current weather.
        self.forecasts = forecast_cache or ObservationCache(
            ttl_seconds=1800.0, max_entries=10_000, stale_seconds=3600.0
        )
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
        forecast_cache: ObservationCache[Forecast] = ObservationCache(
            ttl_seconds=settings.forecast_cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
            stale_seconds=settings.stale_if_error_seconds,
        )
        return cls(provider, cache, limiter, metrics, caller_limits, places_cache, forecast_cache)

    def current_weather(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
    ) -> Report:
        """The current weather for a raw question; raises errors.WeatherError subclasses."""
        query, observation, result = self._lookup(
            self.cache, postal_code, country_code, units, caller, self.provider.weather_at
        )
        observation = replace(observation, location=self._asked(query, observation.location))
        return Report(
            observation=observation,
            units=query.units,
            temperature=temperatures(observation, query.units),
            wind=wind(observation, query.units),
            cache=result,
            precipitation=precipitation(observation, query.units),
        )

    def forecast(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
    ) -> ForecastReport:
        """The forecast for a raw question, with its daily summary; raises errors.WeatherError subclasses."""
        query, forecast, result = self._lookup(
            self.forecasts, postal_code, country_code, units, caller, self.provider.forecast_at
        )
        forecast = replace(forecast, location=self._asked(query, forecast.location))
        return ForecastReport(
            forecast=forecast,
            units=query.units,
            slots=tuple(slot_in(slot, query.units) for slot in forecast.slots),
            days=days(forecast, query.units),
            cache=result,
        )

    def _lookup(
        self,
        cache: ObservationCache[V],
        postal_code: str,
        country_code: str,
        units: Units | str | None,
        caller: Caller,
        fetch: Callable[[Place], V],
    ) -> tuple[Query, V, CacheResult]:
        """Validate, then the place's cache entry: on a miss, geocode (shared) and one upstream call."""
        query = validate(postal_code, country_code, units)

        def upstream() -> V:
            # A miss: the caller's own allowance first (caller_limits.py, once per lookup), then the
            # shared budget for each upstream call (geocoding, when the place is not cached, and the
            # weather or forecast). A refusal is counted as an upstream outcome of its kind: nothing sent.
            try:
                if caller.cache_only:
                    raise cache_only_refusal()
                if self.caller_limits is not None:
                    self.caller_limits.spend(caller)
            except CallerLimited as exc:
                self.metrics.observe_upstream(self.provider.source, exc.kind)
                raise
            place = self.places.resolve(query)
            return self._upstream(lambda: fetch(place))

        value, result = cache.get(query.place_key, upstream)
        self.metrics.observe_cache(result)
        return query, value, result

    @staticmethod
    def _asked(query: Query, location: Location) -> Location:
        """The entry is shared by every code of the area ("SW1A 1AA", "SW1A 2AA"): the answer names the
        code that was asked, canonical, and the area the weather is for."""
        return replace(
            location, postal_code=query.postal_code, district=query.lookup_code if query.district else ""
        )

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
