"""Tools the reliability drills share: a bounded load generator, JSON-log parsing, small HTTP/gRPC helpers.

Every client here talks to 127.0.0.1 only and every call carries a timeout, so no drill can hang.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
import tenki_stack
from hypothesis import HealthCheck, settings
from tenki_stack.owm_standin import OwmStandIn
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

LOCALHOST = "127.0.0.1"

# The fuzzing drills' hypothesis profile: deterministic in CI (derandomized, no example database, so a run
# never depends on an earlier one), no per-example deadline (each drill asserts its own bound per answer,
# and a loaded machine must not turn slowness into a flaky failure). Used by name, never loaded globally.
FUZZ_PROFILE = "tenki-reliability"
settings.register_profile(
    FUZZ_PROFILE,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WEATHER_SERVICE_NAME = "tenki.weather.v1.WeatherService"


# The JSON objects among the lines of a service's captured stdout; other lines are skipped.
json_lines = tenki_stack.json_records


def records_with(records: Iterable[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    """The log records in which some field's value equals `value` (e.g. a request id)."""
    return [r for r in records if value in {str(v) for v in r.values()}]


def port_open(port: int) -> bool:
    """True while something accepts TCP connections on 127.0.0.1:port (the listener is open)."""
    return tenki_stack.port_in_use(port, LOCALHOST)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; return whether it held."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def weather_stub(addr: str) -> tuple[grpc.Channel, weather_pb2_grpc.WeatherServiceStub]:
    channel = grpc.insecure_channel(addr)
    return channel, weather_pb2_grpc.WeatherServiceStub(channel)


def health_status(channel: grpc.Channel, service: str = "", timeout: float = 1.0) -> str:
    """The gRPC health status name (SERVING, NOT_SERVING, ...) or the RPC error's code name."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def get_weather(
    stub: weather_pb2_grpc.WeatherServiceStub,
    postal_code: str,
    country: str = "us",
    units: int = weather_pb2.UNITS_METRIC,
    timeout: float = 10.0,
    request_id: str | None = None,
) -> tuple[grpc.StatusCode, Any]:
    """Call GetCurrentWeather; return (code, response) on success or (code, RpcError) on failure."""
    request = weather_pb2.GetCurrentWeatherRequest(postal_code=postal_code, country_code=country, units=units)
    metadata = (("x-request-id", request_id),) if request_id else None
    try:
        reply = stub.GetCurrentWeather(request, timeout=timeout, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code(), exc
    return grpc.StatusCode.OK, reply


@dataclass(frozen=True)
class Outcome:
    """One request of a load run: when it started and ended (monotonic seconds) and how it ended."""

    start: float
    end: float
    result: str  # an HTTP status ("200", "503"), a gRPC code name, or "error:<ExceptionName>"
    tag: Any = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class SteadyLoad:
    """A fixed number of worker threads calling `call(worker, n)` in a loop until stopped.

    `call` returns (result, tag) and must bound its own time (a client timeout); an exception it raises is
    recorded as "error:<type>". The pool is bounded, so the load stays steady and small.
    """

    call: Callable[[int, int], tuple[str, Any]]
    workers: int = 4
    pause: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(w,), name=f"load-{w}", daemon=True)
            for w in range(self.workers)
        ]

    def _run(self, worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                result, tag = self.call(worker, n)
            except Exception as exc:  # noqa: BLE001 -- every failure is data for the drill
                result, tag = f"error:{type(exc).__name__}", repr(exc)[:300]
            outcome = Outcome(start, time.monotonic(), result, tag)
            with self._lock:
                self.outcomes.append(outcome)
            n += 1
            if self.pause:
                self._stop.wait(self.pause)

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least `count` requests have completed."""
        return wait_until(lambda: len(self.snapshot()) >= count, timeout)


def tally(outcomes: Iterable[Outcome]) -> dict[str, int]:
    return dict(sorted(Counter(o.result for o in outcomes).items()))


class EventLog:
    """A thread-safe list of (monotonic time, event name, detail) to establish the order of events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[float, str, str]] = []

    def add(self, name: str, detail: str = "") -> None:
        with self._lock:
            self.events.append((time.monotonic(), name, detail))

    def first(self, name: str) -> float | None:
        with self._lock:
            return next((t for t, n, _ in self.events if n == name), None)

    def summary(self) -> list[str]:
        with self._lock:
            if not self.events:
                return []
            t0 = self.events[0][0]
            return [f"+{t - t0:6.3f}s {n} {d}".rstrip() for t, n, d in self.events]


class Poller:
    """Polls `probe()` every `interval` seconds in a thread, recording each change of its answer."""

    def __init__(self, name: str, probe: Callable[[], str], events: EventLog, interval: float = 0.05) -> None:
        self.name, self.probe, self.events, self.interval = name, probe, events, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{name}", daemon=True)
        self.last: str | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.probe()
            except Exception as exc:  # noqa: BLE001 -- a probe failure is an observation
                answer = f"error:{type(exc).__name__}"
            if answer != self.last:
                self.events.add(f"{self.name}={answer}")
                self.last = answer
            self._stop.wait(self.interval)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


free_port = tenki_stack.free_port


def output_of(service: tenki_stack.ServiceProcess) -> str:
    """What a service wrote to stdout and stderr so far (tenki_stack captures both into one file)."""
    return service.output()


def wait_exit(service: tenki_stack.ServiceProcess, timeout: float) -> int | None:
    """Wait up to `timeout` seconds for the service to exit on its own; its exit code, or None."""
    wait_until(lambda: not service.running(), timeout, interval=0.05)
    return service.returncode


def canary_key() -> str:
    """An OWM key that exists only in this test run, so finding it anywhere proves a leak."""
    return "canary-" + uuid.uuid4().hex


@dataclass
class Stack:
    """A running weather service and frontend (and the OWM stand-in behind them, when one is used)."""

    weather: Any
    frontend: Any
    weather_env: dict[str, str]
    frontend_env: dict[str, str]
    owm: OwmStandIn | None = None
    metrics_port: int = 0

    @property
    def url(self) -> str:
        return str(self.frontend.url).rstrip("/")

    @property
    def weather_addr(self) -> str:
        return str(self.weather.addr)

    def weather_log(self) -> str:
        return output_of(self.weather)

    def frontend_log(self) -> str:
        return output_of(self.frontend)


def owm_env(owm_base_url: str, key: str, **extra: str) -> dict[str, str]:
    """Weather service settings for the OWM provider against a stand-in (no upstream budget in the way);
    the time budget is the shipped one (OWM_TIMEOUT_SECONDS and the frontend's deadline unset)."""
    return {
        "WEATHER_PROVIDER": "owm",
        "OWM_API_KEY": key,
        "OWM_BASE_URL": owm_base_url,
        "OWM_RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_LEVEL": "INFO",
        **extra,
    }


# A drill is one client hammering from 127.0.0.1; its subject is faults and input, not fairness, so the
# per-client limits (README "Fairness") stay on but far above any drill's rate.
UNLIMITED = {
    "RATE_LIMIT_DEFAULT": "1000000/second",
    "RATE_LIMIT_UPSTREAM": "1000000/second",
    "GRPC_RATE_LIMIT_UPSTREAM": "1000000/second",
}


def start_stack(
    weather_env: dict[str, str],
    frontend_env: dict[str, str] | None = None,
    owm: OwmStandIn | None = None,
    exits: ExitStack | None = None,
) -> Stack:
    """Start the weather service then the frontend; `exits` (when given) stops both, frontend first."""
    weather_env = {**UNLIMITED, **weather_env}
    frontend_env = {**UNLIMITED, **(frontend_env or {})}
    metrics_port = free_port()
    weather = tenki_stack.start_weather(weather_env, port=free_port(), metrics_port=metrics_port)
    if exits is not None:
        exits.callback(weather.stop)
    frontend = tenki_stack.start_frontend(frontend_env, port=free_port(), weather_addr=weather.addr)
    if exits is not None:
        exits.callback(frontend.stop)
    return Stack(weather, frontend, weather_env, frontend_env, owm, metrics_port)
