"""The lookups of the current weather and the forecast: validate, then cache (single flight,
stale-if-error), then the provider in two upstream steps: geocoding (geocoding.Places, cached for a
month, shared by both) and the weather or forecast at the place's coordinates.

Both lookups go through one path (`_lookup`): the same validation, caller limits, deadline (budget.py:
each upstream request, the geocoding's and the weather's or forecast's, is cut to what is left of it),
in-process single flight, stale-if-error, negative caching, upstream budget and metrics; only the cache
(and its TTL) and the provider call differ (a `_Kind` each). With REDIS_URL both go through the shared
state (shared.py), each on its own shelf: the current weather's entries, locks and remembered failures
(`obs`, `lock`, `neg`), the forecast's (`fc`, `fclock`, `fcneg`, FORECAST_CACHE_TTL_SECONDS); the
geocoded places are shared too (`geo`), so a place another replica geocoded costs no geocoding call.

Plain Python, no gRPC: the servicer translates protobuf to these calls and back.

The path of a lookup, cheapest first:
  1. the in-process cache (with REDIS_URL: the near cache, CACHE_LOCAL_TTL_SECONDS), one flight per key;
  2. the shared cache in Redis (a fresh entry another replica fetched);
  3. a remembered failure (negative cache, in process and in Redis): raised again, no upstream call;
  4. the fleet's fetch lock for the place: one replica calls upstream, the others poll for its answer
     until their own deadline; a lock whose holder died expires and a waiting replica takes over;
  5. upstream, under the rate limit.
A failure that stale-if-error covers (upstream unavailable, rate limited, a refused key) serves an entry
at most STALE_IF_ERROR_SECONDS old; NOT_FOUND, bad input and tenki's own bugs never do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from cachetools import LRUCache

from . import budget
from .cache import Loaded, ObservationCache
from .caller_limits import ANONYMOUS, Caller, CallerLimited, CallerLimits, cache_only_refusal
from .config import WeatherSettings
from .errors import Misconfigured, NotFound, RateLimited, Unavailable, UpstreamRejected, WeatherError
from .geocoding import Geocoded, Places
from .forecast import days, slot_in
from .metrics import NO_TIME, THROTTLED, Metrics
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
from .shared import POLL_SECONDS, FailureStore, LockState, Remembered, SharedState, Shelf, connect
from .units import precipitation, temperatures, wind
from .validation import validate

log = logging.getLogger(__name__)
T = TypeVar("T")
V = TypeVar("V")

# The errors a remembered failure can be; INTERNAL is never remembered, nor tenki's own budget. Only
# upstream's answers are remembered, so "invalid_input" is OWM's 400 (tenki's own validation runs first):
# without it, a page's second lookup would ask OWM the same refused question again.
REMEMBERED_KINDS: dict[str, type[WeatherError]] = {
    cls.kind: cls for cls in (NotFound, Unavailable, RateLimited, Misconfigured, UpstreamRejected)
}
# A failed geocoding's key in the in-process negative cache (+ the place key); in Redis, `geoneg`.
GEOCODING_NEGATIVE_PREFIX = ("geocode",)
# Stale-if-error's scope: upstream unavailable (timeouts, 5xx, connection failures), rate limited (OWM's
# 429 or tenki's budget), and a refused key (401, logged at ERROR on every call).
STALE_KINDS = (Unavailable, RateLimited, Misconfigured)
# A caller without a deadline waits for another replica's fetch at most this much beyond the lock.
DEADLINE_MARGIN_SECONDS = 0.05


def serves_stale(error: BaseException) -> bool:
    return isinstance(error, STALE_KINDS)


class NegativeCache:
    """Remembered failures in this process: bounded (LRU), each for its own number of seconds."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: LRUCache[Hashable, tuple[float, Remembered]] = LRUCache(maxsize=max_entries)
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Remembered | None:
        with self._lock:
            item = self._entries.get(key)
            if item is None:
                return None
            if self._clock() >= item[0]:
                del self._entries[key]
                return None
            return item[1]

    def put(self, key: Hashable, failure: Remembered, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._entries[key] = (self._clock() + seconds, failure)


class BudgetSpent(RateLimited):
    """tenki's own upstream budget (OWM_RATE_LIMIT_PER_MINUTE) is used up: RESOURCE_EXHAUSTED, never
    remembered for the place."""


class NoTime(Unavailable):
    """The caller's deadline leaves no time for an upstream call: UNAVAILABLE, nothing sent, never
    remembered for the place."""


@dataclass(frozen=True)
class _Kind(Generic[V]):
    """What one kind of lookup (the current weather, the forecast) has of its own on the common path."""

    what: str  # "weather" or "forecast", for messages
    cache: ObservationCache[V]  # in process (the near cache with REDIS_URL)
    # The provider's call at a geocoded place (the provider asked at call time: drills wrap it in faults).
    at: Callable[[Provider, Place], V]
    shelf: Shelf[V] | None  # its entries, locks and remembered failures in Redis; None: in process only
    prefix: tuple[str, ...]  # the in-process negative cache's key: prefix + the place key

    def negative_key(self, place: tuple[str, str]) -> Hashable:
        return self.prefix + (place,) if self.prefix else place


def _weather_at(provider: Provider, place: Place) -> Observation:
    return provider.weather_at(place)


def _forecast_at(provider: Provider, place: Place) -> Forecast:
    return provider.forecast_at(place)


class _GeocodingFailures:
    """A failed geocoding is the place's, whichever lookup met it: remembered under the geocoder's own
    key (in process, and in Redis as `geoneg`), which both kinds of lookup read before geocoding."""

    def __init__(self, lookup: WeatherLookup) -> None:
        self._lookup = lookup

    def _store(self) -> FailureStore | None:
        shared = self._lookup.shared
        return shared.geocoding_failures if shared is not None else None

    def raise_remembered(self, place: tuple[str, str]) -> None:
        self._lookup._raise_remembered_at(GEOCODING_NEGATIVE_PREFIX + (place,), self._store(), place)

    def remember(self, place: tuple[str, str], error: WeatherError) -> None:
        if not isinstance(error, (BudgetSpent, NoTime)):  # tenki's own refusals are not the place's
            self._lookup._remember_at(GEOCODING_NEGATIVE_PREFIX + (place,), self._store(), place, error)


class WeatherLookup:
    """Answers "what is the weather at this postal code?" in the units asked for; the domain's one entry."""

    def __init__(
        self,
        provider: Provider,
        cache: ObservationCache[Observation],
        budget: UpstreamBudget | None = None,
        metrics: Metrics | None = None,
        *,
        shared: SharedState | None = None,
        negative_error_seconds: float = 0.0,
        negative_not_found_seconds: float = 0.0,
        near_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        caller_limits: CallerLimits | None = None,
        places_cache: ObservationCache[Geocoded] | None = None,
        margin_seconds: float = 0.0,
        forecast_cache: ObservationCache[Forecast] | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.budget = budget
        self.metrics = metrics or Metrics()
        self.shared = shared
        self.negative_error_seconds = negative_error_seconds
        self.negative_not_found_seconds = negative_not_found_seconds
        self.near_seconds = near_seconds
        self.negatives = NegativeCache(cache.max_entries, clock)
        self._clock = clock
        self._sleep: Callable[[float], None] = time.sleep
        self.caller_limits = caller_limits
        # Default: FORECAST_CACHE_TTL_SECONDS' 30 minutes, stale for an hour like the current weather.
        self.forecasts = forecast_cache or ObservationCache(
            ttl_seconds=1800.0, max_entries=10_000, stale_seconds=3600.0
        )
        # Postal code -> place, the first upstream step (geocoding.py). Default: a month, as
        # GEOCODE_TTL_SECONDS; stale for another month when the geocoder fails. With `shared`, the
        # fleet's answers in Redis behind this process's.
        month = 30 * 86400.0
        self.places = Places(
            provider,
            places_cache or ObservationCache(ttl_seconds=month, max_entries=100_000, stale_seconds=2 * month),
            self._upstream,
            shared,
            lambda result: self.metrics.shared_places.labels(result).inc(),
            _GeocodingFailures(self),
        )
        self._weather_kind: _Kind[Observation] = _Kind(
            "weather", cache, _weather_at, None if shared is None else shared.observations, ()
        )
        self._forecast_kind: _Kind[Forecast] = _Kind(
            "forecast",
            self.forecasts,
            _forecast_at,
            None if shared is None else shared.forecasts,
            ("forecast",),
        )
        # Kept back from a caller's budget for the answer itself (a stale entry or an error): upstream
        # gets the rest (budget.py), never more than the provider's own timeout.
        self.margin_seconds = margin_seconds

    @classmethod
    def from_settings(
        cls,
        settings: WeatherSettings,
        metrics: Metrics | None = None,
        wrap_provider: Callable[[Provider], Provider] = lambda provider: provider,
    ) -> WeatherLookup:
        """The lookup the settings describe; `wrap_provider` decorates the provider before every part that
        calls it (the weather, the forecast and the geocoding) takes it: the drills' upstream faults."""
        metrics = metrics or Metrics()
        provider = wrap_provider(build_provider(settings))
        shared: SharedState | None = None
        if settings.shared:
            client = connect(
                settings.redis_url,
                settings.redis_password.get_secret_value(),
                settings.redis_timeout_seconds,
            )
            shared = SharedState(
                client,
                metrics,
                entry_seconds=settings.cache_ttl_seconds + settings.stale_if_error_seconds,
                forecast_seconds=settings.forecast_cache_ttl_seconds + settings.stale_if_error_seconds,
                # Longer than the upstream timeout, so a live leader never loses its lock mid-fetch.
                lock_seconds=settings.owm_timeout_seconds + 2,
                place_seconds=settings.geocode_ttl_seconds,
                unknown_place_seconds=settings.negative_cache_not_found_seconds,
            )
        cache: ObservationCache[Observation] = ObservationCache(
            ttl_seconds=settings.cache_local_ttl_seconds if shared else settings.cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
            stale_seconds=settings.stale_if_error_seconds,
            data_ttl_seconds=settings.cache_ttl_seconds,
        )
        # The demo provider makes no upstream calls, so only OWM spends the budget.
        call_budget = build_budget(settings) if settings.provider == "owm" else None
        caller_limits = CallerLimits(
            settings.grpc_rate_limit_upstream, settings.grpc_rate_limit_exempt.split(",")
        )
        return cls(
            provider,
            cache,
            call_budget,
            metrics,
            shared=shared,
            negative_error_seconds=settings.negative_cache_error_seconds,
            negative_not_found_seconds=settings.negative_cache_not_found_seconds,
            near_seconds=settings.cache_local_ttl_seconds,
            caller_limits=caller_limits,
            places_cache=ObservationCache(
                ttl_seconds=settings.geocode_ttl_seconds,
                max_entries=settings.cache_max_entries * 10,
                stale_seconds=2 * settings.geocode_ttl_seconds,
            ),
            margin_seconds=settings.deadline_margin_seconds,
            forecast_cache=ObservationCache(
                ttl_seconds=(
                    settings.cache_local_ttl_seconds if shared else settings.forecast_cache_ttl_seconds
                ),
                max_entries=settings.cache_max_entries,
                stale_seconds=settings.stale_if_error_seconds,
                data_ttl_seconds=settings.forecast_cache_ttl_seconds,
            ),
        )

    def current_weather(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
        budget_seconds: float | None = None,
    ) -> Report:
        """The current weather for a raw question; raises errors.WeatherError subclasses.

        `budget_seconds`: the time the caller still waits (None: no limit); a wait for another caller's
        or another replica's fetch ends before it, and upstream gets it less `margin_seconds` (never more
        than the provider's own timeout), so a stale entry or the error still reaches the caller in time.
        """
        query = validate(postal_code, country_code, units)
        loaded = self._lookup(self._weather_kind, query, caller, budget_seconds)
        # The entry is shared by every code of the area ("SW1A 1AA", "SW1A 2AA"): the answer names the
        # code that was asked, canonical, and the area the weather is for.
        observation = replace(loaded.value, location=self._asked(query, loaded.value.location))
        return Report(
            observation=observation,
            units=query.units,
            temperature=temperatures(observation, query.units),
            wind=wind(observation, query.units),
            cache=loaded.result,
            stale_cause=loaded.cause.kind if isinstance(loaded.cause, WeatherError) else "",
            precipitation=precipitation(observation, query.units),
        )

    def forecast(
        self,
        postal_code: str,
        country_code: str = "",
        units: Units | str | None = None,
        caller: Caller = ANONYMOUS,
        budget_seconds: float | None = None,
    ) -> ForecastReport:
        """The forecast for a raw question, with its daily summary; raises errors.WeatherError subclasses.

        The current weather's path (`budget_seconds` as there), with the forecast's own cache entries,
        locks and remembered failures (in process, and in Redis with REDIS_URL).
        """
        query = validate(postal_code, country_code, units)
        loaded = self._lookup(self._forecast_kind, query, caller, budget_seconds)
        forecast = replace(loaded.value, location=self._asked(query, loaded.value.location))
        return ForecastReport(
            forecast=forecast,
            units=query.units,
            slots=tuple(slot_in(slot, query.units) for slot in forecast.slots),
            days=days(forecast, query.units),
            cache=loaded.result,
            stale_cause=loaded.cause.kind if isinstance(loaded.cause, WeatherError) else "",
        )

    def _lookup(
        self, kind: _Kind[V], query: Query, caller: Caller, budget_seconds: float | None
    ) -> Loaded[V]:
        """The in-process cache (one flight per place, stale-if-error) within the caller's deadline.

        `budget_seconds`: the time the caller still waits (None: no limit); a wait for another caller's
        or another replica's fetch ends before it, and upstream gets it less `margin_seconds` (never more
        than the provider's own timeout), so a stale entry or the error still reaches the caller in time.
        """
        deadline = None
        if budget_seconds is not None:
            deadline = self._clock() + budget_seconds - DEADLINE_MARGIN_SECONDS
        loaded_here: list[bool] = []

        def loader() -> Loaded[V]:
            loaded_here.append(True)
            return self._load(kind, query, deadline, caller)

        upstream = None if budget_seconds is None else budget_seconds - self.margin_seconds
        with budget.upstream_deadline(upstream):
            loaded = kind.cache.lookup(
                query.place_key,
                loader,
                serves_stale,
                wait_seconds=None if deadline is None else max(0.0, deadline - self._clock()),
                timed_out=lambda: Unavailable(
                    f"the {kind.what} is still being fetched; try again in a moment"
                ),
            )
        if kind.shelf is not None:
            self.metrics.near_cache.labels("miss" if loaded_here else "hit").inc()
        result = loaded.result
        self.metrics.observe_cache(result)
        if result is CacheResult.STALE and isinstance(loaded.cause, Misconfigured):
            self.metrics.stale_refused_key.inc()
            log.error(
                "serving a stale answer because OpenWeatherMap refused the API key: fix OWM_API_KEY",
                extra={"postal_code": query.postal_code, "country_code": query.country_code},
            )
        return loaded

    @staticmethod
    def _asked(query: Query, location: Location) -> Location:
        """The entry is shared by every code of the area ("SW1A 1AA", "SW1A 2AA"): the answer names the
        code that was asked, canonical, and the area the weather is for."""
        return replace(
            location, postal_code=query.postal_code, district=query.lookup_code if query.district else ""
        )

    # -- the load behind the in-process cache ---------------------------------------------------------

    def _load(self, kind: _Kind[V], query: Query, deadline: float | None, caller: Caller) -> Loaded[V]:
        place = query.place_key
        shelf = kind.shelf
        old = None
        if shelf is not None:
            entry = shelf.get(place)
            if entry is not None and entry.age < kind.cache.data_ttl_seconds:
                self.metrics.shared_cache.labels("hit").inc()
                return Loaded(entry.value, CacheResult.HIT, entry.age)
            if not shelf.degraded:  # a failed read is counted as "error" already
                self.metrics.shared_cache.labels("miss").inc()
            old = entry
        try:
            self._raise_remembered(kind, place)
            return self._fetch_once(kind, query, deadline, caller)
        except WeatherError as exc:
            if old is not None and serves_stale(exc) and old.age <= kind.cache.stale_seconds:
                self.metrics.shared_cache.labels("stale").inc()
                return Loaded(old.value, CacheResult.STALE, old.age, exc)
            raise

    def _raise_remembered(self, kind: _Kind[V], place: tuple[str, str]) -> None:
        self._raise_remembered_at(kind.negative_key(place), kind.shelf, place)

    def _raise_remembered_at(
        self, local: Hashable, store: FailureStore | None, place: tuple[str, str]
    ) -> None:
        """Raise the failure remembered under `local` in process, or for `place` in `store` (Redis)."""
        failure = self.negatives.get(local)
        where = "local"
        if failure is None and store is not None:
            failure = store.remembered(place)
            where = "shared"
            if failure is not None:
                # A near copy, so a crowd asking this replica costs Redis one read, not one each.
                self.negatives.put(local, failure, self.near_seconds)
        if failure is None:
            return
        error_class = REMEMBERED_KINDS.get(failure.kind)
        if error_class is None:
            return
        self.metrics.negative_cache.labels("hit", failure.kind, where).inc()
        raise error_class(failure.message)

    def _remember(self, kind: _Kind[V], place: tuple[str, str], error: WeatherError) -> None:
        self._remember_at(kind.negative_key(place), kind.shelf, place, error)

    def _remember_at(
        self, local: Hashable, store: FailureStore | None, place: tuple[str, str], error: WeatherError
    ) -> None:
        if error.kind not in REMEMBERED_KINDS:
            return
        not_found = isinstance(error, NotFound)
        seconds = self.negative_not_found_seconds if not_found else self.negative_error_seconds
        if seconds <= 0:
            return
        failure = Remembered(error.kind, error.message)
        self.negatives.put(local, failure, seconds)
        self.metrics.negative_cache.labels("stored", error.kind, "local").inc()
        if store is not None:
            store.remember(place, failure, seconds)
            self.metrics.negative_cache.labels("stored", error.kind, "shared").inc()

    def _fetch_once(self, kind: _Kind[V], query: Query, deadline: float | None, caller: Caller) -> Loaded[V]:
        """Upstream once for the fleet: take the place's lock, or wait for the replica that holds it."""
        shelf = kind.shelf
        if shelf is None:
            return Loaded(self._fetch(kind, query, caller))
        place = query.place_key
        state, token = shelf.try_lock(place)
        if state is LockState.BUSY:
            waited = self._wait_for_leader(kind, shelf, query, deadline)
            if isinstance(waited, Loaded):
                return waited
            state, token = waited
        try:
            value = self._fetch(kind, query, caller)
            shelf.put(place, value)
            return Loaded(value)
        finally:
            if state is LockState.ACQUIRED:
                shelf.unlock(place, token)

    def _wait_for_leader(
        self, kind: _Kind[V], shelf: Shelf[V], query: Query, deadline: float | None
    ) -> Loaded[V] | tuple[LockState, str]:
        """Poll for the leader's answer; a Loaded, or the lock state to fetch under (takeover, Redis gone)."""
        place = query.place_key
        bound = self._clock() + shelf.lock_seconds + 1.0
        end = bound if deadline is None else min(deadline, bound)
        while True:
            polled = shelf.poll(place)
            if polled.entry is not None and polled.entry.age < kind.cache.data_ttl_seconds:
                self.metrics.lock_waits.labels("answer").inc()
                return Loaded(polled.entry.value, CacheResult.HIT, polled.entry.age)
            if polled.remembered is not None and polled.remembered.kind in REMEMBERED_KINDS:
                self.metrics.lock_waits.labels("negative").inc()
                raise REMEMBERED_KINDS[polled.remembered.kind](polled.remembered.message)
            if not polled.reachable:
                # Redis went away while we waited: fetch here rather than wait for nothing.
                return LockState.UNAVAILABLE, ""
            if not polled.locked:
                state, token = shelf.try_lock(place)
                if state is not LockState.BUSY:
                    self.metrics.lock_waits.labels("takeover").inc()
                    return state, token
            if self._clock() + POLL_SECONDS >= end:
                self.metrics.lock_waits.labels("deadline").inc()
                raise Unavailable(
                    f"another replica is still fetching this place's {kind.what}; try again in a moment"
                )
            self._sleep(POLL_SECONDS)

    def _fetch(self, kind: _Kind[V], query: Query, caller: Caller) -> V:
        """A miss: upstream for the query's place (geocoded, then the kind's call at its coordinates); a
        failure is remembered for the place (the kind's negative cache)."""
        source = self.provider.source
        # A miss: the caller's own allowance first (caller_limits.py), then the shared budget. A refusal
        # is counted as an upstream outcome of its kind (caller_rate_limited): nothing was sent, and it
        # is never remembered (it is this caller's, not the place's).
        try:
            if caller.cache_only:
                raise cache_only_refusal()
            if self.caller_limits is not None:
                self.caller_limits.spend(caller)
        except CallerLimited as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        # Then each upstream call (geocoding when the place is not cached, the weather at its coordinates)
        # needs time left in the caller's deadline and spends the shared budget; upstream waits are cut
        # to that deadline (budget.py). A failure of either call is remembered for the place; tenki's own
        # refusals (no time, budget spent) are not.
        try:
            where = self.places.resolve(query)
            return self._upstream(lambda: kind.at(self.provider, where))
        except (BudgetSpent, NoTime):
            raise  # tenki's own budget or the caller's deadline, not the place's: never remembered
        except WeatherError as exc:
            self._remember(kind, query.place_key, exc)
            raise

    def _upstream(self, call: Callable[[], T]) -> T:
        """One upstream call: it needs time left, spends the budget (if any) and is counted by outcome."""
        source = self.provider.source
        if budget.remaining() == 0:
            # The caller's deadline leaves no time for upstream: no call (and no budget) spent on it.
            self.metrics.observe_upstream(source, NO_TIME)
            raise NoTime("the caller's deadline leaves no time to ask upstream; try again shortly")
        if self.budget is not None:
            decision = self.budget.acquire()
            self.metrics.observe_budget(decision.scope, decision.allowed)
            if not decision.allowed:
                self.metrics.observe_upstream(source, THROTTLED)
                raise BudgetSpent(
                    f"the weather service's upstream call budget ({self.budget.limit} OpenWeatherMap calls "
                    "a minute) is used up; try again in a minute"
                )
        try:
            answer = call()
        except WeatherError as exc:
            self.metrics.observe_upstream(source, exc.kind)
            raise
        self.metrics.observe_upstream(source, "ok")
        return answer


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
