"""The weather service's domain: plain dataclasses, no gRPC and no PyOWM.

An Observation is stored in standard units (kelvin, metres per second) exactly once per place; the
units a client asks for are derived from it on the way out (see units.py), so asking for Fahrenheit
after Celsius never costs another upstream call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Units(enum.Enum):
    """The unit systems a client can ask for."""

    METRIC = "metric"  # Celsius, m/s
    IMPERIAL = "imperial"  # Fahrenheit, mph
    STANDARD = "standard"  # kelvin, m/s


class CacheResult(enum.Enum):
    """How the cache answered a lookup (a label of logs and metrics)."""

    HIT = "hit"  # fresh data, no upstream call
    MISS = "miss"  # fetched upstream for this request
    STALE = "stale"  # upstream failed; an older entry was served


SOURCE_OWM = "openweathermap"
SOURCE_DEMO = "demo"


@dataclass(frozen=True)
class Query:
    """A validated, normalised question: what the cache is keyed on, plus the units."""

    postal_code: str
    country_code: str  # ISO 3166-1 alpha-2, upper case
    units: Units = Units.METRIC

    @property
    def place_key(self) -> tuple[str, str]:
        """The cache key: units are not part of it, they are converted from the cached data."""
        return (self.postal_code, self.country_code)


@dataclass(frozen=True)
class Location:
    name: str
    country_code: str
    latitude: float
    longitude: float
    utc_offset_seconds: int
    postal_code: str


@dataclass(frozen=True)
class Condition:
    id: int
    status: str
    description: str
    icon: str


@dataclass(frozen=True)
class Observation:
    """The current weather at a place, in standard units (kelvin, m/s), as a provider returned it."""

    location: Location
    condition: Condition
    temperature_k: float
    feels_like_k: float
    temp_min_k: float
    temp_max_k: float
    humidity_percent: int
    pressure_hpa: int
    wind_speed_ms: float
    wind_direction_degrees: float
    wind_gust_ms: float
    cloudiness_percent: int
    visibility_meters: int
    sunrise: datetime | None
    sunset: datetime | None
    observed_at: datetime
    source: str
    fetched_at: datetime


@dataclass(frozen=True)
class Temperature:
    current: float
    feels_like: float
    min: float
    max: float


@dataclass(frozen=True)
class Wind:
    speed: float
    direction_degrees: float
    gust: float


@dataclass(frozen=True)
class Report:
    """An answer to a Query: the observation, its values in the requested units, and how it was served."""

    observation: Observation
    units: Units
    temperature: Temperature
    wind: Wind
    cache: CacheResult
    # For a STALE answer: the kind of the error it covers (unavailable, rate_limited, misconfigured).
    stale_cause: str = ""

    @property
    def stale(self) -> bool:
        return self.cache is CacheResult.STALE
