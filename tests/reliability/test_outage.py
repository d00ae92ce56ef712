"""Weather service outage under load: the frontend degrades to quick 503s and recovers on its own.

Steady load (a small, bounded pool of HTTP clients) runs against the frontend while the weather service is
killed with SIGKILL, stays down for 10 s and is started again on the same port. During the outage every
request must be answered, with a 503, within the frontend's gRPC deadline plus 1 s (none may hang); within
5 s of the weather service being back, requests succeed again, and the frontend is never touched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from tenki_stack import start_frontend, start_weather

from tenki_frontend.config import FrontendSettings

import drills
from drills import SteadyLoad, free_port, tally

# The shipped budget: the frontend's default WEATHER_DEADLINE_SECONDS, not a value of this drill's own.
DEADLINE_SECONDS = FrontendSettings.from_env({}).weather_deadline_seconds
OUTAGE_SECONDS = 10.0
RECOVERY_SECONDS = 5.0
WORKERS = 4
ZIPS = ("94040", "10001", "60601", "98101", "73301", "02134")
REPORT = Path(__file__).resolve().parents[2] / "build" / "reliability" / "outage.json"


@pytest.mark.timeout(300)
def test_weather_outage_under_load(drill_report: Callable[[str, dict[str, Any]], None]) -> None:
    weather_env = {"WEATHER_PROVIDER": "demo", "LOG_LEVEL": "WARNING"}
    weather_port, metrics_port = free_port(), free_port()
    with ExitStack() as exits:
        services = {"weather": start_weather(weather_env, port=weather_port, metrics_port=metrics_port)}
        exits.callback(lambda: services["weather"].stop())
        frontend = start_frontend(
            {**drills.UNLIMITED}, port=free_port(),
            weather_addr=services["weather"].addr,
        )
        exits.callback(frontend.stop)
        frontend_pid = frontend.pid
        url = str(frontend.url).rstrip("/")
        sessions = [requests.Session() for _ in range(WORKERS)]
        for session in sessions:
            exits.callback(session.close)

        def call(worker: int, n: int) -> tuple[str, str]:
            # Pages and the JSON API alternate; the client timeout is far above the bound, to see a hang.
            path = "/weather" if n % 2 else "/api/v1/weather"
            reply = sessions[worker].get(
                f"{url}{path}", params={"zip": ZIPS[(worker + n) % len(ZIPS)], "country": "us"},
                timeout=DEADLINE_SECONDS + 15,
            )
            return str(reply.status_code), path

        with SteadyLoad(call, workers=WORKERS, pause=0.05) as load:
            assert load.wait_for(40, timeout=60), "the load started"
            t_kill = time.monotonic()
            services["weather"].kill()
            time.sleep(OUTAGE_SECONDS / 2)
            # The frontend stays ready (its pods stay in the Service) and the form page works.
            ready = requests.get(f"{url}/readyz", timeout=5)
            outage_readyz = (ready.status_code, ready.json().get("weather_service"))
            outage_home = requests.get(f"{url}/", timeout=5).status_code
            time.sleep(max(0.0, t_kill + OUTAGE_SECONDS - time.monotonic()))
            t_restart = time.monotonic()
            services["weather"] = start_weather(
                weather_env, port=weather_port, metrics_port=metrics_port
            )
            t_ready = time.monotonic()

            def recovered() -> bool:
                return any(o.result == "200" and o.start >= t_ready for o in load.snapshot())

            drills.wait_until(recovered, timeout=30)
            # Steady state after the recovery window, to show that the successes stay.
            time.sleep(max(0.0, t_ready + RECOVERY_SECONDS + 3 - time.monotonic()))
        outcomes = load.outcomes
        # The frontend is the same process throughout: it recovered on its own, nobody restarted it.
        assert frontend.running() and frontend.pid == frontend_pid

    before = [o for o in outcomes if o.end < t_kill]
    during = [o for o in outcomes if t_kill <= o.start < t_restart]
    restarting = [o for o in outcomes if t_restart <= o.start < t_ready]
    after = [o for o in outcomes if o.start >= t_ready]
    first_ok = min((o.end for o in after if o.result == "200"), default=None)
    recovery = None if first_ok is None else round(first_ok - t_ready, 3)
    settled = [o for o in after if o.start >= t_ready + RECOVERY_SECONDS]
    report = {
        "workers": WORKERS,
        "deadline_seconds": DEADLINE_SECONDS,
        "outage_seconds": OUTAGE_SECONDS,
        "before": tally(before),
        "during_outage": tally(during),
        "while_restarting": tally(restarting),
        "after_restart": tally(after),
        "max_seconds_during_outage": round(max((o.duration for o in during), default=0.0), 3),
        "restart_to_ready_seconds": round(t_ready - t_restart, 3),
        "ready_to_first_success_seconds": recovery,
        "restart_to_first_success_seconds": None if first_ok is None else round(first_ok - t_restart, 3),
        "total": len(outcomes),
    }
    drill_report("weather service outage under load (requests by status)", report)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")

    assert before and all(o.result == "200" for o in before), report
    assert len(during) >= 20, f"too little load during the outage to prove anything: {report}"
    assert outage_readyz[0] == 200 and outage_readyz[1] != "SERVING", outage_readyz
    assert outage_home == 200
    # Every request during the outage was answered with a 503, none hung past the deadline plus 1 s.
    assert {o.result for o in during} == {"503"}, report
    slow = [round(o.duration, 2) for o in during if o.duration > DEADLINE_SECONDS + 1]
    assert not slow, f"requests took longer than the deadline + 1 s during the outage: {slow}"
    # Recovery without touching the frontend: a success within 5 s, then successes only.
    assert recovery is not None and recovery <= RECOVERY_SECONDS, report
    assert settled and all(o.result == "200" for o in settled), report
