import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Units(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNITS_UNSPECIFIED: _ClassVar[Units]
    UNITS_METRIC: _ClassVar[Units]
    UNITS_IMPERIAL: _ClassVar[Units]
    UNITS_STANDARD: _ClassVar[Units]

class CacheStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_STATUS_UNSPECIFIED: _ClassVar[CacheStatus]
    CACHE_STATUS_HIT: _ClassVar[CacheStatus]
    CACHE_STATUS_MISS: _ClassVar[CacheStatus]
    CACHE_STATUS_STALE: _ClassVar[CacheStatus]
UNITS_UNSPECIFIED: Units
UNITS_METRIC: Units
UNITS_IMPERIAL: Units
UNITS_STANDARD: Units
CACHE_STATUS_UNSPECIFIED: CacheStatus
CACHE_STATUS_HIT: CacheStatus
CACHE_STATUS_MISS: CacheStatus
CACHE_STATUS_STALE: CacheStatus

class GetCurrentWeatherRequest(_message.Message):
    __slots__ = ("postal_code", "country_code", "units", "cache_only")
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    CACHE_ONLY_FIELD_NUMBER: _ClassVar[int]
    postal_code: str
    country_code: str
    units: Units
    cache_only: bool
    def __init__(self, postal_code: _Optional[str] = ..., country_code: _Optional[str] = ..., units: _Optional[_Union[Units, str]] = ..., cache_only: _Optional[bool] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("name", "country_code", "latitude", "longitude", "utc_offset_seconds", "postal_code", "district")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    UTC_OFFSET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    name: str
    country_code: str
    latitude: float
    longitude: float
    utc_offset_seconds: int
    postal_code: str
    district: str
    def __init__(self, name: _Optional[str] = ..., country_code: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., utc_offset_seconds: _Optional[int] = ..., postal_code: _Optional[str] = ..., district: _Optional[str] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("id", "status", "description", "icon")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    id: int
    status: str
    description: str
    icon: str
    def __init__(self, id: _Optional[int] = ..., status: _Optional[str] = ..., description: _Optional[str] = ..., icon: _Optional[str] = ...) -> None: ...

class Temperature(_message.Message):
    __slots__ = ("current", "feels_like", "min", "max", "reported_feels_like")
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    FEELS_LIKE_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FEELS_LIKE_FIELD_NUMBER: _ClassVar[int]
    current: float
    feels_like: float
    min: float
    max: float
    reported_feels_like: float
    def __init__(self, current: _Optional[float] = ..., feels_like: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., reported_feels_like: _Optional[float] = ...) -> None: ...

class Wind(_message.Message):
    __slots__ = ("speed", "direction_degrees", "gust", "reported_gust")
    SPEED_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_DEGREES_FIELD_NUMBER: _ClassVar[int]
    GUST_FIELD_NUMBER: _ClassVar[int]
    REPORTED_GUST_FIELD_NUMBER: _ClassVar[int]
    speed: float
    direction_degrees: float
    gust: float
    reported_gust: float
    def __init__(self, speed: _Optional[float] = ..., direction_degrees: _Optional[float] = ..., gust: _Optional[float] = ..., reported_gust: _Optional[float] = ...) -> None: ...

class Precipitation(_message.Message):
    __slots__ = ("rain_1h", "rain_3h", "snow_1h", "snow_3h")
    RAIN_1H_FIELD_NUMBER: _ClassVar[int]
    RAIN_3H_FIELD_NUMBER: _ClassVar[int]
    SNOW_1H_FIELD_NUMBER: _ClassVar[int]
    SNOW_3H_FIELD_NUMBER: _ClassVar[int]
    rain_1h: float
    rain_3h: float
    snow_1h: float
    snow_3h: float
    def __init__(self, rain_1h: _Optional[float] = ..., rain_3h: _Optional[float] = ..., snow_1h: _Optional[float] = ..., snow_3h: _Optional[float] = ...) -> None: ...

class GetCurrentWeatherResponse(_message.Message):
    __slots__ = ("location", "condition", "temperature", "wind", "humidity_percent", "pressure_hpa", "cloudiness_percent", "visibility_meters", "sunrise_time", "sunset_time", "observation_time", "units", "source", "fetch_time", "stale", "cache", "conditions", "precipitation", "reported_visibility_meters", "no_sunrise", "no_sunset")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    WIND_FIELD_NUMBER: _ClassVar[int]
    HUMIDITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PRESSURE_HPA_FIELD_NUMBER: _ClassVar[int]
    CLOUDINESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_METERS_FIELD_NUMBER: _ClassVar[int]
    SUNRISE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUNSET_TIME_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_TIME_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FETCH_TIME_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    PRECIPITATION_FIELD_NUMBER: _ClassVar[int]
    REPORTED_VISIBILITY_METERS_FIELD_NUMBER: _ClassVar[int]
    NO_SUNRISE_FIELD_NUMBER: _ClassVar[int]
    NO_SUNSET_FIELD_NUMBER: _ClassVar[int]
    location: Location
    condition: Condition
    temperature: Temperature
    wind: Wind
    humidity_percent: int
    pressure_hpa: int
    cloudiness_percent: int
    visibility_meters: int
    sunrise_time: _timestamp_pb2.Timestamp
    sunset_time: _timestamp_pb2.Timestamp
    observation_time: _timestamp_pb2.Timestamp
    units: Units
    source: str
    fetch_time: _timestamp_pb2.Timestamp
    stale: bool
    cache: CacheStatus
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    precipitation: Precipitation
    reported_visibility_meters: int
    no_sunrise: bool
    no_sunset: bool
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ..., condition: _Optional[_Union[Condition, _Mapping]] = ..., temperature: _Optional[_Union[Temperature, _Mapping]] = ..., wind: _Optional[_Union[Wind, _Mapping]] = ..., humidity_percent: _Optional[int] = ..., pressure_hpa: _Optional[int] = ..., cloudiness_percent: _Optional[int] = ..., visibility_meters: _Optional[int] = ..., sunrise_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sunset_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., observation_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., units: _Optional[_Union[Units, str]] = ..., source: _Optional[str] = ..., fetch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stale: _Optional[bool] = ..., cache: _Optional[_Union[CacheStatus, str]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., precipitation: _Optional[_Union[Precipitation, _Mapping]] = ..., reported_visibility_meters: _Optional[int] = ..., no_sunrise: _Optional[bool] = ..., no_sunset: _Optional[bool] = ...) -> None: ...

class GetForecastRequest(_message.Message):
    __slots__ = ("postal_code", "country_code", "units", "cache_only")
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    CACHE_ONLY_FIELD_NUMBER: _ClassVar[int]
    postal_code: str
    country_code: str
    units: Units
    cache_only: bool
    def __init__(self, postal_code: _Optional[str] = ..., country_code: _Optional[str] = ..., units: _Optional[_Union[Units, str]] = ..., cache_only: _Optional[bool] = ...) -> None: ...

class ForecastSlot(_message.Message):
    __slots__ = ("start_time", "temperature", "feels_like", "conditions", "precipitation_probability_percent", "rain", "snow", "wind", "humidity_percent")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    FEELS_LIKE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    PRECIPITATION_PROBABILITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RAIN_FIELD_NUMBER: _ClassVar[int]
    SNOW_FIELD_NUMBER: _ClassVar[int]
    WIND_FIELD_NUMBER: _ClassVar[int]
    HUMIDITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    temperature: float
    feels_like: float
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    precipitation_probability_percent: int
    rain: float
    snow: float
    wind: Wind
    humidity_percent: int
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., temperature: _Optional[float] = ..., feels_like: _Optional[float] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., precipitation_probability_percent: _Optional[int] = ..., rain: _Optional[float] = ..., snow: _Optional[float] = ..., wind: _Optional[_Union[Wind, _Mapping]] = ..., humidity_percent: _Optional[int] = ...) -> None: ...

class ForecastDay(_message.Message):
    __slots__ = ("date", "min_temperature", "max_temperature", "condition", "max_precipitation_probability_percent", "total_rain", "total_snow", "slot_count")
    DATE_FIELD_NUMBER: _ClassVar[int]
    MIN_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    MAX_PRECIPITATION_PROBABILITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RAIN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SNOW_FIELD_NUMBER: _ClassVar[int]
    SLOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    date: str
    min_temperature: float
    max_temperature: float
    condition: Condition
    max_precipitation_probability_percent: int
    total_rain: float
    total_snow: float
    slot_count: int
    def __init__(self, date: _Optional[str] = ..., min_temperature: _Optional[float] = ..., max_temperature: _Optional[float] = ..., condition: _Optional[_Union[Condition, _Mapping]] = ..., max_precipitation_probability_percent: _Optional[int] = ..., total_rain: _Optional[float] = ..., total_snow: _Optional[float] = ..., slot_count: _Optional[int] = ...) -> None: ...

class GetForecastResponse(_message.Message):
    __slots__ = ("location", "slots", "days", "units", "source", "fetch_time", "stale", "cache")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FETCH_TIME_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    location: Location
    slots: _containers.RepeatedCompositeFieldContainer[ForecastSlot]
    days: _containers.RepeatedCompositeFieldContainer[ForecastDay]
    units: Units
    source: str
    fetch_time: _timestamp_pb2.Timestamp
    stale: bool
    cache: CacheStatus
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ..., slots: _Optional[_Iterable[_Union[ForecastSlot, _Mapping]]] = ..., days: _Optional[_Iterable[_Union[ForecastDay, _Mapping]]] = ..., units: _Optional[_Union[Units, str]] = ..., source: _Optional[str] = ..., fetch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stale: _Optional[bool] = ..., cache: _Optional[_Union[CacheStatus, str]] = ...) -> None: ...
