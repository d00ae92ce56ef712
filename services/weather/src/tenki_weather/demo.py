"""The embedded default: offline demo weather, deterministic per (postal code, country).

Without an OWM key the service still answers every valid question with realistic values, so a
newcomer sees real pages at once and tests need no network. The same place always gets the same
weather (a hash of the place seeds it); only the times follow the clock. A postal code made only of
zeros ("00000") is unknown, so the not-found path can be shown offline too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pycountry

from .errors import NotFound
from .model import SOURCE_DEMO, Condition, Location, Observation

# (name, latitude, longitude, UTC offset in seconds) for a few well-known codes.
KNOWN_PLACES: dict[tuple[str, str], tuple[str, float, float, int]] = {
    ("94040", "US"): ("Mountain View", 37.3861, -122.0839, -8 * 3600),
    ("10001", "US"): ("New York", 40.7484, -73.9967, -5 * 3600),
    ("60601", "US"): ("Chicago", 41.8858, -87.6181, -6 * 3600),
    ("SW1A 1AA", "GB"): ("London", 51.5010, -0.1416, 0),
    ("10115", "DE"): ("Berlin", 52.5323, 13.3846, 3600),
    ("75001", "FR"): ("Paris", 48.8625, 2.3364, 3600),
    ("100-0001", "JP"): ("Chiyoda", 35.6850, 139.7514, 9 * 3600),
    ("2000", "AU"): ("Sydney", -33.8688, 151.2093, 10 * 3600),
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


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DemoProvider:
    source = SOURCE_DEMO

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    def current_weather(self, postal_code: str, country_code: str) -> Observation:
        if not postal_code.replace("-", "").replace(" ", "").strip("0"):
            raise NotFound.place(postal_code, country_code)
        seed = hashlib.sha256(f"{postal_code},{country_code}".encode()).digest()
        name, lat, lon, offset = KNOWN_PLACES.get((postal_code, country_code)) or _invented_place(
            postal_code, country_code, seed
        )
        # Warmer near the equator; a hash-seeded spread of +-6 degrees around that.
        celsius = 28 - abs(lat) * 0.45 + (seed[0] / 255 * 12 - 6)
        kelvin = round(273.15 + celsius, 2)
        cond_id, status, description, icon = CONDITIONS[seed[1] % len(CONDITIONS)]
        wind = round(seed[2] / 255 * 9 + 0.5, 2)
        now = self._clock()
        local_midnight = (now + timedelta(seconds=offset)).replace(hour=0, minute=0, second=0, microsecond=0)
        midnight_utc = local_midnight - timedelta(seconds=offset)
        sunrise = midnight_utc + timedelta(hours=6, minutes=seed[3] % 60)
        sunset = midnight_utc + timedelta(hours=18, minutes=seed[4] % 60)
        is_day = sunrise <= now < sunset
        return Observation(
            location=Location(name, country_code, lat, lon, offset, postal_code),
            condition=Condition(cond_id, status, description, icon + ("d" if is_day else "n")),
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
        )


def _invented_place(postal_code: str, country_code: str, seed: bytes) -> tuple[str, float, float, int]:
    country = pycountry.countries.get(alpha_2=country_code)
    country_name = getattr(country, "common_name", None) or getattr(country, "name", country_code)
    lat = round(-55 + seed[11] / 255 * 120, 4)
    lon = round(-180 + seed[12] / 255 * 360, 4)
    # The offset a place at this longitude would roughly have (whole hours).
    offset = int(round(lon / 15)) * 3600
    return f"Demo {postal_code}, {country_name}", lat, lon, offset
