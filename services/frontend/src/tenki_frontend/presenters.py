"""Turning a GetCurrentWeatherResponse into what a page or the JSON API shows.

Pure functions of the response and a clock: wind direction as compass text, sunrise and sunset in the
place's local time (from its UTC offset, not the server's zone), "updated N minutes ago", unit labels,
the icon file for OpenWeatherMap's icon code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from markupsafe import Markup

from tenki.weather.v1 import weather_pb2

from . import countries

COMPASS = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)
WORDS = {"N": "north", "E": "east", "S": "south", "W": "west"}

UNIT_NAMES = {
    weather_pb2.UNITS_UNSPECIFIED: "metric",
    weather_pb2.UNITS_METRIC: "metric",
    weather_pb2.UNITS_IMPERIAL: "imperial",
    weather_pb2.UNITS_STANDARD: "standard",
}
TEMPERATURE_LABELS = {"metric": "°C", "imperial": "°F", "standard": "K"}
SPEED_LABELS = {"metric": "m/s", "imperial": "mph", "standard": "m/s"}
DEPTH_LABELS = {"metric": "mm", "imperial": "in", "standard": "mm"}
# (field of weather_pb2.Precipitation, what it is, over which period), in the order the page lists them.
PRECIPITATION = (
    ("rain_1h", "Rain", "last hour"),
    ("rain_3h", "Rain", "last 3 hours"),
    ("snow_1h", "Snow", "last hour"),
    ("snow_3h", "Snow", "last 3 hours"),
)
METRES_PER_MILE = 1609.344

# OWM icon codes (https://openweathermap.org/weather-conditions) -> our SVGs in static/icons/.
# Day and night differ only where the sun or the moon shows.
ICONS = {
    "01d": "01d", "01n": "01n", "02d": "02d", "02n": "02n",
    "03d": "03", "03n": "03", "04d": "04", "04n": "04",
    "09d": "09", "09n": "09", "10d": "10d", "10n": "10n",
    "11d": "11", "11n": "11", "13d": "13", "13n": "13", "50d": "50", "50n": "50",
}
UNKNOWN_ICON = "unknown"


def compass_point(degrees: float) -> str:
    """16-point compass abbreviation of a direction in degrees clockwise from north (0 -> "N")."""
    return COMPASS[int((degrees % 360) / 22.5 + 0.5) % 16]


def compass_words(point: str) -> str:
    """'NNW' -> 'north-northwest', 'NE' -> 'northeast' (for screen readers and the page's text)."""
    if len(point) == 3:
        return f"{compass_words(point[0])}-{compass_words(point[1:])}"
    return "".join(WORDS[letter] for letter in point)


def to_datetime(stamp: Timestamp) -> datetime | None:
    """The timestamp as an aware UTC datetime; None when unset (seconds and nanos zero)."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=timezone.utc)


def at_offset(moment: datetime, utc_offset_seconds: int) -> datetime:
    """The moment in the place's clock time (its fixed UTC offset, not the server's zone)."""
    return moment.astimezone(timezone(timedelta(seconds=utc_offset_seconds)))


def local_time(moment: datetime | None, utc_offset_seconds: int) -> str:
    """'06:42' at the place (its UTC offset), or an en dash when unknown."""
    if moment is None:
        return "–"
    return at_offset(moment, utc_offset_seconds).strftime("%H:%M")


def utc_offset_label(utc_offset_seconds: int) -> str:
    """'UTC−8', 'UTC+5:30', 'UTC'."""
    if utc_offset_seconds == 0:
        return "UTC"
    sign = "+" if utc_offset_seconds > 0 else "−"
    hours, rest = divmod(abs(utc_offset_seconds), 3600)
    minutes = rest // 60
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def ago(moment: datetime | None, now: datetime) -> str:
    """'just now', '1 minute ago', '12 minutes ago', '2 hours ago'."""
    if moment is None:
        return "at an unknown time"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return "1 minute ago" if minutes == 1 else f"{minutes} minutes ago"
    hours = minutes // 60
    if hours < 48:
        return "1 hour ago" if hours == 1 else f"{hours} hours ago"
    return f"{hours // 24} days ago"


def visibility_text(metres: int, units: str) -> str:
    """'10 km', '800 m' or '6.2 mi' (imperial)."""
    if units == "imperial":
        return f"{metres / METRES_PER_MILE:.1f} mi"
    if metres >= 1000:
        return f"{metres / 1000:.1f} km".replace(".0 km", " km")
    return f"{metres} m"


def icon_name(code: str) -> str:
    return ICONS.get(code, UNKNOWN_ICON)


def _round(value: float) -> int:
    # Half away from zero, as people round temperatures (-0.5 -> -1, not Python's banker's 0).
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def sun_time(reply: weather_pb2.GetCurrentWeatherResponse, event: str) -> str | None:
    """'06:42' at the place, or None when unset (not reported, or no_sunrise / no_sunset)."""
    if reply.HasField(f"{event}_time"):
        return local_time(to_datetime(getattr(reply, f"{event}_time")), reply.location.utc_offset_seconds)
    return None


def conditions_of(reply: weather_pb2.GetCurrentWeatherResponse) -> list[weather_pb2.Condition]:
    """Every condition, the headline first (an older server sends only the headline)."""
    return list(reply.conditions) or [reply.condition]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def precipitation_lines(reply: weather_pb2.GetCurrentWeatherResponse, units: str) -> list[str]:
    """'Rain 3.2 mm in the last hour', one per amount reported; none when it was dry."""
    unit = DEPTH_LABELS[units]
    amounts = reply.precipitation
    return [
        f"{kind} {getattr(amounts, name):.{2 if unit == 'in' else 1}f} {unit} in the {period}"
        for name, kind, period in PRECIPITATION
        if amounts.HasField(name)
    ]


@dataclass(frozen=True)
class WeatherView:
    """Everything the weather page shows, as text ready for the template (which escapes it)."""

    place: str
    country: str
    postal_code: str
    district: str  # "SW1A" when the weather is for the wider district of the code; "" else
    temperature: int
    feels_like: int | None
    temp_min: int
    temp_max: int
    temperature_unit: str
    condition: str
    icon: str
    also: list[str]  # the other conditions reported, e.g. ["Light rain", "Mist"]
    precipitation: list[str]
    humidity: int
    pressure: int
    cloudiness: int
    visibility: str | None
    wind_speed: str
    wind_gust: str
    speed_unit: str
    wind_point: str
    wind_words: str
    wind_degrees: int
    sunrise: str | None  # None: the row is left out, or says "No sunrise today" when no_sunrise
    sunset: str | None
    no_sunrise: bool  # polar night or day
    no_sunset: bool
    utc_offset: str
    updated: str
    observed: str
    demo: bool
    stale: bool


def weather_view(reply: weather_pb2.GetCurrentWeatherResponse, now: datetime) -> WeatherView:
    units = UNIT_NAMES.get(reply.units, "metric")
    offset = reply.location.utc_offset_seconds
    point = compass_point(reply.wind.direction_degrees)
    headline, *others = conditions_of(reply)
    temp = reply.temperature
    return WeatherView(
        place=reply.location.name or reply.location.postal_code,
        country=countries.name(reply.location.country_code),
        postal_code=reply.location.postal_code,
        district=reply.location.district,
        temperature=_round(temp.current),
        feels_like=_round(temp.reported_feels_like) if temp.HasField("reported_feels_like") else None,
        temp_min=_round(reply.temperature.min),
        temp_max=_round(reply.temperature.max),
        temperature_unit=TEMPERATURE_LABELS[units],
        condition=_sentence(headline.description or headline.status),
        icon=icon_name(headline.icon),
        also=[_sentence(c.description or c.status) for c in others],
        precipitation=precipitation_lines(reply, units),
        humidity=reply.humidity_percent,
        pressure=reply.pressure_hpa,
        cloudiness=reply.cloudiness_percent,
        visibility=(
            visibility_text(reply.reported_visibility_meters, units)
            if reply.HasField("reported_visibility_meters")
            else None
        ),
        wind_speed=f"{reply.wind.speed:.1f}",
        wind_gust=f"{reply.wind.reported_gust:.1f}" if reply.wind.HasField("reported_gust") else "",
        speed_unit=SPEED_LABELS[units],
        wind_point=point,
        wind_words=compass_words(point),
        wind_degrees=_round(reply.wind.direction_degrees) % 360,
        sunrise=sun_time(reply, "sunrise"),
        sunset=sun_time(reply, "sunset"),
        no_sunrise=reply.no_sunrise and not reply.HasField("sunrise_time"),
        no_sunset=reply.no_sunset and not reply.HasField("sunset_time"),
        utc_offset=utc_offset_label(offset),
        updated=ago(to_datetime(reply.fetch_time) or to_datetime(reply.observation_time), now),
        observed=local_time(to_datetime(reply.observation_time), offset),
        demo=reply.source == "demo",
        stale=reply.stale,
    )


def _iso(stamp: Timestamp, utc_offset_seconds: int) -> str | None:
    moment = to_datetime(stamp)
    return None if moment is None else at_offset(moment, utc_offset_seconds).isoformat()


def _condition_json(condition: weather_pb2.Condition) -> dict[str, Any]:
    return {
        "id": condition.id,
        "status": condition.status,
        "description": condition.description,
        "icon": condition.icon,
    }


def _present(message: Any, name: str) -> Any:
    """The field's value, or None when the server did not report it (proto3 optional)."""
    return getattr(message, name) if message.HasField(name) else None


def _location_json(location: weather_pb2.Location) -> dict[str, Any]:
    return {
        "name": location.name,
        "postal_code": location.postal_code,
        "country_code": location.country_code,
        "country": countries.name(location.country_code),
        "latitude": location.latitude,
        "longitude": location.longitude,
        "utc_offset_seconds": location.utc_offset_seconds,
        "district": location.district or None,
    }


def weather_json(reply: weather_pb2.GetCurrentWeatherResponse) -> dict[str, Any]:
    """The JSON API's body: the response's data with units named and times in the place's local offset.

    What OWM did not report is null (feels-like, gust, visibility, sunrise, sunset); precipitation
    lists only the amounts reported.
    """
    units = UNIT_NAMES.get(reply.units, "metric")
    location = reply.location
    offset = location.utc_offset_seconds
    precipitation: dict[str, Any] = {
        name: getattr(reply.precipitation, name)
        for name, _, _ in PRECIPITATION
        if reply.precipitation.HasField(name)
    }
    precipitation["unit"] = DEPTH_LABELS[units]
    return {
        "location": _location_json(location),
        "condition": _condition_json(conditions_of(reply)[0]),
        "conditions": [_condition_json(condition) for condition in conditions_of(reply)],
        "precipitation": precipitation,
        "temperature": {
            "current": reply.temperature.current,
            "feels_like": _present(reply.temperature, "reported_feels_like"),
            "min": reply.temperature.min,
            "max": reply.temperature.max,
            "unit": TEMPERATURE_LABELS[units],
        },
        "wind": {
            "speed": reply.wind.speed,
            "gust": _present(reply.wind, "reported_gust"),
            "direction_degrees": reply.wind.direction_degrees,
            "direction": compass_point(reply.wind.direction_degrees),
            "unit": SPEED_LABELS[units],
        },
        "humidity_percent": reply.humidity_percent,
        "pressure_hpa": reply.pressure_hpa,
        "cloudiness_percent": reply.cloudiness_percent,
        "visibility_meters": _present(reply, "reported_visibility_meters"),
        "sunrise": _iso(reply.sunrise_time, offset),
        "sunset": _iso(reply.sunset_time, offset),
        "no_sunrise": reply.no_sunrise,
        "no_sunset": reply.no_sunset,
        "observation_time": _iso(reply.observation_time, offset),
        "fetch_time": _iso(reply.fetch_time, 0),
        "units": units,
        "source": reply.source,
        "stale": reply.stale,
    }


@lru_cache(maxsize=None)  # keyed by a known country code or "": a few hundred entries at most
def _country_options(selected: str) -> Markup:
    option = Markup('<option value="{}"{}>{}</option>')
    marks = {selected: Markup(" selected")}
    return Markup("\n").join(
        option.format(code, marks.get(code, ""), name) for code, name in countries.by_name()
    )


def country_options(selected: str) -> Markup:
    """The form's country <option>s with `selected` marked (none when it is not a known code).

    Built once per country and kept: escaping some 250 names on every page was half of the weather
    page's rendering time (see `make bench`, README "Performance").
    """
    return _country_options(selected if selected in countries.names() else "")


@dataclass(frozen=True)
class HourView:
    time: str  # "15:00" at the place
    icon: str
    condition: str
    temperature: int
    pop: int


@dataclass(frozen=True)
class DayView:
    weekday: str  # "Today", "Wed"
    date: str  # "2 Dec"
    icon: str
    condition: str
    temp_min: int
    temp_max: int
    pop: int


@dataclass(frozen=True)
class ForecastView:
    """The page's forecast: the next eight 3-hour slots and the next five local days."""

    hours: list[HourView]
    days: list[DayView]
    temperature_unit: str
    stale: bool


def forecast_view(reply: weather_pb2.GetForecastResponse, now: datetime) -> ForecastView:
    units = UNIT_NAMES.get(reply.units, "metric")
    offset = reply.location.utc_offset_seconds
    today = at_offset(now, offset).date().isoformat()
    hours = []
    for slot in reply.slots[:8]:
        headline = slot.conditions[0] if slot.conditions else weather_pb2.Condition()
        hours.append(
            HourView(
                time=local_time(to_datetime(slot.start_time), offset),
                icon=icon_name(headline.icon),
                condition=_sentence(headline.description or headline.status),
                temperature=_round(slot.temperature),
                pop=slot.precipitation_probability_percent,
            )
        )
    days = []
    for day in reply.days[:5]:
        moment = datetime.strptime(day.date, "%Y-%m-%d")
        days.append(
            DayView(
                weekday="Today" if day.date == today else moment.strftime("%a"),
                date=f"{moment.day} {moment:%b}",
                icon=icon_name(day.condition.icon),
                condition=_sentence(day.condition.description or day.condition.status),
                temp_min=_round(day.min_temperature),
                temp_max=_round(day.max_temperature),
                pop=day.max_precipitation_probability_percent,
            )
        )
    return ForecastView(hours, days, TEMPERATURE_LABELS[units], reply.stale)


def forecast_json(reply: weather_pb2.GetForecastResponse) -> dict[str, Any]:
    """The JSON API's forecast: slots and days in the place's local offset, units named; absent is null."""
    units = UNIT_NAMES.get(reply.units, "metric")
    location = reply.location
    offset = location.utc_offset_seconds
    return {
        "location": _location_json(location),
        "slots": [
            {
                "start_time": _iso(slot.start_time, offset),
                "temperature": slot.temperature,
                "feels_like": _present(slot, "feels_like"),
                "conditions": [_condition_json(c) for c in slot.conditions],
                "precipitation_probability_percent": slot.precipitation_probability_percent,
                "rain": _present(slot, "rain"),
                "snow": _present(slot, "snow"),
                "wind": {
                    "speed": slot.wind.speed,
                    "gust": _present(slot.wind, "reported_gust"),
                    "direction_degrees": slot.wind.direction_degrees,
                    "direction": compass_point(slot.wind.direction_degrees),
                },
                "humidity_percent": slot.humidity_percent,
            }
            for slot in reply.slots
        ],
        "days": [
            {
                "date": day.date,
                "min_temperature": day.min_temperature,
                "max_temperature": day.max_temperature,
                "condition": _condition_json(day.condition),
                "max_precipitation_probability_percent": day.max_precipitation_probability_percent,
                "total_rain": day.total_rain,
                "total_snow": day.total_snow,
                "slot_count": day.slot_count,
            }
            for day in reply.days
        ],
        "units": {
            "name": units,
            "temperature": TEMPERATURE_LABELS[units],
            "speed": SPEED_LABELS[units],
            "depth": DEPTH_LABELS[units],
        },
        "source": reply.source,
        "fetch_time": _iso(reply.fetch_time, 0),
        "stale": reply.stale,
    }
