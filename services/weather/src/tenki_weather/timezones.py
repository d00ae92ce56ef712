"""A place's UTC offset from its coordinates, when OpenWeatherMap's answer has no `timezone`.

timezonefinder maps coordinates to an IANA zone name offline; zoneinfo gives that zone's offset at the
moment (summer time included). The finder loads its data once, on first use.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timezonefinder import TimezoneFinder


@lru_cache(maxsize=1)
def _finder() -> TimezoneFinder:
    return TimezoneFinder()


def utc_offset_seconds(latitude: float, longitude: float, moment: datetime) -> int:
    """The offset from UTC at the place at `moment`; at sea (no zone), the nautical hour of the longitude."""
    name = _finder().timezone_at(lng=longitude, lat=latitude)
    if name is not None:
        try:
            offset = moment.astimezone(ZoneInfo(name)).utcoffset()
        except ZoneInfoNotFoundError:
            offset = None
        if offset is not None:
            return int(offset.total_seconds())
    return int(round(longitude / 15)) * 3600
