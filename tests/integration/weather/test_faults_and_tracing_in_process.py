"""The fault layer and the tracing hooks inside a real server over real channels (in-process, so coverage
sees them; tests/reliability/test_fault_injection.py measures the knobs on the `tenki serve` process)."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from support.owm_fixtures import STANDIN_API_KEY
from tenki_stack.owm_standin import OwmStandIn
from weather_servers import Client, StartServer

from tenki_weather import tracing
from tenki_weather.config import WeatherSettings
from tenki_weather.server import WeatherServer


def health(client: Client, service: str) -> str:
    stub = health_pb2_grpc.HealthStub(client.channel)
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    except grpc.RpcError as exc:
        return exc.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def test_an_injected_error_carries_the_chosen_code_and_says_it_is_injected(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", FAULT_ERROR_RATE="1", FAULT_ERROR_CODE="DATA_LOSS")
    with pytest.raises(grpc.RpcError) as failed:
        client.weather("94040")
    assert failed.value.code() == grpc.StatusCode.DATA_LOSS
    assert "injected fault (FAULT_ERROR_RATE=1)" in (failed.value.details() or "")
    assert health(client, "tenki.weather.v1.WeatherService") == "SERVING"


def test_an_injected_delay_is_waited_and_health_is_not_delayed(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", FAULT_DELAY_SECONDS="0.3")
    start = time.perf_counter()
    client.weather("94040")
    assert time.perf_counter() - start >= 0.3
    start = time.perf_counter()
    assert health(client, "") == "SERVING"
    assert time.perf_counter() - start < 0.3


def test_included_health_checks_fail_too(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", FAULT_ERROR_RATE="1", FAULT_INCLUDE_HEALTH="true")
    assert health(client, "") == "UNAVAILABLE"


def test_the_health_flag_is_not_serving_for_the_service_only(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", FAULT_HEALTH_NOT_SERVING="true")
    assert health(client, "tenki.weather.v1.WeatherService") == "NOT_SERVING"
    assert health(client, "") == "SERVING"
    assert client.weather("94040").location.postal_code == "94040"


def test_an_upstream_fault_fails_a_cold_lookup_with_its_domain_error(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", FAULT_TARGET="upstream", FAULT_ERROR_RATE="1",
                          FAULT_ERROR_CODE="RESOURCE_EXHAUSTED")
    assert client.code_of("94040") == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_an_upstream_fault_reaches_every_upstream_request_geocoding_first(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    """FAULT_TARGET=upstream wraps the provider before any part of the lookup takes it: the geocoding
    request (a lookup's first) draws its fault too, so with every request failing nothing reaches OWM."""
    client = start_server(WEATHER_PROVIDER="owm", OWM_API_KEY=STANDIN_API_KEY,
                          OWM_BASE_URL=owm_standin.base_url, FAULT_TARGET="upstream", FAULT_ERROR_RATE="1")
    assert client.code_of("94040") == grpc.StatusCode.UNAVAILABLE
    assert client.code_of("10001", rpc="forecast") == grpc.StatusCode.UNAVAILABLE
    assert owm_standin.request_count == 0


def test_a_traced_server_records_the_request_id_and_cache_result_on_its_span() -> None:
    settings = WeatherSettings.from_env({
        "WEATHER_HOST": "127.0.0.1", "WEATHER_PORT": "0", "METRICS_PORT": "0", "WEATHER_PROVIDER": "demo",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # never dialled: the exporter is the test's
    })
    exported = InMemorySpanExporter()
    tracer = tracing.start(settings, exporter=exported)
    assert tracer is not None and tracer.endpoint == "http://127.0.0.1:9/v1/traces"
    server = WeatherServer(settings, tracer)
    server.start()
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = weather_pb2_grpc.WeatherServiceStub(channel)
            for _ in range(2):
                stub.GetCurrentWeather(weather_pb2.GetCurrentWeatherRequest(postal_code="94040"), timeout=5,
                                       metadata=(("x-request-id", "req-17"),))
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    finally:
        server.stop(grace=1)
        tracer.shutdown()
    spans = exported.get_finished_spans()
    assert [s.name for s in spans] == ["/tenki.weather.v1.WeatherService/GetCurrentWeather"] * 2  # no health
    assert [dict(s.attributes or {})["tenki.cache.result"] for s in spans] == ["miss", "hit"]
    assert {dict(s.attributes or {})["tenki.request_id"] for s in spans} == {"req-17"}
