"""The weather lookup: validation, cache, rate limit and provider together, without gRPC."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tenki_weather import budget
from tenki_weather.cache import ObservationCache
from tenki_weather.config import WeatherSettings
from tenki_weather.demo import DemoProvider
from tenki_weather.errors import InvalidInput, NotFound, RateLimited, Unavailable, WeatherError
from tenki_weather.metrics import Metrics
from tenki_weather.model import CacheResult, Observation, Place, Units
from tenki_weather.owm import OwmProvider
from tenki_weather.ratelimit import local_budget
from tenki_weather.service import WeatherLookup
from tenki_weather.validation import validate


class ScriptedProvider:
    """A provider whose answers the test sets; `calls` are the weather calls, `geocodes` the geocoding."""

    source = "openweathermap"

    def __init__(self, make: Callable[[], Observation]) -> None:
        self.make = make
        self.calls: list[tuple[str, str]] = []
        self.geocodes: list[tuple[str, str]] = []
        self.unknown: set[str] = set()
        self.error: WeatherError | None = None
        self.geocode_error: WeatherError | None = None

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.geocodes.append((lookup_code, country_code))
        if self.geocode_error is not None:
            raise self.geocode_error
        if lookup_code in self.unknown:
            return None
        return Place("", "", 37.39, -122.08, lookup_code)

    def weather_at(self, place: Place) -> Observation:
        self.calls.append((place.lookup_code, place.country_code))
        if self.error is not None:
            raise self.error
        return self.make()


@pytest.fixture
def provider(make_observation) -> ScriptedProvider:
    return ScriptedProvider(make_observation)


def service_with(provider, clock, rate: int = 60) -> WeatherLookup:
    cache: ObservationCache[Observation] = ObservationCache(600, 100, 3600, clock=clock)
    return WeatherLookup(provider, cache, local_budget(rate), Metrics())


def metric(service: WeatherLookup, name: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(name, labels) or 0.0


def upstream(service: WeatherLookup, outcome: str) -> float:
    return metric(service, "tenki_weather_upstream_calls_total", provider="openweathermap", outcome=outcome)


def test_units_are_converted_from_one_cached_observation(provider, clock) -> None:
    service = service_with(provider, clock)
    metric_report = service.current_weather("94040", "us", "metric")
    imperial = service.current_weather("94040-1234", "US", Units.IMPERIAL)
    kelvin = service.current_weather("94040", "", "standard")
    assert provider.calls == [("94040", "US")]
    assert metric_report.temperature.current == pytest.approx(18.4)
    assert imperial.temperature.current == pytest.approx(65.12)
    assert kelvin.temperature.current == pytest.approx(291.55)
    assert imperial.wind.speed == pytest.approx(8.95) and metric_report.wind.speed == 4.0
    results = [r.cache for r in (metric_report, imperial, kelvin)]
    assert results == [CacheResult.MISS, CacheResult.HIT, CacheResult.HIT]
    assert metric(service, "tenki_weather_cache_lookups_total", result="hit") == 2
    assert upstream(service, "ok") == 2  # one geocoding call, one weather call


def test_invalid_input_never_reaches_the_provider(provider, clock) -> None:
    with pytest.raises(InvalidInput):
        service_with(provider, clock).current_weather("not a zip!", "us")
    assert provider.calls == []


def test_the_rate_limit_refuses_upstream_calls_beyond_the_budget(provider, clock) -> None:
    service = service_with(provider, clock, rate=2)
    service.current_weather("10001", "us")  # a geocoding call and a weather call: the whole budget
    with pytest.raises(RateLimited, match=r"budget \(2 OpenWeatherMap calls a minute\) is used up"):
        service.current_weather("10002", "us")
    assert len(provider.geocodes) == 1 and len(provider.calls) == 1
    assert upstream(service, "throttled") == 1
    decisions = "tenki_weather_upstream_budget_decisions_total"
    assert metric(service, decisions, scope="local", result="allowed") == 2
    assert metric(service, decisions, scope="local", result="denied") == 1
    # Cached places are still answered while the budget is spent.
    assert service.current_weather("10001", "us").cache is CacheResult.HIT


def test_an_exhausted_budget_serves_a_stale_entry(provider, clock) -> None:
    service = service_with(provider, clock, rate=2)
    service.current_weather("10001", "us")
    clock.advance(601)  # past the TTL (the cache's clock; the budget's window runs on real time)
    report = service.current_weather("10001", "us")  # geocoding cached; the weather call is refused
    assert report.stale and report.cache is CacheResult.STALE


def test_upstream_errors_serve_stale_and_count_the_outcome(provider, clock) -> None:
    service = service_with(provider, clock)
    service.current_weather("94040", "us")
    clock.advance(900)
    provider.error = Unavailable("down")
    assert service.current_weather("94040", "us").stale
    with pytest.raises(Unavailable):
        service.current_weather("10001", "us")
    assert upstream(service, "unavailable") == 2
    assert metric(service, "tenki_weather_cache_lookups_total", result="stale") == 1


def test_a_gb_code_typed_three_ways_costs_one_geocoding_and_one_weather_call(provider, clock) -> None:
    service = service_with(provider, clock)
    reports = [service.current_weather(code, "gb") for code in ("SW1A 1AA", "sw1a1aa", " Sw1a 1aA ")]
    assert provider.geocodes == [("SW1A", "GB")] and provider.calls == [("SW1A", "GB")]
    assert {r.observation.location.postal_code for r in reports} == {"SW1A 1AA"}
    assert {r.observation.location.district for r in reports} == {"SW1A"}
    # Another postcode of the district: same place, same weather, shown with its own code.
    other = service.current_weather("SW1A 2AA", "GB")
    assert other.observation.location.postal_code == "SW1A 2AA" and len(provider.calls) == 1


def test_an_unknown_code_is_remembered_as_unknown(provider, clock) -> None:
    provider.unknown.add("99999")
    service = service_with(provider, clock)
    for _ in range(3):
        with pytest.raises(NotFound, match="99999"):
            service.current_weather("99999", "us")
        clock.advance(3600)
    assert provider.geocodes == [("99999", "US")] and provider.calls == []


def test_geocoding_is_kept_past_the_weather_ttl(provider, clock) -> None:
    service = service_with(provider, clock)
    service.current_weather("94040", "us")
    clock.advance(601)  # the weather expired, the place did not
    assert service.current_weather("94040", "us").cache is CacheResult.MISS
    assert len(provider.geocodes) == 1 and len(provider.calls) == 2


def test_an_empty_country_from_the_geocoder_is_the_one_asked_for(provider, clock) -> None:
    place = service_with(provider, clock).places.resolve(validate("M5V 3L9", "ca"))
    assert place.country_code == "CA" and place.lookup_code == "M5V"


def test_a_geocoding_failure_is_counted_and_raised(provider, clock) -> None:
    provider.geocode_error = Unavailable("down")
    service = service_with(provider, clock)
    with pytest.raises(Unavailable):
        service.current_weather("94040", "us")
    assert upstream(service, "unavailable") == 1 and provider.calls == []


@pytest.mark.parametrize(
    ("environ", "provider_type", "limited"),
    [
        ({}, DemoProvider, False),
        ({"OWM_API_KEY": "k"}, OwmProvider, True),
        ({"WEATHER_PROVIDER": "owm"}, OwmProvider, True),
    ],
)
def test_from_settings_picks_the_provider(environ, provider_type, limited) -> None:
    service = WeatherLookup.from_settings(WeatherSettings.from_env(environ))
    assert isinstance(service.provider, provider_type)
    assert (service.budget is not None) is limited


class BudgetRecordingProvider(ScriptedProvider):
    """Records the time upstream would be allowed (what the OWM provider's requests get as timeout)."""

    def __init__(self, make: Callable[[], Observation]) -> None:
        super().__init__(make)
        self.allowed: list[float] = []  # the weather calls'
        self.geo_allowed: list[float] = []  # the geocoding calls'

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.geo_allowed.append(budget.timeout(5.0))
        return super().geocode(lookup_code, country_code)

    def weather_at(self, place: Place) -> Observation:
        self.allowed.append(budget.timeout(5.0))
        return super().weather_at(place)


def budgeted(provider, clock, margin: float, rate: int | None = None) -> WeatherLookup:
    """A lookup with no cache of the weather (every call asks upstream), and the budget `rate` a minute."""
    cache: ObservationCache[Observation] = ObservationCache(0, 100, 3600, clock=clock)
    call_budget = None if rate is None else local_budget(rate)
    return WeatherLookup(provider, cache, call_budget, Metrics(), margin_seconds=margin)


def test_upstream_gets_the_callers_budget_less_the_margin(make_observation, clock) -> None:
    provider = BudgetRecordingProvider(make_observation)
    service = budgeted(provider, clock, margin=0.5)
    service.current_weather("94040", "us", budget_seconds=2.0)
    service.current_weather("94040", "us", budget_seconds=60.0)
    service.current_weather("94040", "us")
    short, long, unbounded = provider.allowed
    assert 1.4 < short <= 1.5
    assert long == 5.0 and unbounded == 5.0  # never more than the provider's own timeout
    # The geocoding call (the first lookup's; the place is cached after) is cut to the same deadline.
    (geocoding,) = provider.geo_allowed
    assert short <= geocoding <= 1.5 and geocoding > 1.4


@pytest.mark.parametrize(
    ("budget_seconds", "weather_asked"),
    [(2.0, True), (0.6, False)],
    ids=["time-left-after-geocoding", "no-time-left-after-geocoding"],
)
def test_the_weather_call_gets_what_the_geocoding_left_of_the_deadline(
    make_observation, clock, budget_seconds: float, weather_asked: bool
) -> None:
    # Geocoding that takes 0.3 s leaves the weather call only what is left of the caller's deadline; with
    # nothing left, no weather call (and no budget token) is spent, and nothing is remembered.
    provider = BudgetRecordingProvider(make_observation)
    geocode = provider.geocode

    def slow_geocode(lookup_code: str, country_code: str) -> Place | None:
        place = geocode(lookup_code, country_code)
        time.sleep(0.3)
        return place

    provider.geocode = slow_geocode  # type: ignore[method-assign]
    service = budgeted(provider, clock, margin=0.5, rate=60)
    try:
        service.current_weather("94040", "us", budget_seconds=budget_seconds)
    except Unavailable:
        assert not weather_asked
    else:
        assert weather_asked
        (geocoding,), (weather,) = provider.geo_allowed, provider.allowed
        assert geocoding > 1.4 and weather <= geocoding - 0.25
    asked = [("94040", "US")] if weather_asked else []
    assert len(provider.geocodes) == 1 and provider.calls == asked
    assert (upstream(service, "ok"), upstream(service, "no_time")) == (1 + len(asked), 1 - len(asked))
    # The next caller with time gets the weather, from the cached place.
    service.current_weather("94040", "us", budget_seconds=2.0)
    assert len(provider.geocodes) == 1 and len(provider.calls) == len(asked) + 1


def test_no_time_left_means_no_upstream_call_and_a_stale_answer_when_there_is_one(
    make_observation, clock
) -> None:
    provider = BudgetRecordingProvider(make_observation)
    service = budgeted(provider, clock, margin=0.5)
    with pytest.raises(Unavailable):
        service.current_weather("94040", "us", budget_seconds=0.4)
    assert provider.calls == [] and upstream(service, "no_time") == 1
    service.current_weather("94040", "us", budget_seconds=2.0)
    report = service.current_weather("94040", "us", budget_seconds=0.4)
    assert report.stale and len(provider.calls) == 1


def test_the_budget_ends_with_the_lookup(make_observation, clock) -> None:
    service = budgeted(BudgetRecordingProvider(make_observation), clock, margin=0.5)
    service.current_weather("94040", "us", budget_seconds=1.0)
    assert budget.remaining() is None
