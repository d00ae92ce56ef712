"""Unit conversion from the standard units an Observation is stored in (kelvin, m/s)."""

from __future__ import annotations

from .model import Observation, Precipitation, Temperature, Units, Wind

ABSOLUTE_ZERO_C = 273.15
# One metre per second in miles per hour: 3600 s/h / 1609.344 m/mi (the international mile).
MPH_PER_MS = 3600 / 1609.344
MM_PER_INCH = 25.4


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


def optional_temperature(kelvin: float | None, units: Units) -> float | None:
    return None if kelvin is None else temperature(kelvin, units)


def optional_speed(metres_per_second: float | None, units: Units) -> float | None:
    return None if metres_per_second is None else speed(metres_per_second, units)


def depth(millimetres: float | None, units: Units) -> float | None:
    """Rain or snow in mm, in the requested units: inches for imperial (2 decimals), mm otherwise."""
    if millimetres is None:
        return None
    return round(millimetres / MM_PER_INCH, 2) if units is Units.IMPERIAL else round(millimetres, 2)


def precipitation(observation: Observation, units: Units) -> Precipitation:
    p = observation.precipitation
    return Precipitation(
        rain_1h=depth(p.rain_1h, units),
        rain_3h=depth(p.rain_3h, units),
        snow_1h=depth(p.snow_1h, units),
        snow_3h=depth(p.snow_3h, units),
    )


def temperatures(observation: Observation, units: Units) -> Temperature:
    return Temperature(
        current=temperature(observation.temperature_k, units),
        feels_like=optional_temperature(observation.feels_like_k, units),
        min=temperature(observation.temp_min_k, units),
        max=temperature(observation.temp_max_k, units),
    )


def wind(observation: Observation, units: Units) -> Wind:
    return Wind(
        speed=speed(observation.wind_speed_ms, units),
        direction_degrees=observation.wind_direction_degrees,
        gust=optional_speed(observation.wind_gust_ms, units),
    )
