#!/usr/bin/env python3
"""tenki's local stack: the weather service and the frontend as real processes.

As a program (`make run`): starts `tenki serve` and `tenki-frontend` in the foreground, waits until both
are ready, prints the URL, and stops both cleanly on Ctrl-C or SIGTERM. Ports follow WEATHER_PORT,
METRICS_PORT and FRONTEND_PORT, so two stacks can run side by side. Without OWM_API_KEY: demo data.

As a module (tests, drills, benchmarks; `pythonpath` puts scripts/ on sys.path):

    weather = start_weather({"WEATHER_PROVIDER": "demo"}, port=free_port(), metrics_port=0)
    frontend = start_frontend({}, port=free_port(), weather_addr=weather.addr)
    frontend.url          # http://127.0.0.1:PORT
    frontend.output()     # what it logged so far (stdout and stderr)
    frontend.log_records()  # ... its JSON log lines as dicts
    frontend.stop(); weather.stop()

    with LocalStack(weather_env={...}) as local:   # both, on free ports
        local.url, local.weather_addr

Each process runs the installed console script (found beside this Python, else on PATH) with the caller's
environment plus `env`, on 127.0.0.1, in its own session (a Ctrl-C in the terminal reaches the runner,
which stops the frontend first, then the weather service). Readiness is the weather service's gRPC health
SERVING and the frontend's /readyz 200 (or /healthz, for a frontend without a weather service).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

LOCALHOST = "127.0.0.1"
DEFAULT_TIMEOUT = 90.0  # a loaded CI machine imports grpc and Flask slowly; bounded all the same
DEFAULT_WEATHER_PORT, DEFAULT_METRICS_PORT, DEFAULT_FRONTEND_PORT = 50051, 9090, 8080


class StackError(RuntimeError):
    """A service did not start (exited, or not ready in time); the message ends with its last output."""


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = LOCALHOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def console_script(name: str) -> str:
    """The installed console script `name`: beside this interpreter (the venv/tox env), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"the command {name!r} is not installed: run `make install`")
    return found


def json_records(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of `text` (a service's captured output); other lines are skipped."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class ServiceProcess:
    """A running service: its process, address and captured output (a file, unless inherited)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        *,
        host: str,
        port: int,
        url: str,
        metrics_port: int | None = None,
        inherit_output: bool = False,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.host, self.port, self.metrics_port = host, port, metrics_port
        self.addr = f"{host}:{port}"
        self.url = url
        self.log_path: Path | None = None
        stream: IO[bytes] | None = None
        if not inherit_output:
            if log_path is None:
                fd, raw = tempfile.mkstemp(prefix=f"tenki-{name}-", suffix=".log")
                os.close(fd)
                log_path = Path(raw)
            self.log_path = log_path
            stream = open(log_path, "ab")  # noqa: SIM115 -- closed in _close_log
        self._log = stream
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT if stream is not None else None,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the service wrote to stdout and stderr so far ("" when its output is inherited)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the service wrote so far, as dicts (other lines are skipped)."""
        return json_records(self.output())

    def wait_for_log(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        """The first JSON log line that `match`es, waiting (bounded) for the service to write it."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.log_records():
                if match(entry):
                    return entry
            if time.monotonic() > deadline:
                raise StackError(
                    f"no matching log line from {self.name} within {timeout:.0f} s:\n{self.tail(20)}"
                )
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send `sig` (default SIGTERM: a graceful shutdown) and wait; SIGKILL after `timeout` seconds."""
        if self.running():
            try:
                self.process.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def kill(self) -> int | None:
        """SIGKILL the service's process group at once (gunicorn's workers too): a crash, not a shutdown."""
        if self.running():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                self._close_log()
                raise StackError(
                    f"{self.name} exited with code {self.returncode} while starting\n{self.tail()}".rstrip()
                )
            if probe():
                return
            time.sleep(0.1)
        self.kill()
        raise StackError(f"{self.name} was not ready within {timeout:.0f} s\n{self.tail()}".rstrip())

    def __repr__(self) -> str:
        return f"<ServiceProcess {self.name} pid={self.pid} addr={self.addr}>"


def grpc_serving(addr: str, timeout: float = 1.0) -> bool:
    """True when the gRPC health service at `addr` answers SERVING for the whole server ("")."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        try:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 -- our own 127.0.0.1 URL
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _environment(env: Mapping[str, str] | None, overrides: Mapping[str, str]) -> dict[str, str]:
    merged = dict(os.environ)
    merged.update(env or {})
    merged.update(overrides)
    # Services log JSON lines; unbuffered so a test sees each line as it is written.
    merged.setdefault("PYTHONUNBUFFERED", "1")
    return merged


def start_weather(
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    metrics_port: int | None = None,
    *,
    host: str = LOCALHOST,
    timeout: float = DEFAULT_TIMEOUT,
    inherit_output: bool = False,
    log_path: Path | None = None,
) -> ServiceProcess:
    """Start `tenki serve` and wait until its gRPC health is SERVING.

    `port` defaults to a free port; `metrics_port` too (0 turns the metrics listener off). `env` is laid
    over this process's environment; WEATHER_HOST/WEATHER_PORT/METRICS_PORT come from the arguments.
    """
    port = free_port(host) if port is None else port
    metrics_port = free_port(host) if metrics_port is None else metrics_port
    full_env = _environment(
        env, {"WEATHER_HOST": host, "WEATHER_PORT": str(port), "METRICS_PORT": str(metrics_port)}
    )
    service = ServiceProcess(
        "weather",
        [console_script("tenki"), "serve"],
        full_env,
        host=host,
        port=port,
        url=f"http://{host}:{metrics_port}" if metrics_port else f"grpc://{host}:{port}",
        metrics_port=metrics_port or None,
        inherit_output=inherit_output,
        log_path=log_path,
    )
    service.wait_ready(lambda: grpc_serving(service.addr), timeout)
    return service


def start_frontend(
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    weather_addr: str | None = None,
    *,
    host: str = LOCALHOST,
    timeout: float = DEFAULT_TIMEOUT,
    wait_for: Literal["readyz", "healthz"] = "readyz",
    inherit_output: bool = False,
    log_path: Path | None = None,
) -> ServiceProcess:
    """Start `tenki-frontend` (gunicorn) and wait until GET /readyz is 200 (or /healthz, `wait_for`).

    `port` defaults to a free port; `weather_addr` (host:port) to env's WEATHER_ADDR or the default.
    """
    port = free_port(host) if port is None else port
    overrides = {"FRONTEND_HOST": host, "FRONTEND_PORT": str(port)}
    if weather_addr:
        overrides["WEATHER_ADDR"] = weather_addr
    full_env = _environment(env, overrides)
    url = f"http://{host}:{port}"
    service = ServiceProcess(
        "frontend",
        [console_script("tenki-frontend")],
        full_env,
        host=host,
        port=port,
        url=url,
        inherit_output=inherit_output,
        log_path=log_path,
    )
    service.wait_ready(lambda: http_ok(f"{url}/{wait_for}"), timeout)
    return service


class LocalStack:
    """The weather service and the frontend together; a context manager that stops both on exit.

    Ports default to free ones; `weather_env` and `frontend_env` are laid over the environment.
    """

    def __init__(
        self,
        weather_env: Mapping[str, str] | None = None,
        frontend_env: Mapping[str, str] | None = None,
        *,
        weather_port: int | None = None,
        metrics_port: int | None = None,
        frontend_port: int | None = None,
        host: str = LOCALHOST,
        timeout: float = DEFAULT_TIMEOUT,
        inherit_output: bool = False,
        log_dir: Path | None = None,
    ) -> None:
        self.weather_env = dict(weather_env or {})
        self.frontend_env = dict(frontend_env or {})
        self.weather_port, self.metrics_port, self.frontend_port = weather_port, metrics_port, frontend_port
        self.host, self.timeout, self.inherit_output, self.log_dir = host, timeout, inherit_output, log_dir
        self.weather: ServiceProcess | None = None
        self.frontend: ServiceProcess | None = None

    def _log(self, name: str) -> Path | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{name}.log"

    def start(self) -> LocalStack:
        self.weather = start_weather(
            self.weather_env, self.weather_port, self.metrics_port, host=self.host, timeout=self.timeout,
            inherit_output=self.inherit_output, log_path=self._log("weather"),
        )
        try:
            self.frontend = start_frontend(
                self.frontend_env, self.frontend_port, self.weather.addr, host=self.host,
                timeout=self.timeout, inherit_output=self.inherit_output, log_path=self._log("frontend"),
            )
        except BaseException:
            self.weather.stop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Frontend first (it drains its requests), then the weather service."""
        if self.frontend is not None:
            self.frontend.stop(timeout=timeout)
        if self.weather is not None:
            self.weather.stop(timeout=timeout)

    @property
    def url(self) -> str:
        assert self.frontend is not None, "the stack is not started"
        return self.frontend.url

    @property
    def weather_addr(self) -> str:
        assert self.weather is not None, "the stack is not started"
        return self.weather.addr

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from None


def main() -> int:
    """`make run`: both services in the foreground until Ctrl-C or SIGTERM."""
    weather_port = _port_from_env("WEATHER_PORT", DEFAULT_WEATHER_PORT)
    metrics_port = _port_from_env("METRICS_PORT", DEFAULT_METRICS_PORT)
    frontend_port = _port_from_env("FRONTEND_PORT", DEFAULT_FRONTEND_PORT)
    for name, port in (("WEATHER_PORT", weather_port), ("METRICS_PORT", metrics_port),
                       ("FRONTEND_PORT", frontend_port)):
        if port and port_in_use(port):
            print(f"port {port} is in use (another tenki?): set {name} to a free port, e.g. "
                  f"{name}={free_port()} make run", file=sys.stderr)
            return 1
    weather_host = os.environ.get("WEATHER_HOST") or LOCALHOST
    frontend_host = os.environ.get("FRONTEND_HOST") or LOCALHOST
    demo = not os.environ.get("OWM_API_KEY") or os.environ.get("WEATHER_PROVIDER") == "demo"

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    print(f"Starting tenki: weather service on {weather_host}:{weather_port}"
          f" ({'demo data: no OWM_API_KEY' if demo else 'OpenWeatherMap'}), frontend on port {frontend_port}",
          flush=True)
    local = LocalStack(inherit_output=True)
    try:
        local.weather = start_weather(port=weather_port, metrics_port=metrics_port, host=weather_host,
                                      inherit_output=True)
        weather_addr = f"{LOCALHOST if weather_host == '0.0.0.0' else weather_host}:{weather_port}"
        local.frontend = start_frontend(port=frontend_port, weather_addr=weather_addr, host=frontend_host,
                                        inherit_output=True)
    except StackError as exc:
        print(f"tenki did not start: {exc}", file=sys.stderr)
        local.stop()
        return 1
    shown_host = LOCALHOST if frontend_host == "0.0.0.0" else frontend_host
    print(f"\ntenki is running: http://{shown_host}:{frontend_port}   (Ctrl-C stops it)\n", flush=True)
    code = 0
    while not stop.wait(0.5):
        dead = [s for s in (local.weather, local.frontend) if s is not None and not s.running()]
        if dead:
            print(f"{dead[0].name} exited with code {dead[0].returncode}; stopping tenki", file=sys.stderr)
            code = 1
            break
    print("Stopping tenki ...", flush=True)
    local.stop()
    print("tenki stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
