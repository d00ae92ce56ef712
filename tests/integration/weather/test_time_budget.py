"""The request path's time budget and retry semantics, over real channels to a real server.

The client here is the frontend's own (tenki_frontend.weather_client: its retry policy, round_robin and
keepalive), so what is counted at the OWM stand-in is what one user request costs.
"""

from __future__ import annotations

import logging
import time

import grpc
import pytest
from tenki.weather.v1 import weather_pb2
from weather_servers import StartServer

from support.owm_fixtures import STANDIN_API_KEY
from support.upstream_faults import FROM_STANDIN
from tenki_frontend.weather_client import WeatherClient
from tenki_stack.owm_standin import OwmStandIn

REQUEST = weather_pb2.GetCurrentWeatherRequest(postal_code="94040", country_code="US")


def owm_env(standin: OwmStandIn, **env: str) -> dict[str, str]:
    return {"OWM_API_KEY": STANDIN_API_KEY, "OWM_BASE_URL": standin.base_url, **env}


@pytest.mark.parametrize("fault", FROM_STANDIN)
def test_one_call_through_the_frontends_retry_policy_is_one_upstream_request(
    start_server: StartServer, owm_standin: OwmStandIn, fault: str
) -> None:
    # The shipped budget: the frontend's 4 s deadline, OWM_TIMEOUT_SECONDS 3; "slow" sleeps past both. The
    # fault is on every request, so the geocoding (the first of the two calls) is the one that fails.
    owm_standin.slow_seconds = 5
    server = start_server(**owm_env(owm_standin)).server
    owm_standin.set_fault(fault)
    client = WeatherClient(server.address, deadline=4.0)
    with pytest.raises(grpc.RpcError):
        client.get_current_weather(REQUEST, "r1")
    assert owm_standin.request_count == 1


def test_a_slow_upstream_with_a_stale_entry_answers_stale_before_the_deadline(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    # Upstream slower than the deadline less the margin, faster than OWM_TIMEOUT_SECONDS: the budget decides.
    owm_standin.slow_seconds = 4
    server = start_server(
        **owm_env(owm_standin, OWM_TIMEOUT_SECONDS="10", CACHE_TTL_SECONDS="0", DEADLINE_MARGIN_SECONDS="0.5")
    ).server
    client = WeatherClient(server.address, deadline=2.0)
    assert not client.get_current_weather(REQUEST, "warm").stale
    owm_standin.set_fault("slow")
    start = time.monotonic()
    answer = client.get_current_weather(REQUEST, "stale")
    elapsed = time.monotonic() - start
    assert answer.stale and answer.location.name == "Mountain View"
    assert 1.4 < elapsed < 2.0  # the upstream wait was cut at 2.0 - 0.5 s, and the answer beat the deadline
    # The warm call geocoded the code and asked its weather; the stale one asked the weather only (the place
    # is cached), and that request was the one cut.
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 2)


def test_a_slow_upstream_without_a_stale_entry_is_unavailable_and_abandoned_before_the_deadline(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    owm_standin.slow_seconds = 4
    started = start_server(**owm_env(owm_standin, OWM_TIMEOUT_SECONDS="10"))
    owm_standin.set_fault("slow")
    client = WeatherClient(started.server.address, deadline=2.0)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        client.get_current_weather(REQUEST, "cold")
    elapsed = time.monotonic() - start
    # UNAVAILABLE from the service itself (its upstream wait ended first), not the client's DEADLINE_EXCEEDED.
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert elapsed < 2.0
    assert owm_standin.request_count == 1
    metrics = started.server.metrics
    assert metrics.upstream_calls.labels("openweathermap", "unavailable")._value.get() == 1


def test_a_call_without_time_for_upstream_sends_nothing(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    server = start_server(**owm_env(owm_standin, DEADLINE_MARGIN_SECONDS="2")).server
    client = WeatherClient(server.address, deadline=1.0)
    with pytest.raises(grpc.RpcError) as caught:
        client.get_current_weather(REQUEST, "short")
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert owm_standin.request_count == 0
    assert server.metrics.upstream_calls.labels("openweathermap", "no_time")._value.get() == 1


def test_an_idle_channel_survives_many_keepalive_pings(start_server: StartServer) -> None:
    # Shortened: the client pings every 0.2 s, the server admits one every 0.1 s; idle for 10 intervals.
    server = start_server(WEATHER_PROVIDER="demo", KEEPALIVE_MIN_PING_SECONDS="0.1").server
    client = WeatherClient(server.address, deadline=5.0, keepalive_seconds=0.2)
    assert client.get_current_weather(REQUEST, "first").location.name == "Mountain View"
    time.sleep(2.0)
    # A GOAWAY too_many_pings would have closed the connection: the next call would start a new one
    # (or fail UNAVAILABLE). The same subchannel answers at once.
    answer = client.get_current_weather(REQUEST, "after-idle")
    assert answer.location.name == "Mountain View"


def test_two_servers_behind_one_ipv4_target_both_serve_one_client(start_server: StartServer) -> None:
    first = start_server(WEATHER_PROVIDER="demo").server
    second = start_server(WEATHER_PROVIDER="demo").server
    client = WeatherClient(f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}", deadline=5.0)

    def answered(server: object) -> float:
        rpcs = server.metrics.rpcs  # type: ignore[attr-defined]
        return rpcs.labels("/tenki.weather.v1.WeatherService/GetCurrentWeather", "OK")._value.get()

    # round_robin picks among READY subchannels only: until the second connection is up (a busy machine
    # can take a few calls), every call goes to the first. Warm up until both have answered.
    for n in range(50):
        if answered(first) and answered(second):
            break
        client.get_current_weather(REQUEST, f"warm-{n}")
        time.sleep(0.02)
    before = answered(first), answered(second)
    for n in range(10):
        client.get_current_weather(REQUEST, f"rr-{n}")
    assert (answered(first) - before[0], answered(second) - before[1]) == (5, 5)
    # One stops: the channel drops it, and no call fails (a refused attempt is retried on the other).
    first.stop(grace=0)
    for n in range(6):
        client.get_current_weather(REQUEST, f"after-stop-{n}")
    assert answered(second) - before[1] == 11


def test_an_exception_past_the_servicers_handling_is_logged_and_counted_as_the_clients_code(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tenki_weather import servicer

    def broken(report: object) -> None:
        raise RuntimeError("a bug after the lookup")

    monkeypatch.setattr(servicer, "to_proto", broken)
    caplog.set_level(logging.INFO, logger="tenki_weather.rpc")
    started = start_server(WEATHER_PROVIDER="demo")
    assert started.code_of("94040", "US") is grpc.StatusCode.UNKNOWN
    rpcs = started.server.metrics.rpcs
    method = "/tenki.weather.v1.WeatherService/GetCurrentWeather"
    assert rpcs.labels(method, "UNKNOWN")._value.get() == 1 and rpcs.labels(method, "OK")._value.get() == 0
    (line,) = [r for r in caplog.records if r.getMessage() == "rpc" and getattr(r, "method", "") == method]
    assert line.code == "UNKNOWN"  # type: ignore[attr-defined]
