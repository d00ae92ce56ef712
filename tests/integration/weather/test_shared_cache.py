"""The fleet's shared cache: three `tenki serve` processes, one real redis-server, the stand-in counting.

Each test uses postal codes no other test asks for, so the stand-in's count per code is exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from tenki_stack import console_script, free_port, start_weather
from tenki_stack.owm_standin import UNKNOWN_ZIP
from tenki_stack.redis_server import RedisServer

from support.fleet import FLEET_KEY, Fleet, fleet_env
from tenki_weather.shared import KEY_PREFIX

PASSWORD = "fleet-redis-password-9f8e7d"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with Fleet(tmp_path_factory.mktemp("fleet"), replicas=3) as running:
        yield running


def test_k_cold_codes_asked_concurrently_through_three_processes_cost_k_upstream_calls(fleet: Fleet) -> None:
    codes = [f"301{n:02d}" for n in range(10)]
    fleet.owm.set_latency(0.5)  # every fetch is in flight while the others ask
    try:
        asks = [(replica, code) for code in codes for replica in range(3) for _ in range(3)]
        with ThreadPoolExecutor(max_workers=len(asks)) as pool:
            answers = list(pool.map(lambda a: fleet.call(a[0], a[1])[0], asks))
    finally:
        fleet.owm.set_latency(0)
    assert answers == [grpc.StatusCode.OK] * len(asks)
    assert sum(fleet.upstream_calls(code) for code in codes) == len(codes)


def test_a_code_fetched_through_one_process_is_answered_by_another_without_upstream(fleet: Fleet) -> None:
    code, answer = fleet.call(0, "30201")
    assert code is grpc.StatusCode.OK and not answer.stale
    for replica in (1, 2):
        code, answer = fleet.call(replica, "30201")
        assert code is grpc.StatusCode.OK and answer.location.postal_code == "30201"
    assert fleet.upstream_calls("30201") == 1
    assert fleet.cache_results(1, "30201") == ["hit"]


def test_an_unknown_code_is_remembered_by_the_whole_fleet(fleet: Fleet) -> None:
    results = [fleet.call(replica, UNKNOWN_ZIP)[0] for replica in (0, 1, 2, 0)]
    assert results == [grpc.StatusCode.NOT_FOUND] * 4
    assert fleet.upstream_calls(UNKNOWN_ZIP) == 1


def test_an_upstream_failure_is_remembered_briefly_by_the_fleet(fleet: Fleet) -> None:
    fleet.owm.set_fault("503")
    try:
        results = [fleet.call(replica, "30301")[0] for replica in (0, 1, 2)]
    finally:
        fleet.owm.clear_fault()
    assert results == [grpc.StatusCode.UNAVAILABLE] * 3
    assert fleet.upstream_calls("30301") == 1


def test_a_value_that_does_not_decode_is_a_miss_logged_not_a_crash(fleet: Fleet) -> None:
    client = fleet.redis_client()
    client.set(f"{KEY_PREFIX}obs:US:30401", b"\x00not json{", px=60_000)
    client.set(f"{KEY_PREFIX}obs:US:30402", json.dumps({"fetched_at": 0, "observation": {"x": 1}}), px=60_000)
    for code in ("30401", "30402"):
        status, answer = fleet.call(0, code)
        assert status is grpc.StatusCode.OK and answer.location.postal_code == code
        assert fleet.upstream_calls(code) == 1
    lines = [r for r in fleet.replicas[0].log_records() if "does not decode" in str(r.get("message"))]
    assert {line["key"] for line in lines} >= {f"{KEY_PREFIX}obs:US:30401", f"{KEY_PREFIX}obs:US:30402"}
    # The process is fine and the entry is now a good one, shared with the others.
    assert fleet.call(1, "30401")[0] is grpc.StatusCode.OK and fleet.upstream_calls("30401") == 1


def test_an_entry_of_an_older_schema_version_is_a_miss(fleet: Fleet) -> None:
    client = fleet.redis_client()
    fleet.call(0, "30501")
    current = client.get(f"{KEY_PREFIX}obs:US:30501")
    assert current is not None
    # The same value under last release's prefix, for a place this release has not fetched yet.
    client.set("tenki:v0-00000000:obs:US:30502", current, px=60_000)
    assert fleet.call(0, "30502")[0] is grpc.StatusCode.OK
    assert fleet.upstream_calls("30502") == 1


def test_entries_expire_after_the_fresh_and_stale_windows(fleet: Fleet) -> None:
    fleet.call(2, "30601")
    ttl = fleet.redis_client().pttl(f"{KEY_PREFIX}obs:US:30601")
    assert (600 + 3600 - 5) * 1000 < ttl <= (600 + 3600) * 1000


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("tenki"), "check", "--timeout", "2"],
        env={"PATH": str(Path(sys.executable).parent), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_tenki_check_says_redis_is_reachable_authenticated_and_its_version(fleet: Fleet) -> None:
    done = run_check(fleet.env)
    line = next(x for x in done.stdout.splitlines() if "redis:" in x)
    assert line.startswith("[ OK ] redis: redis 7") or line.startswith("[ OK ] redis: redis 8"), line
    assert "reachable and authenticated" in line


@pytest.mark.parametrize("password", ["", "wrong-password-123"])
def test_a_wrong_redis_password_is_a_verdict_and_the_service_still_answers(
    tmp_path: Path, password: str
) -> None:
    with RedisServer(tmp_path / "redis", password=PASSWORD) as server:
        from tenki_stack.owm_standin import OwmStandIn

        with OwmStandIn() as owm:
            env = fleet_env(owm, server.url, REDIS_PASSWORD=password)
            done = run_check(env)
            assert done.returncode == 1
            assert "[FAIL] redis: reachable but refused the password" in done.stdout
            service = start_weather(env, port=free_port(), metrics_port=free_port())
            try:
                channel = grpc.insecure_channel(service.addr)
                from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

                stub = weather_pb2_grpc.WeatherServiceStub(channel)
                request = weather_pb2.GetCurrentWeatherRequest(postal_code="30701", country_code="us")
                answer = stub.GetCurrentWeather(request, timeout=10)
                assert answer.location.postal_code == "30701"
                channel.close()
                assert any("shared state degraded" in str(r.get("message")) for r in service.log_records())
                # The right password, through REDIS_PASSWORD: authenticated.
                ok = run_check({**env, "REDIS_PASSWORD": PASSWORD})
                assert "[ OK ] redis:" in ok.stdout
            finally:
                service.stop()
            output = service.output() + done.stdout + done.stderr
            assert PASSWORD not in output and FLEET_KEY not in output
            if password:
                assert password not in output


def test_an_unreachable_redis_url_at_start_up_is_a_verdict_and_no_crash() -> None:
    from tenki_stack.owm_standin import OwmStandIn

    with OwmStandIn() as owm:
        env = fleet_env(owm, f"redis://127.0.0.1:{free_port()}/0")
        done = run_check(env)
        assert done.returncode == 1 and "[FAIL] redis: unreachable: connection" in done.stdout
        service = start_weather(env, port=free_port(), metrics_port=free_port())
        try:
            with grpc.insecure_channel(service.addr) as channel:
                from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

                stub = weather_pb2_grpc.WeatherServiceStub(channel)
                for _ in range(3):
                    request = weather_pb2.GetCurrentWeatherRequest(postal_code="30801", country_code="us")
                    assert stub.GetCurrentWeather(request, timeout=10).location.postal_code == "30801"
            # The near cache answered the second and third calls.
            assert [p["zip"] for p in owm.requests if p.get("zip", "").startswith("30801")] == ["30801,US"]
            assert any("shared state degraded" in str(r.get("message")) for r in service.log_records())
        finally:
            service.stop()
