"""The weather service's domain: plain dataclasses, no gRPC and no PyOWM.

An Observation is stored in standard units (kelvin, metres per second) exactly once per place; the
units a client asks for are derived from it on the way out (see units.py), so asking for Fahrenheit
after Celsius never costs another upstream call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


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

    postal_code: str  # canonical, as people write it ("SW1A 1AA")
    country_code: str  # ISO 3166-1 alpha-2, upper case
    units: Units = Units.METRIC
    # What OWM's geocoder is asked ("SW1A"); empty means the postal code itself (postal.py).
    lookup_code: str = ""
    # True when lookup_code names a wider area than the postal code (GB outward code, CA FSA).
    district: bool = False

    @property
    def place_key(self) -> tuple[str, str]:
        """The cache key: the geocoder's form, so "SW1A 1AA", "sw1a1aa" and "SW1A 2AA" share one entry;
        units are not part of it, they are converted from the cached data."""
        return (self.lookup_code or self.postal_code, self.country_code)


@dataclass(frozen=True)
class Place:
    """Where a postal code is, as a geocoder answered: the step current weather and forecast share."""

    name: str
    country_code: str
    latitude: float
    longitude: float
    lookup_code: str  # the code the geocoder was asked


@dataclass(frozen=True)
class Location:
    name: str
    country_code: str
    latitude: float
    longitude: float
    utc_offset_seconds: int
    postal_code: str
    # The wider area the weather is for when the geocoder knows only part of the code ("SW1A"); "" else.
    district: str = ""


@dataclass(frozen=True)
class Condition:
    id: int
    status: str
    description: str
    icon: str


@dataclass(frozen=True)
class Precipitation:
    """Rain and snow in the last 1 h and 3 h, in millimetres; None where OWM reported nothing."""

    rain_1h: float | None = None
    rain_3h: float | None = None
    snow_1h: float | None = None
    snow_3h: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.rain_1h, self.rain_3h, self.snow_1h, self.snow_3h))


@dataclass(frozen=True)
class Observation:
    """The current weather at a place, in standard units (kelvin, m/s), as a provider returned it."""

    location: Location
    # Every condition OWM reported, in its order; the first is the headline. Never empty.
    conditions: tuple[Condition, ...]
    temperature_k: float
    feels_like_k: float | None
    temp_min_k: float
    temp_max_k: float
    humidity_percent: int
    pressure_hpa: int
    wind_speed_ms: float
    wind_direction_degrees: float
    wind_gust_ms: float | None
    cloudiness_percent: int
    visibility_meters: int | None
    # None: no sunrise (sunset) today, when no_sunrise (no_sunset) says so, else not reported.
    sunrise: datetime | None
    sunset: datetime | None
    observed_at: datetime
    source: str
    fetched_at: datetime
    precipitation: Precipitation = Precipitation()
    # OWM's polar night and day: sys.sunrise / sys.sunset of 0, the sun does not rise (set) today.
    no_sunrise: bool = False
    no_sunset: bool = False

    @property
    def condition(self) -> Condition:
        """The headline condition."""
        return self.conditions[0]


@dataclass(frozen=True)
class Temperature:
    current: float
    feels_like: float | None
    min: float
    max: float


@dataclass(frozen=True)
class Wind:
    speed: float
    direction_degrees: float
    gust: float | None


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
    precipitation: Precipitation = Precipitation()  # in mm, or inches with imperial units

    @property
    def stale(self) -> bool:
        return self.cache is CacheResult.STALE


@dataclass(frozen=True)
class ForecastSlot:
    """Three forecast hours from `start`, in standard units (kelvin, m/s, mm), as a provider returned it."""

    start: datetime
    temperature_k: float
    feels_like_k: float | None
    # Every condition forecast for the slot, in OWM's order; the first is the headline. Never empty.
    conditions: tuple[Condition, ...]
    precipitation_probability_percent: int
    # Rain and snow over the three hours; None where none is forecast.
    rain_mm: float | None
    snow_mm: float | None
    wind_speed_ms: float
    wind_direction_degrees: float
    wind_gust_ms: float | None
    humidity_percent: int

    @property
    def condition(self) -> Condition:
        return self.conditions[0]


@dataclass(frozen=True)
class Forecast:
    """The next days at a place in 3-hour slots (standard units), cached per place like an Observation."""

    location: Location
    slots: tuple[ForecastSlot, ...]
    source: str
    fetched_at: datetime


@dataclass(frozen=True)
class Slot:
    """A ForecastSlot in the requested units (depths in mm, or inches with imperial units)."""

    start: datetime
    temperature: float
    feels_like: float | None
    conditions: tuple[Condition, ...]
    precipitation_probability_percent: int
    rain: float | None
    snow: float | None
    wind: Wind
    humidity_percent: int


@dataclass(frozen=True)
class Day:
    """tenki's summary of the slots of one local day of the place, in the requested units."""

    day: date  # the local calendar day of the place
    min_temperature: float
    max_temperature: float
    condition: Condition  # the dominant one, with its day icon
    max_precipitation_probability_percent: int
    total_rain: float
    total_snow: float
    slot_count: int


@dataclass(frozen=True)
class ForecastReport:
    """An answer to a forecast Query: the forecast, its slots and days in the units asked, how served."""

    forecast: Forecast
    units: Units
    slots: tuple[Slot, ...]
    days: tuple[Day, ...]
    cache: CacheResult
    # For a STALE answer: the kind of the error it covers, as Report.stale_cause.
    stale_cause: str = ""

    @property
    def stale(self) -> bool:
        return self.cache is CacheResult.STALE
