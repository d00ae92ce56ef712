"""OpenWeatherMap through PyOWM 3.x, with PyOWM's quirks turned into domain errors.

PyOWM has no base-URL option: its WeatherManager builds URLs as `{scheme}://{subdomain}.{root}/{path}`
from a hard-coded root. We give the manager an HttpClient of our own whose root is OWM_BASE_URL (no
subdomain, scheme from the URL), so every request still goes through PyOWM's own client and parsing.

The quirks (PyOWM 3.5, pyowm/commons/http_client.py and weatherapi30/observation.py):
- connection errors and connect timeouts surface as InvalidSSLCertificateError;
- read timeouts as pyowm TimeoutError; 502 as BadGatewayError; 401 UnauthorizedError; 404 NotFoundError;
- 429, 500, 503 and other statuses as a plain APIRequestError whose message is the response body;
- a 200 body with cod "404" makes weather_at_zip_code print to stdout and return None;
- with max_retries set, urllib3's retries end in a raw requests RetryError that PyOWM does not wrap;
- an unreadable body is ParseAPIResponseError, or a TypeError/KeyError from PyOWM's parsers (a sunrise
  without a sunset); PyOWM's ParseAPIResponseError (a body that is not JSON: a proxy's HTML page, a
  truncated or empty answer) keeps no body, but it is raised while PyOWM handles requests' JSON error,
  whose `doc` is the whole text: `unread_body` takes it from there, so the log line carries it too;
- HTTP 400 (`{"cod": "400", "message": "Nothing to geocode"}`) is a plain APIRequestError too.

PyOWM has no zip geocoding: `geocode` asks OWM's Geocoding API (`/geo/1.0/zip`) through a second
PyOWM HttpClient rooted at OWM_GEO_BASE_URL (same timeout, retries, key handling and error mapping),
and `weather_at` asks `/data/2.5/weather?lat=&lon=` as PyOWM's weather_at_coords does (`forecast_at`
asks `/data/2.5/forecast?lat=&lon=` as forecast_at_coords(lat, lon, "3h") does), keeping the
body: PyOWM parses it first (what it cannot read is UNAVAILABLE, the body logged without the key),
then tenki reads every condition, the precipitation and which optional fields were present.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pyowm.commons import exceptions as owm_errors
from pyowm.commons.http_client import HttpClient
from pyowm.owm import OWM
from pyowm.utils.config import get_default_config

from pyowm.weatherapi30.forecast import Forecast as OwmForecast
from pyowm.weatherapi30.observation import Observation as OwmObservation
from pyowm.weatherapi30.uris import OBSERVATION_URI, THREE_HOURS_FORECAST_URI

from . import budget
from .config import DEFAULT_OWM_GEO_BASE_URL
from .errors import (
    InternalError,
    InvalidInput,
    Misconfigured,
    NotFound,
    RateLimited,
    Unavailable,
    UpstreamRejected,
    WeatherError,
)
from .model import (
    SOURCE_OWM,
    Condition,
    Forecast,
    ForecastSlot,
    Location,
    Observation,
    Place,
    Precipitation,
)
from .redaction import redact
from .timezones import utc_offset_seconds

log = logging.getLogger(__name__)
T = TypeVar("T")

# OWM's Geocoding API: GET {OWM_GEO_BASE_URL}/zip?zip={code},{country} -> {"zip", "name", "lat", "lon",
# "country"} (https://openweathermap.org/api/geocoding-api), or 404 {"cod": "404", "message": "not found"}.
GEO_ZIP_PATH = "zip"
UNREADABLE = "OpenWeatherMap sent an answer tenki cannot read"
# How much of an unreadable body the log line carries.
BODY_LOG_CHARS = 2000


class _NotFoundBodies:
    """PyOWM's HTTP client, with a 200 body of {"cod": "404"} raised as PyOWM's own NotFoundError.

    PyOWM answers such a body by printing to stdout (our JSON log stream) and returning None, so that
    case stops at the client instead. A wrapper rather than a subclass, since PyOWM is untyped: the
    weather manager calls nothing of its client but get_json.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_json(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        status, body = self._client.get_json(path, params=params, headers=headers)
        if isinstance(body, dict) and str(body.get("cod")) == "404":
            raise owm_errors.NotFoundError(str(body.get("message", "not found")))
        return status, body


class _BudgetedSession:
    """PyOWM's requests session, with each request's timeout cut to the lookup's remaining budget.

    PyOWM passes its configured timeout (OWM_TIMEOUT_SECONDS) to every `get`; a call whose caller has
    less time left gets that instead (budget.timeout), so no upstream wait outlives its caller. With
    nothing left, the request is not sent: it fails as a timeout, which PyOWM reports as its own.
    """

    def __init__(self, session: Any) -> None:
        self._session = session

    def get(self, url: str, **kwargs: Any) -> Any:
        own = kwargs.get("timeout")
        timeout = budget.timeout(float(own)) if own is not None else budget.remaining()
        if timeout is not None and timeout <= 0:
            raise requests.exceptions.Timeout("no time left in the caller's budget")
        kwargs["timeout"] = timeout
        return self._session.get(url, **kwargs)


def pyowm_config(base_url: str, timeout_seconds: float, max_retries: int | None = None) -> dict[str, Any]:
    scheme = urlsplit(base_url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"OWM_BASE_URL must start with http:// or https:// (got scheme {scheme!r})")
    # A copy: PyOWM hands out one shared default dict, and the weather and geocoding clients differ.
    config: dict[str, Any] = copy.deepcopy(get_default_config())
    config["connection"]["use_ssl"] = scheme == "https"
    config["connection"]["timeout_secs"] = timeout_seconds
    # No retries by default: a retry multiplies upstream calls against the per-minute budget, and
    # stale-if-error already covers a failed call.
    config["connection"]["max_retries"] = max_retries
    return config


def http_client(api_key: str, base_url: str, config: dict[str, Any]) -> HttpClient:
    """PyOWM's own HTTP client, sending to `base_url` (e.g. https://api.openweathermap.org/data/2.5)."""
    parts = urlsplit(base_url)
    root = (parts.netloc + parts.path).rstrip("/")
    client = HttpClient(api_key, config, root, admits_subdomains=False)
    client.http = _BudgetedSession(client.http)
    return client


class OwmProvider:
    source = SOURCE_OWM

    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout_seconds: float,
        max_retries: int | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        geo_base_url: str = DEFAULT_OWM_GEO_BASE_URL,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.geo_base_url = geo_base_url
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        config = pyowm_config(base_url, timeout_seconds, max_retries)
        # OWM() asserts a str key; an empty one is reported per request (Misconfigured).
        self._manager = OWM(api_key or "unset", config).weather_manager()
        self._manager.http_client = _NotFoundBodies(http_client(api_key, base_url, config))
        # The Geocoding API through PyOWM's own client too: same timeout, retries, key and errors.
        geo_config = pyowm_config(geo_base_url, timeout_seconds, max_retries)
        self._geo_client = _NotFoundBodies(http_client(api_key, geo_base_url, geo_config))

    def __repr__(self) -> str:
        # Never the key, even in a debugger or a traceback's locals.
        return f"OwmProvider(base_url={self.base_url!r}, timeout_seconds={self.timeout_seconds})"

    def _require_key(self) -> None:
        if not self._api_key:
            raise Misconfigured("the weather service has no OpenWeatherMap API key (set OWM_API_KEY)")

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        """GET {OWM_GEO_BASE_URL}/zip?zip={code},{country}; None when OWM does not know the code."""
        self._require_key()
        allowed = budget.timeout(self.timeout_seconds)  # what the timeout message reports
        try:
            _, body = self._geo_client.get_json(GEO_ZIP_PATH, params={"zip": f"{lookup_code},{country_code}"})
        except Exception as exc:  # every PyOWM and requests failure; mapped one by one below
            error = self.map_error(exc, lookup_code, country_code, allowed)
            if isinstance(error, NotFound):
                return None
            raise error from None
        try:
            return Place(
                name=str(body.get("name") or ""),
                country_code=str(body.get("country") or "").upper(),
                latitude=float(body["lat"]),
                longitude=float(body["lon"]),
                lookup_code=lookup_code,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self.unreadable(exc, body) from None

    def weather_at(self, place: Place) -> Observation:
        """The current weather at the place's coordinates (what PyOWM's weather_at_coords asks)."""
        return self._at(place, OBSERVATION_URI, OwmObservation.from_dict, to_observation)

    def forecast_at(self, place: Place) -> Forecast:
        """The 5 day / 3 hour forecast at the place's coordinates (PyOWM's forecast_at_coords, "3h")."""
        return self._at(place, THREE_HOURS_FORECAST_URI, OwmForecast.from_dict, to_forecast)

    def _at(
        self,
        place: Place,
        uri: str,
        pyowm_parse: Callable[[Any], Any],
        read: Callable[[dict[str, Any], Place, datetime], T],
    ) -> T:
        """GET {OWM_BASE_URL}/{uri}?lat=&lon= through PyOWM's client; PyOWM parses, then tenki reads."""
        self._require_key()
        allowed = budget.timeout(self.timeout_seconds)  # what the timeout message reports
        try:
            _, body = self._manager.http_client.get_json(
                uri, params={"lat": place.latitude, "lon": place.longitude}
            )
        except Exception as exc:  # every PyOWM and requests failure; mapped one by one below
            raise self.map_error(exc, place.lookup_code, place.country_code, allowed) from None
        try:
            # PyOWM's own parsing first: what it cannot read, tenki does not guess at.
            parsed = pyowm_parse(body)
            if parsed is None:
                raise NotFound.place(place.lookup_code, place.country_code)
            return read(body, place, self._clock())
        except owm_errors.APIResponseError as exc:
            raise self.map_error(exc, place.lookup_code, place.country_code, allowed) from None
        except WeatherError:
            raise
        except Exception as exc:  # PyOWM's parse errors and its TypeErrors on odd bodies alike
            raise self.unreadable(exc, body) from None

    def unreadable(self, exc: Exception, body: Any) -> Unavailable:
        """An answer tenki cannot read: UNAVAILABLE for the client, the body (key redacted, at most
        BODY_LOG_CHARS) in the log: parsed JSON as JSON, a text that is not JSON as it came."""
        text = body if isinstance(body, str) else json.dumps(body, default=str)
        log.error(
            "upstream answer unreadable",
            extra={
                "upstream": "openweathermap",
                "error_kind": Unavailable.kind,
                "exception": type(exc).__name__,
                # Redacted whole, then cut: a key is never cut in two where the log line ends.
                "body": redact(text, self._api_key)[:BODY_LOG_CHARS],
            },
        )
        return Unavailable(UNREADABLE)

    def map_error(
        self, exc: Exception, postal_code: str, country_code: str, timeout: float | None = None
    ) -> WeatherError:
        """The domain error for a PyOWM/requests exception; the detail (key redacted) goes to the log."""
        if isinstance(exc, owm_errors.ParseAPIResponseError):
            # Not JSON at all: the body PyOWM read is in the JSON error it was raised from.
            return self.unreadable(exc, unread_body(exc))
        allowed = self.timeout_seconds if timeout is None else timeout
        error = map_pyowm_error(exc, postal_code, country_code, allowed)
        detail = redact(str(exc), self._api_key)[:500]
        fields = {"upstream": "openweathermap", "error_kind": error.kind, "exception": type(exc).__name__}
        if isinstance(error, InvalidInput):
            # OWM rejected a question tenki's validation let through: a bug of ours to look at.
            log.error("upstream rejected the question as invalid", extra={**fields, "detail": detail})
        else:
            log.warning("upstream call failed", extra={**fields, "detail": detail})
        return error


def unread_body(exc: BaseException) -> str:
    """The text behind PyOWM's ParseAPIResponseError.

    PyOWM's HttpClient.get_json raises it from inside its handler of `resp.json()`'s failure, so that
    failure is its __context__: requests' JSONDecodeError, a json.JSONDecodeError whose `doc` is the
    whole body as decoded text. The answer came through PyOWM's own client; tenki reads no other copy.
    """
    seen = exc.__context__
    while seen is not None:
        doc = getattr(seen, "doc", None)
        if isinstance(seen, ValueError) and isinstance(doc, str):
            return doc
        seen = seen.__context__
    return "(PyOWM kept no body)"


def _status_of(exc: Exception) -> int | None:
    """The HTTP status behind a plain APIRequestError / APIResponseError, from its body or arguments."""
    if isinstance(exc, owm_errors.APIResponseError) and len(exc.args) > 1:
        try:
            return int(exc.args[1])
        except (TypeError, ValueError):
            return None
    text = str(exc.args[0]) if exc.args else ""
    try:
        body = json.loads(text)
        return int(body["cod"])
    except (ValueError, TypeError, KeyError):
        match = re.search(r"\b([45][0-9]{2})\b", text)
        return int(match.group(1)) if match else None


def _from_status(status: int | None, postal_code: str, country_code: str) -> WeatherError:
    if status == 400:
        return UpstreamRejected()
    if status == 401:
        return Misconfigured("OpenWeatherMap rejected the weather service's API key")
    if status == 404:
        return NotFound.place(postal_code, country_code)
    if status == 429:
        return RateLimited("OpenWeatherMap's rate limit is exhausted; try again in a minute")
    if status is None or status >= 500:
        return Unavailable("OpenWeatherMap is unavailable; try again shortly")
    return InternalError(f"OpenWeatherMap answered HTTP {status}")


def map_pyowm_error(exc: Exception, postal_code: str, country_code: str, timeout: float) -> WeatherError:
    """One place for PyOWM's quirks; order matters, subclasses first."""
    if isinstance(exc, WeatherError):
        return exc
    if isinstance(exc, owm_errors.UnauthorizedError):
        return _from_status(401, postal_code, country_code)
    if isinstance(exc, owm_errors.NotFoundError):
        return NotFound.place(postal_code, country_code)
    if isinstance(exc, owm_errors.TimeoutError):
        return Unavailable(f"OpenWeatherMap did not answer within {timeout:g} s; try again shortly")
    if isinstance(exc, owm_errors.InvalidSSLCertificateError):
        # PyOWM raises this for every requests ConnectionError too (refused, DNS, connect timeout).
        return Unavailable("the weather service could not connect to OpenWeatherMap; try again shortly")
    if isinstance(exc, owm_errors.BadGatewayError):
        return Unavailable("OpenWeatherMap is unavailable (bad gateway); try again shortly")
    if isinstance(exc, (owm_errors.APIRequestError, owm_errors.APIResponseError)):
        return _from_status(_status_of(exc), postal_code, country_code)
    if isinstance(exc, owm_errors.ParseAPIResponseError):
        return Unavailable(UNREADABLE)
    if isinstance(exc, (AttributeError, IndexError, KeyError, TypeError, ValueError)):
        # Only PyOWM's calls reach this function: these are its parsers failing on a body they cannot
        # read (a sunrise without a sunset is a TypeError in its Weather), not a bug of tenki's.
        return Unavailable(UNREADABLE)
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 gave up after max_retries; its reason names the last status ("too many 429 ...").
        return _from_status(429 if "429" in str(exc) else None, postal_code, country_code)
    if isinstance(exc, requests.exceptions.RequestException):
        return Unavailable("the weather service could not reach OpenWeatherMap; try again shortly")
    return InternalError(f"unexpected {type(exc).__name__} from PyOWM")


def _number(block: Any, key: str) -> float | None:
    """A numeric field of a JSON object, None when absent or null (OWM omits what it did not measure)."""
    if not isinstance(block, dict):
        return None
    value = block.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{key} is not a number")
    return float(value)


def _sun(sys: Any, key: str) -> tuple[datetime | None, bool]:
    """(the time, whether OWM says there is none today): 0 is OWM's polar night or day."""
    value = _number(sys, key)
    if value is None:
        return None, False
    if value <= 0:
        return None, True
    return datetime.fromtimestamp(value, timezone.utc), False


def _conditions(body: dict[str, Any]) -> tuple[Condition, ...]:
    conditions = tuple(
        Condition(
            id=int(item.get("id") or 0),
            status=str(item.get("main") or ""),
            description=str(item.get("description") or ""),
            icon=str(item.get("icon") or ""),
        )
        for item in body.get("weather") or ()
        if isinstance(item, dict)
    )
    return conditions or (Condition(0, "", "", ""),)


def _location(block: dict[str, Any], sys: Any, place: Place, moment: datetime) -> Location:
    """The place of an answer: the current weather's top level (with `sys`) or the forecast's `city`."""
    coord = block.get("coord") or {}
    latitude = _number(coord, "lat")
    longitude = _number(coord, "lon")
    latitude = place.latitude if latitude is None else latitude
    longitude = place.longitude if longitude is None else longitude
    offset = _number(block, "timezone")
    country = sys.get("country") if isinstance(sys, dict) else None
    return Location(
        # An empty name or country: the geocoder's answer, then the code and country asked for.
        name=str(block.get("name") or "") or place.name or place.lookup_code,
        country_code=(str(country or "") or place.country_code).upper(),
        latitude=latitude,
        longitude=longitude,
        utc_offset_seconds=(
            int(offset) if offset is not None else utc_offset_seconds(latitude, longitude, moment)
        ),
        postal_code=place.lookup_code,
    )


def to_forecast(body: dict[str, Any], place: Place, fetched_at: datetime) -> Forecast:
    """OWM's 5 day / 3 hour forecast JSON (standard units) as a Forecast.

    Read from the body, as for the current weather: PyOWM's forecast Weather keeps one condition and
    drops `city.timezone`. `pop` is a fraction (0..1); `rain.3h` and `snow.3h` are mm over the slot.
    """
    city = body.get("city") or {}
    slots = []
    for item in body.get("list") or ():
        main, wind = item.get("main") or {}, item.get("wind") or {}
        temp, start = _number(main, "temp"), _number(item, "dt")
        if temp is None or start is None:
            raise ValueError("a forecast slot without main.temp or dt")
        pop = _number(item, "pop")
        slots.append(
            ForecastSlot(
                start=datetime.fromtimestamp(start, timezone.utc),
                temperature_k=temp,
                feels_like_k=_number(main, "feels_like"),
                conditions=_conditions(item),
                precipitation_probability_percent=round(100 * min(max(pop or 0.0, 0.0), 1.0)),
                rain_mm=_number(item.get("rain"), "3h"),
                snow_mm=_number(item.get("snow"), "3h"),
                wind_speed_ms=_number(wind, "speed") or 0.0,
                wind_direction_degrees=_number(wind, "deg") or 0.0,
                wind_gust_ms=_number(wind, "gust"),
                humidity_percent=int(_number(main, "humidity") or 0),
            )
        )
    if not slots:
        raise ValueError("a forecast without slots")
    slots.sort(key=lambda s: s.start)
    return Forecast(
        location=_location(city, city, place, slots[0].start),
        slots=tuple(slots),
        source=SOURCE_OWM,
        fetched_at=fetched_at,
    )


def to_observation(body: dict[str, Any], place: Place, fetched_at: datetime) -> Observation:
    """OWM's current-weather JSON (standard units: kelvin, m/s, mm) as an Observation.

    Read from the body itself, which PyOWM has parsed first: PyOWM keeps one condition and turns an
    absent visibility or gust into 0 or None inconsistently, and tenki needs to tell absent from 0.
    """
    main, wind, sys = body.get("main") or {}, body.get("wind") or {}, body.get("sys") or {}
    current = _number(main, "temp")
    if current is None:
        raise ValueError("no main.temp")
    observed = _number(body, "dt")
    observed_at = datetime.fromtimestamp(observed, timezone.utc) if observed else fetched_at
    sunrise, no_sunrise = _sun(sys, "sunrise")
    sunset, no_sunset = _sun(sys, "sunset")
    rain, snow = body.get("rain") or {}, body.get("snow") or {}
    visibility = _number(body, "visibility")
    return Observation(
        location=_location(body, sys, place, observed_at),
        conditions=_conditions(body),
        temperature_k=current,
        feels_like_k=_number(main, "feels_like"),
        temp_min_k=_number(main, "temp_min") or current,
        temp_max_k=_number(main, "temp_max") or current,
        humidity_percent=int(_number(main, "humidity") or 0),
        pressure_hpa=int(_number(main, "pressure") or 0),
        wind_speed_ms=_number(wind, "speed") or 0.0,
        wind_direction_degrees=_number(wind, "deg") or 0.0,
        wind_gust_ms=_number(wind, "gust"),
        cloudiness_percent=int(_number(body.get("clouds"), "all") or 0),
        visibility_meters=None if visibility is None else int(visibility),
        sunrise=sunrise,
        sunset=sunset,
        observed_at=observed_at,
        source=SOURCE_OWM,
        fetched_at=fetched_at,
        precipitation=Precipitation(
            rain_1h=_number(rain, "1h"),
            rain_3h=_number(rain, "3h"),
            snow_1h=_number(snow, "1h"),
            snow_3h=_number(snow, "3h"),
        ),
        no_sunrise=no_sunrise,
        no_sunset=no_sunset,
    )
