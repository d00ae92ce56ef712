"""Tracing through the real processes: `tenki-frontend` (gunicorn) → `tenki serve` → PyOWM → the OWM
stand-in, both services exporting OTLP/HTTP to a real receiver (scripts/tenki_stack/otlp_receiver.py),
which decodes the protobuf export requests as a collector does.

The weather service holds a random canary key, the only one the stand-in accepts: every span that
arrives is searched for it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import psutil
import pytest
import requests
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from tenki_stack import ServiceProcess, free_port, start_frontend, start_weather
from tenki_stack.otlp_receiver import OtlpReceiver, Span
from tenki_stack.owm_standin import OwmStandIn, refused_base_url
from tenki_stack.redis_server import RedisServer

TIMEOUT = 30


@dataclass
class TracedStack:
    receiver: OtlpReceiver
    owm: OwmStandIn
    weather: ServiceProcess
    frontend: ServiceProcess
    key: str

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.frontend.url + path, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]

    def trace_of(self, response: requests.Response, expected: int) -> list[Span]:
        """The spans of the trace of this page view, once `expected` of them have arrived."""
        request_id = response.headers["X-Request-ID"]

        def root(spans: list[Span]) -> Span | None:
            return next(
                (s for s in spans if s.kind == "SPAN_KIND_SERVER" and s.service == "tenki-frontend"
                 and s.attributes.get("tenki.request_id") == request_id),
                None,
            )

        def complete(spans: list[Span]) -> bool:
            found = root(spans)
            return found is not None and len([s for s in spans if s.trace_id == found.trace_id]) >= expected

        spans = self.receiver.wait_for(complete)
        found = root(spans)
        assert found is not None
        return [s for s in spans if s.trace_id == found.trace_id]


@pytest.fixture(scope="module")
def traced() -> Iterator[TracedStack]:
    key = "canary" + secrets.token_hex(16)
    receiver = OtlpReceiver()
    owm = OwmStandIn(api_key=key, slow_seconds=3)
    # OTEL_BSP_SCHEDULE_DELAY (read by the SDK itself): export every 100 ms, so the test waits little.
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    weather = start_weather(
        {**tracing, "WEATHER_PROVIDER": "owm", "OWM_API_KEY": key, "OWM_BASE_URL": owm.base_url,
         "OWM_TIMEOUT_SECONDS": "1", "LOG_LEVEL": "DEBUG"},
        metrics_port=0,
    )
    try:
        frontend = start_frontend({**tracing, "WEATHER_DEADLINE_SECONDS": "5"}, weather_addr=weather.addr)
        try:
            yield TracedStack(receiver, owm, weather, frontend, key)
        finally:
            frontend.stop()
    finally:
        weather.stop()
        owm.stop()
        receiver.stop()


@pytest.fixture
def redis_server_with_password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis"), password=secrets.token_hex(16)) as server:
        yield server


def server_above(span: Span, by_id: dict[str, Span]) -> Span | None:
    """The nearest server span among a span's ancestors (None while one of them has not arrived)."""
    parent = by_id.get(span.parent_span_id)
    if parent is None or parent.kind == "SPAN_KIND_SERVER":
        return parent
    return server_above(parent, by_id)


def one(spans: list[Span], service: str, kind: str, name_part: str = "") -> Span:
    found = [s for s in spans if s.service == service and s.kind == kind and name_part in s.name]
    assert len(found) == 1, f"{service} {kind} {name_part}: {[(s.name, s.kind) for s in spans]}"
    return found[0]


def test_one_page_view_is_one_trace_frontend_grpc_weather_owm(traced: TracedStack) -> None:
    page = traced.get("/weather", params={"zip": "10001", "country": "us"})
    assert page.status_code == 200
    # The frontend's span, its two gRPC calls (the weather and the forecast, issue 15), the weather
    # service's span of each, and three upstream requests: the place's geocoding (issue 14, shared by the
    # two lookups), the weather and the forecast at the place.
    spans = traced.trace_of(page, expected=8)

    server = one(spans, "tenki-frontend", "SPAN_KIND_SERVER")
    client = one(spans, "tenki-frontend", "SPAN_KIND_CLIENT", "GetCurrentWeather")
    forecast_client = one(spans, "tenki-frontend", "SPAN_KIND_CLIENT", "GetForecast")
    weather = one(spans, "tenki-weather", "SPAN_KIND_SERVER", "GetCurrentWeather")
    forecast = one(spans, "tenki-weather", "SPAN_KIND_SERVER", "GetForecast")
    calls = [s for s in spans if s.service == "tenki-weather" and s.kind == "SPAN_KIND_CLIENT"]
    assert len(calls) == 3, [s.attributes.get("http.url") for s in calls]
    (geocode,) = [s for s in calls if "/geo/1.0/zip" in s.attributes["http.url"]]
    (upstream,) = [s for s in calls if "/data/2.5/weather" in s.attributes["http.url"]]
    (upstream_forecast,) = [s for s in calls if "/data/2.5/forecast" in s.attributes["http.url"]]
    # One lookup geocodes, the other waits for its answer (single flight): both fetch after it.
    assert geocode.parent_span_id in {weather.span_id, forecast.span_id}
    assert geocode.end_ns <= min(upstream.start_ns, upstream_forecast.start_ns) + 5_000_000
    assert server.parent_span_id == ""  # the browser sent no traceparent: the frontend starts the trace
    assert client.parent_span_id == server.span_id and forecast_client.parent_span_id == server.span_id
    assert weather.parent_span_id == client.span_id and forecast.parent_span_id == forecast_client.span_id
    assert upstream.parent_span_id == weather.span_id
    assert upstream_forecast.parent_span_id == forecast.span_id
    assert server.attributes["http.route"] == "/weather" and server.attributes["http.status_code"] == 200

    request_id = page.headers["X-Request-ID"]
    assert server.attributes["tenki.request_id"] == request_id
    assert weather.attributes["tenki.request_id"] == request_id
    assert forecast.attributes["tenki.request_id"] == request_id
    assert weather.attributes["tenki.cache.result"] == "miss"
    assert forecast.attributes["tenki.cache.result"] == "miss"
    assert upstream.attributes["http.status_code"] == 200
    # Each span lies within its parent's time.
    for child, parent in ((client, server), (forecast_client, server), (weather, client),
                          (forecast, forecast_client), (upstream, weather), (upstream_forecast, forecast)):
        assert parent.start_ns <= child.start_ns and child.end_ns <= parent.end_ns + 5_000_000

    again = traced.get("/weather", params={"zip": "10001", "country": "us"})
    spans = traced.trace_of(again, expected=5)
    for rpc in ("GetCurrentWeather", "GetForecast"):
        assert one(spans, "tenki-weather", "SPAN_KIND_SERVER", rpc).attributes["tenki.cache.result"] == "hit"
    assert not [s for s in spans if s.service == "tenki-weather" and s.kind == "SPAN_KIND_CLIENT"]


def test_a_traceparent_from_the_browser_is_the_parent_of_the_frontends_span(traced: TracedStack) -> None:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    page = traced.get(
        "/weather", params={"zip": "94040", "country": "us"},
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert page.status_code == 200
    spans = traced.trace_of(page, expected=5)
    server = one(spans, "tenki-frontend", "SPAN_KIND_SERVER")
    assert server.trace_id == trace_id and server.parent_span_id == parent_id
    assert {s.trace_id for s in spans} == {trace_id}
    assert one(spans, "tenki-weather", "SPAN_KIND_SERVER", "GetCurrentWeather").trace_id == trace_id


def test_a_404_page_is_an_error_of_the_grpc_call_and_a_status_on_the_server_spans(
    traced: TracedStack,
) -> None:
    page = traced.get("/weather", params={"zip": "00000", "country": "us"})
    assert page.status_code == 404
    # The page's span, both gRPC calls and their server spans, the one geocoding request that found nothing.
    spans = traced.trace_of(page, expected=6)
    server = one(spans, "tenki-frontend", "SPAN_KIND_SERVER")
    client = one(spans, "tenki-frontend", "SPAN_KIND_CLIENT", "GetCurrentWeather")
    weather = one(spans, "tenki-weather", "SPAN_KIND_SERVER", "GetCurrentWeather")
    # OpenTelemetry's conventions: a 4xx is the caller's, so server spans stay UNSET and say the status;
    # the client span of a failed call is an ERROR.
    assert server.attributes["http.status_code"] == 404 and server.status_code == "STATUS_CODE_UNSET"
    assert client.status_code == "STATUS_CODE_ERROR"
    assert weather.attributes["rpc.grpc.status_code"] == 5  # NOT_FOUND
    assert weather.attributes["tenki.error_kind"] == "not_found"


def test_a_503_page_is_an_error_on_every_span_of_its_trace(traced: TracedStack) -> None:
    traced.owm.set_fault("503")
    try:
        page = traced.get("/weather", params={"zip": "60601", "country": "us"})
    finally:
        traced.owm.clear_fault()
    assert page.status_code == 503 and page.headers["Retry-After"]
    # Where the frontend's channel retries UNAVAILABLE, the trace shows each attempt as a weather server
    # span under the one client span, each with its own upstream call.
    spans = traced.trace_of(page, expected=4)
    for span in spans:
        assert span.status_code == "STATUS_CODE_ERROR", (span.service, span.name, span.attributes)
    assert one(spans, "tenki-frontend", "SPAN_KIND_SERVER").attributes["http.status_code"] == 503
    client = one(spans, "tenki-frontend", "SPAN_KIND_CLIENT", "GetCurrentWeather")
    attempts = [s for s in spans if s.service == "tenki-weather" and s.kind == "SPAN_KIND_SERVER"
                and "GetCurrentWeather" in s.name]
    assert attempts and {s.parent_span_id for s in attempts} == {client.span_id}
    for weather in attempts:
        assert weather.attributes["rpc.grpc.status_code"] == 14  # UNAVAILABLE
        assert "UNAVAILABLE" in weather.status_message
    servers = [s for s in spans if s.service == "tenki-weather" and s.kind == "SPAN_KIND_SERVER"]
    upstream = [s for s in spans if s.service == "tenki-weather" and s.kind == "SPAN_KIND_CLIENT"]
    assert upstream and {s.parent_span_id for s in upstream} <= {s.span_id for s in servers}
    assert {s.attributes["http.status_code"] for s in upstream} == {503}


def test_no_span_anywhere_holds_the_key(traced: TracedStack) -> None:
    # A refused connection makes the requests instrumentation record an exception event whose message
    # quotes the request's URL, key and all: the redaction must reach events too. A second weather
    # service, exporting to the same receiver, asks a port where nothing listens.
    refused = start_weather(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": traced.receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100",
         "WEATHER_PROVIDER": "owm", "OWM_API_KEY": traced.key, "OWM_BASE_URL": refused_base_url()},
        metrics_port=0,
    )
    try:
        with grpc.insecure_channel(refused.addr) as channel:
            stub = weather_pb2_grpc.WeatherServiceStub(channel)
            with pytest.raises(grpc.RpcError) as failed:
                stub.GetCurrentWeather(weather_pb2.GetCurrentWeatherRequest(postal_code="94040"), timeout=10)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        spans = traced.receiver.wait_for(
            lambda spans: any(s.resource["process.pid"] == refused.pid and s.events for s in spans)
        )
    finally:
        refused.stop()
    upstream = [s for s in spans if s.resource["process.pid"] == refused.pid and s.kind == "SPAN_KIND_CLIENT"]
    assert upstream
    assert all("APPID=[REDACTED]" in str(s.events) for s in upstream), [s.events for s in upstream]

    assert traced.get("/weather", params={"zip": "73301", "country": "us"}).status_code == 200
    assert traced.owm.requests[-1]["APPID"] == traced.key  # the key did travel upstream
    everything = traced.receiver.wait_for(
        lambda spans: any("zip=73301" in str(s.attributes.get("http.url")) for s in spans)
    )
    leaks = [(s.service, s.name, text) for s in everything for text in s.strings if traced.key in text]
    assert not leaks
    assert any("APPID=[REDACTED]" in str(s.attributes.get("http.url")) for s in everything)


def test_log_lines_carry_the_trace_and_span_they_were_written_in(traced: TracedStack) -> None:
    page = traced.get("/api/v1/weather", params={"zip": "94040", "country": "us"})
    assert page.status_code == 200
    spans = traced.trace_of(page, expected=3)
    server = one(spans, "tenki-frontend", "SPAN_KIND_SERVER")
    weather = one(spans, "tenki-weather", "SPAN_KIND_SERVER")
    request_id = page.headers["X-Request-ID"]
    access = traced.frontend.wait_for_log(lambda r: r.get("request_id") == request_id)
    rpc = traced.weather.wait_for_log(
        lambda r: r.get("request_id") == request_id and r.get("message") == "rpc"
    )
    assert (access["trace_id"], access["span_id"]) == (server.trace_id, server.span_id)
    assert (rpc["trace_id"], rpc["span_id"]) == (weather.trace_id, weather.span_id)
    # Lines written outside any span carry the keys too, empty.
    started = traced.weather.wait_for_log(lambda r: r.get("message") == "weather service listening")
    assert "trace_id" in started and started["trace_id"] is None


def test_the_sdk_runs_in_the_gunicorn_workers_never_in_the_master(traced: TracedStack) -> None:
    for _ in range(6):
        assert traced.get("/weather", params={"zip": "94040", "country": "us"}).status_code == 200
    workers = {child.pid for child in psutil.Process(traced.frontend.pid).children()}
    pids = {s.resource["process.pid"] for s in traced.receiver.spans if s.service == "tenki-frontend"}
    assert pids and pids <= workers, (pids, workers)
    assert traced.frontend.pid not in pids
    started = [r for r in traced.frontend.log_records() if r.get("message") == "tracing on"]
    assert {r["pid"] for r in started} <= workers and traced.frontend.pid not in {r["pid"] for r in started}


def test_redis_commands_of_both_services_are_spans_of_the_page_views_trace(
    redis_server_with_password: RedisServer,
) -> None:
    """With REDIS_URL, the frontend's shared rate-limit counters and the weather service's shared cache are
    Redis client spans under each service's server span, and the Redis password is in none of them."""
    redis = redis_server_with_password
    receiver = OtlpReceiver()
    key = "canary" + secrets.token_hex(16)  # (a one-letter key would be redacted out of every word)
    owm = OwmStandIn(api_key=key)
    shared = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100",
              "REDIS_URL": redis.url, "REDIS_PASSWORD": redis.password}
    weather = start_weather(
        {**shared, "WEATHER_PROVIDER": "owm", "OWM_API_KEY": key, "OWM_BASE_URL": owm.base_url},
        metrics_port=0,
    )
    try:
        frontend = start_frontend(shared, weather_addr=weather.addr)
        try:
            page = requests.get(f"{frontend.url}/weather", params={"zip": "10001", "country": "us"},
                                timeout=TIMEOUT)
            assert page.status_code == 200
            request_id = page.headers["X-Request-ID"]

            def complete(spans: list[Span]) -> bool:
                """The page's trace has arrived: its root, and both services' Redis spans each with the
                chain of parents up to a server span (the server spans end, and are exported, last)."""
                root = next((s for s in spans if s.service == "tenki-frontend"
                             and s.kind == "SPAN_KIND_SERVER"
                             and s.attributes.get("tenki.request_id") == request_id), None)
                if root is None:
                    return False
                by_id = {s.span_id: s for s in spans if s.trace_id == root.trace_id}
                redis_spans = [s for s in by_id.values() if s.attributes.get("db.system") == "redis"]
                return {s.service for s in redis_spans} == {"tenki-frontend", "tenki-weather"} and all(
                    server_above(s, by_id) is not None for s in redis_spans)

            everything = receiver.wait_for(complete)
        finally:
            frontend.stop()
    finally:
        weather.stop()
        owm.stop()
        receiver.stop()
    (root,) = [s for s in everything if s.service == "tenki-frontend" and s.kind == "SPAN_KIND_SERVER"
               and s.attributes.get("tenki.request_id") == request_id]
    by_id = {s.span_id: s for s in everything if s.trace_id == root.trace_id}
    for span in [s for s in by_id.values() if s.attributes.get("db.system") == "redis"]:
        assert span.kind == "SPAN_KIND_CLIENT"
        server = server_above(span, by_id)
        assert server is not None and server.service == span.service  # under its own service's server span
    leaks = [(s.service, s.name, text) for s in everything for text in s.strings if redis.password in text]
    assert not leaks


# -- tracing off ---------------------------------------------------------------------------------


def test_without_an_endpoint_nothing_is_exported_and_no_connection_is_attempted() -> None:
    # A receiver on OpenTelemetry's default endpoint (127.0.0.1:4318, where an exporter started without an
    # endpoint would send), when that port is free; and the processes' own sockets in any case.
    default = None
    try:
        default = OtlpReceiver(4318)
    except OSError:
        pass
    owm = OwmStandIn()
    weather = start_weather(
        {"WEATHER_PROVIDER": "owm", "OWM_API_KEY": "k", "OWM_BASE_URL": owm.base_url,
         "OTEL_BSP_SCHEDULE_DELAY": "100"},
        metrics_port=0,
    )
    try:
        frontend = start_frontend(
            {"OTEL_BSP_SCHEDULE_DELAY": "100"}, port=free_port(), weather_addr=weather.addr
        )
        try:
            for code in ("94040", "10001", "00000"):
                requests.get(f"{frontend.url}/weather", params={"zip": code}, timeout=TIMEOUT)
            time.sleep(0.5)
            # Outgoing connections only (not the ones accepted on the service's own port).
            allowed = {weather.port, owm.port}
            for service in (weather, frontend):
                procs = [psutil.Process(service.pid), *psutil.Process(service.pid).children(recursive=True)]
                outgoing = {
                    c.raddr.port for p in procs for c in p.net_connections("inet")
                    if c.raddr and c.laddr.port != service.port
                }
                assert outgoing <= allowed, (service.name, outgoing - allowed)
                records = service.log_records()
                assert records
                assert not [r for r in records if "trace_id" in r or r.get("message") == "tracing on"]
        finally:
            frontend.stop()
    finally:
        weather.stop()
        owm.stop()
        if default is not None:
            assert default.requests == 0
            default.stop()
