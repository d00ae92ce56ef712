"""The OWM provider: where PyOWM's requests go, and how each PyOWM quirk becomes a domain error."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
import requests
from pyowm.commons import exceptions as owm_errors
from pyowm.commons.http_client import HttpRequestBuilder
from pyowm.weatherapi30.observation import Observation as OwmObservation

from support.upstream_faults import FAULTS as UPSTREAM_FAULTS
from tenki_stack.owm_standin import observation_json
from tenki_weather.errors import (
    InternalError,
    Misconfigured,
    NotFound,
    RateLimited,
    Unavailable,
)
from tenki_weather.owm import OwmProvider, http_client, map_pyowm_error, pyowm_config, to_observation
from tenki_weather.status import to_grpc_status

KEY = "0123456789abcdef0123456789abcdef"


def build_url(base_url: str) -> str:
    """The URL PyOWM's own request builder makes from our client's settings."""
    config = pyowm_config(base_url, 5)
    client = http_client(KEY, base_url, config)
    builder = HttpRequestBuilder(client.root_uri, KEY, config, has_subdomains=client.admits_subdomains)
    url, _params, _headers, _proxies = builder.with_path("weather").build()
    return url


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.openweathermap.org/data/2.5", "https://api.openweathermap.org/data/2.5/weather"),
        ("http://127.0.0.1:8099/data/2.5/", "http://127.0.0.1:8099/data/2.5/weather"),
        ("HTTP://localhost:1/owm", "http://localhost:1/owm/weather"),
    ],
)
def test_pyowm_sends_requests_to_the_base_url(base_url: str, expected: str) -> None:
    assert build_url(base_url) == expected


def test_the_timeout_reaches_pyowm_and_retries_are_off() -> None:
    config = pyowm_config("https://example.org", 2.5)
    assert config["connection"]["timeout_secs"] == 2.5
    assert config["connection"]["max_retries"] is None
    assert config["connection"]["use_ssl"] is True


def test_a_base_url_without_http_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        pyowm_config("ftp://example.org/data", 5)


# Every PyOWM (and requests) failure the provider can meet, and the error a client then sees: first what
# PyOWM raises for each upstream fault (support.upstream_faults), then the failures only PyOWM meets.
DOMAIN_ERRORS = {error.kind: error for error in (Misconfigured, NotFound, RateLimited, Unavailable)}
CASES = [(fault.pyowm_error, DOMAIN_ERRORS[fault.outcome.kind]) for fault in UPSTREAM_FAULTS.values()] + [
    (owm_errors.APIRequestError("<html>503 Service Temporarily Unavailable</html>"), Unavailable),
    (owm_errors.APIRequestError("<html>429 Too Many Requests</html>"), RateLimited),
    (owm_errors.APIRequestError(""), Unavailable),
    (owm_errors.APIRequestError('{"cod": "400", "message": "Nothing to geocode"}'), InternalError),
    # A 200 body with an error cod that is not 404.
    (owm_errors.APIResponseError("OWM API: error - response payload", "401"), Misconfigured),
    (owm_errors.APIResponseError("OWM API: error - response payload", 429), RateLimited),
    (owm_errors.APIResponseError("OWM API: error - response payload", None), Unavailable),
    # With max_retries set, urllib3's RetryError escapes PyOWM unwrapped.
    (requests.exceptions.RetryError("Max retries exceeded (too many 429 error responses)"), RateLimited),
    (requests.exceptions.RetryError("Max retries exceeded (too many 503 error responses)"), Unavailable),
    (requests.exceptions.ChunkedEncodingError("Connection broken"), Unavailable),
    (KeyError("main"), InternalError),
]


CASE_IDS = [f"{type(exc).__name__}-{i}" for i, (exc, _) in enumerate(CASES)]


@pytest.mark.parametrize(("exc", "expected"), CASES, ids=CASE_IDS)
def test_every_pyowm_failure_maps_to_a_domain_error(exc: Exception, expected: type) -> None:
    error = map_pyowm_error(exc, "94040", "US", 5)
    assert type(error) is expected
    # What a client reads is for people: no exception class names, no URLs.
    shown = to_grpc_status(error).details
    assert "http" not in shown.lower() and "Error" not in shown


def test_not_found_names_the_place_and_timeout_names_the_limit() -> None:
    assert "94040" in map_pyowm_error(owm_errors.NotFoundError("x"), "94040", "US", 5).message
    assert "2.5 s" in map_pyowm_error(owm_errors.TimeoutError("x"), "94040", "US", 2.5).message


class FakeManager:
    def __init__(self, result: object = None, error: Exception | None = None) -> None:
        self.result, self.error = result, error
        self.calls: list[tuple[str, str]] = []

    def weather_at_zip_code(self, zipcode: str, country: str) -> object:
        self.calls.append((zipcode, country))
        if self.error is not None:
            raise self.error
        return self.result


def provider_with(manager: FakeManager, key: str = KEY) -> OwmProvider:
    provider = OwmProvider(key, "https://api.openweathermap.org/data/2.5", 5)
    provider._manager = manager
    return provider


def test_a_none_observation_is_not_found() -> None:
    # PyOWM's answer to a 200 body with cod "404".
    with pytest.raises(NotFound):
        provider_with(FakeManager(result=None)).current_weather("94040", "US")


def test_no_key_fails_before_any_request() -> None:
    manager = FakeManager()
    with pytest.raises(Misconfigured, match="OWM_API_KEY"):
        provider_with(manager, key="").current_weather("94040", "US")
    assert manager.calls == []


def test_failures_are_logged_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    error = owm_errors.InvalidSSLCertificateError(
        f"HTTPSConnectionPool: Max retries exceeded with url: /data/2.5/weather?zip=94040%2Cus&APPID={KEY}"
    )
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable):
        provider_with(FakeManager(error=error)).current_weather("94040", "US")
    assert caplog.records, "the failure is logged"
    assert KEY not in caplog.text and KEY not in str(caplog.records[0].__dict__)
    assert caplog.records[0].error_kind == "unavailable"


def test_the_key_never_shows_in_the_providers_repr() -> None:
    assert KEY not in repr(provider_with(FakeManager()))


def test_pyowms_observation_becomes_ours_in_standard_units() -> None:
    body = observation_json("94040", "US", now=1_782_900_000)
    fetched = datetime(2026, 7, 1, tzinfo=timezone.utc)
    observation = to_observation(OwmObservation.from_dict(body), "94040", fetched)
    assert observation.location.name == "Mountain View"
    assert observation.location.country_code == "US"
    assert observation.location.utc_offset_seconds == -28800
    assert observation.temperature_k == body["main"]["temp"]
    assert observation.temp_max_k == body["main"]["temp_max"]
    assert observation.wind_speed_ms == body["wind"]["speed"]
    assert observation.wind_gust_ms == body["wind"]["gust"]
    assert observation.pressure_hpa == body["main"]["pressure"]
    assert observation.condition.icon == body["weather"][0]["icon"]
    assert observation.observed_at == datetime.fromtimestamp(body["dt"], timezone.utc)
    assert observation.sunrise == datetime.fromtimestamp(body["sys"]["sunrise"], timezone.utc)
    assert observation.source == "openweathermap" and observation.fetched_at == fetched


def test_an_answer_without_a_temperature_is_unavailable() -> None:
    body = observation_json("94040", "US")
    del body["main"]
    with pytest.raises(Unavailable):
        to_observation(OwmObservation.from_dict(body), "94040", datetime.now(timezone.utc))
