"""Fairness end to end: real gunicorn frontends, a real `tenki serve`, the OWM stand-in, a real redis-server.

Every request comes from 127.0.0.1, so the frontends trust one proxy hop (as the chart does behind its
Gateway) and each simulated client is the last X-Forwarded-For entry its "proxy" (the test) writes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from tenki_stack import LocalStack, ServiceProcess, start_frontend, start_weather

from tenki_stack.owm_standin import OwmStandIn
from support.redis_server import RedisServer
from support.stack_fixtures import STANDIN_KEY

TIMEOUT = 30
UPSTREAM_LIMIT = 10


def codes(count: int, start: int = 20000) -> list[str]:
    return [f"{start + n:05d}" for n in range(count)]


def get(base: str, path: str, client: str) -> requests.Response:
    return requests.get(base + path, headers={"X-Forwarded-For": client}, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def owm() -> Iterator[OwmStandIn]:
    standin = OwmStandIn()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def fair_stack(owm: OwmStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    weather_env = {
        "WEATHER_PROVIDER": "owm", "OWM_API_KEY": STANDIN_KEY, "OWM_BASE_URL": owm.base_url,
        "OWM_TIMEOUT_SECONDS": "2", "OWM_RATE_LIMIT_PER_MINUTE": "600",
    }  # fmt: skip
    frontend_env = {
        "RATE_LIMIT_UPSTREAM": f"{UPSTREAM_LIMIT}/minute", "RATE_LIMIT_DEFAULT": "1000/minute",
        # In-process counting: each gunicorn worker counts alone, so one worker here (see the shared tests).
        "TRUSTED_PROXY_HOPS": "1", "GUNICORN_WORKERS": "1",
    }  # fmt: skip
    with LocalStack(weather_env, frontend_env, log_dir=tmp_path_factory.mktemp("fair-stack")) as stack:
        yield stack


def test_a_script_of_new_codes_is_cut_off_while_another_client_keeps_getting_answers(
    fair_stack: LocalStack, owm: OwmStandIn
) -> None:
    script, person = "198.51.100.7", "203.0.113.9"
    assert get(fair_stack.url, "/weather?zip=94040", person).status_code == 200
    script_codes = codes(200)
    statuses, person_statuses = [], []
    for n, code in enumerate(script_codes):
        statuses.append(get(fair_stack.url, f"/api/v1/weather?zip={code}", script).status_code)
        if n % 10 == 0:
            person_statuses.append(get(fair_stack.url, "/weather?zip=94040", person).status_code)
        if n % 50 == 25:
            person_statuses.append(get(fair_stack.url, f"/weather?zip={30000 + n}", person).status_code)
    first_refusal = statuses.index(429)
    assert first_refusal == UPSTREAM_LIMIT
    assert statuses == [200] * UPSTREAM_LIMIT + [429] * (200 - UPSTREAM_LIMIT)
    assert set(person_statuses) == {200}
    upstream_for_script = [r for r in owm.requests if r.get("zip", "").split(",")[0] in set(script_codes)]
    assert len(upstream_for_script) == UPSTREAM_LIMIT
    refused = get(fair_stack.url, "/api/v1/weather?zip=29999", script)
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # The script's own earlier places are in the cache: still answered.
    assert get(fair_stack.url, f"/api/v1/weather?zip={script_codes[0]}", script).status_code == 200


def test_probes_and_static_files_never_429_and_the_log_names_the_client(fair_stack: LocalStack) -> None:
    script = "198.51.100.8"
    for code in codes(UPSTREAM_LIMIT + 2, start=40000):
        get(fair_stack.url, f"/api/v1/weather?zip={code}", script)
    for path in ("/healthz", "/readyz", "/static/style.css"):
        assert {get(fair_stack.url, path, script).status_code for _ in range(5)} == {200}, path
    assert fair_stack.frontend is not None
    fair_stack.frontend.wait_for_log(
        lambda record: record.get("message") == "rate limited" and record.get("client") == script
    )
    access = [r for r in fair_stack.frontend.log_records() if r.get("logger") == "tenki_frontend.access"]
    assert script in {r.get("remote_addr") for r in access}
    assert "127.0.0.1" not in {r.get("remote_addr") for r in access if r.get("path") == "/api/v1/weather"}
    metrics_url = f"http://127.0.0.1:{fair_stack.frontend.metrics_port}/metrics"  # its own port
    metrics = requests.get(metrics_url, timeout=30).text
    assert 'tenki_frontend_rate_limited_requests_total{limit="upstream"}' in metrics


def test_the_shared_upstream_budget_outlasts_an_abusive_client(
    owm: OwmStandIn, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a budget of 70 upstream calls, a script of 60 new codes spends 20 (10 codes, each a geocoding
    and a weather call); 15 other people all get 200 (45 calls: each page a geocoding, the weather and
    the forecast)."""
    weather_env = {
        "WEATHER_PROVIDER": "owm", "OWM_API_KEY": STANDIN_KEY, "OWM_BASE_URL": owm.base_url,
        "OWM_TIMEOUT_SECONDS": "2", "OWM_RATE_LIMIT_PER_MINUTE": "70",
    }  # fmt: skip
    frontend_env = {"RATE_LIMIT_UPSTREAM": "10/minute", "TRUSTED_PROXY_HOPS": "1", "GUNICORN_WORKERS": "1"}
    with LocalStack(weather_env, frontend_env, log_dir=tmp_path_factory.mktemp("budget-stack")) as stack:
        script = [get(stack.url, f"/api/v1/weather?zip={code}", "198.51.100.50").status_code
                  for code in codes(60, start=60000)]
        people = [get(stack.url, f"/weather?zip={70000 + n}", f"203.0.113.{20 + n}").status_code
                  for n in range(15)]
    assert script == [200] * 10 + [429] * 50
    assert people == [200] * 15


@pytest.fixture(scope="module")
def shared(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServiceProcess]]:
    """Two frontends of two gunicorn workers each, one weather service (demo), one redis-server."""
    logs: Path = tmp_path_factory.mktemp("shared-limits")
    weather = start_weather({"WEATHER_PROVIDER": "demo"}, metrics_port=0, log_path=logs / "weather.log")
    env = {
        "REDIS_URL": redis_server.url, "GUNICORN_WORKERS": "2", "TRUSTED_PROXY_HOPS": "1",
        "RATE_LIMIT_DEFAULT": "20/minute", "RATE_LIMIT_UPSTREAM": "6/minute",
    }  # fmt: skip
    frontends: list[ServiceProcess] = []
    try:
        for name in ("a", "b"):
            log_path = logs / f"frontend-{name}.log"
            frontends.append(start_frontend(env, weather_addr=weather.addr, log_path=log_path))
        yield frontends
    finally:
        for frontend in frontends:
            frontend.stop()
        weather.stop()


def test_the_limits_hold_across_workers_and_processes_sharing_redis(shared: list[ServiceProcess]) -> None:
    urls = [frontend.url for frontend in shared]
    # A new connection per request: gunicorn hands them to either worker of either frontend.
    pages = [get(urls[n % 2], "/", "198.51.100.20").status_code for n in range(60)]
    assert pages.count(200) == 20 and set(pages) == {200, 429}
    lookups = [
        get(urls[n % 2], f"/api/v1/weather?zip={code}", "198.51.100.21").status_code
        for n, code in enumerate(codes(19, start=50000))
    ]
    assert lookups == [200] * 6 + [429] * 13


def test_with_redis_stopped_pages_keep_answering(
    shared: list[ServiceProcess], redis_server: RedisServer
) -> None:
    urls = [frontend.url for frontend in shared]
    redis_server.stop()
    try:
        started = time.monotonic()
        statuses = [
            get(urls[n % 2], "/weather?zip=94040", f"198.51.100.{30 + n % 3}").status_code for n in range(40)
        ]
        elapsed = time.monotonic() - started
        assert set(statuses) == {200}
        assert elapsed < 20, f"40 requests took {elapsed:.1f} s with Redis down"
        # Counting goes on in each process: a client still meets its limit, never a 5xx.
        pages = [get(urls[0], "/", "198.51.100.40").status_code for _ in range(60)]
        assert 200 in pages and 429 in pages and max(pages) < 500
    finally:
        redis_server.start()
    assert all(frontend.running() for frontend in shared)
    # Redis is back: the frontends find it again by themselves (Flask-Limiter re-checks with a back-off of
    # at most 32 s) and count there once more; bounded at 60 s.
    store = redis.Redis.from_url(redis_server.url, socket_timeout=1)
    deadline = time.monotonic() + 60
    while not store.keys("LIMITS*") and time.monotonic() < deadline:
        for url in urls:
            get(url, "/", "198.51.100.60")
        time.sleep(0.5)
    assert store.keys("LIMITS*"), "the frontends did not return to Redis within 60 s"
