"""The benchmark's rows: six steady rows measured in interleaved rounds, and the cold path (row 7).

A steady row is a warm-up run (not counted), then the measured run; around the measured run it reads
the CPU time its servers used (psutil), so each row reports server CPU per request too. HTTP rows use
wrk (wrk.py), gRPC rows grpc_load.py's bounded client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil
from grpc import aio
from postal_codes import distinct_codes
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from tenki_stack.owm_standin import OwmStandIn

from . import echo, grpc_load, wrk
from .servers import Servers, weather_request
from .settings import Settings
from .stats import RowResult


def server_cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and their children (gunicorn's workers)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(pid)
            for proc in (parent, *parent.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = proc.cpu_times()
                    total += times.user + times.system
    return total


@dataclass(frozen=True)
class SteadyRow:
    """A steady-load row: a warm-up run (not counted), then the measured run, with the servers' CPU."""

    row: int
    name: str
    server_pids: list[int]
    warm: Callable[[], RowResult]
    measure: Callable[[], RowResult]

    def run(self) -> RowResult:
        self.warm()
        before = server_cpu_seconds(self.server_pids)
        result = self.measure()
        used = server_cpu_seconds(self.server_pids) - before
        # CPU per request, unlike req/s, barely moves when other work shares the machine's cores.
        if result.requests:
            result.extra["server_cpu_ms_per_request"] = round(used * 1000 / result.requests, 3)
        return result


def steady_rows(settings: Settings, servers: Servers) -> list[SteadyRow]:
    """Rows 1 to 6, 8, 10, 11 and 12, each against the servers it measures."""
    payload = b"w" * servers.reply_bytes

    def echo_factory(channel: aio.Channel):
        call = echo.echo_callable(channel)
        return lambda: call(payload, timeout=grpc_load.CALL_TIMEOUT_SECONDS)

    def weather_factory(channel: aio.Channel):
        stub = weather_pb2_grpc.WeatherServiceStub(channel)
        request = weather_request()
        return lambda: stub.GetCurrentWeather(request, timeout=grpc_load.CALL_TIMEOUT_SECONDS)

    # Warm-up and measurement are separate runs, so the servers' CPU time is read around the
    # measured one only.
    warm_http = wrk.WrkSettings(connections=settings.connections, warmup_seconds=0, seconds=settings.warmup)
    measure_http = wrk.WrkSettings(connections=settings.connections, warmup_seconds=0,
                                   seconds=settings.seconds)

    def http_row(row: int, name: str, url: str, pids: list[int]) -> SteadyRow:
        return SteadyRow(row, name, pids, lambda: wrk.run(row, name, url, warm_http),
                         lambda: wrk.run(row, name, url, measure_http))

    def grpc_row(
        row: int, name: str, addr: str, factory: grpc_load.CallFactory, pids: list[int]
    ) -> SteadyRow:
        def load(seconds: float) -> RowResult:
            return grpc_load.steady_row(row, name, addr, factory, concurrency=settings.grpc_concurrency,
                                        warmup=0, duration=seconds)

        return SteadyRow(row, name, pids, lambda: load(settings.warmup), lambda: load(settings.seconds))

    weather, frontend, bare, echo_server = servers.weather, servers.frontend, servers.bare, servers.echo
    tenki_pids, bare_pids = [frontend.pid, weather.pid], [bare.pid, echo_server.pid]
    return [
        http_row(1, "bare Flask (same-size page, constant data)", f"{bare.url}/bare", [bare.pid]),
        http_row(2, "bare Flask + one gRPC echo call", f"{bare.url}/bare-grpc", bare_pids),
        # The page makes two gRPC calls at once (the weather and the forecast): row 12 is its bare twin.
        http_row(3, "tenki weather page + forecast (cache hit)", servers.page_url, tenki_pids),
        http_row(4, "tenki JSON API (cache hit)", servers.api_url, tenki_pids),
        grpc_row(5, "bare gRPC echo (direct)", echo_server.addr, echo_factory, [echo_server.pid]),
        grpc_row(6, "tenki GetCurrentWeather (cache hit, direct)", weather.addr, weather_factory,
                 [weather.pid]),
        # Two processes sharing one Redis, the calls spread over both: the near cache answers them.
        grpc_row(8, "GetCurrentWeather hit, shared cache (2 procs)", servers.shared_target,
                 weather_factory, [p.pid for p in servers.shared] + [servers.redis.pid]),
        # Rows 3 and 6 again on a second tenki that traces every request (TRACED: traced row -> its row).
        http_row(10, "row 3 with tracing on (100 % sampled)", servers.traced_page_url,
                 [servers.traced_frontend.pid, servers.traced_weather.pid]),
        grpc_row(11, "row 6 with tracing on (100 % sampled)", servers.traced_weather.addr, weather_factory,
                 [servers.traced_weather.pid]),
        http_row(12, "bare Flask + two gRPC echo calls at once", f"{bare.url}/bare-grpc-twice", bare_pids),
    ]


# Each traced row and the same row untraced.
TRACED = {10: 3, 11: 6}


def tracing_cost(best: dict[int, RowResult]) -> list[dict[str, Any]]:
    """Per traced row: server CPU per request with and without tracing, and the difference."""
    costs = []
    for traced, plain in TRACED.items():
        on = best[traced].extra.get("server_cpu_ms_per_request")
        off = best[plain].extra.get("server_cpu_ms_per_request")
        costs.append({
            "row": traced, "untraced_row": plain, "cpu_ms_per_request_off": off, "cpu_ms_per_request_on": on,
            "cost_ms_per_request": None if on is None or off is None else round(on - off, 3),
            "rps_off": round(best[plain].rps, 1), "rps_on": round(best[traced].rps, 1),
        })
    return costs


def run_rounds(
    steady: list[SteadyRow], rounds: int
) -> tuple[dict[int, RowResult], dict[int, list[dict[str, Any]]]]:
    """Every row once per round, rounds one after the other: the best round of each row, and all rounds."""
    best: dict[int, RowResult] = {}
    all_rounds: dict[int, list[dict[str, Any]]] = {}
    for round_no in range(1, rounds + 1):
        for each in steady:
            print(f"bench: round {round_no}/{rounds}, row {each.row}: {each.name} ...", flush=True)
            result = each.run()
            all_rounds.setdefault(each.row, []).append(result.to_json())
            if each.row not in best or result.rps > best[each.row].rps:
                best[each.row] = result
    return best, all_rounds


def cold_row(settings: Settings, addr: str, standin: OwmStandIn, row: int = 7, where: str = "") -> RowResult:
    """K never-asked codes, each by several callers at once (all units), through a slow upstream.

    `addr` may name several processes (row 9: two sharing Redis; the callers spread over both)."""
    codes = distinct_codes(settings.cold_codes)
    units = (weather_pb2.UNITS_METRIC, weather_pb2.UNITS_IMPERIAL, weather_pb2.UNITS_STANDARD)
    calls = []
    for caller in range(settings.cold_callers):
        for code, country in codes:
            request = weather_request(units[caller % len(units)], code, country)

            def make(channel: aio.Channel, request=request):
                stub = weather_pb2_grpc.WeatherServiceStub(channel)
                return stub.GetCurrentWeather(request, timeout=30)

            calls.append(make)
    standin.set_latency(settings.cold_latency_ms / 1000)
    before = standin.request_count
    # A cold code is two upstream requests: its geocoding, then the weather at its coordinates.
    geocodes_before, weather_before = standin.geocode_count, standin.weather_count
    try:
        result, outcomes = grpc_load.burst_row(
            row, f"cold path{where}: {len(codes)} codes x {settings.cold_callers} callers", addr, calls
        )
    finally:
        standin.set_latency(0)
    result.extra.update(
        {
            "distinct_codes": len(codes),
            "callers_per_code": settings.cold_callers,
            "upstream_latency_ms": settings.cold_latency_ms,
            "upstream_calls": standin.request_count - before,
            "geocoding_calls": standin.geocode_count - geocodes_before,
            "weather_calls": standin.weather_count - weather_before,
            "outcomes": {code: outcomes.count(code) for code in sorted(set(outcomes))},
        }
    )
    return result
