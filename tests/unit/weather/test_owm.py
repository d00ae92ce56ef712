"""The OWM provider: where PyOWM's requests go, and how each PyOWM quirk becomes a domain error."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from pyowm.commons import exceptions as owm_errors
from pyowm.commons.http_client import HttpRequestBuilder

from support.upstream_faults import FAULTS as UPSTREAM_FAULTS
from tenki_stack import owm_corpus
from tenki_stack.owm_standin import OwmStandIn, refused_base_url
from tenki_weather import budget
from tenki_weather.errors import (
    InternalError,
    InvalidInput,
    Misconfigured,
    NotFound,
    RateLimited,
    Unavailable,
    UpstreamRejected,
)
from tenki_weather.model import Place, Precipitation
from tenki_weather.owm import (
    OwmProvider,
    http_client,
    map_pyowm_error,
    pyowm_config,
    to_observation,
    unread_body,
)
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
DOMAIN_ERRORS = {
    error.kind: error for error in (UpstreamRejected, Misconfigured, NotFound, RateLimited, Unavailable)
}
CASES = [(fault.pyowm_error, DOMAIN_ERRORS[fault.outcome.kind]) for fault in UPSTREAM_FAULTS.values()] + [
    (owm_errors.APIRequestError("<html>503 Service Temporarily Unavailable</html>"), Unavailable),
    (owm_errors.APIRequestError("<html>429 Too Many Requests</html>"), RateLimited),
    (owm_errors.APIRequestError(""), Unavailable),
    (owm_errors.APIRequestError('{"cod": 400, "message": "wrong latitude"}'), UpstreamRejected),
    # A 200 body with an error cod that is not 404.
    (owm_errors.APIResponseError("OWM API: error - response payload", "401"), Misconfigured),
    (owm_errors.APIResponseError("OWM API: error - response payload", 429), RateLimited),
    (owm_errors.APIResponseError("OWM API: error - response payload", None), Unavailable),
    # With max_retries set, urllib3's RetryError escapes PyOWM unwrapped.
    (requests.exceptions.RetryError("Max retries exceeded (too many 429 error responses)"), RateLimited),
    (requests.exceptions.RetryError("Max retries exceeded (too many 503 error responses)"), Unavailable),
    (requests.exceptions.ChunkedEncodingError("Connection broken"), Unavailable),
    (KeyError("main"), Unavailable),  # PyOWM's parser on a body without a block it needs
    (RuntimeError("a bug"), InternalError),
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


KNOWN = Place("Mountain View", "US", 37.3861, -122.0839, "94040")


@pytest.fixture
def standin() -> Iterator[OwmStandIn]:
    with OwmStandIn() as server:
        yield server


def provider_for(standin: OwmStandIn, key: str = KEY) -> OwmProvider:
    return OwmProvider(key, standin.base_url, 5, geo_base_url=standin.geo_base_url, clock=lambda: FETCHED)


FETCHED = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)


def test_geocoding_asks_the_zip_endpoint_with_the_key(standin: OwmStandIn) -> None:
    place = provider_for(standin).geocode("SW1A", "GB")
    assert place == Place("London", "GB", 51.5010, -0.1416, "SW1A")
    (sent,) = standin.requests
    assert sent["zip"] == "SW1A,GB" and sent["APPID"] == KEY
    assert standin.geocode_count == 1 and standin.weather_count == 0


def test_a_code_the_geocoder_does_not_know_is_none(standin: OwmStandIn) -> None:
    # OWM's geocoder knows GB outward codes only: a full postcode is "not found", like an unknown code.
    assert provider_for(standin).geocode("SW1A 1AA", "GB") is None
    assert provider_for(standin).geocode("00000", "US") is None


def test_the_weather_is_asked_by_coordinates(standin: OwmStandIn) -> None:
    observation = provider_for(standin).weather_at(KNOWN)
    (sent,) = standin.requests
    assert (float(sent["lat"]), float(sent["lon"])) == (KNOWN.latitude, KNOWN.longitude)
    assert "zip" not in sent
    assert observation.location.name == "Mountain View"


def test_no_key_fails_before_any_request(standin: OwmStandIn) -> None:
    with pytest.raises(Misconfigured, match="OWM_API_KEY"):
        provider_for(standin, key="").geocode("94040", "US")
    with pytest.raises(Misconfigured, match="OWM_API_KEY"):
        provider_for(standin, key="").weather_at(KNOWN)
    assert standin.request_count == 0


def test_failures_are_logged_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    provider = OwmProvider(KEY, refused_base_url(), 2)
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable):
        provider.weather_at(KNOWN)
    assert caplog.records, "the failure is logged"
    assert KEY not in caplog.text and KEY not in str(caplog.records[0].__dict__)
    assert caplog.records[0].error_kind == "unavailable"


def test_an_upstream_400_is_invalid_input_and_logged_as_an_error(
    standin: OwmStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.set_fault("400")
    with caplog.at_level(logging.WARNING), pytest.raises(InvalidInput) as caught:
        provider_for(standin).geocode("94040", "US")
    assert caught.value.violations[0].field == "postal_code"
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Nothing to geocode" in record.detail and KEY not in caplog.text


def test_an_unreadable_body_is_unavailable_and_logged_without_the_key(
    standin: OwmStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.set_fault("unreadable", "weather")
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable) as caught:
        provider_for(standin).weather_at(KNOWN)
    assert caught.value.message == "OpenWeatherMap sent an answer tenki cannot read"
    (record,) = [r for r in caplog.records if r.getMessage() == "upstream answer unreadable"]
    assert '"sunrise"' in record.body and KEY not in caplog.text


@pytest.mark.parametrize("scope", ["geo", "weather", "forecast"])
@pytest.mark.parametrize(
    ("fault", "sent"),
    [
        # A proxy's page instead of OWM's JSON: it echoes the URL asked, key and all.
        ("html", "<!DOCTYPE html>\n<html><head><title>Access notice</title>"),
        ("malformed", '{"coord": {"lon": -122.08, "lat": 37.39}, "weather": [{"id": 8'),  # truncated
        ("empty", ""),
    ],
)
def test_a_body_that_is_not_json_is_logged_as_sent_without_the_key(
    standin: OwmStandIn, caplog: pytest.LogCaptureFixture, scope: str, fault: str, sent: str
) -> None:
    # PyOWM's client discards such a body (ParseAPIResponseError); the log line still carries it.
    standin.set_fault(fault, scope)
    provider = provider_for(standin)
    calls = {
        "geo": lambda: provider.geocode("94040", "US"),
        "weather": lambda: provider.weather_at(KNOWN),
        "forecast": lambda: provider.forecast_at(KNOWN),
    }
    with caplog.at_level(logging.WARNING), pytest.raises(Unavailable) as caught:
        calls[scope]()
    assert caught.value.message == "OpenWeatherMap sent an answer tenki cannot read"
    (record,) = [r for r in caplog.records if r.getMessage() == "upstream answer unreadable"]
    assert record.levelno == logging.ERROR and record.exception == "ParseAPIResponseError"
    assert record.body.startswith(sent) and KEY not in caplog.text
    if fault == "html":
        # Redacted, and cut at BODY_LOG_CHARS (the page is longer).
        assert "APPID=[REDACTED]" in record.body and len(record.body) == 2000


def test_a_parse_error_raised_outside_a_json_error_says_there_is_no_body() -> None:
    assert unread_body(owm_errors.ParseAPIResponseError("Impossible to parse")) == "(PyOWM kept no body)"


def test_a_geocoding_answer_without_coordinates_is_unavailable(standin: OwmStandIn) -> None:
    standin.set_fault("unreadable", "geo")
    with pytest.raises(Unavailable, match="cannot read"):
        provider_for(standin).geocode("94040", "US")


def test_the_key_never_shows_in_the_providers_repr(standin: OwmStandIn) -> None:
    assert KEY not in repr(provider_for(standin))


def place_for(body: dict[str, Any], name: str = "Geo name", country: str = "GB") -> Place:
    return Place(name, country, body["coord"]["lat"], body["coord"]["lon"], "SW1A")


NOW = 1_782_900_000  # 2026-07-01 10:00 UTC


def test_every_field_of_a_full_answer_is_read_in_standard_units() -> None:
    body = owm_corpus.body("full", 37.3861, -122.0839, "Mountain View", "US", -25200, NOW)
    observation = to_observation(body, place_for(body), FETCHED)
    assert observation.location.name == "Mountain View"
    assert observation.location.country_code == "US"
    assert observation.location.utc_offset_seconds == -25200
    assert observation.temperature_k == body["main"]["temp"]
    assert observation.feels_like_k == body["main"]["feels_like"]
    assert observation.temp_max_k == body["main"]["temp_max"]
    assert observation.wind_speed_ms == body["wind"]["speed"]
    assert observation.wind_gust_ms == body["wind"]["gust"]
    assert observation.visibility_meters == body["visibility"]
    assert observation.pressure_hpa == body["main"]["pressure"]
    assert observation.condition.icon == body["weather"][0]["icon"]
    assert observation.observed_at == datetime.fromtimestamp(body["dt"], timezone.utc)
    assert observation.sunrise == datetime.fromtimestamp(body["sys"]["sunrise"], timezone.utc)
    assert not observation.precipitation.any and not observation.no_sunrise
    assert observation.source == "openweathermap" and observation.fetched_at == FETCHED


def test_every_condition_and_the_rain_are_kept() -> None:
    body = owm_corpus.body("rain-several-conditions", 51.501, -0.1416, "London", "GB", 3600, NOW)
    observation = to_observation(body, place_for(body), FETCHED)
    assert [c.status for c in observation.conditions] == ["Drizzle", "Rain", "Mist"]
    assert observation.condition.status == "Drizzle"  # the first stays the headline
    assert observation.precipitation == Precipitation(rain_1h=3.16)


def test_what_owm_did_not_measure_is_absent_not_zero() -> None:
    body = owm_corpus.body("snow-unmeasured", 43.6426, -79.3871, "Toronto", "CA", -14400, NOW)
    observation = to_observation(body, place_for(body), FETCHED)
    assert observation.visibility_meters is None
    assert observation.wind_gust_ms is None
    assert observation.feels_like_k is None
    assert observation.precipitation == Precipitation(snow_1h=0.58, snow_3h=1.2)


def test_an_older_answer_with_rain_over_three_hours() -> None:
    body = owm_corpus.body("rain-3h-only", 35.685, 139.7514, "Chiyoda", "JP", 32400, NOW)
    assert to_observation(body, place_for(body), FETCHED).precipitation == Precipitation(rain_3h=2.5)


def test_polar_night_has_no_sunrise_and_no_sunset() -> None:
    body = owm_corpus.body("polar-night", 69.6489, 18.9551, "Tromsø", "NO", 3600, NOW)
    observation = to_observation(body, place_for(body), FETCHED)
    assert (observation.sunrise, observation.sunset) == (None, None)
    assert observation.no_sunrise and observation.no_sunset


def test_without_a_timezone_the_offset_comes_from_the_coordinates() -> None:
    body = owm_corpus.body("no-timezone", 52.3731, 4.9003, "Amsterdam", "NL", 7200, NOW)
    assert "timezone" not in body
    assert to_observation(body, place_for(body), FETCHED).location.utc_offset_seconds == 7200  # CEST
    winter = owm_corpus.body("no-timezone", 52.3731, 4.9003, "Amsterdam", "NL", 3600, NOW - 180 * 86400)
    assert to_observation(winter, place_for(winter), FETCHED).location.utc_offset_seconds == 3600


def test_an_empty_name_and_country_fall_back_to_the_geocoders_answer() -> None:
    body = owm_corpus.body("empty-name", 52.5323, 13.3846, "Berlin", "DE", 7200, NOW)
    observation = to_observation(body, place_for(body, "Berlin", "DE"), FETCHED)
    assert (observation.location.name, observation.location.country_code) == ("Berlin", "DE")


def test_cod_as_a_string_is_read_like_a_number() -> None:
    body = owm_corpus.body("string-cod", 51.501, -0.1416, "London", "GB", 3600, NOW)
    assert to_observation(body, place_for(body), FETCHED).location.name == "London"


@pytest.mark.parametrize("kind", sorted(owm_corpus.BODIES))
def test_every_corpus_body_through_the_provider(standin: OwmStandIn, kind: str) -> None:
    # Each body served over HTTP and read by the provider as in production: readable or UNAVAILABLE.
    standin.set_body(kind)
    provider = provider_for(standin)
    if kind == "sunrise-without-sunset":
        with pytest.raises(Unavailable, match="cannot read"):
            provider.weather_at(KNOWN)
    else:
        assert provider.weather_at(KNOWN).temperature_k > 200


def test_an_answer_without_a_temperature_is_unavailable(standin: OwmStandIn) -> None:
    standin.set_body("full", drop=("main",))
    with pytest.raises(Unavailable, match="cannot read"):
        provider_for(standin).weather_at(KNOWN)


def test_the_weather_and_geocoding_clients_keep_their_own_schemes(standin: OwmStandIn) -> None:
    # PyOWM's default config is one shared dict: an https geocoder must not turn the weather to https.
    provider = OwmProvider(KEY, standin.base_url, 5, geo_base_url="https://api.openweathermap.org/geo/1.0")
    assert provider.weather_at(KNOWN).location.name == "Mountain View"


@pytest.mark.parametrize("scope", ["geo", "weather"])
def test_both_upstream_calls_are_cut_to_the_callers_remaining_time(standin: OwmStandIn, scope: str) -> None:
    # OWM_TIMEOUT_SECONDS is 5 here; the lookup's upstream deadline (budget.py) leaves 0.3 s: the geocoding
    # and the weather request alike give up then, and the message names the time they had.
    standin.slow_seconds = 2.0
    standin.set_fault("slow", scope)
    provider = provider_for(standin)
    started = time.monotonic()
    with budget.upstream_deadline(0.3), pytest.raises(Unavailable, match=r"within 0\.[23]\d* s"):
        if scope == "geo":
            provider.geocode("94040", "US")
        else:
            provider.weather_at(KNOWN)
    assert time.monotonic() - started < 1.5
    assert standin.request_count == 1


def test_no_time_left_sends_no_request(standin: OwmStandIn) -> None:
    provider = provider_for(standin)
    with budget.upstream_deadline(0.0):
        with pytest.raises(Unavailable):
            provider.geocode("94040", "US")
        with pytest.raises(Unavailable):
            provider.weather_at(KNOWN)
    assert standin.request_count == 0
