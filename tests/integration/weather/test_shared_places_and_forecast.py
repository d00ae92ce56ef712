"""Geocoded places and forecasts shared by the fleet: two `tenki serve` processes, one real redis-server,
the OWM stand-in counting each endpoint's calls.

Each test uses postal codes no other test of this module asks for, so the stand-in's count per code
(geocoding calls carry the code) is exact; the forecast calls are counted as this test's difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from support.fleet import Fleet
from tenki_weather.shared import KEY_PREFIX


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with Fleet(tmp_path_factory.mktemp("fleet"), replicas=2) as running:
        yield running


def test_a_place_geocoded_by_one_process_costs_the_other_no_geocoding_call(fleet: Fleet) -> None:
    status, weather = fleet.call(0, "31101")
    assert status is grpc.StatusCode.OK
    # Process B has no weather entry to lean on: the forecast is its own lookup, and needs the place.
    status, forecast = fleet.forecast(1, "31101")
    assert status is grpc.StatusCode.OK
    assert (forecast.location.latitude, forecast.location.longitude) == (
        weather.location.latitude, weather.location.longitude,
    )  # fmt: skip
    assert fleet.upstream_calls("31101") == 1
    ttl = fleet.redis_client().pttl(f"{KEY_PREFIX}geo:US:31101")
    assert 30 * 86400 * 1000 - 10_000 < ttl <= 30 * 86400 * 1000


def test_an_unknown_code_is_shared_as_unknown_without_another_geocoding_call(fleet: Fleet) -> None:
    assert fleet.call(0, "00000")[0] is grpc.StatusCode.NOT_FOUND
    assert fleet.forecast(1, "00000")[0] is grpc.StatusCode.NOT_FOUND
    assert fleet.forecast(0, "00000")[0] is grpc.StatusCode.NOT_FOUND
    assert fleet.upstream_calls("00000") == 1
    # Remembered as unknown for NEGATIVE_CACHE_NOT_FOUND_SECONDS (an hour), not for the places' month.
    ttl = fleet.redis_client().pttl(f"{KEY_PREFIX}geo:US:00000")
    assert 3600 * 1000 - 10_000 < ttl <= 3600 * 1000


def test_a_forecast_costs_one_upstream_call_across_both_processes(fleet: Fleet) -> None:
    before = fleet.owm.forecast_count
    assert fleet.forecast(0, "31201")[0] is grpc.StatusCode.OK
    status, answer = fleet.forecast(1, "31201")
    assert status is grpc.StatusCode.OK and not answer.stale and len(answer.slots) == 40
    assert fleet.owm.forecast_count - before == 1
    assert fleet.upstream_calls("31201") == 1
    ttl = fleet.redis_client().pttl(f"{KEY_PREFIX}fc:US:31201")
    assert (1800 + 3600 - 10) * 1000 < ttl <= (1800 + 3600) * 1000


def test_a_cold_forecast_asked_concurrently_through_both_processes_costs_one_call(fleet: Fleet) -> None:
    before = fleet.owm.forecast_count
    fleet.owm.set_latency(0.5)  # the leader's fetch is in flight while the others ask
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda replica: fleet.forecast(replica % 2, "31301")[0], range(8)))
    finally:
        fleet.owm.set_latency(0)
    assert answers == [grpc.StatusCode.OK] * 8
    assert fleet.owm.forecast_count - before == 1


def test_a_forecast_failure_is_remembered_by_the_fleet_apart_from_the_weather(fleet: Fleet) -> None:
    before = fleet.owm.forecast_count
    fleet.owm.set_fault("503", "forecast")
    try:
        results = [fleet.forecast(replica, "31401")[0] for replica in (0, 1, 0)]
    finally:
        fleet.owm.clear_fault()
    assert results == [grpc.StatusCode.UNAVAILABLE] * 3
    assert fleet.owm.forecast_count - before == 1
    # The weather of the place is not the forecast's failure.
    assert fleet.call(1, "31401")[0] is grpc.StatusCode.OK


@pytest.mark.parametrize(("fault", "code", "status"), [
    ("503", "31601", grpc.StatusCode.UNAVAILABLE),
    ("400", "31602", grpc.StatusCode.INVALID_ARGUMENT),
])
def test_a_failed_geocoding_is_remembered_for_the_other_lookup_on_the_other_process(
    fleet: Fleet, fault: str, code: str, status: grpc.StatusCode
) -> None:
    """A page's weather and forecast may reach two replicas: the second does not geocode again."""
    fleet.owm.set_fault(fault, "geo")
    try:
        assert fleet.call(0, code)[0] is status
        assert fleet.forecast(1, code)[0] is status
    finally:
        fleet.owm.clear_fault()
    assert fleet.upstream_calls(code) == 1


def test_with_redis_stopped_lookups_still_answer_and_sharing_resumes(fleet: Fleet) -> None:
    fleet.redis.stop()
    try:
        for replica in (0, 1):
            assert fleet.call(replica, "31501")[0] is grpc.StatusCode.OK
            assert fleet.forecast(replica, "31501")[0] is grpc.StatusCode.OK
            assert fleet.forecast(replica, "31502")[0] is grpc.StatusCode.OK
        # Each process geocoded for itself (its own in-process cache): answers, not errors.
        assert fleet.upstream_calls("31501") == 2
    finally:
        fleet.redis.start()
