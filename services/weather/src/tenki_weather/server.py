"""The gRPC server: the weather API, health, reflection, the interceptor, metrics and graceful shutdown."""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from . import faults, tracing
from .config import WeatherSettings
from .interceptor import ObservabilityInterceptor
from .logs import configure_logging
from .metrics import Metrics
from .service import WeatherLookup
from .servicer import WeatherServicer
from .shared import check_redis

log = logging.getLogger(__name__)

SERVICE_NAME = weather_pb2.DESCRIPTOR.services_by_name["WeatherService"].full_name
HEALTH_SERVICES = ("", SERVICE_NAME)
HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


def server_options(settings: WeatherSettings) -> list[tuple[str, int]]:
    """The gRPC server's channel arguments: the listener, and a keepalive policy clients can keep to."""
    min_ping_ms = int(settings.keepalive_min_ping_seconds * 1000)
    return [
        # Without this, gRPC sets SO_REUSEPORT on Linux and a second server on a busy port
        # "binds" silently instead of failing.
        ("grpc.so_reuseport", 0),
        # The frontend pings every WEATHER_KEEPALIVE_SECONDS, idle or not, to find a dead pod before a
        # request does. gRPC's server default admits a ping every 5 minutes, and only with calls in
        # flight; past that it sends GOAWAY too_many_pings. Admit pings this often, idle or not.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", min_ping_ms),
        ("grpc.http2.min_ping_interval_without_data_ms", min_ping_ms),
        # gRPC's DNS resolver does not poll: a client learns of a new pod when a connection ends.
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.shutdown_grace_seconds * 1000)),
    ]


def listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WeatherServer:
    """One weather server: build it, start() it, stop() it. `port` is the bound port (useful with 0)."""

    def __init__(self, settings: WeatherSettings, tracer: tracing.Tracing | None = None) -> None:
        """`tracer`: the process's tracing SDK (tracing.start), when tracing is on."""
        self.settings = settings
        self.metrics = Metrics()
        self.health = health.HealthServicer()
        self.faults = faults.FaultPlan.from_settings(settings)
        interceptor = ObservabilityInterceptor(self.metrics)
        # Outermost first: the trace's server span covers the log line and any injected fault.
        interceptors: list[grpc.ServerInterceptor] = [interceptor]
        if tracer is not None:
            interceptors.insert(0, tracer.interceptor)
        injecting = self.faults.delaying or bool(self.faults.error_rate)
        if self.faults.target == "rpc" and injecting:
            interceptors.append(faults.FaultInterceptor(self.faults, interceptor.call_log))
        upstream_faults = self.faults.target == "upstream" and injecting
        lookup = WeatherLookup.from_settings(
            settings,
            self.metrics,
            # Every upstream request of a lookup (geocoding, the weather, the forecast) draws its fault.
            (lambda provider: faults.FaultyProvider(provider, self.faults)) if upstream_faults
            else (lambda provider: provider),
        )
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix="rpc"),
            interceptors=interceptors,
            options=server_options(settings),
        )
        self.lookup = lookup
        servicer = WeatherServicer(self.lookup, interceptor.call_log)
        weather_pb2_grpc.add_WeatherServiceServicer_to_server(servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME),
            self._server,
        )
        self.port = self._server.add_insecure_port(listen_address(settings.host, settings.port))
        self._metrics_http: WSGIServer | None = None
        self.metrics_port = 0

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return listen_address(host, self.port)

    def start(self) -> None:
        if self.settings.metrics_port:
            self._metrics_http = self.metrics.serve(self.settings.metrics_port, self.settings.host)
            self.metrics_port = self._metrics_http.server_port
        self._server.start()
        for name in HEALTH_SERVICES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.faults.health_not_serving:
            # Readiness asks for the service's name; the server's own status ("", liveness) stays SERVING.
            self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)

    def stop(self, grace: float | None = None, drain: float = 0.0) -> None:
        """Health NOT_SERVING, answer on for `drain` s, then give in-flight RPCs `grace` s to finish."""
        self.health.enter_graceful_shutdown()
        if drain > 0:
            # Load balancers and the frontend's readiness see NOT_SERVING while we still answer.
            time.sleep(drain)
        self._server.stop(grace).wait()
        if self._metrics_http is not None:
            self._metrics_http.shutdown()
            self._metrics_http.server_close()


def log_shared_state(lookup: WeatherLookup) -> None:
    """One line at start-up: shared state off, or Redis's verdict (a failing Redis never stops tenki)."""
    if lookup.shared is None:
        log.info("shared state off (no REDIS_URL): cache, single flight and budget are per process")
        return
    verdict = check_redis(lookup.shared.client)
    if verdict.ok:
        log.info("shared state on: " + verdict.text, extra={"redis": "ok"})
    else:
        lookup.metrics.redis_degraded.set(1)
        log.warning(
            "shared state degraded: Redis " + verdict.text + "; answering from the near cache and upstream",
            extra={"redis": "degraded"},
        )


def serve(settings: WeatherSettings) -> int:
    """Run until SIGTERM or SIGINT, then shut down gracefully; the exit status (0)."""
    configure_logging(
        settings.log_level, secrets=settings.secrets, tracing=bool(settings.tracing_endpoint)
    )
    tracer = tracing.start(settings)
    server = WeatherServer(settings, tracer)
    server.start()
    log_shared_state(server.lookup)
    log.info(
        "weather service listening",
        extra={
            "address": listen_address(settings.host, server.port),
            "metrics_port": server.metrics_port or None,
            "provider": settings.provider,
            "max_workers": settings.max_workers,
        },
    )
    for problem in settings.budget_warnings():
        log.warning(f"time budget: {problem}", extra={"setting": "DEADLINE_MARGIN_SECONDS"})
    if settings.provider == "demo":
        why = "WEATHER_PROVIDER=demo" if settings.weather_provider == "demo" else "no OWM_API_KEY is set"
        log.warning(
            f"DEMO MODE ({why}): answers are invented demo data (source=demo), not real weather; "
            "set OWM_API_KEY to use OpenWeatherMap",
            extra={"provider": "demo"},
        )
    reminder = faults.Reminder(server.faults)
    if server.faults.on:
        reminder.start()
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("shutdown requested", extra={"signal": signal.Signals(signum).name})
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A bounded wait in a loop keeps the main thread responsive to signals.
    while not stopping.wait(0.5):
        pass
    server.stop(settings.shutdown_grace_seconds, drain=settings.shutdown_drain_seconds)
    reminder.stop()
    if tracer is not None:
        tracer.shutdown()
    log.info("weather service stopped")
    return 0
