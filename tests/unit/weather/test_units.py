"""Unit conversion from the standard units the cache holds."""

from __future__ import annotations

import pytest

from tenki_weather.model import Units
from tenki_weather.units import speed, temperature


@pytest.mark.parametrize(
    ("kelvin", "units", "expected"),
    [
        (273.15, Units.METRIC, 0.0),
        (373.15, Units.METRIC, 100.0),
        (273.15, Units.IMPERIAL, 32.0),
        (373.15, Units.IMPERIAL, 212.0),
        (233.15, Units.IMPERIAL, -40.0),  # where the two scales meet
        (291.55, Units.STANDARD, 291.55),
        (291.55, Units.METRIC, 18.4),
    ],
)
def test_temperature(kelvin: float, units: Units, expected: float) -> None:
    assert temperature(kelvin, units) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize(
    ("ms", "units", "expected"),
    [
        (10.0, Units.METRIC, 10.0),
        (10.0, Units.STANDARD, 10.0),
        (10.0, Units.IMPERIAL, 22.37),
        (0.44704, Units.IMPERIAL, 1.0),  # exactly one mile per hour
    ],
)
def test_speed(ms: float, units: Units, expected: float) -> None:
    assert speed(ms, units) == pytest.approx(expected, abs=0.005)
