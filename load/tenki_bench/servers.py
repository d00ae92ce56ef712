"""The benchmark's servers, each on a free 127.0.0.1 port, stopped by the caller's ExitStack.

tenki (the weather service and the frontend) reads its weather from the OWM stand-in; beside it run the
bare stack: the gRPC echo server (echo.py) and the bare Flask app (bare_app.py) under the frontend's own
gunicorn config. Every process is a tenki_stack.ServiceProcess: its output in OUT/<name>.log, SIGTERM
(then SIGKILL) at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import tenki_stack
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from tenki_stack import ServiceProcess, free_port
from tenki_stack.otlp_receiver import OtlpReceiver
from tenki_stack.owm_standin import OwmStandIn
from tenki_stack.redis_server import RedisServer

LOAD_DIR = Path(__file__).resolve().parent.parent
# A fake key: the stand-in accepts any; it only switches the weather service to its OWM provider.
BENCH_KEY = "bench-key-not-a-secret"
PLACE = {"zip": "94040", "country": "us", "units": "metric"}
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Servers:
    """What runs, where to load it, and the sizes that make each bare row move tenki's bytes."""

    standin: OwmStandIn
    weather: ServiceProcess
    frontend: ServiceProcess
    echo: ServiceProcess
    bare: ServiceProcess
    workers: int  # the weather service's thread pool, and so the echo server's
    page_url: str  # tenki's weather page for PLACE
    api_url: str  # tenki's JSON API for PLACE
    page_bytes: int  # the size of tenki's page
    bare_bytes: int  # the size of the bare app's page
    reply_bytes: int  # the size of tenki's GetCurrentWeatherResponse, and so of the echo payload
    forecast_reply_bytes: int  # the size of its GetForecastResponse: row 12's second echo payload
    redis: RedisServer  # rows 8 and 9: one Redis shared by ...
    shared: list[ServiceProcess]  # ... two more weather processes (REDIS_URL)

    @property
    def shared_target(self) -> str:
        """Both shared processes as one gRPC target (the load spreads over them, round robin)."""
        return "ipv4:" + ",".join(p.addr for p in self.shared)
    # The same tenki again, tracing every request (always_on) to `receiver`, a local OTLP/HTTP receiver.
    receiver: OtlpReceiver
    traced_weather: ServiceProcess
    traced_frontend: ServiceProcess
    traced_page_url: str


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- our own 127.0.0.1 URL
        return response.read()


def weather_request(units: int = weather_pb2.UNITS_METRIC, code: str = "94040", country: str = "us"):
    return weather_pb2.GetCurrentWeatherRequest(postal_code=code, country_code=country, units=units)


def gunicorn_conf() -> str:
    """The path of the frontend's packaged gunicorn config, so the bare app runs under the same one."""
    import tenki_frontend.gunicorn_conf as conf

    return conf.__file__


def service_env(standin: OwmStandIn) -> dict[str, str]:
    # Tuning knobs (WEATHER_MAX_WORKERS, GUNICORN_WORKERS, GUNICORN_THREADS) pass through; addresses,
    # ports and the provider are the benchmark's own.
    tuning = ("WEATHER_MAX_WORKERS", "GUNICORN_WORKERS", "GUNICORN_THREADS")
    env = {
        k: v
        for k, v in os.environ.items()
        if k in tuning or not k.startswith(("OWM_", "WEATHER_", "FRONTEND_", "METRICS_", "GUNICORN_"))
    }
    env.update(
        {
            "OWM_API_KEY": BENCH_KEY,
            "OWM_BASE_URL": standin.base_url,
            "WEATHER_PROVIDER": "owm",
            # The cold row asks for K codes at once; the free tier's 60/min would throttle it.
            "OWM_RATE_LIMIT_PER_MINUTE": "100000",
            # One load generator on 127.0.0.1 is one client: the per-client limits (README "Fairness")
            # stay on, so their cost is measured, but per second and far above any row's rate.
            "RATE_LIMIT_DEFAULT": "1000000/second",
            "RATE_LIMIT_UPSTREAM": "1000000/second",
            "GRPC_RATE_LIMIT_UPSTREAM": "1000000/second",
        }
    )
    return env


def traced_env(env: dict[str, str], receiver: OtlpReceiver) -> dict[str, str]:
    """`env` with tracing on: every request sampled, spans exported to the local receiver."""
    return {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_TRACES_SAMPLER": "always_on"}


def weather_workers() -> int:
    from tenki_weather.config import WeatherSettings

    return WeatherSettings.from_env().max_workers


def weather_reply_size(addr: str) -> int:
    import grpc

    with grpc.insecure_channel(addr) as channel:
        reply = weather_pb2_grpc.WeatherServiceStub(channel).GetCurrentWeather(weather_request(), timeout=10)
    return reply.ByteSize()


def forecast_reply_size(addr: str) -> int:
    import grpc

    request = weather_pb2.GetForecastRequest(postal_code=PLACE["zip"], country_code=PLACE["country"])
    with grpc.insecure_channel(addr) as channel:
        reply = weather_pb2_grpc.WeatherServiceStub(channel).GetForecast(request, timeout=10)
    return reply.ByteSize()


def start_process(
    exits: contextlib.ExitStack,
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    url: str,
    out: Path,
) -> ServiceProcess:
    """One of the bare servers, run from load/ (so `-m tenki_bench...` imports), stopped on exit."""
    log = out / f"{name}.log"
    log.unlink(missing_ok=True)  # this run's output only
    service = ServiceProcess(
        name, argv, env, host="127.0.0.1", port=port, url=url, log_path=log, cwd=LOAD_DIR
    )
    exits.callback(service.stop)
    return service


def start(exits: contextlib.ExitStack, out: Path) -> Servers:
    """Start every server, warm tenki's cache for PLACE and measure the sizes the bare rows copy."""
    standin = exits.enter_context(OwmStandIn())
    env = service_env(standin)
    print("bench: starting tenki (weather service + frontend), the echo server and the bare app ...")
    weather = tenki_stack.start_weather(env, port=free_port(), metrics_port=free_port())
    exits.callback(weather.stop)
    frontend = tenki_stack.start_frontend(env, port=free_port(), weather_addr=weather.addr)
    exits.callback(frontend.stop)
    workers = env.get("WEATHER_MAX_WORKERS") or str(weather_workers())

    echo_port = free_port()
    echo = start_process(
        exits, "echo",
        [sys.executable, "-m", "tenki_bench.echo", "--port", str(echo_port), "--workers", workers],
        dict(os.environ), echo_port, f"grpc://127.0.0.1:{echo_port}", out,
    )
    echo.wait_ready(lambda: tenki_stack.grpc_reachable(echo.addr), STARTUP_TIMEOUT)

    query = "zip={zip}&country={country}&units={units}".format(**PLACE)
    page_url = f"{frontend.url.rstrip('/')}/weather?{query}"
    api_url = f"{frontend.url.rstrip('/')}/api/v1/weather?{query}"
    # Warm the cache: from here on rows 3, 4 and 6 are cache hits (the stand-in's count proves it); the
    # page asks for the weather and the forecast, so both are cached.
    page_bytes = len(fetch(page_url))
    fetch(api_url)

    # The echo payload is as large as tenki's real answer, and the bare page as tenki's page, so
    # each bare row moves the same bytes as the tenki row it is compared with.
    reply_bytes = weather_reply_size(weather.addr)
    forecast_bytes = forecast_reply_size(weather.addr)
    bare_port = free_port()
    bare_env = {
        **env,
        "BENCH_ECHO_ADDR": echo.addr,
        "BENCH_ECHO_BYTES": str(reply_bytes),
        "BENCH_ECHO_FORECAST_BYTES": str(forecast_bytes),
        "BENCH_PAGE_BYTES": str(page_bytes),
    }
    bare_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LOAD_DIR), env.get("PYTHONPATH")]))
    bare = start_process(
        exits, "bare_app",
        [sys.executable, "-m", "gunicorn", "-c", gunicorn_conf(), "--bind", f"127.0.0.1:{bare_port}",
         "tenki_bench.bare_app:app"],
        bare_env, bare_port, f"http://127.0.0.1:{bare_port}", out,
    )
    bare.wait_ready(lambda: tenki_stack.http_ok(f"{bare.url}/bare-grpc"), STARTUP_TIMEOUT)

    redis = RedisServer(out / "redis")
    exits.callback(redis.stop)
    shared = []
    for name in ("shared-a", "shared-b"):
        log = out / f"weather-{name}.log"
        log.unlink(missing_ok=True)
        process = tenki_stack.start_weather(
            {**env, "REDIS_URL": redis.url}, port=free_port(), metrics_port=0, log_path=log
        )
        exits.callback(process.stop)
        # Warm: A fetches PLACE (one upstream call), B reads it from Redis into its near cache.
        weather_reply_size(process.addr)
        shared.append(process)

    receiver = exits.enter_context(OtlpReceiver(keep_spans=False))
    traced = traced_env(env, receiver)
    print("bench: starting a second tenki with tracing on (100 % sampled, to a local OTLP receiver) ...")
    traced_weather = tenki_stack.start_weather(traced, port=free_port(), metrics_port=free_port())
    exits.callback(traced_weather.stop)
    traced_frontend = tenki_stack.start_frontend(traced, port=free_port(), weather_addr=traced_weather.addr)
    exits.callback(traced_frontend.stop)
    traced_page_url = f"{traced_frontend.url.rstrip('/')}/weather?{query}"
    fetch(traced_page_url)

    return Servers(
        redis=redis, shared=shared,
        receiver=receiver, traced_weather=traced_weather, traced_frontend=traced_frontend,
        traced_page_url=traced_page_url,
        standin=standin, weather=weather, frontend=frontend, echo=echo, bare=bare, workers=int(workers),
        page_url=page_url, api_url=api_url, page_bytes=page_bytes, reply_bytes=reply_bytes,
        forecast_reply_bytes=forecast_bytes,
        bare_bytes=len(fetch(f"{bare.url}/bare")),
    )
