"""Upstream fault matrix: every way OpenWeatherMap can fail, seen from every surface a user has.

For each fault of the upstream fault table (support.upstream_faults) we check what a user of each surface
sees: the gRPC status code, the frontend's HTTP status and page text, the JSON API's error body, and the
weather service's JSON log line for that request (found by its request id). Then the same faults with a
cached entry present: the stale entry is served and marked stale, and no error reaches the user.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import grpc
import pytest
import requests
from support.upstream_faults import FAULTS, FROM_STANDIN, Outcome
from tenki_stack.owm_standin import OwmStandIn, refused_base_url

import drills
from drills import Stack, canary_key, owm_env, start_stack


_zips = itertools.count(10001)


def fresh_zip() -> str:
    """A US postal code no earlier request used, so nothing about it is cached."""
    return f"{next(_zips):05d}"


def request_id() -> str:
    return "drill-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def owm() -> Iterator[OwmStandIn]:
    # "slow" sleeps past the shipped OWM_TIMEOUT_SECONDS (3 s) and the frontend's deadline (4 s).
    standin = OwmStandIn(slow_seconds=6)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def fault_stack(owm: OwmStandIn) -> Iterator[Stack]:
    """OWM provider against the stand-in, nothing cached between tests (fresh postal codes)."""
    with ExitStack() as exits:
        yield start_stack(owm_env(owm.base_url, canary_key()), owm=owm, exits=exits)


@pytest.fixture(scope="module")
def stale_stack(owm: OwmStandIn) -> Iterator[Stack]:
    """A 1 s cache TTL and an hour of stale-if-error: an expired entry is the fallback for any fault."""
    env = owm_env(owm.base_url, canary_key(), CACHE_TTL_SECONDS="1", STALE_IF_ERROR_SECONDS="3600")
    with ExitStack() as exits:
        yield start_stack(env, owm=owm, exits=exits)


@pytest.fixture
def refused_stack() -> Iterator[Stack]:
    """The OWM base URL points at a port nobody listens on: connection refused."""
    with ExitStack() as exits:
        yield start_stack(owm_env(refused_base_url(), canary_key()), exits=exits)


def observe_fault(s: Stack, expected: Outcome) -> None:
    """Ask each surface for a fresh postal code and check what each shows for the injected fault."""
    # gRPC, called directly.
    rid = request_id()
    channel, stub = drills.weather_stub(s.weather_addr)
    with channel:
        code, error = drills.get_weather(stub, fresh_zip(), request_id=rid, timeout=15)
    assert code == expected.grpc_code, f"gRPC: {code} {getattr(error, 'details', lambda: '')()}"
    assert error.details(), "the gRPC error carries a human message"
    assert "Traceback" not in error.details()
    grpc_rid = rid

    with requests.Session() as http:
        # The page.
        rid = request_id()
        page = http.get(f"{s.url}/weather", params={"zip": fresh_zip(), "country": "us", "units": "metric"},
                        headers={"X-Request-ID": rid}, timeout=20)
        assert page.status_code == expected.http_status, page.text[:500]
        assert page.headers["Content-Type"].startswith("text/html")
        assert expected.page_text in page.text.lower()
        assert "Traceback" not in page.text
        page_rid = rid

        # The JSON API.
        rid = request_id()
        api = http.get(f"{s.url}/api/v1/weather", params={"zip": fresh_zip(), "country": "us"},
                       headers={"X-Request-ID": rid}, timeout=20)
        assert api.status_code == expected.http_status, api.text[:500]
        body = api.json()
        assert set(body) == {"error"}, body
        assert body["error"]["code"] == expected.api_code, body
        assert body["error"]["message"], body
        api_rid = rid

    # One JSON log line per RPC in the weather service's log, carrying the request id and the status code.
    def logged() -> bool:
        records = drills.json_lines(s.weather_log())
        return all(drills.records_with(records, r) for r in (grpc_rid, page_rid, api_rid))

    assert drills.wait_until(logged, timeout=5), "every request id appears in the weather service's log"
    records = drills.json_lines(s.weather_log())
    for rid in (grpc_rid, page_rid, api_rid):
        lines = [r for r in drills.records_with(records, rid) if expected.grpc_code.name in r.values()]
        assert lines, f"no {expected.grpc_code.name} log line for {rid}: {drills.records_with(records, rid)}"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", FROM_STANDIN)
def test_fault_without_cache(kind: str, fault_stack: Stack, owm: OwmStandIn) -> None:
    owm.set_fault(kind)
    try:
        before = owm.request_count
        observe_fault(fault_stack, FAULTS[kind].outcome)
        # One direct gRPC call, one page view and one API call (fresh postal codes): exactly one upstream
        # request each, whatever the fault; no retry of the frontend's channel repeats one.
        assert owm.request_count - before == 3, owm.requests[before:]
    finally:
        owm.clear_fault()


@pytest.mark.timeout(180)
def test_connection_refused_without_cache(refused_stack: Stack) -> None:
    observe_fault(refused_stack, FAULTS["refused"].outcome)


def prime(s: Stack, postal_code: str) -> None:
    """Fetch a postal code once while upstream is healthy, so the cache holds it; then let it expire."""
    channel, stub = drills.weather_stub(s.weather_addr)
    with channel:
        code, reply = drills.get_weather(stub, postal_code, timeout=15)
    assert code == grpc.StatusCode.OK, reply
    assert reply.source == "openweathermap" and not reply.stale
    time.sleep(1.5)  # past CACHE_TTL_SECONDS=1: the entry is expired but well inside STALE_IF_ERROR_SECONDS


def observe_stale(s: Stack, postal_code: str) -> None:
    """Every surface answers from the stale entry, says so, and shows no error."""
    channel, stub = drills.weather_stub(s.weather_addr)
    with channel:
        code, reply = drills.get_weather(stub, postal_code, timeout=15)
    assert code == grpc.StatusCode.OK, reply
    assert reply.stale and reply.source == "openweathermap"

    with requests.Session() as http:
        page = http.get(f"{s.url}/weather", params={"zip": postal_code, "country": "us"}, timeout=20)
        assert page.status_code == 200, page.text[:500]
        assert "stale" in page.text.lower(), "the page marks the answer as stale"
        assert reply.location.name in page.text

        api = http.get(f"{s.url}/api/v1/weather", params={"zip": postal_code, "country": "us"}, timeout=20)
        assert api.status_code == 200, api.text[:500]
        body = api.json()
        assert body["stale"] is True and "error" not in body, body


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", FROM_STANDIN)
def test_fault_with_stale_entry(kind: str, stale_stack: Stack, owm: OwmStandIn) -> None:
    postal_code = fresh_zip()
    owm.clear_fault()
    prime(stale_stack, postal_code)
    owm.set_fault(kind)
    try:
        before = owm.request_count
        if FAULTS[kind].outcome.serves_stale:
            observe_stale(stale_stack, postal_code)
        else:
            # Out of stale-if-error's scope: the place is unknown now, and the answer says so.
            channel, stub = drills.weather_stub(stale_stack.weather_addr)
            with channel:
                code, _ = drills.get_weather(stub, postal_code, timeout=15)
            assert code == FAULTS[kind].outcome.grpc_code
        assert owm.request_count > before, "the expired entry made the service ask upstream again"
    finally:
        owm.clear_fault()


@pytest.mark.timeout(180)
def test_connection_refused_with_stale_entry() -> None:
    owm = OwmStandIn()
    env = owm_env(owm.base_url, canary_key(), CACHE_TTL_SECONDS="1", STALE_IF_ERROR_SECONDS="3600")
    with ExitStack() as exits:
        exits.callback(owm.stop)
        s = start_stack(env, owm=owm, exits=exits)
        postal_code = fresh_zip()
        prime(s, postal_code)
        owm.stop()  # its port is closed now: every upstream call is refused
        assert not drills.port_open(owm.port)
        observe_stale(s, postal_code)
