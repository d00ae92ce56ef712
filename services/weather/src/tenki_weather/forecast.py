"""The forecast's arithmetic: slots in the units asked for, and tenki's summary per local day.

OWM's 5 day / 3 hour forecast has no daily view; tenki makes one. A day is a calendar day of the place
(its UTC offset, from the forecast's location), not of UTC: in Tokyo (+9 h) the slot starting 15:00 UTC
is already tomorrow. Per day: the lowest and highest slot temperature, the dominant condition (the
headline most slots share; a tie goes to the more severe, so a day with as many rainy slots as cloudy
ones reads as rainy) with its day icon, the highest probability of precipitation, and the total rain
and snow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from .model import Condition, Day, Forecast, ForecastSlot, Slot, Units, Wind
from .units import depth, optional_speed, optional_temperature, speed, temperature

# OWM's condition groups by how much they matter to someone planning a day (higher wins a tie).
SEVERITY = {
    "Thunderstorm": 9,
    "Snow": 8,
    "Rain": 7,
    "Drizzle": 6,
    "Tornado": 10,
    "Squall": 5,
    "Fog": 4,
    "Mist": 3,
    "Haze": 3,
    "Clouds": 2,
    "Clear": 1,
}


def slot_in(slot: ForecastSlot, units: Units) -> Slot:
    """One slot in the requested units."""
    return Slot(
        start=slot.start,
        temperature=temperature(slot.temperature_k, units),
        feels_like=optional_temperature(slot.feels_like_k, units),
        conditions=slot.conditions,
        precipitation_probability_percent=slot.precipitation_probability_percent,
        rain=depth(slot.rain_mm, units),
        snow=depth(slot.snow_mm, units),
        wind=Wind(
            speed=speed(slot.wind_speed_ms, units),
            direction_degrees=slot.wind_direction_degrees,
            gust=optional_speed(slot.wind_gust_ms, units),
        ),
        humidity_percent=slot.humidity_percent,
    )


def local_date(slot: ForecastSlot | Slot, utc_offset_seconds: int) -> date:
    return (slot.start + timedelta(seconds=utc_offset_seconds)).date()


def dominant(conditions: Sequence[Condition]) -> Condition:
    """The headline most slots share (ties: the more severe), as a day condition with its day icon."""
    counts = Counter(c.status for c in conditions)
    status = max(counts, key=lambda s: (counts[s], SEVERITY.get(s, 0)))
    chosen = [c for c in conditions if c.status == status]
    # The most frequent id of that status ("light rain" over one slot of "heavy rain").
    ids = Counter(c.id for c in chosen)
    condition = next(c for c in chosen if c.id == max(ids, key=lambda i: (ids[i], i)))
    icon = condition.icon[:-1] + "d" if condition.icon[-1:] in ("d", "n") else condition.icon
    return Condition(condition.id, condition.status, condition.description, icon)


def days(forecast: Forecast, units: Units) -> tuple[Day, ...]:
    """The summary of each local day of the place that the forecast's slots touch, in date order."""
    offset = forecast.location.utc_offset_seconds
    by_day: dict[date, list[ForecastSlot]] = {}
    for slot in sorted(forecast.slots, key=lambda s: s.start):
        by_day.setdefault(local_date(slot, offset), []).append(slot)
    return tuple(_day(day, slots, units) for day, slots in by_day.items())


def _total(values: Iterable[float | None], units: Units) -> float:
    return depth(sum(v for v in values if v is not None), units) or 0.0


def _day(day: date, slots: list[ForecastSlot], units: Units) -> Day:
    temps = [s.temperature_k for s in slots]
    return Day(
        day=day,
        min_temperature=temperature(min(temps), units),
        max_temperature=temperature(max(temps), units),
        condition=dominant([s.condition for s in slots]),
        max_precipitation_probability_percent=max(s.precipitation_probability_percent for s in slots),
        # Summed in mm, converted once: per-slot rounding to inches would add up its errors.
        total_rain=_total((s.rain_mm for s in slots), units),
        total_snow=_total((s.snow_mm for s in slots), units),
        slot_count=len(slots),
    )
