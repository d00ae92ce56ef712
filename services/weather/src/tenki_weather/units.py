"""Unit conversion from the standard units an Observation is stored in (kelvin, m/s)."""

from __future__ import annotations

from .model import Observation, Temperature, Units, Wind

ABSOLUTE_ZERO_C = 273.15
# One metre per second in miles per hour: 3600 s/h / 1609.344 m/mi (the international mile).
MPH_PER_MS = 3600 / 1609.344


def temperature(kelvin: float, units: Units) -> float:
    """A temperature in kelvin, in the requested units, rounded to 2 decimals like OWM."""
    if units is Units.METRIC:
        value = kelvin - ABSOLUTE_ZERO_C
    elif units is Units.IMPERIAL:
        value = (kelvin - ABSOLUTE_ZERO_C) * 9 / 5 + 32
    else:
        value = kelvin
    return round(value, 2)


def speed(metres_per_second: float, units: Units) -> float:
    """A speed in m/s, in the requested units: mph for imperial, m/s otherwise (as OWM does)."""
    value = metres_per_second * MPH_PER_MS if units is Units.IMPERIAL else metres_per_second
    return round(value, 2)


def temperatures(observation: Observation, units: Units) -> Temperature:
    return Temperature(
        current=temperature(observation.temperature_k, units),
        feels_like=temperature(observation.feels_like_k, units),
        min=temperature(observation.temp_min_k, units),
        max=temperature(observation.temp_max_k, units),
    )


def wind(observation: Observation, units: Units) -> Wind:
    return Wind(
        speed=speed(observation.wind_speed_ms, units),
        direction_degrees=observation.wind_direction_degrees,
        gust=speed(observation.wind_gust_ms, units),
    )
