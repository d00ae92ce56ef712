"""`tenki` as a user runs it: serve in a subprocess, JSON logs, graceful SIGTERM, check and weather."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from weather_servers import DEADLINE

from support.owm_fixtures import STANDIN_API_KEY
from tenki_stack.owm_standin import OwmStandIn, refused_base_url
from tenki_weather import cli
from tenki_weather.config import env_var_names

TENKI = str(Path(sys.executable).parent / "tenki")


def clean_env(**env: str) -> dict[str, str]:
    """The parent environment without any tenki setting, plus `env`."""
    names = env_var_names()
    base = {key: value for key, value in os.environ.items() if key not in names}
    return {**base, "WEATHER_HOST": "127.0.0.1", "WEATHER_PORT": "0", "METRICS_PORT": "0", **env}


class ServeProcess:
    """`tenki serve` in a subprocess; its stdout lines collected by a thread; the bound address parsed."""

    def __init__(self, **env: str) -> None:
        self.proc = subprocess.Popen(
            [TENKI, "serve"],
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        listening = self.wait_for("weather service listening")
        self.addr = json.loads(listening)["address"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = DEADLINE) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no log line with {text!r}; seen: {self.seen}") from None
            self.seen.append(line)
            if text in line:
                return line

    def drain(self) -> list[dict]:
        """Every line so far (after the process ended: all of them), parsed as JSON."""
        while True:
            try:
                self.seen.append(self.lines.get(timeout=1))
            except queue.Empty:
                break
        return [json.loads(line) for line in self.seen]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=DEADLINE)


@pytest.fixture
def serve_processes():
    started: list[ServeProcess] = []

    def start(**env: str) -> ServeProcess:
        process = ServeProcess(**env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(timeout=DEADLINE)


def tenki(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TENKI, *args], env=clean_env(**env), capture_output=True, text=True, timeout=60)


def test_serve_in_demo_mode_answers_logs_json_and_stops_cleanly(serve_processes) -> None:
    server = serve_processes()
    # The log says so at start-up.
    assert "DEMO MODE" in server.wait_for("DEMO MODE")

    answer = tenki(
        "weather", "94040", "--units", "imperial", "--addr", server.addr, "--request-id", "cli-req-1"
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("Mountain View, US (94040)")
    assert "°F" in answer.stdout and "mph" in answer.stdout and "demo" in answer.stdout

    bad = tenki("weather", "9404", "--addr", server.addr)
    assert bad.returncode == 1
    assert bad.stderr.startswith("INVALID_ARGUMENT:")
    assert "postal_code: a US ZIP code is 5 digits" in bad.stderr
    assert "Traceback" not in bad.stderr

    unknown = tenki("weather", "00000", "--addr", server.addr)
    assert unknown.returncode == 1 and unknown.stderr.startswith("NOT_FOUND:")

    check = tenki("check", "--addr", server.addr)
    assert check.returncode == 0, check.stdout
    assert f"[ OK ] server {server.addr}: health SERVING" in check.stdout

    assert server.stop() == 0
    lines = server.drain()
    rpc_lines = [line for line in lines if line.get("message") == "rpc"]
    first = next(line for line in rpc_lines if line["request_id"] == "cli-req-1")
    assert first["code"] == "OK" and first["cache"] == "miss" and first["postal_code"] == "94040"
    assert first["method"] == "/tenki.weather.v1.WeatherService/GetCurrentWeather"
    assert {line["code"] for line in rpc_lines} >= {"OK", "INVALID_ARGUMENT", "NOT_FOUND"}
    assert all(line["request_id"] for line in rpc_lines)
    assert lines[-1]["message"] == "weather service stopped"


def test_sigterm_turns_health_not_serving_and_lets_in_flight_calls_finish(
    serve_processes, owm_standin: OwmStandIn
) -> None:
    owm_standin.set_latency(3)
    server = serve_processes(
        OWM_API_KEY=STANDIN_API_KEY,
        OWM_BASE_URL=owm_standin.base_url,
        OWM_TIMEOUT_SECONDS="20",
        SHUTDOWN_DRAIN_SECONDS="2",
        SHUTDOWN_GRACE_SECONDS="20",
    )
    channel = grpc.insecure_channel(server.addr)
    in_flight = weather_pb2_grpc.WeatherServiceStub(channel).GetCurrentWeather.future(
        weather_pb2.GetCurrentWeatherRequest(postal_code="94040"), timeout=DEADLINE
    )
    # Upstream has the request: the call is in flight.
    arrived = threading.Event()
    while owm_standin.request_count == 0 and not in_flight.done():
        arrived.wait(0.02)
    server.proc.send_signal(signal.SIGTERM)

    health = health_pb2_grpc.HealthStub(channel)
    statuses = []
    for _ in range(200):
        try:
            request = health_pb2.HealthCheckRequest(service="tenki.weather.v1.WeatherService")
            status = health.Check(request, timeout=5)
        except grpc.RpcError:
            break  # the listener is closed
        statuses.append(status.status)
        if status.status == health_pb2.HealthCheckResponse.NOT_SERVING:
            break
        arrived.wait(0.05)
    assert statuses and statuses[-1] == health_pb2.HealthCheckResponse.NOT_SERVING

    answer = in_flight.result(timeout=DEADLINE)
    assert answer.location.name == "Mountain View" and answer.source == "openweathermap"
    assert server.proc.wait(timeout=DEADLINE) == 0
    channel.close()
    messages = [line["message"] for line in server.drain()]
    assert "shutdown requested" in messages and messages[-1] == "weather service stopped"
    assert STANDIN_API_KEY not in "\n".join(server.seen)


def test_serve_refuses_bad_configuration() -> None:
    result = tenki("serve", OWM_TIMEOUT_SECONDS="soon")
    assert result.returncode == 2
    assert "OWM_TIMEOUT_SECONDS" in result.stderr and "Traceback" not in result.stderr


def test_weather_without_a_server_is_unavailable() -> None:
    addr = refused_base_url().split("/")[2]
    result = tenki("weather", "94040", "--addr", addr, "--timeout", "5")
    assert result.returncode == 1
    assert result.stderr.startswith("UNAVAILABLE:")


def run_check(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in env_var_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    return cli.run_check(None, 5.0, out=out), out.getvalue()


def test_check_reaches_openweathermap(monkeypatch: pytest.MonkeyPatch, owm_standin: OwmStandIn) -> None:
    status, out = run_check(monkeypatch, OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url)
    assert status == 0, out
    assert "[ OK ] provider: OpenWeatherMap" in out
    assert f"[ OK ] upstream: {owm_standin.base_url} answered" in out
    assert owm_standin.request_count == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("401", "FAILED_PRECONDITION"), ("503", "UNAVAILABLE"), ("404", None)],
)
def test_check_gives_a_verdict_on_upstream_faults(
    monkeypatch: pytest.MonkeyPatch, owm_standin: OwmStandIn, fault: str, expected: str | None
) -> None:
    owm_standin.set_fault(fault)
    status, out = run_check(monkeypatch, OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url)
    if expected is None:
        # A 404 is an answer: the upstream is reachable.
        assert status == 0 and "[ OK ] upstream" in out
    else:
        assert status == 1 and f"[FAIL] upstream: {owm_standin.base_url}: {expected}" in out
    assert STANDIN_API_KEY not in out


def test_check_fails_when_upstream_refuses_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch, OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=refused_base_url())
    assert status == 1 and "could not connect" in out


def test_check_of_a_server_that_is_not_there(monkeypatch: pytest.MonkeyPatch) -> None:
    addr = refused_base_url().split("/")[2]
    for name in env_var_names():
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    assert cli.run_check(addr, 2.0, out=out) == 1
    assert f"[FAIL] server {addr}: UNAVAILABLE" in out.getvalue()
