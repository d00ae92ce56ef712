"""geocoding.Places with the fleet's store (shared.SharedState's get_place/put_place), without Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenki_weather.cache import ObservationCache
from tenki_weather.errors import NotFound
from tenki_weather.geocoding import Geocoded, Places
from tenki_weather.model import Place
from tenki_weather.validation import validate


class Geocoder:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.asked.append((lookup_code, country_code))
        return None if not lookup_code.strip("0") else Place("Somewhere", "", 1.0, 2.0, lookup_code)


class Store:
    """The fleet's answers as a dict; `down` answers nothing and drops writes, as Redis failing does."""

    def __init__(self) -> None:
        self.places: dict[tuple[str, str], Geocoded] = {}
        self.down = False

    def get_place(self, place: tuple[str, str]) -> Geocoded | None:
        return None if self.down else self.places.get(place)

    def put_place(self, place: tuple[str, str], geocoded: Geocoded) -> None:
        if not self.down:
            self.places[place] = geocoded


def places_with(geocoder: Geocoder, store: Store | None, counted: list[str] | None = None) -> Places:
    def upstream(call: Callable[[], object]) -> object:
        return call()

    count = (lambda result: None) if counted is None else counted.append
    return Places(geocoder, ObservationCache(3600, 100, 7200), upstream, store, count)


@pytest.mark.parametrize("code", ["94040", "00000"])
def test_an_answer_another_process_stored_costs_no_geocoding_call(code: str) -> None:
    store, first, second = Store(), Geocoder(), Geocoder()
    outcomes, counted = [], []
    for geocoder in (first, second):
        try:
            outcomes.append(places_with(geocoder, store, counted).resolve(validate(code, "us")))
        except NotFound:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]
    assert (first.asked, second.asked) == ([(code, "US")], [])
    assert counted == ["miss", "hit"]  # tenki_weather_shared_places_lookups
    # The country the geocoder left empty is the one asked for, in the shared answer too.
    assert store.places[(code, "US")] == Geocoded(outcomes[0])
    if outcomes[0] is not None:
        assert outcomes[0].country_code == "US"


def test_a_store_that_fails_degrades_to_this_processs_cache() -> None:
    store, geocoder = Store(), Geocoder()
    store.down = True
    places = places_with(geocoder, store)
    for _ in range(3):
        assert places.resolve(validate("94040", "us")).name == "Somewhere"
    assert geocoder.asked == [("94040", "US")] and store.places == {}
