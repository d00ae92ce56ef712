"""Graceful shutdown: SIGTERM during steady load loses no in-flight request, and readiness drops first.

Each request is made slow on purpose (the OWM stand-in answers after 1 s, and every request asks for a
postal code nobody asked for before, so none is a cache hit), which guarantees requests are in flight when
SIGTERM arrives. A request counts as in flight when the stand-in has seen its postal code before the signal
was sent: it was inside the service for sure. Each of those must succeed. Pollers in other threads record
the order of events: when the weather service stops, its health reports NOT_SERVING and the frontend's
/readyz 503 before its listener closes; when the frontend stops, its own /readyz says 503 (its drain)
before its listener closes.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import grpc
import pytest
import requests
from tenki_stack import ServiceProcess, start_frontend, start_weather
from tenki_stack.owm_standin import OwmStandIn

import drills
from drills import EventLog, Poller, SteadyLoad, canary_key, free_port, owm_env, tally

UPSTREAM_LATENCY = 1.0
WORKERS = 4
Report = Callable[[str, dict[str, Any]], None]
_zips = itertools.count(30001)


def next_zip() -> str:
    return f"{next(_zips):05d}"


@pytest.fixture
def slow_owm() -> Iterator[OwmStandIn]:
    standin = OwmStandIn(latency=UPSTREAM_LATENCY)
    yield standin
    standin.stop()


def inflight_zips(owm: OwmStandIn) -> set[str]:
    return {params.get("zip", "").partition(",")[0] for params in owm.requests}


def readyz(url: str) -> str:
    try:
        return str(requests.get(f"{url}/readyz", timeout=2).status_code)
    except requests.RequestException as exc:
        return f"error:{type(exc).__name__}"


def weather_seen_by_frontend(url: str) -> str:
    """The weather service's health as the frontend's /readyz body names it (not its readiness)."""
    try:
        return str(requests.get(f"{url}/readyz", timeout=2).json().get("weather_service"))
    except (requests.RequestException, ValueError) as exc:
        return f"error:{type(exc).__name__}"


def listener(port: int) -> str:
    return "open" if drills.port_open(port) else "closed"


def order(events: EventLog, first: str, then: str) -> None:
    """Assert that event `first` happened, and before `then` (which must happen too)."""
    t_first, t_then = events.first(first), events.first(then)
    timeline = "\n".join(events.summary())
    assert t_first is not None, f"never saw {first}:\n{timeline}"
    assert t_then is not None, f"never saw {then}:\n{timeline}"
    assert t_first < t_then, f"{first} came after {then}:\n{timeline}"


def sigterm_under_load(
    service: ServiceProcess,
    owm: OwmStandIn,
    call: Callable[[int, int], tuple[str, str]],
    success: str,
    pollers: list[Poller],
    events: EventLog,
    drill_report: Report,
) -> dict[str, Any]:
    """Run steady load, SIGTERM `service` while requests are in flight, and report what happened.

    `call` returns (result, postal code); `success` is the result every in-flight request must have.
    """
    with ExitStack() as polling:
        for poller in pollers:
            polling.enter_context(poller)
        with SteadyLoad(call, workers=WORKERS, pause=0.05) as load:
            assert load.wait_for(WORKERS * 2, timeout=60), "the load started"

            # In flight: the stand-in has seen the code (its geocoding) and the load has no answer for it yet.
            # A lookup is two upstream requests now, so counting requests alone can land between two lookups.
            def pending() -> set[str]:
                return inflight_zips(owm) - {o.tag for o in load.outcomes} - {""}

            assert drills.wait_until(lambda: bool(pending()), timeout=30)
            inflight = inflight_zips(owm)
            events.add("SIGTERM")
            t_term = time.monotonic()
            os.kill(service.pid, signal.SIGTERM)
            exit_code = drills.wait_exit(service, timeout=40)
            events.add("exited", str(exit_code))
            time.sleep(0.5)
    inflight_outcomes = [o for o in load.outcomes if o.tag in inflight]
    report = {
        "requests": tally(load.outcomes),
        "in_flight_at_sigterm": len([o for o in inflight_outcomes if o.end >= t_term]),
        "failed_in_flight": [(o.tag, o.result) for o in inflight_outcomes if o.result != success],
        "exit_code": exit_code,
        "timeline": events.summary(),
    }
    drill_report(f"{service.name} SIGTERM under load", report)
    assert exit_code == 0, report
    assert report["in_flight_at_sigterm"] >= 1, f"no request was in flight at SIGTERM: {report}"
    assert not report["failed_in_flight"], report
    return report


@pytest.mark.timeout(240)
def test_weather_service_sigterm_under_load(slow_owm: OwmStandIn, drill_report: Report) -> None:
    env = owm_env(slow_owm.base_url, canary_key(), SHUTDOWN_GRACE_SECONDS="10")
    port = free_port()
    events = EventLog()
    with ExitStack() as exits:
        weather = start_weather(env, port=port, metrics_port=free_port())
        exits.callback(weather.kill)
        frontend = start_frontend(
            {}, port=free_port(), weather_addr=weather.addr
        )
        exits.callback(frontend.stop)
        url = str(frontend.url).rstrip("/")
        channel, stub = drills.weather_stub(weather.addr)
        exits.callback(channel.close)
        health_channel = grpc.insecure_channel(weather.addr)
        exits.callback(health_channel.close)

        def call(worker: int, n: int) -> tuple[str, str]:
            postal_code = next_zip()
            code, _ = drills.get_weather(stub, postal_code, timeout=20)
            return code.name, postal_code

        pollers = [
            Poller("health", lambda: drills.health_status(health_channel), events),
            Poller("listener", lambda: listener(port), events),
            Poller("frontend_sees", lambda: weather_seen_by_frontend(url), events, interval=0.1),
        ]
        sigterm_under_load(weather, slow_owm, call, "OK", pollers, events, drill_report)
    # Readiness drops while the server still answers: clients and load balancers stop sending first; the
    # frontend's /readyz body shows it (its own readiness does not follow the weather service any more).
    order(events, "health=NOT_SERVING", "listener=closed")
    order(events, "frontend_sees=NOT_SERVING", "listener=closed")


@pytest.mark.timeout(240)
def test_frontend_sigterm_under_load(slow_owm: OwmStandIn, drill_report: Report) -> None:
    env = owm_env(slow_owm.base_url, canary_key())
    port = free_port()
    events = EventLog()
    with ExitStack() as exits:
        weather = start_weather(env, port=free_port(), metrics_port=free_port())
        exits.callback(weather.stop)
        frontend = start_frontend(
            {
                "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "4",
                "SHUTDOWN_DRAIN_SECONDS": "3",  # generous: the pollers share 2 busy cores
            },
            port=port, weather_addr=weather.addr,
        )
        exits.callback(frontend.kill)
        url = str(frontend.url).rstrip("/")
        sessions = [requests.Session() for _ in range(WORKERS)]
        for session in sessions:
            exits.callback(session.close)

        def call(worker: int, n: int) -> tuple[str, str]:
            postal_code = next_zip()
            path = "/weather" if n % 2 else "/api/v1/weather"
            query = {"zip": postal_code, "country": "us"}
            reply = sessions[worker].get(f"{url}{path}", params=query, timeout=20)
            return str(reply.status_code), postal_code

        pollers = [
            Poller("readyz", lambda: readyz(url), events),
            Poller("listener", lambda: listener(port), events),
        ]
        sigterm_under_load(frontend, slow_owm, call, "200", pollers, events, drill_report)
    # gunicorn itself closes its listener at SIGTERM; the packaged config first drains (draining.py):
    # /readyz says 503 for SHUTDOWN_DRAIN_SECONDS while requests are still served.
    order(events, "readyz=503", "listener=closed")
