"""The servicer through grpcio-testing: protobuf in and out, domain errors as gRPC statuses."""

from __future__ import annotations

from datetime import datetime, timezone

import grpc
import grpc_testing
import pytest
from tenki.weather.v1 import weather_pb2

from tenki_weather.cache import ObservationCache
from tenki_weather.demo import DemoProvider
from tenki_weather.interceptor import CallLog
from tenki_weather.service import WeatherLookup
from tenki_weather.servicer import WeatherServicer
from tenki_weather.status import GENERIC_INTERNAL_MESSAGE

SERVICE = weather_pb2.DESCRIPTOR.services_by_name["WeatherService"]
METHOD = SERVICE.methods_by_name["GetCurrentWeather"]
NOW = datetime(2026, 7, 1, 19, 0, tzinfo=timezone.utc)


class BrokenProvider:
    source = "openweathermap"

    def geocode(self, lookup_code: str, country_code: str):
        raise ZeroDivisionError("a bug with a secret detail")

    def weather_at(self, place):
        raise AssertionError("not reached")


def call(provider, call_log: CallLog | None = None, **fields):
    lookup = WeatherLookup(provider, ObservationCache(600, 10, 3600))
    log = call_log or CallLog("req-1")
    servicers = {SERVICE: WeatherServicer(lookup, lambda context: log)}
    server = grpc_testing.server_from_dictionary(servicers, grpc_testing.strict_real_time())
    rpc = server.invoke_unary_unary(METHOD, (), weather_pb2.GetCurrentWeatherRequest(**fields), None)
    return rpc.termination()


def test_an_answer_carries_every_field_in_the_requested_units() -> None:
    response, _meta, code, _details = call(
        DemoProvider(clock=lambda: NOW), postal_code=" 94040 ", units=weather_pb2.UNITS_IMPERIAL
    )
    assert code is grpc.StatusCode.OK
    assert response.location.name == "Mountain View" and response.location.country_code == "US"
    assert response.location.postal_code == "94040"
    assert response.units == weather_pb2.UNITS_IMPERIAL
    assert 0 < response.temperature.current < 120  # Fahrenheit
    assert response.condition.status and response.condition.icon
    assert response.source == "demo" and not response.stale
    assert response.fetch_time.ToDatetime(tzinfo=timezone.utc) == NOW
    assert response.sunrise_time.seconds and response.sunset_time.seconds
    assert response.observation_time.seconds


def test_unspecified_units_mean_metric() -> None:
    response, *_ = call(DemoProvider(clock=lambda: NOW), postal_code="94040")
    assert response.units == weather_pb2.UNITS_METRIC


def test_invalid_input_is_invalid_argument_with_field_violations() -> None:
    _response, _metadata, code, details = call(DemoProvider(), postal_code="12", country_code="xx", units=42)
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    # grpcio-testing drops trailing metadata on abort; the BadRequest details are asserted through a
    # real server in tests/integration/weather.
    assert "country_code" in details and "units" in details and "postal_code" not in details


def test_unknown_places_are_not_found() -> None:
    _response, _meta, code, details = call(DemoProvider(), postal_code="00000")
    assert code is grpc.StatusCode.NOT_FOUND
    assert "00000" in details


def test_a_bug_is_internal_with_a_generic_message(caplog: pytest.LogCaptureFixture) -> None:
    _response, _meta, code, details = call(BrokenProvider(), postal_code="94040")
    assert code is grpc.StatusCode.INTERNAL
    assert details == GENERIC_INTERNAL_MESSAGE
    assert "ZeroDivisionError" in caplog.text  # the detail is in the log


def test_the_call_log_gets_the_cache_result_and_the_normalised_place() -> None:
    log = CallLog("req-1")
    call(DemoProvider(clock=lambda: NOW), log, postal_code="sw1a 1aa", country_code="gb")
    assert log.fields == {"cache": "miss", "postal_code": "SW1A 1AA", "country_code": "GB"}


def test_the_call_log_names_the_kind_of_an_error() -> None:
    log = CallLog("req-1")
    call(DemoProvider(), log, postal_code="00000")
    assert log.fields == {"error_kind": "not_found"}
