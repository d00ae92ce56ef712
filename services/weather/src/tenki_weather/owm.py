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
- an unreadable body is ParseAPIResponseError.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from pyowm.commons import exceptions as owm_errors
from pyowm.commons.http_client import HttpClient
from pyowm.owm import OWM
from pyowm.utils.config import get_default_config

from . import budget
from .errors import InternalError, Misconfigured, NotFound, RateLimited, Unavailable, WeatherError
from .model import SOURCE_OWM, Condition, Location, Observation
from .redaction import redact

log = logging.getLogger(__name__)


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
    config: dict[str, Any] = get_default_config()
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
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        config = pyowm_config(base_url, timeout_seconds, max_retries)
        # OWM() asserts a str key; an empty one is reported per request (Misconfigured).
        self._manager = OWM(api_key or "unset", config).weather_manager()
        self._manager.http_client = _NotFoundBodies(http_client(api_key, base_url, config))

    def __repr__(self) -> str:
        # Never the key, even in a debugger or a traceback's locals.
        return f"OwmProvider(base_url={self.base_url!r}, timeout_seconds={self.timeout_seconds})"

    def current_weather(self, postal_code: str, country_code: str) -> Observation:
        if not self._api_key:
            raise Misconfigured("the weather service has no OpenWeatherMap API key (set OWM_API_KEY)")
        allowed = budget.timeout(self.timeout_seconds)  # what the timeout message reports
        try:
            observation = self._manager.weather_at_zip_code(postal_code, country_code.lower())
        except Exception as exc:  # every PyOWM and requests failure; mapped one by one below
            raise self.map_error(exc, postal_code, country_code, allowed) from None
        if observation is None:
            raise NotFound.place(postal_code, country_code)
        return to_observation(observation, postal_code, self._clock())

    def map_error(
        self, exc: Exception, postal_code: str, country_code: str, timeout: float | None = None
    ) -> WeatherError:
        """The domain error for a PyOWM/requests exception; the detail (key redacted) goes to the log."""
        allowed = self.timeout_seconds if timeout is None else timeout
        error = map_pyowm_error(exc, postal_code, country_code, allowed)
        log.warning(
            "upstream call failed",
            extra={
                "upstream": "openweathermap",
                "error_kind": error.kind,
                "exception": type(exc).__name__,
                "detail": redact(str(exc), self._api_key)[:500],
            },
        )
        return error


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
        return Unavailable("OpenWeatherMap sent an answer the weather service could not read")
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 gave up after max_retries; its reason names the last status ("too many 429 ...").
        return _from_status(429 if "429" in str(exc) else None, postal_code, country_code)
    if isinstance(exc, requests.exceptions.RequestException):
        return Unavailable("the weather service could not reach OpenWeatherMap; try again shortly")
    return InternalError(f"unexpected {type(exc).__name__} from PyOWM")


def _utc(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp else None


def to_observation(owm_observation: Any, postal_code: str, fetched_at: datetime) -> Observation:
    """PyOWM's Observation as ours, in standard units (PyOWM keeps kelvin and m/s)."""
    place, weather = owm_observation.location, owm_observation.weather
    temps = weather.temperature("kelvin")
    wind = weather.wind("meters_sec") or {}
    current = temps.get("temp")
    if current is None:
        raise Unavailable("OpenWeatherMap sent an answer without a temperature")
    return Observation(
        location=Location(
            name=place.name or postal_code,
            country_code=(place.country or "").upper(),
            latitude=float(place.lat or 0.0),
            longitude=float(place.lon or 0.0),
            utc_offset_seconds=int(weather.utc_offset or 0),
            postal_code=postal_code,
        ),
        condition=Condition(
            id=int(weather.weather_code or 0),
            status=weather.status or "",
            description=weather.detailed_status or "",
            icon=weather.weather_icon_name or "",
        ),
        temperature_k=float(current),
        feels_like_k=float(temps.get("feels_like") or current),
        temp_min_k=float(temps.get("temp_min") or current),
        temp_max_k=float(temps.get("temp_max") or current),
        humidity_percent=int(weather.humidity or 0),
        pressure_hpa=int((weather.pressure or {}).get("press") or 0),
        wind_speed_ms=float(wind.get("speed") or 0.0),
        wind_direction_degrees=float(wind.get("deg") or 0.0),
        wind_gust_ms=float(wind.get("gust") or 0.0),
        cloudiness_percent=int(weather.clouds or 0),
        visibility_meters=int(weather.visibility_distance or 0),
        sunrise=_utc(weather.srise_time),
        sunset=_utc(weather.sset_time),
        observed_at=_utc(weather.ref_time) or fetched_at,
        source=SOURCE_OWM,
        fetched_at=fetched_at,
    )
