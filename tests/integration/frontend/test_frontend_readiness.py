"""/readyz is the frontend's own readiness: 200 while the weather service is down (its state in the body),
so users get tenki's 503 page with Retry-After for weather and the form page still works.

These tests stop and start the weather service, so they run their own processes, not the shared stack.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from tenki_stack import ServiceProcess, free_port, start_frontend, start_weather

from tenki_stack.owm_standin import OwmStandIn
from support.stack_fixtures import STANDIN_KEY

WAIT = 60.0  # bounded waits: the frontend's channel reconnects with a backoff of at most 2 s


def weather_env(owm: OwmStandIn) -> dict[str, str]:
    return {"WEATHER_PROVIDER": "owm", "OWM_API_KEY": STANDIN_KEY, "OWM_BASE_URL": owm.base_url}


def wait_for_status(url: str, status: int, timeout: float = WAIT) -> requests.Response:
    """GET `url` until it answers `status`; fail with the last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: requests.Response | None = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(url, timeout=30)
        except requests.RequestException:
            last = None
        if last is not None and last.status_code == status:
            return last
        time.sleep(0.3)
    seen = "no answer" if last is None else f"{last.status_code} {last.text[:200]}"
    raise AssertionError(f"{url} did not answer {status} within {timeout:.0f} s (last: {seen})")


@pytest.fixture
def services(owm_standin: OwmStandIn) -> Iterator[dict[str, ServiceProcess]]:
    """The weather service and the frontend; the test may replace "weather" with a restarted one."""
    running: dict[str, ServiceProcess] = {}
    try:
        running["weather"] = start_weather(weather_env(owm_standin), metrics_port=0)
        # The shipped budget (WEATHER_DEADLINE_SECONDS and the service's OWM_TIMEOUT_SECONDS defaults).
        running["frontend"] = start_frontend({"GUNICORN_WORKERS": "1"}, weather_addr=running["weather"].addr)
        yield running
    finally:
        for service in reversed(list(running.values())):
            service.stop()


def test_a_weather_outage_keeps_the_frontend_ready_and_reaches_users_as_tenkis_503(
    services: dict[str, ServiceProcess], owm_standin: OwmStandIn
) -> None:
    weather, frontend = services["weather"], services["frontend"]
    ready = wait_for_status(f"{frontend.url}/readyz", 200)
    assert ready.json() == {"status": "ready", "weather_service": "SERVING"}
    port = weather.port

    assert weather.stop() is not None
    deadline = time.monotonic() + WAIT
    while requests.get(f"{frontend.url}/readyz", timeout=30).json()["weather_service"] == "SERVING":
        assert time.monotonic() < deadline, "the weather service's state never left SERVING"
        time.sleep(0.3)
    down = requests.get(f"{frontend.url}/readyz", timeout=30)
    assert down.status_code == 200 and down.json()["status"] == "ready"
    assert down.json()["weather_service"] in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "NOT_SERVING")
    home = requests.get(frontend.url + "/", timeout=30)
    assert home.status_code == 200 and 'name="zip"' in home.text
    page = requests.get(f"{frontend.url}/weather", params={"zip": "94040", "country": "us"}, timeout=30)
    assert page.status_code == 503
    assert "Weather service unavailable" in page.text and page.headers["Retry-After"].isdigit()
    api = requests.get(f"{frontend.url}/api/v1/weather", params={"zip": "94040"}, timeout=30)
    assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"
    assert api.headers["Retry-After"].isdigit()

    services["weather"] = start_weather(weather_env(owm_standin), port=port, metrics_port=0)
    restarted = time.monotonic()
    wait_for_status(f"{frontend.url}/weather?zip=94040&country=us", 200, timeout=10)
    assert time.monotonic() - restarted < 10  # the channel reconnects within its 2 s backoff
    assert frontend.running()


def test_a_frontend_without_a_weather_service_is_alive_and_ready() -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    frontend = start_frontend({"GUNICORN_WORKERS": "1"}, weather_addr=nowhere)
    try:
        ready = requests.get(f"{frontend.url}/readyz", timeout=30)
        assert ready.status_code == 200 and ready.json()["weather_service"] == "UNAVAILABLE"
        assert ready.headers["Cache-Control"] == "no-store"
        home = requests.get(frontend.url + "/", timeout=30)
        assert home.status_code == 200 and 'name="zip"' in home.text
    finally:
        frontend.stop()
