"""One OWM budget for the fleet: `tenki serve` processes sharing a real redis-server, the stand-in counting.

- limits' moving window in Redis, over a short real window: no window ever holds more than the limit;
- three processes, OWM_RATE_LIMIT_PER_MINUTE=10, 40 distinct codes: exactly 10 reach the stand-in, the
  other 30 are RESOURCE_EXHAUSTED with a message naming the budget;
- a refused password and a hung (SIGSTOPped) server: the local fallback answers, within one bounded command;
- Redis stopped: answers keep coming under each process's local share, never INTERNAL or UNAVAILABLE;
  a log line and a metric say so; Redis started again: the fleet's window is used again, no restart.
"""

from __future__ import annotations

import os
import random
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from pydantic import SecretStr
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from support.owm_fixtures import STANDIN_API_KEY
from support.redis_server import RedisServer
from tenki_stack import ServiceProcess, start_weather
from tenki_stack.owm_standin import OwmStandIn
from tenki_weather.ratelimit import (
    FALLBACK,
    FLEET,
    Decision,
    FleetBudget,
    MovingWindowBudget,
    local_budget,
    redis_storage,
)

DEADLINE = 5.0


def ask(addr: str, postal_code: str) -> tuple[grpc.StatusCode, str]:
    with grpc.insecure_channel(addr) as channel:
        stub = weather_pb2_grpc.WeatherServiceStub(channel)
        try:
            stub.GetCurrentWeather(
                weather_pb2.GetCurrentWeatherRequest(postal_code=postal_code, country_code="US"),
                timeout=DEADLINE,
            )
        except grpc.RpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def metric(service: ServiceProcess, name: str, **labels: str) -> float:
    """One sample of the service's /metrics (0 when absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{service.metrics_port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture
def fleet(owm_standin: OwmStandIn, fresh_redis_server: RedisServer) -> Iterator[list[ServiceProcess]]:
    """Three `tenki serve` processes on the stand-in, sharing `fresh_redis_server`; limit 10 for the fleet."""
    env = {
        "OWM_API_KEY": STANDIN_API_KEY,
        "OWM_BASE_URL": owm_standin.base_url,
        "OWM_TIMEOUT_SECONDS": "2",
        "OWM_RATE_LIMIT_PER_MINUTE": "10",
        "OWM_RATE_LIMIT_REPLICAS": "3",
        "REDIS_URL": fresh_redis_server.url,
        "LOG_LEVEL": "INFO",
    }
    started: list[ServiceProcess] = []
    try:
        for _ in range(3):
            started.append(start_weather(env))
        yield started
    finally:
        for service in started:
            service.stop()


def test_redis_moving_window_never_holds_more_than_the_limit_in_any_window(fresh_redis_server) -> None:
    # The production code path (limits' Lua script in a real Redis), on a 2-second window so real time can
    # run it: requests at seeded random gaps for about 5 s.
    limit, window = 5, 2
    storage = redis_storage(fresh_redis_server.url, SecretStr(""), 1.0)
    budget = MovingWindowBudget(limit, storage, window, FLEET)
    gaps = random.Random(13).choices([0.0, 0.01, 0.05, 0.1, 0.2, 0.4], k=80)
    spans: list[tuple[float, float]] = []  # (before, after) each allowed call
    denied = 0
    for gap in gaps:
        time.sleep(gap)
        before = time.time()
        allowed = budget.acquire().allowed
        after = time.time()
        if allowed:
            spans.append((before, after))
        else:
            denied += 1
    # The script stamps a call somewhere inside its (before, after); any limit + 1 allowed calls must lie
    # more than one window apart, so even the widest reading of their stamps spans more than `window`.
    for (first_before, _), (_, last_after) in zip(spans, spans[limit:]):
        assert last_after - first_before > window
    assert denied > 0 and len(spans) >= 2 * limit  # the limit bit, and the window moved on


def test_three_processes_share_one_budget_of_ten_calls(fleet, owm_standin) -> None:
    codes = [f"{20000 + i}" for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: ask(fleet[i % 3].addr, codes[i]), range(40)))
    counts = Counter(code for code, _ in results)
    assert owm_standin.request_count == 10, results  # at most 10 allowed: the window holds all 40 asks
    # Each new code is two upstream calls (geocoding, then the weather), each on the budget: of the 10
    # calls, some codes got both (OK), others only the geocoding; every other call was denied.
    ok = counts[grpc.StatusCode.OK]
    assert counts == {grpc.StatusCode.OK: ok, grpc.StatusCode.RESOURCE_EXHAUSTED: 40 - ok}, counts
    assert 1 <= ok <= 5, counts
    messages = {details for code, details in results if code is grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert messages == {
        "the weather service's upstream call budget (10 OpenWeatherMap calls a minute) is used up; "
        "try again in a minute"
    }
    denials = "tenki_weather_upstream_budget_decisions_total"
    assert sum(metric(s, denials, scope="fleet", result="denied") for s in fleet) == 40 - ok
    assert sum(metric(s, denials, scope="fleet", result="allowed") for s in fleet) == 10
    # Every process spent from the one window: a cached answer elsewhere is still served.
    ok_code = next(codes[i] for i, (code, _) in enumerate(results) if code is grpc.StatusCode.OK)
    assert any(ask(s.addr, ok_code)[0] is grpc.StatusCode.OK for s in fleet)


def test_with_redis_stopped_each_process_answers_under_its_local_share(
    fleet, owm_standin, fresh_redis_server
) -> None:
    a, b = fleet[0], fleet[1]
    assert ask(a.addr, "30000") == (grpc.StatusCode.OK, "")  # spent in Redis
    fresh_redis_server.stop()
    # The local share is 10 // 3 = 3 calls a minute per process, whatever the fleet spent before; a new
    # code is two calls (geocoding, weather): the first code is answered, the second only geocoded.
    results = [ask(a.addr, f"{30001 + i}") for i in range(5)]
    results += [ask(b.addr, f"{30101 + i}") for i in range(5)]
    codes = [code for code, _ in results]
    assert codes == [grpc.StatusCode.OK] + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 4 + (
        [grpc.StatusCode.OK] + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 4
    ), results
    assert owm_standin.request_count == 2 + 6
    assert ask(a.addr, "30000") == (grpc.StatusCode.OK, "")  # its cache still answers
    for service in (a, b):
        line = service.wait_for_log(lambda r: "upstream budget degraded" in r.get("message", ""), timeout=10)
        assert "ConnectionError" in line["message"] and "3 OWM calls a minute" in line["message"]
        assert metric(service, "tenki_weather_upstream_budget_degraded") == 1
        decisions = "tenki_weather_upstream_budget_decisions_total"
        assert metric(service, decisions, scope="fallback", result="denied") == 4

    fresh_redis_server.start()  # same port, empty: the fleet's window starts again
    time.sleep(1.2)  # past the fallback's retry interval (1 s)
    assert ask(a.addr, "30200") == (grpc.StatusCode.OK, "")
    a.wait_for_log(lambda r: "upstream budget recovered" in r.get("message", ""), timeout=10)
    assert metric(a, "tenki_weather_upstream_budget_degraded") == 0
    assert metric(a, "tenki_weather_upstream_budget_decisions_total", scope="fleet", result="allowed") == 4


def fleet_budget(url: str, password: str = "", timeout: float = 0.25) -> FleetBudget:
    shared = MovingWindowBudget(10, redis_storage(url, SecretStr(password), timeout), scope=FLEET)
    return FleetBudget(shared, local_budget(3, scope=FALLBACK))


def test_a_refused_password_falls_back_and_names_the_error(tmp_path, caplog) -> None:
    with RedisServer(tmp_path, password="the-right-one") as server:
        wrong = fleet_budget(server.url, "not-the-password")
        assert wrong.acquire() == Decision(True, FALLBACK) and wrong.degraded
        assert any("AuthenticationError" in r.getMessage() for r in caplog.records)
        right = fleet_budget(server.url, "the-right-one")
        assert right.acquire() == Decision(True, FLEET) and not right.degraded


def test_a_hung_redis_costs_one_bounded_command_then_the_fallback_answers(fresh_redis_server) -> None:
    budget = fleet_budget(fresh_redis_server.url, timeout=0.25)
    assert budget.acquire() == Decision(True, FLEET)
    os.kill(fresh_redis_server.pid, signal.SIGSTOP)  # the process is there, the port accepts, nothing answers
    try:
        started = time.monotonic()
        first = budget.acquire()
        first_took = time.monotonic() - started
        started = time.monotonic()
        second = budget.acquire()  # inside the retry interval: not even one command
        second_took = time.monotonic() - started
    finally:
        os.kill(fresh_redis_server.pid, signal.SIGCONT)
    assert first == Decision(True, FALLBACK) and second == Decision(True, FALLBACK)
    assert first_took < 1.0, first_took  # REDIS_TIMEOUT_SECONDS (0.25), not redis-py's retries
    assert second_took < 0.05, second_took
