"""The gRPC client: one channel per process (made after fork), the retry service config, call outcomes."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from tenki_frontend import weather_client
from tenki_frontend.weather_client import WeatherClient


class RecordingConnect:
    """Makes real stubs (on lazy, unconnected channels) and records each connection's target."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    def __call__(self, target: str) -> weather_client.Stubs:
        self.targets.append(target)
        return weather_client.connect(target)


def test_the_channel_is_made_on_first_use_not_at_construction() -> None:
    connect = RecordingConnect()
    client = WeatherClient("127.0.0.1:1", 2.0, connect=connect)
    assert connect.targets == []
    first = client.stubs()
    assert client.stubs() is first
    assert connect.targets == ["127.0.0.1:1"]


def test_a_new_process_gets_its_own_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = RecordingConnect()
    client = WeatherClient("127.0.0.1:1", 2.0, connect=connect)
    parent = client.stubs()
    # What a gunicorn worker sees after fork(): the same object, another process id.
    monkeypatch.setattr(weather_client.os, "getpid", lambda: -4242)
    child = client.stubs()
    assert child is not parent
    assert len(connect.targets) == 2


def test_the_service_config_retries_unavailable_only() -> None:
    options = dict(weather_client.channel_options())
    config = json.loads(options["grpc.service_config"])
    (method,) = config["methodConfig"]
    assert method["name"] == [{"service": "tenki.weather.v1.WeatherService"}]
    policy = method["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["maxAttempts"] >= 2
    assert options["grpc.enable_retries"] == 1


def test_the_channel_re_resolves_within_seconds_of_a_goaway() -> None:
    # gRPC's default (30 s) would keep new weather pods idle long after the service's connection age.
    options = dict(weather_client.channel_options())
    assert options["grpc.dns_min_time_between_resolutions_ms"] == 2000


def test_an_unreachable_service_is_unavailable_within_the_deadline() -> None:
    # Port 1 on loopback: connection refused at once; retries and backoff stay inside the deadline.
    client = WeatherClient("127.0.0.1:1", 0.5)
    with pytest.raises(grpc.RpcError) as caught:
        request = weather_client.weather_pb2.GetCurrentWeatherRequest(postal_code="94040")
        client.get_current_weather(request, "r1")
    assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert client.serving_status("r2") in ("UNAVAILABLE", "DEADLINE_EXCEEDED")


def test_errors_that_are_not_calls_are_counted_as_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise grpc.RpcError("no call")

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(weather_client.metrics, "observe_grpc", lambda m, code, s: seen.append((m, code)))
    client = WeatherClient("x", 1.0, connect=lambda target: weather_client.Stubs(broken, broken))
    with pytest.raises(grpc.RpcError):
        client.get_current_weather(weather_client.weather_pb2.GetCurrentWeatherRequest(), "r")
    assert client.serving_status("r") == "UNKNOWN"
    assert [code for _, code in seen] == ["UNKNOWN", "UNKNOWN"]
