"""The frontend's client of the weather service: one gRPC channel per process, deadlines, retries.

gRPC channels do not survive fork(), and gunicorn forks its workers from the master. So the channel is
created lazily, on first use inside the process that uses it, and re-created when the process id changes
(a fork after first use). Every call carries a deadline (WEATHER_DEADLINE_SECONDS, retries included) and
the request id as `x-request-id` metadata. UNAVAILABLE is retried by gRPC itself, from the service config
below (transparent, with backoff, bounded by the deadline), not by a loop of ours.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from . import metrics

SERVICE_NAME = "tenki.weather.v1.WeatherService"
GET_CURRENT_WEATHER = f"/{SERVICE_NAME}/GetCurrentWeather"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
# Who calls: the weather service exempts this id from its per-caller limits (GRPC_RATE_LIMIT_EXEMPT),
# since the frontend enforces its own per-person limits (limiting.py).
CLIENT_ID = "tenki-frontend"

# gRPC's retry policy (https://github.com/grpc/proposal/blob/master/A6-client-retries.md): UNAVAILABLE
# means the call never reached a server or the server was shutting down, so a retry is safe for this
# read-only call. The overall deadline still bounds every attempt together.
SERVICE_CONFIG: dict[str, Any] = {
    "methodConfig": [
        {
            "name": [{"service": SERVICE_NAME}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}


def channel_options() -> list[tuple[str, Any]]:
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        ("grpc.enable_retries", 1),
        # Come back quickly after the weather service restarts (the default backoff reaches 120 s).
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2000),
        ("grpc.keepalive_time_ms", 30_000),
    ]


@dataclass
class Stubs:
    """The two stubs the frontend calls; tests hand fakes with the same methods."""

    weather: Any  # weather_pb2_grpc.WeatherServiceStub or a fake with GetCurrentWeather(request, ...)
    health: Any  # health_pb2_grpc.HealthStub or a fake with Check(request, ...)


def default_channel(target: str) -> grpc.Channel:
    return grpc.insecure_channel(target, options=channel_options())


class WeatherClient:
    """Calls the weather service at `target` (host:port) with a deadline of `deadline` seconds."""

    def __init__(
        self,
        target: str,
        deadline: float,
        *,
        stubs: Stubs | None = None,
        channel_factory: Callable[[str], grpc.Channel] | None = None,
    ) -> None:
        self.target = target
        self.deadline = deadline
        self._injected = stubs
        self._channel_factory = channel_factory or default_channel
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._channel: grpc.Channel | None = None
        self._stubs: Stubs | None = None

    def stubs(self) -> Stubs:
        """This process's stubs; the channel is made on first use after any fork."""
        if self._injected is not None:
            return self._injected
        pid = os.getpid()
        with self._lock:
            if self._stubs is None or self._pid != pid:
                # A channel inherited over fork is unusable; drop it without closing it (closing would
                # touch the parent's sockets).
                self._channel = self._channel_factory(self.target)
                self._stubs = Stubs(
                    weather_pb2_grpc.WeatherServiceStub(self._channel),
                    health_pb2_grpc.HealthStub(self._channel),
                )
                self._pid = pid
            return self._stubs

    def get_current_weather(
        self, request: weather_pb2.GetCurrentWeatherRequest, request_id: str
    ) -> weather_pb2.GetCurrentWeatherResponse:
        """The weather; raises grpc.RpcError with the service's status on failure."""
        reply: weather_pb2.GetCurrentWeatherResponse = self._call(
            GET_CURRENT_WEATHER, self.stubs().weather.GetCurrentWeather, request, request_id
        )
        return reply

    def serving_status(self, request_id: str) -> str:
        """The gRPC health of the WeatherService: SERVING, NOT_SERVING, or the call's error code."""
        request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
        try:
            reply = self._call(HEALTH_CHECK, self.stubs().health.Check, request, request_id)
        except grpc.RpcError as exc:
            return _code_name(exc)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def _call(self, method: str, rpc: Callable[..., Any], request: Any, request_id: str) -> Any:
        """One unary call with the deadline and the request id, counted and timed by its outcome."""
        start = time.perf_counter()
        code = "OK"
        try:
            metadata = (("x-request-id", request_id), ("x-client-id", CLIENT_ID))
            return rpc(request, timeout=self.deadline, metadata=metadata)
        except grpc.RpcError as exc:
            code = _code_name(exc)
            raise
        finally:
            metrics.observe_grpc(method, code, time.perf_counter() - start)

    def close(self) -> None:
        with self._lock:
            if self._channel is not None and self._pid == os.getpid():
                self._channel.close()
            self._channel, self._stubs, self._pid = None, None, None


def _code_name(error: grpc.RpcError) -> str:
    """The status code's name of a failed call; UNKNOWN for an RpcError that is not a call."""
    return error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
