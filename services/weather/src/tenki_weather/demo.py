"""The embedded default: offline demo weather, deterministic per (postal code, country).

Without an OWM key the service still answers every valid question with realistic values, so a
newcomer sees real pages at once and tests need no network. The same place always gets the same
weather (a hash of the place seeds it); only the times follow the clock. Known places cover GB, CA, NL,
JP, DE, FR, AU and US codes (by the geocoder's form of the code, as OWM's); wet weather comes with its
precipitation and several conditions, as OWM reports them. A postal code made only of zeros ("00000")
is unknown, so the not-found path can be shown offline too.

The forecast is as deterministic: each 3-hour slot's weather is a function of the place and the slot's
start time alone, so asking twice (or an hour later) gives the same slot the same values. Temperatures
follow a daily cycle of the place's local time (coolest before dawn, warmest mid-afternoon) around the
place's level, with a drift from day to day; conditions come in runs of 12 hours; the probability of
precipitation and the rain or snow follow the condition (a clear slot has none, a rainy one a high one).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pycountry

from .model import (
    SOURCE_DEMO,
    Condition,
    Forecast,
    ForecastSlot,
    Location,
    Observation,
    Place,
    Precipitation,
)
from .timezones import utc_offset_seconds

# Places by the code in the geocoder's form (postal.py): (name, latitude, longitude).
KNOWN_PLACES: dict[tuple[str, str], tuple[str, float, float]] = {
    ("94040", "US"): ("Mountain View", 37.3861, -122.0839),
    ("10001", "US"): ("New York", 40.7484, -73.9967),
    ("60601", "US"): ("Chicago", 41.8858, -87.6181),
    ("SW1A", "GB"): ("London", 51.5010, -0.1416),
    ("E14", "GB"): ("London", 51.5079, -0.0235),
    ("M5V", "CA"): ("Toronto", 43.6426, -79.3871),
    ("H2X", "CA"): ("Montréal", 45.5100, -73.5700),
    ("1011", "NL"): ("Amsterdam", 52.3731, 4.9003),
    ("100-0001", "JP"): ("Chiyoda", 35.6850, 139.7514),
    ("10115", "DE"): ("Berlin", 52.5323, 13.3846),
    ("75001", "FR"): ("Paris", 48.8625, 2.3364),
    ("2000", "AU"): ("Sydney", -33.8688, 151.2093),
}

# Real OWM conditions: (id, status, description, icon stem).
CONDITIONS = (
    (800, "Clear", "clear sky", "01"),
    (801, "Clouds", "few clouds", "02"),
    (802, "Clouds", "scattered clouds", "03"),
    (804, "Clouds", "overcast clouds", "04"),
    (500, "Rain", "light rain", "10"),
    (300, "Drizzle", "light intensity drizzle", "09"),
    (701, "Mist", "mist", "50"),
    (211, "Thunderstorm", "thunderstorm", "11"),
    (600, "Snow", "light snow", "13"),
)
# What OWM reports alongside a wet headline: drizzle and rain come with mist, snow with fog-like mist.
COMPANIONS = {
    "Rain": ((300, "Drizzle", "light intensity drizzle", "09"), (701, "Mist", "mist", "50")),
    "Drizzle": ((500, "Rain", "light rain", "10"), (701, "Mist", "mist", "50")),
    "Thunderstorm": ((501, "Rain", "moderate rain", "10"),),
    "Snow": ((701, "Mist", "mist", "50"),),
}
WET = {"Rain", "Drizzle", "Thunderstorm"}
# Probability of precipitation (%) a forecast gives each condition: (lowest, highest).
POP_RANGE = {
    "Clear": (0, 0),
    "Clouds": (0, 25),
    "Mist": (5, 20),
    "Drizzle": (40, 70),
    "Rain": (60, 95),
    "Thunderstorm": (70, 100),
    "Snow": (60, 90),
}
SLOT = timedelta(hours=3)
FORECAST_SLOTS = 40  # five days, as OWM's free forecast
RUN_SLOTS = 4  # conditions change in runs of 12 hours


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DemoProvider:
    source = SOURCE_DEMO

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        if not lookup_code.replace("-", "").replace(" ", "").strip("0"):
            return None
        known = KNOWN_PLACES.get((lookup_code, country_code))
        if known is not None:
            name, lat, lon = known
        else:
            name, lat, lon = _invented_place(lookup_code, country_code, _seed(lookup_code, country_code))
        return Place(name, country_code, lat, lon, lookup_code)

    def weather_at(self, place: Place) -> Observation:
        seed = _seed(place.lookup_code, place.country_code)
        lat, lon = place.latitude, place.longitude
        now = self._clock()
        offset = utc_offset_seconds(lat, lon, now)
        # Warmer near the equator; a hash-seeded spread of +-6 degrees around that.
        celsius = 28 - abs(lat) * 0.45 + (seed[0] / 255 * 12 - 6)
        kelvin = round(273.15 + celsius, 2)
        cond_id, status, description, icon = CONDITIONS[seed[1] % len(CONDITIONS)]
        wind = round(seed[2] / 255 * 9 + 0.5, 2)
        local_midnight = (now + timedelta(seconds=offset)).replace(hour=0, minute=0, second=0, microsecond=0)
        midnight_utc = local_midnight - timedelta(seconds=offset)
        sunrise = midnight_utc + timedelta(hours=6, minutes=seed[3] % 60)
        sunset = midnight_utc + timedelta(hours=18, minutes=seed[4] % 60)
        suffix = "d" if sunrise <= now < sunset else "n"
        conditions = tuple(
            Condition(c_id, c_status, c_description, c_icon + suffix)
            for c_id, c_status, c_description, c_icon in (
                (cond_id, status, description, icon),
                *COMPANIONS.get(status, ()),
            )
        )
        rain_1h = round(0.2 + seed[13] / 255 * 4, 2) if status in WET else None
        snow_1h = round(0.1 + seed[14] / 255 * 2, 2) if status == "Snow" else None
        return Observation(
            location=Location(place.name, place.country_code, lat, lon, offset, place.lookup_code),
            conditions=conditions,
            temperature_k=kelvin,
            feels_like_k=round(kelvin - wind * 0.3, 2),
            temp_min_k=round(kelvin - 1 - seed[5] % 4, 2),
            temp_max_k=round(kelvin + 1 + seed[6] % 4, 2),
            humidity_percent=35 + seed[7] % 60,
            pressure_hpa=995 + seed[8] % 35,
            wind_speed_ms=wind,
            wind_direction_degrees=float(seed[9] * 360 // 256),
            wind_gust_ms=round(wind * 1.5, 2),
            cloudiness_percent=0 if cond_id == 800 else 20 + seed[10] % 81,
            visibility_meters=3000 if status == "Mist" else 10000,
            sunrise=sunrise,
            sunset=sunset,
            # Observations come every 10 minutes, as OWM's stations report.
            observed_at=now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0),
            source=SOURCE_DEMO,
            fetched_at=now,
            precipitation=Precipitation(
                rain_1h=rain_1h,
                rain_3h=None if rain_1h is None else round(rain_1h * 2.4, 2),
                snow_1h=snow_1h,
            ),
        )

    def forecast_at(self, place: Place) -> Forecast:
        """Five days in 3-hour slots from the next 3-hour boundary (UTC), as OWM's forecast starts."""
        now = self._clock()
        offset = utc_offset_seconds(place.latitude, place.longitude, now)
        first = now.replace(hour=now.hour - now.hour % 3, minute=0, second=0, microsecond=0) + SLOT
        slots = tuple(
            _forecast_slot(place, offset, first + i * SLOT) for i in range(FORECAST_SLOTS)
        )
        return Forecast(
            location=Location(
                place.name, place.country_code, place.latitude, place.longitude, offset, place.lookup_code
            ),
            slots=slots,
            source=SOURCE_DEMO,
            fetched_at=now,
        )


def _forecast_slot(place: Place, offset: int, start: datetime) -> ForecastSlot:
    seed = _seed(place.lookup_code, place.country_code)
    local = start + timedelta(seconds=offset)
    # The slot's middle hour, local: the daily cycle peaks at 15:00 and bottoms out at 03:00.
    hour = (local.hour + 1.5) % 24
    day_seed = _seed(place.lookup_code, f"{place.country_code}:{local.date().isoformat()}")
    run = int(start.timestamp()) // int(SLOT.total_seconds()) // RUN_SLOTS
    run_seed = _seed(place.lookup_code, f"{place.country_code}:run{run}")
    slot_seed = _seed(place.lookup_code, f"{place.country_code}:{int(start.timestamp())}")
    cond_id, status, description, icon = CONDITIONS[run_seed[0] % len(CONDITIONS)]
    level = 28 - abs(place.latitude) * 0.45 + (seed[0] / 255 * 12 - 6) + (day_seed[0] / 255 * 4 - 2)
    if status == "Snow" and level > 4:
        cond_id, status, description, icon = CONDITIONS[4]  # too warm for snow: light rain
    swing = 3 + seed[15] % 4 - (1.5 if status in WET or status == "Snow" else 0)
    celsius = level + swing * math.cos(2 * math.pi * (hour - 15) / 24)
    if status == "Snow":
        celsius = min(celsius, 0.5)  # snow falls at or below freezing
    kelvin = round(273.15 + celsius, 2)
    low, high = POP_RANGE[status]
    pop = low + slot_seed[0] % (high - low + 1)
    wet_mm = round(0.1 + slot_seed[1] / 255 * 3 * pop / 100, 2)
    wind = round(seed[2] / 255 * 6 + slot_seed[2] / 255 * 3 + 0.5, 2)
    suffix = "d" if 6 <= local.hour < 18 else "n"
    conditions = tuple(
        Condition(c_id, c_status, c_description, c_icon + suffix)
        for c_id, c_status, c_description, c_icon in (
            (cond_id, status, description, icon),
            *COMPANIONS.get(status, ()),
        )
    )
    return ForecastSlot(
        start=start,
        temperature_k=kelvin,
        feels_like_k=round(kelvin - wind * 0.3, 2),
        conditions=conditions,
        precipitation_probability_percent=pop,
        rain_mm=wet_mm if status in WET else None,
        snow_mm=wet_mm if status == "Snow" else None,
        wind_speed_ms=wind,
        wind_direction_degrees=float((seed[9] + slot_seed[3] // 8) * 360 // 256 % 360),
        wind_gust_ms=round(wind * 1.5, 2),
        humidity_percent=min(100, 35 + seed[7] % 40 + pop // 4),
    )


def _seed(lookup_code: str, country_code: str) -> bytes:
    return hashlib.sha256(f"{lookup_code},{country_code}".encode()).digest()


def _invented_place(postal_code: str, country_code: str, seed: bytes) -> tuple[str, float, float]:
    country = pycountry.countries.get(alpha_2=country_code)
    country_name = getattr(country, "common_name", None) or getattr(country, "name", country_code)
    lat = round(-55 + seed[11] / 255 * 120, 4)
    lon = round(-180 + seed[12] / 255 * 360, 4)
    return f"Demo {postal_code}, {country_name}", lat, lon
