"""The demo provider: offline, deterministic per place, realistic; asked as the service asks it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tenki_weather.cache import ObservationCache
from tenki_weather.demo import DemoProvider
from tenki_weather.errors import NotFound
from tenki_weather.model import Observation, Report
from tenki_weather.service import WeatherLookup

NOON = datetime(2026, 7, 1, 19, 0, tzinfo=timezone.utc)  # noon in Mountain View (UTC-7 in July)


def report_at(moment: datetime, code: str, country: str, units: str = "metric") -> Report:
    lookup = WeatherLookup(DemoProvider(clock=lambda: moment), ObservationCache(600, 100, 3600))
    return lookup.current_weather(code, country, units)


def weather_at(moment: datetime, code: str, country: str) -> Observation:
    return report_at(moment, code, country).observation


def test_the_same_place_always_gets_the_same_weather() -> None:
    first = weather_at(NOON, "94040", "US")
    later = weather_at(NOON + timedelta(days=3), "94040", "US")
    assert first.temperature_k == later.temperature_k
    assert first.conditions == later.conditions
    assert first.precipitation == later.precipitation
    assert first.humidity_percent == later.humidity_percent


def test_different_places_get_different_weather() -> None:
    codes = ("94040", "10001", "60601", "73301")
    readings = {weather_at(NOON, code, "US").temperature_k for code in codes}
    assert len(readings) > 1


@pytest.mark.parametrize(
    ("code", "country"), [("94040", "US"), ("SW1A 1AA", "GB"), ("12345", "DE"), ("AB", "GQ")]
)
def test_values_are_realistic(code: str, country: str) -> None:
    obs = weather_at(NOON, code, country)
    assert obs.source == "demo"
    assert -40 < obs.temperature_k - 273.15 < 50
    assert obs.temp_min_k <= obs.temperature_k <= obs.temp_max_k
    assert 0 <= obs.humidity_percent <= 100 and 0 <= obs.cloudiness_percent <= 100
    assert 950 < obs.pressure_hpa < 1050
    assert 0 <= obs.wind_speed_ms < 20 and 0 <= obs.wind_direction_degrees < 360
    assert -90 <= obs.location.latitude <= 90 and -180 <= obs.location.longitude <= 180
    assert obs.sunrise is not None and obs.sunset is not None and obs.sunrise < obs.sunset
    assert obs.observed_at <= obs.fetched_at == NOON
    assert obs.location.postal_code == code and obs.location.country_code == country


@pytest.mark.parametrize(
    ("code", "country", "name", "canonical", "district", "offset_hours"),
    [
        ("sw1a1aa", "GB", "London", "SW1A 1AA", "SW1A", 1),  # BST in July
        ("m5v3l9", "CA", "Toronto", "M5V 3L9", "M5V", -4),
        ("1011ab", "NL", "Amsterdam", "1011 AB", "1011", 2),
        ("1000001", "JP", "Chiyoda", "100-0001", "", 9),
        ("10115", "DE", "Berlin", "10115", "", 2),
        ("75001", "FR", "Paris", "75001", "", 2),
        ("2000", "AU", "Sydney", "2000", "", 10),
        ("94040", "US", "Mountain View", "94040", "", -7),
    ],
)
def test_known_places_have_their_real_names_canonical_codes_and_local_offsets(
    code: str, country: str, name: str, canonical: str, district: str, offset_hours: int
) -> None:
    place = weather_at(NOON, code, country).location
    assert (place.name, place.postal_code, place.district) == (name, canonical, district)
    assert place.utc_offset_seconds == offset_hours * 3600


def test_other_places_name_their_country() -> None:
    assert "Germany" in weather_at(NOON, "12345", "DE").location.name


def test_wet_weather_has_precipitation_and_several_conditions() -> None:
    # Over many places, the demo shows every kind of answer: dry with one condition, wet with several.
    codes = [f"{n:05d}" for n in range(10100, 10160)]
    observations = [weather_at(NOON, code, "DE") for code in codes]
    wet = [o for o in observations if o.condition.status in ("Rain", "Drizzle", "Thunderstorm")]
    assert wet and all(o.precipitation.rain_1h and len(o.conditions) > 1 for o in wet)
    assert any(o.condition.status == "Clear" and not o.precipitation.any for o in observations)
    imperial = report_at(NOON, wet[0].location.postal_code, "DE", "imperial").precipitation
    assert imperial.rain_1h == round(wet[0].precipitation.rain_1h / 25.4, 2)  # type: ignore[operator]


def test_the_icon_follows_day_and_night() -> None:
    day = weather_at(NOON, "94040", "US")
    night = weather_at(NOON + timedelta(hours=12), "94040", "US")
    assert all(c.icon.endswith("d") for c in day.conditions)
    assert all(c.icon.endswith("n") for c in night.conditions)


@pytest.mark.parametrize("code", ["00000", "00000-0000"])
def test_codes_of_only_zeros_are_unknown(code: str) -> None:
    with pytest.raises(NotFound, match=code):
        weather_at(NOON, code, "US")
