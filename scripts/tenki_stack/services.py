"""tenki's two services as real processes: `tenki serve`, `tenki-frontend`, and both as a `LocalStack`.

Each runs the installed console script (found beside this Python, else on PATH) with the caller's
environment plus `env`, on 127.0.0.1 unless told otherwise. Readiness is the weather service's gRPC
health SERVING and the frontend's /readyz 200 (or /healthz, for a frontend without a weather service).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal

from tenki_stack.processes import (
    DEFAULT_TIMEOUT,
    LOCALHOST,
    ServiceProcess,
    console_script,
    free_port,
    grpc_serving,
    http_ok,
)


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
    metrics_port: int | None = None,
    host: str = LOCALHOST,
    timeout: float = DEFAULT_TIMEOUT,
    wait_for: Literal["readyz", "healthz"] = "readyz",
    inherit_output: bool = False,
    log_path: Path | None = None,
) -> ServiceProcess:
    """Start `tenki-frontend` (gunicorn) and wait until GET /readyz is 200 (or /healthz, `wait_for`).

    `port` defaults to a free port, `metrics_port` too (0: no metrics listener); `weather_addr` (any gRPC
    target) to env's WEATHER_ADDR or the default.
    """
    port = free_port(host) if port is None else port
    metrics_port = free_port(host) if metrics_port is None else metrics_port
    overrides = {
        "FRONTEND_HOST": host, "FRONTEND_PORT": str(port), "FRONTEND_METRICS_PORT": str(metrics_port)
    }
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
        metrics_port=metrics_port or None,
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
