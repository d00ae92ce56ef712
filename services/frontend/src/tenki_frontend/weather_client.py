"""The frontend's client of the weather service: one gRPC channel per process, deadlines, retries.

gRPC channels do not survive fork(), and gunicorn forks its workers from the master. So the channel is
created lazily, on first use inside the process that uses it, and re-created when the process id changes
(a fork after first use). Every call carries a deadline (WEATHER_DEADLINE_SECONDS, retries included) and
the request id as `x-request-id` metadata. UNAVAILABLE is retried by gRPC itself, from the service config
below (transparent, with backoff, bounded by the deadline), not by a loop of ours; an answer from the
servicer carries gRPC's retry pushback (`grpc-retry-pushback-ms: -1`), so an upstream failure that already
cost an OWM call is never retried: one user request makes at most one upstream call.

The target is any gRPC name (`host:port`, `dns:///tenki-weather-headless.tenki.svc:50051`,
`ipv4:127.0.0.1:50051,127.0.0.1:50061`). The channel resolves every address behind it and spreads calls
over them (`round_robin`): behind a headless Service, each weather pod gets its share, new pods within
the DNS re-resolution interval, and a pod that goes away is dropped (its refused calls are retried).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from . import metrics

SERVICE_NAME = "tenki.weather.v1.WeatherService"
GET_CURRENT_WEATHER = f"/{SERVICE_NAME}/GetCurrentWeather"
GET_FORECAST = f"/{SERVICE_NAME}/GetForecast"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
# Who calls: the weather service exempts this id from its per-caller limits (GRPC_RATE_LIMIT_EXEMPT),
# since the frontend enforces its own per-person limits (limiting.py).
CLIENT_ID = "tenki-frontend"

# gRPC's retry policy (https://github.com/grpc/proposal/blob/master/A6-client-retries.md): UNAVAILABLE
# means the call never reached a server or the server was shutting down, so a retry is safe for this
# read-only call. The overall deadline still bounds every attempt together.
SERVICE_CONFIG: dict[str, Any] = {
    # Every address the target resolves to gets its own connection and its share of calls; pick_first
    # (gRPC's default) would send every call of a worker to one pod for the channel's life.
    "loadBalancingConfig": [{"round_robin": {}}],
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


DEFAULT_KEEPALIVE_SECONDS = 30.0
# How often the channel may resolve WEATHER_ADDR's name again. gRPC C-core re-resolves a dns:/// target
# only when a connection ends (the weather service's GOAWAY after MAX_CONNECTION_AGE_SECONDS, 10 s) and
# then at most every grpc.dns_min_time_between_resolutions_ms, 30 s by default: that, not the age, would
# bound how soon a new pod gets traffic. 2 s keeps DNS lookups rare (one per connection age per worker)
# and new pods in use within about MAX_CONNECTION_AGE_SECONDS + 2 s.
DNS_MIN_RESOLUTION_INTERVAL_MS = 2000


def channel_options(keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS) -> list[tuple[str, Any]]:
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        ("grpc.enable_retries", 1),
        # Come back quickly after the weather service restarts (the default backoff reaches 120 s).
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2000),
        # Ping every connection this often, idle or not, so a pod that vanished without a FIN is found by
        # a ping, not by a request. The weather service admits pings this often (its
        # KEEPALIVE_MIN_PING_SECONDS, 10 s, is below this 30 s), so it never answers too_many_pings.
        ("grpc.keepalive_time_ms", int(keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.dns_min_time_between_resolutions_ms", DNS_MIN_RESOLUTION_INTERVAL_MS),
    ]


Metadata = tuple[tuple[str, str], ...]
_RequestT = TypeVar("_RequestT", contravariant=True)
_ReplyT = TypeVar("_ReplyT", covariant=True)
_Request = TypeVar("_Request")
_Reply = TypeVar("_Reply")


class UnaryCall(Protocol[_RequestT, _ReplyT]):
    """A unary RPC as this client calls it: a stub's method (grpc's UnaryUnaryMultiCallable) or a fake."""

    def __call__(
        self, request: _RequestT, timeout: float | None = None, metadata: Metadata | None = None
    ) -> _ReplyT: ...


class PendingReply(Protocol[_ReplyT]):
    """A call in flight (grpc.Future): its result, or the grpc.RpcError it ended with."""

    def result(self, timeout: float | None = None) -> _ReplyT: ...

    def cancel(self) -> bool:
        """Cancel the call if it is still in flight; True when it was."""
        ...


class FutureCall(Protocol[_RequestT, _ReplyT]):
    """A unary RPC started without waiting: a stub method's `.future` (or a fake's)."""

    def future(
        self, request: _RequestT, timeout: float | None = None, metadata: Metadata | None = None
    ) -> PendingReply[_ReplyT]: ...


ForecastCall = FutureCall[weather_pb2.GetForecastRequest, weather_pb2.GetForecastResponse]
WeatherCall = UnaryCall[weather_pb2.GetCurrentWeatherRequest, weather_pb2.GetCurrentWeatherResponse]
HealthCall = UnaryCall[health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse]


@dataclass(frozen=True)
class Stubs:
    """The two RPCs the frontend calls, on one channel."""

    get_current_weather: WeatherCall
    health_check: HealthCall
    # None: this process has no forecast RPC to call (the page then says the forecast is unavailable).
    get_forecast: ForecastCall | None = None


def connect(target: str, keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS) -> Stubs:
    """The RPCs on a new channel to `target` (any gRPC target), with the policies above."""
    channel = grpc.insecure_channel(target, options=channel_options(keepalive_seconds))
    # types-grpcio-health-checking declares HealthStub without the Check attribute that the generated
    # class sets in __init__; read by name, it is typed by the annotation.
    health_check: HealthCall = getattr(health_pb2_grpc.HealthStub(channel), "Check")
    stub = weather_pb2_grpc.WeatherServiceStub(channel)
    return Stubs(stub.GetCurrentWeather, health_check, stub.GetForecast)


class WeatherClient:
    """Calls the weather service at `target` (any gRPC target) with a deadline of `deadline` seconds.

    `connect` makes a process's stubs for the target (a test hands fakes; default: a channel pinging every
    `keepalive_seconds`); it is called on first use and again after a fork.
    """

    def __init__(
        self,
        target: str,
        deadline: float,
        *,
        connect: Callable[[str], Stubs] | None = None,
        keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
    ) -> None:
        self.target = target
        self.keepalive_seconds = keepalive_seconds
        self.deadline = deadline
        self._connect = connect
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stubs: Stubs | None = None

    def stubs(self) -> Stubs:
        """This process's stubs; the channel is made on first use after any fork."""
        pid = os.getpid()
        with self._lock:
            if self._stubs is None or self._pid != pid:
                # A channel inherited over fork is unusable; it is dropped, never closed (closing would
                # touch the parent's sockets).
                self._stubs = (
                    self._connect(self.target)
                    if self._connect is not None
                    else connect(self.target, self.keepalive_seconds)
                )
                self._pid = pid
            return self._stubs

    def get_current_weather(
        self, request: weather_pb2.GetCurrentWeatherRequest, request_id: str
    ) -> weather_pb2.GetCurrentWeatherResponse:
        """The weather; raises grpc.RpcError with the service's status on failure."""
        return self._call(GET_CURRENT_WEATHER, self.stubs().get_current_weather, request, request_id)

    def get_weather_and_forecast(
        self,
        request: weather_pb2.GetCurrentWeatherRequest,
        forecast: weather_pb2.GetForecastRequest,
        request_id: str,
    ) -> tuple[weather_pb2.GetCurrentWeatherResponse, weather_pb2.GetForecastResponse | grpc.RpcError]:
        """The weather and the forecast, the two calls in flight together within the one deadline.

        The forecast is started first (`.future`), the weather called meanwhile; both carry the same
        deadline, so the page waits for the slower of the two, never their sum. A failed weather call
        raises grpc.RpcError as get_current_weather does; a failed forecast is returned as its error, for
        the page to say the forecast is unavailable.
        """
        stubs = self.stubs()
        start = time.perf_counter()
        pending = None
        if stubs.get_forecast is not None:
            pending = stubs.get_forecast.future(
                forecast, timeout=self.deadline, metadata=_metadata(request_id)
            )
        try:
            weather = self._call(GET_CURRENT_WEATHER, stubs.get_current_weather, request, request_id)
        except grpc.RpcError:
            # The page is an error page now: its forecast is not waited for, nor left running.
            if pending is not None and pending.cancel():
                metrics.observe_grpc(GET_FORECAST, "CANCELLED", time.perf_counter() - start)
            raise
        if pending is None:
            return weather, grpc.RpcError("no forecast RPC")
        code = "OK"
        try:
            return weather, pending.result()
        except grpc.RpcError as exc:
            code = _code_name(exc)
            return weather, exc
        finally:
            metrics.observe_grpc(GET_FORECAST, code, time.perf_counter() - start)

    def get_forecast(
        self, request: weather_pb2.GetForecastRequest, request_id: str
    ) -> weather_pb2.GetForecastResponse:
        """The forecast alone (the JSON API); raises grpc.RpcError with the service's status on failure."""
        forecast = self.stubs().get_forecast
        if forecast is None:
            raise grpc.RpcError("no forecast RPC")
        return self._call(GET_FORECAST, lambda r, timeout=None, metadata=None: forecast.future(
            r, timeout=timeout, metadata=metadata
        ).result(), request, request_id)

    def serving_status(self, request_id: str, timeout: float | None = None) -> str:
        """The gRPC health of the WeatherService: SERVING, NOT_SERVING, or the call's error code.

        `timeout` (default: the deadline) is the check's own deadline."""
        request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
        try:
            reply = self._call(HEALTH_CHECK, self.stubs().health_check, request, request_id, timeout)
        except grpc.RpcError as exc:
            return _code_name(exc)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    def _call(
        self,
        method: str,
        rpc: UnaryCall[_Request, _Reply],
        request: _Request,
        request_id: str,
        timeout: float | None = None,
    ) -> _Reply:
        """One unary call with the deadline and the request id, counted and timed by its outcome."""
        start = time.perf_counter()
        code = "OK"
        deadline = self.deadline if timeout is None else min(timeout, self.deadline)
        try:
            return rpc(request, timeout=deadline, metadata=_metadata(request_id))
        except grpc.RpcError as exc:
            code = _code_name(exc)
            raise
        finally:
            metrics.observe_grpc(method, code, time.perf_counter() - start)


def _metadata(request_id: str) -> tuple[tuple[str, str], ...]:
    """Every call's metadata: the request id (one id through both services' logs) and who calls."""
    return (("x-request-id", request_id), ("x-client-id", CLIENT_ID))


def _code_name(error: grpc.RpcError) -> str:
    """The status code's name of a failed call; UNKNOWN for an RpcError that is not a call."""
    call = as_call(error)
    return call.code().name if call is not None else "UNKNOWN"


def as_call(error: grpc.RpcError) -> grpc.Call | None:
    """The failed call behind `error` (its code, details, trailers), or None for an RpcError that is none.

    A failed unary call raises an object that is both (grpc's _InactiveRpcError). The type stubs declare
    RpcError's and Call's trailing_metadata() with different return types, so mypy holds that no class
    can be both and calls `isinstance(error, grpc.Call)` unreachable; checked as an `object`, it is not.
    """
    candidate: object = error
    return candidate if isinstance(candidate, grpc.Call) else None
