"""The API as a gRPC client sees it: answers, error details, request ids, health, reflection, metrics."""

from __future__ import annotations

import logging
import urllib.request

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status
from tenki.weather.v1 import weather_pb2
from tenki_stack import free_port
from weather_servers import DEADLINE, Client, StartServer

from tenki_weather.cli import field_violations


def test_a_demo_answer_is_complete(demo_client: Client) -> None:
    answer = demo_client.weather("sw1a 1aa", "gb", weather_pb2.UNITS_METRIC)
    assert answer.location.name == "London" and answer.location.postal_code == "SW1A 1AA"
    assert answer.source == "demo" and answer.units == weather_pb2.UNITS_METRIC and not answer.stale
    assert answer.condition.description and answer.condition.icon
    assert answer.humidity_percent > 0 and answer.pressure_hpa > 900 and answer.visibility_meters > 0
    for stamp in (answer.sunrise_time, answer.sunset_time, answer.observation_time, answer.fetch_time):
        assert stamp.seconds > 1_700_000_000


def test_invalid_input_carries_bad_request_details(demo_client: Client) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        demo_client.weather("<script>", "xx", 9)
    error = caught.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in field_violations(error)} == {"postal_code", "country_code", "units"}
    assert "<script>" not in error.details()


def test_the_request_id_is_echoed_and_logged(demo_client: Client, caplog: pytest.LogCaptureFixture) -> None:
    request = weather_pb2.GetCurrentWeatherRequest(postal_code="94040")
    with caplog.at_level(logging.INFO, logger="tenki_weather.rpc"):
        _answer, call = demo_client.stub.GetCurrentWeather.with_call(
            request, timeout=DEADLINE, metadata=(("x-request-id", "req-abc-123"),)
        )
        _answer, second = demo_client.stub.GetCurrentWeather.with_call(request, timeout=DEADLINE)
    assert ("x-request-id", "req-abc-123") in call.trailing_metadata()
    generated = dict(second.trailing_metadata())["x-request-id"]
    assert len(generated) == 32
    records = [r for r in caplog.records if r.name == "tenki_weather.rpc"]
    assert [(r.request_id, r.code, r.cache) for r in records] == [
        ("req-abc-123", "OK", "miss"),
        (generated, "OK", "hit"),
    ]
    assert records[0].method == "/tenki.weather.v1.WeatherService/GetCurrentWeather"
    assert records[0].duration_ms >= 0


def test_a_failed_call_still_echoes_its_request_id(demo_client: Client) -> None:
    request = weather_pb2.GetCurrentWeatherRequest(postal_code="00000")
    future = demo_client.stub.GetCurrentWeather.future(
        request, timeout=DEADLINE, metadata=(("x-request-id", "lost-1"),)
    )
    with pytest.raises(grpc.RpcError) as caught:
        future.result()
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert ("x-request-id", "lost-1") in future.trailing_metadata()


@pytest.mark.parametrize("service", ["", "tenki.weather.v1.WeatherService"])
def test_health_is_serving(demo_client: Client, service: str) -> None:
    answer = health_pb2_grpc.HealthStub(demo_client.channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE
    )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_health_of_an_unknown_service_is_not_found(demo_client: Client) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        health_pb2_grpc.HealthStub(demo_client.channel).Check(
            health_pb2.HealthCheckRequest(service="nope.Service"), timeout=DEADLINE
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_reflection_lets_a_client_call_without_the_proto_file(demo_client: Client) -> None:
    database = ProtoReflectionDescriptorDatabase(demo_client.channel)
    services = database.get_services()
    assert "tenki.weather.v1.WeatherService" in services and "grpc.health.v1.Health" in services
    pool = descriptor_pool.DescriptorPool(database)
    method = pool.FindServiceByName("tenki.weather.v1.WeatherService").methods_by_name["GetCurrentWeather"]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    call = demo_client.channel.unary_unary(
        "/tenki.weather.v1.WeatherService/GetCurrentWeather",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    answer = call(request_class(postal_code="10115", country_code="de"), timeout=DEADLINE)
    assert answer.location.name == "Berlin"


def test_metrics_count_rpcs_cache_and_upstream(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", METRICS_PORT=str(free_port()))
    client.weather("94040")
    client.weather("94040")
    assert client.code_of("bad!") is grpc.StatusCode.INVALID_ARGUMENT
    url = f"http://127.0.0.1:{client.server.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=DEADLINE) as response:
        text = response.read().decode()
    method = "/tenki.weather.v1.WeatherService/GetCurrentWeather"
    assert f'tenki_weather_rpcs_total{{code="OK",method="{method}"}} 2.0' in text
    assert f'tenki_weather_rpcs_total{{code="INVALID_ARGUMENT",method="{method}"}} 1.0' in text
    assert f'tenki_weather_rpc_duration_seconds_count{{code="OK",method="{method}"}} 2.0' in text
    assert 'tenki_weather_cache_lookups_total{result="hit"} 1.0' in text
    assert 'tenki_weather_cache_lookups_total{result="miss"} 1.0' in text
    assert 'tenki_weather_cache_lookups_total{result="stale"} 0.0' in text
    # One geocoding call and one weather call.
    assert 'tenki_weather_upstream_calls_total{outcome="ok",provider="demo"} 2.0' in text


def test_a_busy_port_fails_loudly(demo_client: Client, start_server: StartServer) -> None:
    with pytest.raises(RuntimeError):
        start_server(WEATHER_PROVIDER="demo", WEATHER_PORT=str(demo_client.server.port))


def test_invalid_input_keeps_its_field_violations_next_to_the_request_id(demo_client: Client) -> None:
    request = weather_pb2.GetCurrentWeatherRequest(postal_code="!!", country_code="us")
    with pytest.raises(grpc.RpcError) as caught:
        demo_client.stub.GetCurrentWeather(request, timeout=DEADLINE, metadata=(("x-request-id", "bad-1"),))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert ("x-request-id", "bad-1") in caught.value.trailing_metadata()
    status = rpc_status.from_call(caught.value)
    assert status is not None, "the google.rpc.Status details are still there"
    violations = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(violations)
    assert [v.field for v in violations.field_violations] == ["postal_code"]
