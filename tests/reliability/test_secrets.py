"""Secrets: the OWM key never shows up anywhere a person or a scraper could read it.

The weather service gets a canary key that exists only in this run (and the stand-in accepts only that key,
which proves the key was really in use). Every upstream fault is driven through every surface, with the
services logging at DEBUG, the most talkative level. Then the canary is searched for in every log line of
both services, every page and JSON body with their headers, both /metrics pages, every gRPC error detail
and trailing metadata, and the output of `tenki check`.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import grpc
import pytest
import requests
from tenki_stack.owm_standin import FAULTS, OwmStandIn

import drills
from drills import canary_key, owm_env, start_stack

TENKI = Path(sys.executable).with_name("tenki")
_zips = itertools.count(40001)


def fresh_zip() -> str:
    return f"{next(_zips):05d}"


def http_text(reply: requests.Response) -> str:
    return "\n".join([reply.text, *(f"{k}: {v}" for k, v in reply.headers.items())])


def grpc_text(error: object) -> str:
    """Everything a gRPC client can read of an error: code, details, debug string, trailing metadata."""
    if not isinstance(error, grpc.RpcError):
        return str(error)
    parts = [str(error.code()), str(error.details()), error.debug_error_string()]  # type: ignore
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        parts.append(f"{key}: {value.decode('latin-1') if isinstance(value, bytes) else value}")
    return "\n".join(parts)


@pytest.mark.timeout(420)
def test_canary_key_leaks_nowhere() -> None:
    key = canary_key()
    secret_forms = {key, key.removeprefix("canary-")}
    seen: list[tuple[str, str]] = []  # (where, text) of everything a user or operator can read

    with ExitStack() as exits:
        owm = OwmStandIn(api_key=key)
        exits.callback(owm.stop)
        env = owm_env(
            owm.base_url, key, LOG_LEVEL="DEBUG", CACHE_TTL_SECONDS="1", STALE_IF_ERROR_SECONDS="3600"
        )
        s = start_stack(env, frontend_env={"LOG_LEVEL": "DEBUG"}, owm=owm, exits=exits)
        channel, stub = drills.weather_stub(s.weather_addr)
        exits.callback(channel.close)
        http = requests.Session()
        exits.callback(http.close)

        def drive(label: str, postal_code: str) -> None:
            code, reply = drills.get_weather(stub, postal_code, timeout=15, request_id=f"secrets-{label}")
            seen.append((f"gRPC {label} {code.name}", grpc_text(reply)))
            for path in ("/weather", "/api/v1/weather"):
                answer = http.get(f"{s.url}{path}", params={"zip": postal_code, "country": "us"}, timeout=20)
                seen.append((f"{path} {label} {answer.status_code}", http_text(answer)))

        stale_zip = fresh_zip()
        drive("healthy", stale_zip)  # also primes the cache for the stale-if-error path
        time.sleep(1.5)
        for kind in FAULTS:
            owm.set_fault(kind)
            drive(kind, fresh_zip())
            drive(f"{kind}-stale", stale_zip)
        owm.clear_fault()
        drive("invalid", "<script>")
        drive("unknown", "00000")

        checked = subprocess.run([str(TENKI), "check"], env={**os.environ, **env}, capture_output=True,
                                 text=True, timeout=120)
        seen.append(("tenki check", checked.stdout + checked.stderr))

        owm.stop()  # upstream gone: connection refused
        drive("refused", fresh_zip())
        drive("refused-stale", stale_zip)

        weather_metrics = http.get(f"http://127.0.0.1:{s.metrics_port}/metrics", timeout=10)
        seen.append(("weather /metrics", weather_metrics.text))
        frontend_metrics = f"http://127.0.0.1:{s.frontend.metrics_port}/metrics"
        seen.append(("frontend /metrics", http.get(frontend_metrics, timeout=10).text))

        used_keys = {params.get("appid") or params.get("APPID") for params in owm.requests}
        exits.close()  # stop both services, so their logs are complete (shutdown lines included)
        seen.append(("weather log", s.weather_log()))
        seen.append(("frontend log", s.frontend_log()))

    # The drill is not vacuous: the key was really sent upstream, faults really happened, logs were written.
    assert used_keys == {key}, f"the stand-in saw other keys: {used_keys}"
    assert len(drills.json_lines(s.weather_log())) >= len(FAULTS) * 6
    grpc_codes = {where.split()[-1] for where, _ in seen if where.startswith("gRPC ")}
    every_path = {
        "OK", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED", "UNAVAILABLE",
    }
    assert every_path <= grpc_codes, f"not every error path was driven: {sorted(grpc_codes)}"
    assert any("503" in where for where, _ in seen) and any("404" in where for where, _ in seen)

    leaks = [where for where, text in seen if any(form in text for form in secret_forms)]
    assert not leaks, f"the OWM key leaked into: {leaks}"
