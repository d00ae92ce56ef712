"""Helpers of the weather unit tests: a controllable clock and a sample observation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from tenki_weather.model import SOURCE_OWM, Condition, Location, Observation

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _observation(
    name: str = "Mountain View", kelvin: float = 291.55, postal_code: str = "94040"
) -> Observation:
    return Observation(
        location=Location(name, "US", 37.39, -122.08, -25200, postal_code),
        conditions=(Condition(800, "Clear", "clear sky", "01d"),),
        temperature_k=kelvin,
        feels_like_k=kelvin - 1,
        temp_min_k=kelvin - 2,
        temp_max_k=kelvin + 2,
        humidity_percent=60,
        pressure_hpa=1013,
        wind_speed_ms=4.0,
        wind_direction_degrees=270.0,
        wind_gust_ms=6.0,
        cloudiness_percent=0,
        visibility_meters=10000,
        sunrise=T0.replace(hour=13),
        sunset=T0.replace(hour=3),
        observed_at=T0,
        source=SOURCE_OWM,
        fetched_at=T0,
    )


@pytest.fixture
def make_observation() -> Callable[..., Observation]:
    """A factory of observations in standard units (kelvin, m/s): make_observation(name=..., kelvin=...)."""
    return _observation
