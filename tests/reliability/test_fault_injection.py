"""Fault injection (FAULT_*): each knob on a real `tenki serve`, measured from a client over a bounded run,
and the frontend's pages with the faults on, as its error table says.

The bounds are statistical and sound: an error count must fall inside the two-sided binomial interval
that holds with probability 1 - 1e-6; the injected delays (each call's in its log line) must pass a
Kolmogorov-Smirnov test against the configured uniform distribution at alpha = 0.001, and every
client-observed latency must be at least its call's injected delay.
"""

from __future__ import annotations

import math
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
import requests
from drills import health_status, weather_stub
from tenki_stack import ServiceProcess, grpc_reachable, start_frontend, start_weather
from tenki_stack.owm_standin import OwmStandIn
from tenki.weather.v1 import weather_pb2

pytestmark = pytest.mark.timeout(300)
SERVICE = "tenki.weather.v1.WeatherService"


def binomial_interval(n: int, p: float, alpha: float = 1e-6) -> tuple[int, int]:
    """The smallest [lo, hi] with P(X < lo) <= alpha/2 and P(X > hi) <= alpha/2 for X ~ Binomial(n, p)."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    lo, tail = 0, 0.0
    while tail + pmf[lo] <= alpha / 2:
        tail += pmf[lo]
        lo += 1
    hi, tail = n, 0.0
    while tail + pmf[hi] <= alpha / 2:
        tail += pmf[hi]
        hi -= 1
    return lo, hi


def ks_uniform(samples: list[float], low: float, high: float) -> float:
    """The Kolmogorov-Smirnov statistic of `samples` against Uniform(low, high)."""
    values = sorted(samples)
    n = len(values)
    worst = 0.0
    for i, value in enumerate(values):
        cdf = min(1.0, max(0.0, (value - low) / (high - low)))
        worst = max(worst, abs(cdf - i / n), abs((i + 1) / n - cdf))
    return worst


@pytest.fixture
def weather(request: pytest.FixtureRequest) -> Iterator[ServiceProcess]:
    """`tenki serve` on the demo provider with the test's FAULT_* settings (the fixture's parameter)."""
    env = {"WEATHER_PROVIDER": "demo", "LOG_LEVEL": "DEBUG", **request.param}
    service = start_weather(env, metrics_port=0, ready=grpc_reachable)
    yield service
    service.stop()


def call(addr: str, code: str = "94040") -> tuple[str, float, str, grpc.RpcError | None]:
    """One GetCurrentWeather: (request id, seconds, status code name, the error or None)."""
    request_id = uuid.uuid4().hex
    channel, stub = weather_stub(addr)
    with channel:
        start = time.perf_counter()
        try:
            stub.GetCurrentWeather(
                weather_pb2.GetCurrentWeatherRequest(postal_code=code), timeout=20,
                metadata=(("x-request-id", request_id),),
            )
            error = None
        except grpc.RpcError as exc:
            error = exc
        seconds = time.perf_counter() - start
    return request_id, seconds, error.code().name if error is not None else "OK", error


def calls(addr: str, n: int, workers: int = 8) -> list[tuple[str, float, str, grpc.RpcError | None]]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: call(addr), range(n)))


@pytest.mark.parametrize(
    "weather", [dict(FAULT_DELAY_SECONDS="0.2", FAULT_DELAY_JITTER_SECONDS="0.2")], indirect=True
)
def test_the_delay_is_the_fixed_part_plus_a_uniform_random_part(
    weather: ServiceProcess, drill_report: Callable[[str, dict[str, Any]], None]
) -> None:
    results = calls(weather.addr, 120)
    assert {code for _, _, code, _ in results} == {"OK"}
    delays = {}
    for request_id, seconds, _, _ in results:
        line = weather.wait_for_log(
            lambda r: r.get("request_id") == request_id and r.get("message") == "rpc"
        )
        delays[request_id] = float(line["fault_delay_ms"]) / 1000
        # The client waited at least the injected delay, and not much more (a loaded machine: 1 s).
        assert delays[request_id] <= seconds < delays[request_id] + 1.0
    samples = list(delays.values())
    assert min(samples) >= 0.2 and max(samples) <= 0.4
    # Kolmogorov-Smirnov at alpha = 0.001: critical value 1.95 / sqrt(n).
    assert ks_uniform(samples, 0.2, 0.4) < 1.95 / math.sqrt(len(samples))
    observed = [seconds for _, seconds, _, _ in results]
    drill_report("fault delay 0.2 s + uniform 0..0.2 s, 120 calls", {
        "injected_mean_s": round(statistics.mean(samples), 4), "expected_mean_s": 0.3,
        "injected_min_s": round(min(samples), 4), "injected_max_s": round(max(samples), 4),
        "ks_statistic": round(ks_uniform(samples, 0.2, 0.4), 4),
        "ks_critical_alpha_0.001": round(1.95 / math.sqrt(len(samples)), 4),
        "client_mean_s": round(statistics.mean(observed), 4),
        "client_minus_injected_mean_ms": round(1000 * statistics.mean(
            seconds - delays[request_id] for request_id, seconds, _, _ in results), 2),
    })
    assert min(observed) >= 0.2 and 0.25 < statistics.mean(observed) < 0.3 + 0.25

    # Health checks are never delayed unless asked.
    channel, _ = weather_stub(weather.addr)
    with channel:
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            assert health_status(channel, SERVICE, timeout=5) == "SERVING"
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.2


@pytest.mark.parametrize(
    "weather", [dict(FAULT_ERROR_RATE="0.3", FAULT_ERROR_CODE="resource_exhausted")], indirect=True
)
def test_the_error_rate_and_code_are_the_configured_ones(
    weather: ServiceProcess, drill_report: Callable[[str, dict[str, Any]], None]
) -> None:
    n = 400
    results = calls(weather.addr, n)
    failures = [error for _, _, code, error in results if error is not None]
    assert {error.code() for error in failures} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert all("injected fault" in (error.details() or "") for error in failures)
    lo, hi = binomial_interval(n, 0.3)
    drill_report("fault error rate 0.3 (RESOURCE_EXHAUSTED), 400 calls",
                 {"failed": len(failures), "expected": 120, "interval_1e-6": [lo, hi]})
    assert lo <= len(failures) <= hi, f"{len(failures)} of {n} failed; expected {lo}..{hi} for rate 0.3"
    assert len([r for r in results if r[2] == "OK"]) == n - len(failures)
    # Each injected failure is logged and marked as one.
    failed_id = next(request_id for request_id, _, code, _ in results if code != "OK")
    line = weather.wait_for_log(lambda r: r.get("request_id") == failed_id and r.get("message") == "rpc")
    assert line["code"] == "RESOURCE_EXHAUSTED" and line["fault"] == "error"
    # Health checks never fail from it.
    channel, _ = weather_stub(weather.addr)
    with channel:
        assert {health_status(channel, SERVICE, timeout=5) for _ in range(50)} == {"SERVING"}
    # The warning at start names the faults.
    warning = weather.wait_for_log(
        lambda r: r.get("level") == "WARNING" and "FAULT INJECTION ON" in r["message"]
    )
    assert "30% of weather API calls fail with RESOURCE_EXHAUSTED" in warning["message"]


@pytest.mark.parametrize(
    "weather", [dict(FAULT_ERROR_RATE="1", FAULT_INCLUDE_HEALTH="true")], indirect=True
)
def test_health_checks_fail_too_only_when_asked(weather: ServiceProcess) -> None:
    channel, _ = weather_stub(weather.addr)
    with channel:
        assert health_status(channel, SERVICE, timeout=5) == "UNAVAILABLE"
    assert call(weather.addr)[2] == "UNAVAILABLE"


@pytest.mark.parametrize(
    "weather", [dict(FAULT_HEALTH_NOT_SERVING="true")], indirect=True
)
def test_the_health_flag_makes_readiness_not_serving_calls_still_answered(weather: ServiceProcess) -> None:
    channel, _ = weather_stub(weather.addr)
    with channel:
        assert health_status(channel, SERVICE) == "NOT_SERVING"
        # The server's own status (liveness) stays SERVING: a drill drains the pod, it does not restart it.
        assert health_status(channel, "") == "SERVING"
    assert call(weather.addr)[2] == "OK"
    frontend = start_frontend({}, weather_addr=weather.addr, wait_for="healthz")
    try:
        ready = requests.get(f"{frontend.url}/readyz", timeout=10)
        # The frontend's readiness is its own (issue 12): it stays ready; its body shows the weather's state.
        assert ready.status_code == 200 and ready.json()["weather_service"] == "NOT_SERVING"
        assert requests.get(f"{frontend.url}/weather?zip=94040", timeout=10).status_code == 200
    finally:
        frontend.stop()


# -- the frontend's pages with faults on -----------------------------------------------------------


def frontend_for(weather: ServiceProcess, **env: str) -> ServiceProcess:
    # The drills send more than one client's fair share: the frontend's per-client limits out of the way.
    limits = {"RATE_LIMIT_DEFAULT": "10000/minute", "RATE_LIMIT_UPSTREAM": "10000/minute"}
    return start_frontend({**limits, **env}, weather_addr=weather.addr, wait_for="healthz")


@pytest.mark.parametrize(
    "weather", [dict(FAULT_ERROR_RATE="1", FAULT_ERROR_CODE="UNAVAILABLE")], indirect=True
)
def test_failing_calls_are_503_pages_with_retry_after(weather: ServiceProcess) -> None:
    frontend = frontend_for(weather)
    try:
        page = requests.get(f"{frontend.url}/weather?zip=94040", timeout=10)
        assert page.status_code == 503 and page.headers["Retry-After"] == "60"
        assert "Weather service unavailable" in page.text
        api = requests.get(f"{frontend.url}/api/v1/weather?zip=94040", timeout=10)
        assert api.status_code == 503 and api.headers["Retry-After"]
        assert api.json()["error"]["code"] == "unavailable"
    finally:
        frontend.stop()


@pytest.mark.parametrize(
    "weather", [dict(FAULT_ERROR_RATE="1", FAULT_ERROR_CODE="RESOURCE_EXHAUSTED")], indirect=True
)
def test_an_injected_resource_exhausted_is_the_rate_limited_page(weather: ServiceProcess) -> None:
    frontend = frontend_for(weather)
    try:
        api = requests.get(f"{frontend.url}/api/v1/weather?zip=94040", timeout=10)
        assert api.status_code == 503 and api.headers["Retry-After"]
        assert api.json()["error"]["code"] == "rate_limited"
    finally:
        frontend.stop()


@pytest.mark.parametrize(
    "weather", [dict(FAULT_DELAY_SECONDS="1.5")], indirect=True
)
def test_a_delay_beyond_the_frontends_deadline_is_a_503_within_the_deadline(weather: ServiceProcess) -> None:
    frontend = frontend_for(weather, WEATHER_DEADLINE_SECONDS="0.5")
    try:
        start = time.monotonic()
        page = requests.get(f"{frontend.url}/weather?zip=94040", timeout=10)
        assert page.status_code == 503 and page.headers["Retry-After"]
        assert time.monotonic() - start < 1.5
    finally:
        frontend.stop()


def test_upstream_faults_are_served_stale_where_cached_and_503_where_not() -> None:
    """FAULT_TARGET=upstream, half of the calls to OWM failing, every entry expired at once
    (CACHE_TTL_SECONDS=0): a place cached once is always answered, fresh or stale; a new place fails
    with a 503 whenever its upstream call does."""
    owm = OwmStandIn()
    weather = start_weather(
        {"WEATHER_PROVIDER": "owm", "OWM_API_KEY": "k", "OWM_BASE_URL": owm.base_url,
         "FAULT_TARGET": "upstream", "FAULT_ERROR_RATE": "0.5", "CACHE_TTL_SECONDS": "0",
         # Each call draws its own fault: a remembered failure (negative caching) would answer
         # the next calls of the place with the same 503 without drawing.
         "NEGATIVE_CACHE_ERROR_SECONDS": "0",
         "OWM_RATE_LIMIT_PER_MINUTE": "10000"},
        metrics_port=0,
    )
    frontend = frontend_for(weather)
    try:
        page_of = lambda code: requests.get(f"{frontend.url}/weather?zip={code}", timeout=10)  # noqa: E731
        # Fill the cache: a bounded number of tries (each fails with probability 0.5).
        assert any(page_of("10001").status_code == 200 for _ in range(30))
        pages = [page_of("10001") for _ in range(40)]
        assert {p.status_code for p in pages} == {200}
        stale = [p for p in pages if 'id="stale-note"' in p.text]
        assert stale and len(stale) < len(pages)  # P(none or all stale) = 2 * 0.5**40
        fresh_codes = [page_of(f"2{n:04d}") for n in range(30)]
        failed = [p for p in fresh_codes if p.status_code != 200]
        assert failed and {p.status_code for p in failed} == {503}
        assert all(p.headers["Retry-After"] for p in failed)
        assert owm.request_count >= 40
    finally:
        frontend.stop()
        weather.stop()
        owm.stop()
