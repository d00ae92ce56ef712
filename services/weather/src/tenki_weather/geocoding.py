"""Postal code -> place: the first step of every lookup, shared by current weather (and the forecast).

Postal codes do not move, so a geocoder's answer is kept for GEOCODE_TTL_SECONDS (30 days by default),
keyed by the code in the geocoder's form (postal.py: "SW1A 1AA" and "sw1a1aa" are one key, "SW1A"),
and an unknown code is remembered as unknown for as long: asking again costs no upstream call. Each
geocoding call is an upstream call like any other and spends the same budget (the `upstream` wrapper
WeatherLookup passes in).

The cache is in-process (cache.ObservationCache); with REDIS_URL the fleet shares the answers too (a
PlaceStore: shared.SharedState): a code another replica geocoded costs this one no upstream call, and
an unknown code is shared as unknown (for NEGATIVE_CACHE_NOT_FOUND_SECONDS). Redis failing is a miss
there (shared.py absorbs it): the process geocodes itself, the lookup never fails because of Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from .cache import ObservationCache
from .errors import NotFound, WeatherError
from .model import Place, Query

T = TypeVar("T")
Upstream = Callable[[Callable[[], T]], T]


class Geocoder(Protocol):
    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        """The place of a code in the geocoder's form, or None when the geocoder does not know it."""
        ...  # pragma: no cover (a Protocol has no body)


@dataclass(frozen=True)
class Geocoded:
    """A cached geocoder answer; `place` None is a code the geocoder does not know."""

    place: Place | None


class PlaceStore(Protocol):
    """Geocoder answers shared by the fleet (shared.SharedState); every Redis failure absorbed."""

    def get_place(self, place: tuple[str, str]) -> Geocoded | None:
        """The stored answer for a place key, None when there is none (or Redis failed)."""
        ...  # pragma: no cover (a Protocol has no body)

    def put_place(self, place: tuple[str, str], geocoded: Geocoded) -> None:
        ...  # pragma: no cover (a Protocol has no body)


class FailureMemory(Protocol):
    """Failed geocodings, remembered for a few seconds (WeatherLookup's negative cache, with Redis)."""

    def raise_remembered(self, place: tuple[str, str]) -> None:
        """Raise the failure remembered for the place, if any."""
        ...  # pragma: no cover (a Protocol has no body)

    def remember(self, place: tuple[str, str], error: WeatherError) -> None:
        ...  # pragma: no cover (a Protocol has no body)


class Places:
    def __init__(
        self,
        geocoder: Geocoder,
        cache: ObservationCache[Geocoded],
        upstream: Callable[..., object],
        shared: PlaceStore | None = None,
        count_shared: Callable[[str], None] = lambda result: None,
        failures: FailureMemory | None = None,
    ) -> None:
        """`count_shared(result)`: each read of `shared`, "hit" or "miss" (the metrics' counter);
        `failures`: where a failed geocoding is remembered (WeatherLookup's negative cache)."""
        self._geocoder = geocoder
        self.cache = cache
        self._upstream = upstream
        self.shared = shared
        self._count_shared = count_shared
        self._failures = failures

    def resolve(self, query: Query) -> Place:
        """The place of a validated query; NotFound for a code the geocoder does not know."""
        geocoded, _ = self.cache.get(query.place_key, lambda: self._geocode(query))
        if geocoded.place is None:
            raise NotFound.place(query.postal_code, query.country_code)
        return geocoded.place

    def _geocode(self, query: Query) -> Geocoded:
        key = query.place_key
        if self.shared is not None:
            known = self.shared.get_place(key)
            self._count_shared("miss" if known is None else "hit")
            if known is not None:
                return known
        # Only now, about to ask the geocoder (nobody in this process or the fleet knows the place): a
        # failure another lookup met just now (a page asks for the weather and the forecast at once,
        # perhaps of two replicas) is raised again, so the question is not asked twice.
        if self._failures is None:
            geocoded = self._ask(*key)
        else:
            self._failures.raise_remembered(key)
            try:
                geocoded = self._ask(*key)
            except WeatherError as exc:
                self._failures.remember(key, exc)
                raise
        if self.shared is not None:
            self.shared.put_place(key, geocoded)
        return geocoded

    def _ask(self, code: str, country: str) -> Geocoded:
        place = self._upstream(lambda: self._geocoder.geocode(code, country))
        if place is None:
            return Geocoded(None)
        assert isinstance(place, Place)
        # An empty country in the answer: the one that was asked for.
        return Geocoded(replace(place, country_code=(place.country_code or country).upper()))
