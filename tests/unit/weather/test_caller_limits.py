"""Per-caller limits on cache misses: the domain (no gRPC), the servicer's caller id, the settings."""

from __future__ import annotations

import grpc
import grpc_testing
import pytest
from tenki.weather.v1 import weather_pb2

from tenki_weather.cache import ObservationCache
from tenki_weather.caller_limits import (
    Caller,
    CallerLimited,
    CallerLimits,
    caller_from,
    peer_address,
)
from tenki_weather.config import ConfigError, WeatherSettings
from tenki_weather.demo import DemoProvider
from tenki_weather.interceptor import CallLog
from tenki_weather.metrics import Metrics
from tenki_weather.model import CacheResult, Observation
from tenki_weather.service import WeatherLookup
from tenki_weather.servicer import WeatherServicer
from tenki_weather.status import status_code

SERVICE = weather_pb2.DESCRIPTOR.services_by_name["WeatherService"]
METHOD = SERVICE.methods_by_name["GetCurrentWeather"]


def service(limit: str = "3/minute", exempt: tuple[str, ...] = ("tenki-frontend",)) -> WeatherLookup:
    limits = CallerLimits(limit, exempt)
    cache: ObservationCache[Observation] = ObservationCache(600, 1000, 3600)
    return WeatherLookup(DemoProvider(), cache, metrics=Metrics(), caller_limits=limits)


def upstream_calls(svc: WeatherLookup, outcome: str) -> float:
    value: float = svc.metrics.upstream_calls.labels("demo", outcome)._value.get()
    return value


def codes(count: int, start: int = 10000) -> list[str]:
    return [f"{start + n:05d}" for n in range(count)]


def test_a_caller_over_its_limit_is_refused_with_its_own_limit_named() -> None:
    svc, script = service(), Caller("script")
    for code in codes(3):
        assert svc.current_weather(code, "us", caller=script).cache is CacheResult.MISS
    with pytest.raises(CallerLimited) as refused:
        svc.current_weather("20000", "us", caller=script)
    assert status_code(refused.value) is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "'script' is over its own limit" in refused.value.message
    assert "not the service's upstream budget" in refused.value.message
    assert "GRPC_RATE_LIMIT_UPSTREAM" in refused.value.message
    assert upstream_calls(svc, "caller_rate_limited") == 1


def test_another_caller_is_unaffected_and_cached_places_still_answer() -> None:
    svc, script, person = service(), Caller("script"), Caller("person")
    for code in codes(3):
        svc.current_weather(code, "us", caller=script)
    with pytest.raises(CallerLimited):
        svc.current_weather("20000", "us", caller=script)
    # Cache hits cost nothing upstream: never counted, never refused.
    for _ in range(10):
        assert svc.current_weather("10000", "us", caller=script).cache is CacheResult.HIT
    for code in codes(3, start=30000):
        assert svc.current_weather(code, "us", caller=person).cache is CacheResult.MISS


def test_exempt_ids_and_anonymous_callers_are_not_counted() -> None:
    svc = service(limit="1/minute")
    for code in codes(5):
        svc.current_weather(code, "us", caller=Caller("tenki-frontend"))
    for code in codes(5, start=40000):
        svc.current_weather(code, "us")
    assert upstream_calls(svc, "ok") == 20  # each lookup: one geocoding and one weather call


def test_several_windows_all_hold_and_a_refusal_spends_none() -> None:
    limits = CallerLimits("2/minute;3/hour")
    caller = Caller("a")
    limits.spend(caller)
    limits.spend(caller)
    with pytest.raises(CallerLimited, match="2 per 1 minute"):
        limits.spend(caller)
    # The refused third lookup did not count against the hourly window.
    assert limits._limiter.get_window_stats(limits.items[1], "grpc-upstream", "a").remaining == 1


def test_cache_only_answers_hits_and_refuses_misses_without_an_upstream_call() -> None:
    svc = service()
    svc.current_weather("94040", "us", caller=Caller("tenki-frontend"))
    only = Caller("tenki-frontend", cache_only=True)
    assert svc.current_weather("94040", "us", caller=only).cache is CacheResult.HIT
    with pytest.raises(CallerLimited, match="cached answers only"):
        svc.current_weather("10001", "us", caller=only)
    assert upstream_calls(svc, "ok") == 2  # the first lookup's geocoding and weather calls


@pytest.mark.parametrize(
    ("peer", "address"),
    [("ipv4:10.1.2.3:51234", "10.1.2.3"), ("ipv6:[::1]:4000", "::1"), ("unix:/tmp/s", "unix:/tmp/s")],
)
def test_the_peer_address_drops_the_port(peer: str, address: str) -> None:
    assert peer_address(peer) == address


def test_the_client_id_wins_over_the_peer_when_well_formed() -> None:
    assert caller_from((("x-client-id", "batch-7"),), "ipv4:10.0.0.9:1").id == "batch-7"
    assert caller_from((("x-client-id", "bad id\n" * 20),), "ipv4:10.0.0.9:1").id == "10.0.0.9"
    assert caller_from(None, "ipv4:10.0.0.9:1", cache_only=True) == Caller("10.0.0.9", True)


def invoke(servicer: WeatherServicer, code: str, metadata: tuple[tuple[str, str], ...], **fields: object):
    server = grpc_testing.server_from_dictionary({SERVICE: servicer}, grpc_testing.strict_real_time())
    request = weather_pb2.GetCurrentWeatherRequest(postal_code=code, country_code="us", **fields)
    return server.invoke_unary_unary(METHOD, metadata, request, None).termination()


def test_the_servicer_limits_by_client_id_and_reports_the_cache_status() -> None:
    servicer = WeatherServicer(service(limit="2/minute"), lambda context: CallLog("req-1"))
    script = (("x-client-id", "script"),)
    for code in codes(2):
        response, _, status, _ = invoke(servicer, code, script)
        assert status is grpc.StatusCode.OK and response.cache == weather_pb2.CACHE_STATUS_MISS
    _, _, status, details = invoke(servicer, "20000", script)
    assert status is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "'script' is over its own limit" in details
    response, _, status, _ = invoke(servicer, "10000", script)
    assert status is grpc.StatusCode.OK and response.cache == weather_pb2.CACHE_STATUS_HIT
    # Another caller, and the frontend's exempt id, are unaffected.
    assert invoke(servicer, "20001", (("x-client-id", "other"),))[2] is grpc.StatusCode.OK
    for code in codes(5, start=50000):
        assert invoke(servicer, code, (("x-client-id", "tenki-frontend"),))[2] is grpc.StatusCode.OK
    _, _, status, details = invoke(servicer, "60000", (("x-client-id", "tenki-frontend"),), cache_only=True)
    assert status is grpc.StatusCode.RESOURCE_EXHAUSTED and "cache_only" in details


def test_settings_read_the_limit_and_refuse_bad_notation() -> None:
    env = {"GRPC_RATE_LIMIT_UPSTREAM": "5/second", "GRPC_RATE_LIMIT_EXEMPT": "a,b"}
    settings = WeatherSettings.from_env(env)
    built = WeatherLookup.from_settings(settings)
    assert built.caller_limits is not None
    assert built.caller_limits.exempt == {"a", "b"}
    assert WeatherSettings.from_env({}).grpc_rate_limit_upstream == "30/minute"
    with pytest.raises(ConfigError, match="GRPC_RATE_LIMIT_UPSTREAM"):
        WeatherSettings.from_env({"GRPC_RATE_LIMIT_UPSTREAM": "lots"})
