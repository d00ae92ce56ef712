"""The real PyOWM HTTP path against the OWM stand-in: faults, caching, single flight, stale-if-error."""

from __future__ import annotations

import threading

import grpc
import pytest
from tenki.weather.v1 import weather_pb2
from weather_servers import Client, StartServer

from support.owm_fixtures import STANDIN_API_KEY
from support.upstream_faults import FAULTS, FROM_STANDIN
from tenki_stack.owm_standin import OwmStandIn, refused_base_url
from tenki_weather.owm import OwmProvider


def test_an_answer_comes_from_openweathermap_through_pyowm(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    answer = owm_client.weather("94040-1234", "us", weather_pb2.UNITS_IMPERIAL)
    assert answer.source == "openweathermap" and not answer.stale
    assert answer.location.name == "Mountain View" and answer.location.postal_code == "94040"
    assert 0 < answer.temperature.current < 120
    (sent,) = owm_standin.requests
    # The ZIP+4 went upstream as 5 digits, with PyOWM's own parameters.
    assert sent["zip"] == "94040,us" and sent["APPID"] == STANDIN_API_KEY


@pytest.mark.parametrize("fault", FROM_STANDIN)
def test_each_upstream_fault_has_its_status_code(
    owm_client: Client, owm_standin: OwmStandIn, fault: str
) -> None:
    owm_standin.set_fault(fault)
    with pytest.raises(grpc.RpcError) as caught:
        owm_client.weather("94040", "us")
    assert caught.value.code() is FAULTS[fault].outcome.grpc_code
    assert STANDIN_API_KEY not in caught.value.details()
    assert "Traceback" not in caught.value.details()
    assert owm_standin.request_count == 1


def test_connection_refused_is_unavailable(start_server: StartServer) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=refused_base_url(), OWM_TIMEOUT_SECONDS="2"
    )
    with pytest.raises(grpc.RpcError) as caught:
        client.weather("94040")
    assert caught.value.code() is FAULTS["refused"].outcome.grpc_code
    assert "could not connect" in caught.value.details()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_pyowm_raises_what_the_fault_table_says(owm_standin: OwmStandIn, fault: str) -> None:
    # The unit tests map the table's PyOWM errors; here PyOWM itself meets each fault over HTTP.
    if fault == "refused":
        base_url = refused_base_url()
    else:
        base_url = owm_standin.base_url
        owm_standin.set_fault(fault)
    manager = OwmProvider(STANDIN_API_KEY, base_url, 1)._manager
    with pytest.raises(Exception) as caught:
        manager.weather_at_zip_code("94040", "us")
    # Exactly the class: PyOWM's errors subclass APIRequestError, which would match them all.
    assert type(caught.value) is type(FAULTS[fault].pyowm_error)


def test_an_unknown_postal_code_is_not_found(owm_client: Client) -> None:
    assert owm_client.code_of("00000", "us") is grpc.StatusCode.NOT_FOUND


def test_invalid_input_never_reaches_upstream(owm_client: Client, owm_standin: OwmStandIn) -> None:
    assert owm_client.code_of("9404", "us") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_client.code_of("94040", "zz") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_standin.request_count == 0


def test_answers_are_cached_per_place_whatever_the_units(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    metric = owm_client.weather("94040", "us", weather_pb2.UNITS_METRIC)
    imperial = owm_client.weather("94040", "US", weather_pb2.UNITS_IMPERIAL)
    kelvin = owm_client.weather(" 94040-0001", "", weather_pb2.UNITS_STANDARD)
    assert owm_standin.request_count == 1
    assert imperial.temperature.current == pytest.approx(metric.temperature.current * 9 / 5 + 32, abs=0.02)
    assert kelvin.temperature.current == pytest.approx(metric.temperature.current + 273.15, abs=0.02)
    owm_client.weather("10001", "us")
    assert owm_standin.request_count == 2


def test_concurrent_requests_for_a_cold_place_make_one_upstream_call(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    # The stand-in answers slowly, so the 20 calls overlap the first one's upstream request.
    owm_standin.set_latency(1.5)
    barrier = threading.Barrier(20)
    codes: list[grpc.StatusCode] = []

    def call() -> None:
        barrier.wait(timeout=30)
        codes.append(owm_client.code_of("10115", "de"))

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [grpc.StatusCode.OK] * 20
    assert owm_standin.request_count == 1


@pytest.mark.parametrize("fault", ["401", "404", "404-in-body", "429", "500", "503", "malformed"])
def test_a_cached_entry_is_served_stale_when_upstream_fails(
    start_server: StartServer, owm_standin: OwmStandIn, fault: str
) -> None:
    # TTL 0: every call goes upstream, so the second one meets the fault.
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, CACHE_TTL_SECONDS="0"
    )
    fresh = client.weather("94040", "us")
    owm_standin.set_fault(fault)
    if not FAULTS[fault].outcome.serves_stale:
        # Out of stale-if-error's scope: an unknown place is NOT_FOUND, never the old entry.
        assert client.code_of("94040", "us") is grpc.StatusCode.NOT_FOUND
        assert owm_standin.request_count == 2
        return
    stale = client.weather("94040", "us")
    assert stale.stale and not fresh.stale
    assert stale.temperature.current == fresh.temperature.current
    assert stale.fetch_time == fresh.fetch_time
    assert owm_standin.request_count == 2


def test_no_stale_entry_beyond_the_stale_window(start_server: StartServer, owm_standin: OwmStandIn) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY,
        OWM_BASE_URL=owm_standin.base_url,
        CACHE_TTL_SECONDS="0",
        STALE_IF_ERROR_SECONDS="0",
    )
    client.weather("94040", "us")
    owm_standin.set_fault("500")
    assert client.code_of("94040", "us") is grpc.StatusCode.UNAVAILABLE


def test_the_own_rate_limit_answers_resource_exhausted(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, OWM_RATE_LIMIT_PER_MINUTE="2"
    )
    assert [client.code_of(code, "us") for code in ("10001", "10002", "10003")] == [
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ]
    assert owm_standin.request_count == 2
    # Cached places are still answered.
    assert client.code_of("10001", "us") is grpc.StatusCode.OK


def test_owm_forced_without_a_key_is_failed_precondition(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    client = start_server(WEATHER_PROVIDER="owm", OWM_BASE_URL=owm_standin.base_url)
    with pytest.raises(grpc.RpcError) as caught:
        client.weather("94040")
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "OWM_API_KEY" in caught.value.details()
    assert owm_standin.request_count == 0
