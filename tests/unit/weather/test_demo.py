"""The demo provider: offline, deterministic per place, realistic."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tenki_weather.demo import DemoProvider
from tenki_weather.errors import NotFound

NOON = datetime(2026, 7, 1, 19, 0, tzinfo=timezone.utc)  # noon in Mountain View (UTC-8 in the demo)


def provider_at(moment: datetime) -> DemoProvider:
    return DemoProvider(clock=lambda: moment)


def test_the_same_place_always_gets_the_same_weather() -> None:
    first = provider_at(NOON).current_weather("94040", "US")
    later = provider_at(NOON + timedelta(days=3)).current_weather("94040", "US")
    assert first.temperature_k == later.temperature_k
    assert first.condition.id == later.condition.id
    assert first.humidity_percent == later.humidity_percent


def test_different_places_get_different_weather() -> None:
    provider = provider_at(NOON)
    codes = ("94040", "10001", "60601", "73301")
    readings = {provider.current_weather(code, "US").temperature_k for code in codes}
    assert len(readings) > 1


@pytest.mark.parametrize(
    ("code", "country"), [("94040", "US"), ("SW1A 1AA", "GB"), ("12345", "DE"), ("A1", "CA")]
)
def test_values_are_realistic(code: str, country: str) -> None:
    obs = provider_at(NOON).current_weather(code, country)
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


def test_known_places_have_their_real_names() -> None:
    assert provider_at(NOON).current_weather("94040", "US").location.name == "Mountain View"
    assert provider_at(NOON).current_weather("SW1A 1AA", "GB").location.name == "London"


def test_other_places_name_their_country() -> None:
    assert "Germany" in provider_at(NOON).current_weather("12345", "DE").location.name


def test_the_icon_follows_day_and_night() -> None:
    day = provider_at(NOON).current_weather("94040", "US")
    night = provider_at(NOON + timedelta(hours=12)).current_weather("94040", "US")
    assert day.condition.icon.endswith("d") and night.condition.icon.endswith("n")


@pytest.mark.parametrize("code", ["00000", "000", "00-000"])
def test_codes_of_only_zeros_are_unknown(code: str) -> None:
    with pytest.raises(NotFound, match=code):
        provider_at(NOON).current_weather(code, "US")
