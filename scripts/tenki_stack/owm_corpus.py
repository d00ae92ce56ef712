"""Realistic OpenWeatherMap answers, written from OWM's documented fields, for the stand-in and the tests.

Current weather (https://openweathermap.org/current#fields_json): `coord`, `weather` (a list: OWM sends
several conditions, the first is the primary one), `main` (`feels_like` among the fields OWM may leave
out), `visibility` (omitted when not measured), `wind` (`gust` only when measured), `rain` / `snow`
(`1h`, and `3h` in older answers; the whole block absent when dry), `clouds`, `dt`, `sys`
(`country`, `sunrise`/`sunset`: 0 in polar night and day), `timezone` (seconds east of UTC; some
answers lack it), `name` (empty for places between towns), `cod` (a number in answers, a string in
some error bodies). Geocoding (https://openweathermap.org/api/geocoding-api): `zip`, `name`, `lat`,
`lon`, `country`.

Each body is a function of the place and the clock, so times are today's; `body(kind, ...)` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = dict[str, Any]

# OWM's error bodies, cod as OWM sends it: a string for 400 and 404, a number otherwise.
ERROR_BODIES: dict[int, Body] = {
    400: {"cod": "400", "message": "Nothing to geocode"},
    401: {
        "cod": 401,
        "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
    },
    404: {"cod": "404", "message": "city not found"},
    429: {
        "cod": 429,
        "message": "Your account is temporary blocked due to exceeding of requests limitation of your "
        "subscription type. Please choose the proper subscription https://openweathermap.org/price",
    },
    500: {"cod": 500, "message": "Internal error"},
    502: {"cod": 502, "message": "Bad gateway"},
    503: {"cod": 503, "message": "Service unavailable"},
}
GEO_NOT_FOUND: Body = {"cod": "404", "message": "not found"}

DRIZZLE = {"id": 300, "main": "Drizzle", "description": "light intensity drizzle", "icon": "09d"}
RAIN = {"id": 501, "main": "Rain", "description": "moderate rain", "icon": "10d"}
MIST = {"id": 701, "main": "Mist", "description": "mist", "icon": "50d"}
SNOW = {"id": 601, "main": "Snow", "description": "snow", "icon": "13d"}
CLEAR = {"id": 800, "main": "Clear", "description": "clear sky", "icon": "01d"}
CLOUDS = {"id": 803, "main": "Clouds", "description": "broken clouds", "icon": "04d"}
POLAR = {"id": 804, "main": "Clouds", "description": "overcast clouds", "icon": "04n"}


def _base(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    """Every documented block present: the fullest answer OWM sends."""
    day_start = now - now % 86400
    utc = offset or 0
    body: Body = {
        "coord": {"lon": lon, "lat": lat},
        "weather": [CLOUDS],
        "base": "stations",
        "main": {
            "temp": 288.4,
            "feels_like": 287.9,
            "temp_min": 287.1,
            "temp_max": 289.6,
            "pressure": 1012,
            "humidity": 72,
            "sea_level": 1012,
            "grnd_level": 1008,
        },
        "visibility": 10000,
        "wind": {"speed": 4.63, "deg": 250, "gust": 7.2},
        "clouds": {"all": 75},
        "dt": now - 180,
        "sys": {
            "type": 2,
            "id": 2019646,
            "country": country,
            "sunrise": day_start + 6 * 3600 - utc,
            "sunset": day_start + 19 * 3600 - utc,
        },
        "timezone": offset,
        "id": 0,
        "name": name,
        "cod": 200,
    }
    if offset is None:
        del body["timezone"]
    return body


def full(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    return _base(lat, lon, name, country, offset, now)


def clear(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    body = _base(lat, lon, name, country, offset, now)
    body["weather"] = [CLEAR]
    body["clouds"] = {"all": 0}
    return body


def rain_several_conditions(
    lat: float, lon: float, name: str, country: str, offset: int | None, now: int
) -> Body:
    """London in the rain: three conditions and the last hour's rain (OWM's documentation example)."""
    body = _base(lat, lon, name, country, offset, now)
    body["weather"] = [DRIZZLE, RAIN, MIST]
    body["rain"] = {"1h": 3.16}
    body["visibility"] = 4000
    return body


def snow_unmeasured(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    """Snow over 1 h and 3 h, and no gust, no visibility, no feels-like: OWM omits what it did not measure."""
    body = _base(lat, lon, name, country, offset, now)
    body["weather"] = [SNOW, MIST]
    body["snow"] = {"1h": 0.58, "3h": 1.2}
    body["main"]["temp"] = 269.8
    del body["main"]["feels_like"]
    del body["visibility"]
    del body["wind"]["gust"]
    return body


def rain_3h_only(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    """An older answer: rain over the last 3 hours only."""
    body = _base(lat, lon, name, country, offset, now)
    body["weather"] = [RAIN]
    body["rain"] = {"3h": 2.5}
    return body


def no_timezone(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    body = _base(lat, lon, name, country, None, now)
    # The sun times of the real zone all the same (the body just does not say which zone that is).
    if offset:
        body["sys"]["sunrise"] -= offset
        body["sys"]["sunset"] -= offset
    return body


def empty_name(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    """No name and no sys.country: what OWM answers for coordinates between towns."""
    body = _base(lat, lon, "", country, offset, now)
    del body["sys"]["country"]
    return body


def polar_night(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    body = _base(lat, lon, name, country, offset, now)
    body["weather"] = [POLAR]
    body["sys"]["sunrise"] = 0
    body["sys"]["sunset"] = 0
    body["main"]["temp"] = 266.2
    return body


def sunrise_without_sunset(
    lat: float, lon: float, name: str, country: str, offset: int | None, now: int
) -> Body:
    """Unreadable for PyOWM (its Weather compares the missing sunset with 0)."""
    body = _base(lat, lon, name, country, offset, now)
    del body["sys"]["sunset"]
    return body


def string_cod(lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    body = _base(lat, lon, name, country, offset, now)
    body["cod"] = "200"
    return body


BODIES: dict[str, Callable[[float, float, str, str, int | None, int], Body]] = {
    "full": full,
    "clear": clear,
    "rain-several-conditions": rain_several_conditions,
    "snow-unmeasured": snow_unmeasured,
    "rain-3h-only": rain_3h_only,
    "no-timezone": no_timezone,
    "empty-name": empty_name,
    "polar-night": polar_night,
    "sunrise-without-sunset": sunrise_without_sunset,
    "string-cod": string_cod,
}


def body(kind: str, lat: float, lon: float, name: str, country: str, offset: int | None, now: int) -> Body:
    return BODIES[kind](lat, lon, name, country, offset, now)
