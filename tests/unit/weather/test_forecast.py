"""The forecast: tenki's daily summary per local day, slots in the units asked, the demo forecast, and
the lookup's cache (one upstream call per place per TTL, whatever the units; geocoding shared)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from tenki_weather import budget
from tenki_weather.cache import ObservationCache
from tenki_weather.demo import DemoProvider
from tenki_weather.errors import RateLimited, Unavailable, UpstreamRejected, WeatherError
from tenki_weather.forecast import days, slot_in
from tenki_weather.metrics import Metrics
from tenki_weather.model import (
    SOURCE_OWM,
    CacheResult,
    Condition,
    Forecast,
    ForecastSlot,
    Location,
    Observation,
    Place,
    Units,
)
from tenki_weather.ratelimit import local_budget
from tenki_weather.service import WeatherLookup

CLEAR = Condition(800, "Clear", "clear sky", "01n")
CLOUDS = Condition(804, "Clouds", "overcast clouds", "04n")
RAIN = Condition(500, "Rain", "light rain", "10n")
SNOW = Condition(600, "Snow", "light snow", "13n")
START = datetime(2026, 7, 1, 0, 0, tzinfo=timezone.utc)
TOKYO = 9 * 3600


def slot(
    hours: int, kelvin: float, condition: Condition = CLEAR, pop: int = 0, **kw: float | None
) -> ForecastSlot:
    return ForecastSlot(
        start=START + timedelta(hours=hours),
        temperature_k=kelvin,
        feels_like_k=kw.get("feels_like_k", kelvin - 1),
        conditions=(condition,),
        precipitation_probability_percent=pop,
        rain_mm=kw.get("rain_mm"),
        snow_mm=kw.get("snow_mm"),
        wind_speed_ms=kw.get("wind_speed_ms") or 2.0,
        wind_direction_degrees=180.0,
        wind_gust_ms=kw.get("wind_gust_ms"),
        humidity_percent=70,
    )


def forecast(offset: int, *slots: ForecastSlot) -> Forecast:
    return Forecast(Location("Chiyoda", "JP", 35.68, 139.75, offset, "100-0001"), slots, SOURCE_OWM, START)


def test_a_day_is_the_places_local_day_not_utcs() -> None:
    # Tokyo is UTC+9: 12:00 UTC is 21:00 on 1 July there, 15:00 UTC already 00:00 on 2 July.
    answer = forecast(
        TOKYO,
        slot(9, 300.15, pop=10),  # 18:00 local, 1 July
        slot(12, 296.15, pop=30),  # 21:00 local, 1 July
        slot(15, 290.15, RAIN, pop=80, rain_mm=1.5),  # 00:00 local, 2 July
        slot(18, 289.15, RAIN, pop=60, rain_mm=0.5),
        slot(21, 295.15, CLOUDS, pop=20),
    )
    first, second = days(answer, Units.METRIC)
    assert (first.day, first.slot_count) == (date(2026, 7, 1), 2)
    assert (first.min_temperature, first.max_temperature) == (23.0, 27.0)
    assert first.max_precipitation_probability_percent == 30
    assert (first.total_rain, first.total_snow) == (0.0, 0.0)
    assert (second.day, second.slot_count) == (date(2026, 7, 2), 3)
    assert (second.min_temperature, second.max_temperature) == (16.0, 22.0)
    assert second.max_precipitation_probability_percent == 80
    assert second.total_rain == 2.0
    # Two rainy slots of three: a rainy day, shown with the day icon although the slots were at night.
    assert (second.condition.status, second.condition.icon) == ("Rain", "10d")


def test_a_negative_offset_moves_the_boundary_the_other_way() -> None:
    # UTC-7: the slot at 06:00 UTC on 1 July is 23:00 on 30 June.
    answer = forecast(-7 * 3600, slot(6, 290.0), slot(9, 289.0))
    assert [(d.day, d.slot_count) for d in days(answer, Units.METRIC)] == [
        (date(2026, 6, 30), 1),
        (date(2026, 7, 1), 1),
    ]


def test_a_tie_between_conditions_goes_to_the_more_severe() -> None:
    answer = forecast(0, slot(0, 280, CLOUDS), slot(3, 280, SNOW, pop=70, snow_mm=1.0), slot(6, 280, CLEAR))
    (day,) = days(answer, Units.METRIC)
    assert day.condition.status == "Snow"
    assert day.total_snow == 1.0


def test_slots_and_days_in_imperial_and_standard_units() -> None:
    one = slot(0, 300.0, RAIN, pop=90, rain_mm=25.4, snow_mm=None, wind_speed_ms=10.0, wind_gust_ms=15.0)
    imperial = slot_in(one, Units.IMPERIAL)
    assert imperial.temperature == 80.33
    assert imperial.feels_like == 78.53
    assert imperial.rain == 1.0 and imperial.snow is None
    assert (imperial.wind.speed, imperial.wind.gust) == (22.37, 33.55)
    assert imperial.precipitation_probability_percent == 90
    metric = slot_in(one, Units.METRIC)
    assert (metric.temperature, metric.rain, metric.wind.speed) == (26.85, 25.4, 10.0)
    standard = slot_in(one, Units.STANDARD)
    assert (standard.temperature, standard.wind.speed) == (300.0, 10.0)
    # Totals are summed in mm and converted once: 3 x 8.47 mm is exactly one inch, not 3 x 0.33.
    three = forecast(0, *(slot(h, 280, RAIN, rain_mm=25.4 / 3) for h in (0, 3, 6)))
    (day,) = days(three, Units.IMPERIAL)
    assert day.total_rain == 1.0
    assert (day.min_temperature, day.max_temperature) == (44.33, 44.33)


# -- the demo provider --------------------------------------------------------------------------------

LONDON = Place("London", "GB", 51.501, -0.1416, "SW1A")


def demo_at(moment: datetime) -> DemoProvider:
    return DemoProvider(clock=lambda: moment)


def test_the_demo_forecast_is_deterministic_per_place() -> None:
    now = datetime(2026, 12, 1, 10, 17, tzinfo=timezone.utc)
    first = demo_at(now).forecast_at(LONDON)
    assert first == demo_at(now).forecast_at(LONDON)
    # An hour later the same slots have the same values (the forecast depends on the slot, not the call).
    later = demo_at(now + timedelta(hours=1)).forecast_at(LONDON)
    assert first.slots == later.slots
    # Another place gets other weather.
    other = demo_at(now).forecast_at(Place("Toronto", "CA", 43.64, -79.39, "M5V"))
    assert [s.temperature_k for s in other.slots] != [s.temperature_k for s in first.slots]


def test_the_demo_forecast_is_plausible() -> None:
    now = datetime(2026, 7, 1, 10, 17, tzinfo=timezone.utc)
    answer = demo_at(now).forecast_at(LONDON)
    slots = answer.slots
    assert len(slots) == 40
    assert slots[0].start == datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert all(b.start - a.start == timedelta(hours=3) for a, b in zip(slots, slots[1:]))
    for one in slots:
        status = one.condition.status
        if status == "Clear":
            assert one.precipitation_probability_percent == 0 and one.rain_mm is None
        if status in ("Rain", "Drizzle", "Thunderstorm"):
            assert one.precipitation_probability_percent >= 40 and one.rain_mm is not None
        if status == "Snow":
            assert one.snow_mm is not None and one.temperature_k <= 273.65
    # Conditions come in runs: far fewer changes than slots.
    changes = sum(a.condition.status != b.condition.status for a, b in zip(slots, slots[1:]))
    assert changes <= 12
    # The daily cycle: afternoons (12-18 h local) are warmer than nights (0-6 h) on average.
    offset = answer.location.utc_offset_seconds

    def local_hour(one: ForecastSlot) -> int:
        return (one.start + timedelta(seconds=offset)).hour

    afternoon = [s.temperature_k for s in slots if 12 <= local_hour(s) < 18]
    night = [s.temperature_k for s in slots if 0 <= local_hour(s) < 6]
    assert sum(afternoon) / len(afternoon) > sum(night) / len(night) + 2
    # Night slots carry night icons, day slots day icons.
    assert all(s.condition.icon.endswith("d" if 6 <= local_hour(s) < 18 else "n") for s in slots)


# -- the lookup: cache, budget, stale, shared geocoding ----------------------------------------------


class CountingProvider:
    """Counts each upstream step; answers with the demo provider's values unless told to fail."""

    source = "openweathermap"

    def __init__(self) -> None:
        self.demo = DemoProvider(clock=lambda: START)
        self.geocodes = 0
        self.forecasts = 0
        self.weathers = 0
        self.error: WeatherError | None = None

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.geocodes += 1
        return self.demo.geocode(lookup_code, country_code)

    def weather_at(self, place: Place) -> Observation:
        self.weathers += 1
        return self.demo.weather_at(place)

    def forecast_at(self, place: Place) -> Forecast:
        self.forecasts += 1
        if self.error is not None:
            raise self.error
        return self.demo.forecast_at(place)


def lookup_of(provider: CountingProvider, cache_clock, **options: Any) -> WeatherLookup:
    """A lookup over `provider` with tenki's default TTLs (weather 600 s, forecast 1800 s, stale 3600 s),
    its caches on `cache_clock` (the lookup's own clock only where `options` say so)."""
    return WeatherLookup(
        provider,
        ObservationCache(600, 100, 3600, clock=cache_clock),
        forecast_cache=ObservationCache(1800, 100, 3600, clock=cache_clock),
        **{"metrics": Metrics(), **options},
    )


@pytest.fixture
def counted(clock) -> tuple[WeatherLookup, CountingProvider]:
    provider = CountingProvider()
    return lookup_of(provider, clock, budget=local_budget(4)), provider


def test_one_upstream_forecast_per_place_per_ttl_across_units_and_spellings(counted, clock) -> None:
    lookup, provider = counted
    metric = lookup.forecast("SW1A 1AA", "gb", "metric")
    imperial = lookup.forecast("sw1a1aa", "GB", "imperial")
    assert (metric.cache, imperial.cache) == (CacheResult.MISS, CacheResult.HIT)
    assert metric.slots[0].temperature != imperial.slots[0].temperature
    assert imperial.forecast.location.postal_code == "SW1A 1AA"
    assert imperial.forecast.location.district == "SW1A"
    # Current weather for the same place reuses its geocoding: one geocoding call in all.
    lookup.current_weather("SW1A 2AA", "GB")
    assert (provider.geocodes, provider.forecasts, provider.weathers) == (1, 1, 1)
    clock.advance(1799)
    lookup.forecast("SW1A 1AA", "GB")
    assert provider.forecasts == 1
    clock.advance(2)
    assert lookup.forecast("SW1A 1AA", "GB").cache is CacheResult.MISS
    assert provider.forecasts == 2


def test_a_failing_upstream_serves_the_last_forecast_as_stale(counted, clock) -> None:
    lookup, provider = counted
    lookup.forecast("94040", "us")
    clock.advance(1801)
    provider.error = Unavailable("OpenWeatherMap is unavailable; try again shortly")
    stale = lookup.forecast("94040", "us")
    assert stale.stale and len(stale.slots) == 40
    clock.advance(3600)
    with pytest.raises(Unavailable):
        lookup.forecast("94040", "us")


def test_forecasts_spend_the_same_upstream_budget(counted) -> None:
    lookup, provider = counted
    # Budget of 4: geocoding and forecast of two places use it up; a third place is refused unsent.
    lookup.forecast("94040", "us")
    lookup.forecast("10001", "us")
    with pytest.raises(RateLimited):
        lookup.forecast("60601", "us")
    assert (provider.geocodes, provider.forecasts) == (2, 2)
    assert lookup.metrics.registry.get_sample_value(
        "tenki_weather_upstream_calls_total", {"provider": "openweathermap", "outcome": "throttled"}
    ) == 1.0


# -- the lookup after issues 12 and 13: the caller's deadline, negative caching ----------------------


class TimedProvider(CountingProvider):
    """Records the upstream timeout each step would be given (budget.timeout of a 3 s own timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[tuple[str, float]] = []

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.timeouts.append(("geocode", budget.timeout(3.0)))
        return super().geocode(lookup_code, country_code)

    def forecast_at(self, place: Place) -> Forecast:
        self.timeouts.append(("forecast", budget.timeout(3.0)))
        return super().forecast_at(place)


def test_the_forecasts_upstream_calls_are_cut_to_the_callers_deadline(clock) -> None:
    provider = TimedProvider()
    lookup = lookup_of(provider, clock, margin_seconds=0.5)
    lookup.forecast("94040", "us", budget_seconds=1.5)
    assert [step for step, _ in provider.timeouts] == ["geocode", "forecast"]
    # Both requests get what is left of 1.5 s less the 0.5 s margin, never the provider's own 3 s.
    assert all(0 < seconds <= 1.0 for _, seconds in provider.timeouts)


def test_no_time_left_sends_no_forecast_request_and_is_not_remembered(clock) -> None:
    provider = CountingProvider()
    lookup = lookup_of(provider, clock, budget=local_budget(4), negative_error_seconds=5, margin_seconds=0.5)
    with pytest.raises(Unavailable):
        lookup.forecast("94040", "us", budget_seconds=0.2)
    assert (provider.geocodes, provider.forecasts) == (0, 0)
    assert lookup.budget is not None and lookup.budget.acquire().allowed  # none of the 4 spent
    # Not remembered for the place: with time, the next call goes upstream.
    assert lookup.forecast("94040", "us", budget_seconds=5).cache is CacheResult.MISS
    assert provider.forecasts == 1


def test_a_forecast_failure_is_remembered_for_the_forecast_only(clock) -> None:
    provider = CountingProvider()
    lookup = lookup_of(provider, clock, negative_error_seconds=5, clock=clock)
    provider.error = Unavailable("OpenWeatherMap is unavailable; try again shortly")
    with pytest.raises(Unavailable):
        lookup.forecast("94040", "us")
    with pytest.raises(Unavailable):
        lookup.forecast("94040", "us")
    assert provider.forecasts == 1  # the second answered from the remembered failure
    # The current weather of the same place is not refused by the forecast's failure.
    assert lookup.current_weather("94040", "us").cache is CacheResult.MISS
    provider.error = None
    clock.advance(6)
    assert lookup.forecast("94040", "us").cache is CacheResult.MISS
    assert provider.forecasts == 2


class FailingGeocoder(CountingProvider):
    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self.geocodes += 1
        if self.error is not None:
            raise self.error
        return self.demo.geocode(lookup_code, country_code)


@pytest.mark.parametrize(
    "error",
    [UpstreamRejected(), Unavailable("OpenWeatherMap is unavailable; try again shortly")],
    ids=["rejected-400", "unavailable"],
)
def test_a_geocoding_failure_is_remembered_for_both_lookups_of_a_page(clock, error: WeatherError) -> None:
    """A page asks for the weather and the forecast of one place: when geocoding fails, the second lookup
    does not ask the geocoder again (one upstream request per page view, issue 12)."""
    provider = FailingGeocoder()
    lookup = lookup_of(provider, clock, negative_error_seconds=5, clock=clock)
    provider.error = error
    with pytest.raises(type(error)):
        lookup.current_weather("94040", "us")
    with pytest.raises(type(error)) as again:
        lookup.forecast("94040", "us")
    assert again.value.message == error.message
    assert (provider.geocodes, provider.weathers, provider.forecasts) == (1, 0, 0)
    provider.error = None
    clock.advance(6)  # past NEGATIVE_CACHE_ERROR_SECONDS: asked again
    assert lookup.forecast("94040", "us").cache is CacheResult.MISS
    assert provider.geocodes == 2
