"""`make bench`: tenki side by side with the bare stack under it, in one run on one machine.

Every server binds 127.0.0.1 on a free port and is stopped at the end; every row is bounded in
time. HTTP rows use one load generator with one setting (wrk, see wrk.py); gRPC rows use one
client (grpc_load.py). Each steady row is measured in BENCH_ROUNDS rounds, interleaved with the
other rows so that a burst of foreign load on this shared machine hits every row alike; the best
round counts (noise only ever slows a run down). Around each measured run the harness also reads
the CPU time the servers of that row used (psutil), so every row reports server CPU per request: on
a machine shared with other work, that is the steadier measure of what tenki's own code costs.

Rows:
  1 bare Flask: a same-size page from constant data, under the frontend's gunicorn config
  2 the same route making one unary call to a trivial gRPC echo server
  3 tenki weather page, cache hit           4 tenki JSON API, cache hit
  5 bare gRPC echo, called directly         6 tenki GetCurrentWeather, cache hit, called directly
  7 the cold path: K distinct codes, each asked by several callers at once, against the OWM
    stand-in with a fixed latency; the stand-in counts the upstream calls, which must equal K.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from grpc import aio

from . import echo, grpc_load, report, wrk
from .stats import RowResult

LOAD_DIR = Path(__file__).resolve().parent.parent
ROOT = LOAD_DIR.parent
for extra in (ROOT / "scripts", ROOT / "tests", LOAD_DIR):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import stack  # noqa: E402  scripts/stack.py: starts `tenki serve` and `tenki-frontend`
from postal_codes import distinct_codes  # noqa: E402
from support.owm_standin import OwmStandIn  # noqa: E402
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc  # noqa: E402

# A fake key: the stand-in accepts any; it only switches the weather service to its OWM provider.
BENCH_KEY = "bench-key-not-a-secret"
PLACE = {"zip": "94040", "country": "us", "units": "metric"}
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    rounds: int
    seconds: int
    warmup: int
    http_connections: int
    grpc_concurrency: int
    cold_codes: int
    cold_callers: int
    cold_latency_ms: int
    out: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check: Callable[[], bool], what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s")


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@contextlib.contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A subprocess with its output in `log`, terminated (then killed) on exit."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=LOAD_DIR)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


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


def weather_request(units: int = weather_pb2.UNITS_METRIC, code: str = "94040", country: str = "us"):
    return weather_pb2.GetCurrentWeatherRequest(postal_code=code, country_code=country, units=units)


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


def run(settings: Settings) -> dict[str, Any]:
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    wrk_settings = wrk.WrkSettings(
        connections=settings.http_connections, warmup_seconds=settings.warmup, seconds=settings.seconds
    )
    with contextlib.ExitStack() as stack_:
        standin = stack_.enter_context(OwmStandIn())
        env = service_env(standin)
        print("bench: starting tenki (weather service + frontend), the echo server and the bare app ...")
        weather = stack.start_weather(env, port=free_port(), metrics_port=free_port())
        stack_.callback(weather.stop)
        frontend = stack.start_frontend(env, port=free_port(), weather_addr=weather.addr)
        stack_.callback(frontend.stop)
        workers = env.get("WEATHER_MAX_WORKERS") or str(_weather_workers())

        echo_port = free_port()
        echo_proc = stack_.enter_context(
            process(
                [sys.executable, "-m", "tenki_bench.echo", "--port", str(echo_port), "--workers", workers],
                out / "echo.log",
            )
        )
        echo_addr = f"127.0.0.1:{echo_port}"
        _wait(lambda: _grpc_ready(echo_addr), "the echo server")

        query = "zip={zip}&country={country}&units={units}".format(**PLACE)
        page_url = f"{frontend.url.rstrip('/')}/weather?{query}"
        api_url = f"{frontend.url.rstrip('/')}/api/v1/weather?{query}"
        # Warm the cache: from here on rows 3, 4 and 6 are cache hits (the stand-in's count proves it).
        page_bytes = len(fetch(page_url))
        fetch(api_url)

        # The echo payload is as large as tenki's real answer, and the bare page as tenki's page, so
        # each bare row moves the same bytes as the tenki row it is compared with.
        reply_bytes = _weather_reply_size(weather.addr)
        bare_port = free_port()
        bare_env = {
            **env,
            "BENCH_ECHO_ADDR": echo_addr,
            "BENCH_ECHO_BYTES": str(reply_bytes),
            "BENCH_PAGE_BYTES": str(page_bytes),
        }
        bare_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LOAD_DIR), env.get("PYTHONPATH")]))
        bare_proc = stack_.enter_context(
            process(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    gunicorn_conf(),
                    "--bind",
                    f"127.0.0.1:{bare_port}",
                    "tenki_bench.bare_app:app",
                ],
                out / "bare_app.log",
                env=bare_env,
            )
        )
        bare = f"http://127.0.0.1:{bare_port}"
        _wait(lambda: _http_ok(f"{bare}/bare-grpc"), "the bare Flask app")

        bare_bytes = len(fetch(f"{bare}/bare"))
        upstream_before = standin.request_count

        payload = b"w" * reply_bytes

        def echo_factory(channel: aio.Channel):
            call = echo.echo_callable(channel)
            return lambda: call(payload, timeout=grpc_load.CALL_TIMEOUT_SECONDS)

        def weather_factory(channel: aio.Channel):
            stub = weather_pb2_grpc.WeatherServiceStub(channel)
            request = weather_request()
            return lambda: stub.GetCurrentWeather(request, timeout=grpc_load.CALL_TIMEOUT_SECONDS)

        # Warm-up and measurement are separate runs, so the servers' CPU time is read around the
        # measured one only.
        warm_http = wrk.WrkSettings(connections=settings.http_connections, warmup_seconds=0,
                                    seconds=settings.warmup)
        measure_http = wrk.WrkSettings(connections=settings.http_connections, warmup_seconds=0,
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

        tenki_pids, bare_pids = [frontend.pid, weather.pid], [bare_proc.pid, echo_proc.pid]
        steady = [
            http_row(1, "bare Flask (same-size page, constant data)", f"{bare}/bare", [bare_proc.pid]),
            http_row(2, "bare Flask + one gRPC echo call", f"{bare}/bare-grpc", bare_pids),
            http_row(3, "tenki weather page (cache hit)", page_url, tenki_pids),
            http_row(4, "tenki JSON API (cache hit)", api_url, tenki_pids),
            grpc_row(5, "bare gRPC echo (direct)", echo_addr, echo_factory, [echo_proc.pid]),
            grpc_row(6, "tenki GetCurrentWeather (cache hit, direct)", weather.addr, weather_factory,
                     [weather.pid]),
        ]
        best: dict[int, RowResult] = {}
        all_rounds: dict[int, list[dict[str, Any]]] = {}
        for round_no in range(1, settings.rounds + 1):
            for each in steady:
                print(f"bench: round {round_no}/{settings.rounds}, row {each.row}: {each.name} ...",
                      flush=True)
                result = each.run()
                all_rounds.setdefault(each.row, []).append(result.to_json())
                if each.row not in best or result.rps > best[each.row].rps:
                    best[each.row] = result
        upstream_during_hits = standin.request_count - upstream_before
        for row in (3, 4, 6):
            best[row].extra["upstream_calls_during_row"] = upstream_during_hits
        best[1].extra["page_bytes"] = bare_bytes
        best[3].extra["page_bytes"] = page_bytes
        best[5].extra["payload_bytes"] = reply_bytes

        print(f"bench: row 7: {settings.cold_codes} codes x {settings.cold_callers} callers at once ...")
        best[7] = cold_row(settings, weather.addr, standin)

    rows = [best[row] for row in sorted(best)]
    ratios = report.ratio_results(best)
    cold = best[7].extra
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {
            "rounds": settings.rounds,
            "seconds_per_round": settings.seconds,
            "warmup_seconds": settings.warmup,
            "http": f"wrk -t{wrk_settings.threads} -c{wrk_settings.connections}",
            "grpc": f"grpc.aio, {settings.grpc_concurrency} calls in flight",
            "weather_max_workers": int(workers),
            "gunicorn": _gunicorn_settings(),
            "page_bytes": {"bare": bare_bytes, "tenki": page_bytes},
        },
        "rows": [r.to_json() for r in rows],
        "rounds": {str(row): results for row, results in all_rounds.items()},
        "ratios": ratios,
        "cold_path": {
            "distinct_codes": cold["distinct_codes"],
            "upstream_calls": cold["upstream_calls"],
            "met": cold["upstream_calls"] == cold["distinct_codes"],
        },
        "cache_hit_rows_upstream_calls": upstream_during_hits,
    }
    return results


def _weather_workers() -> int:
    from tenki_weather.config import WeatherSettings

    return WeatherSettings.from_env().max_workers


def _gunicorn_settings() -> dict[str, Any]:
    from tenki_frontend.config import FrontendSettings

    settings = FrontendSettings.from_env()
    return {"workers": settings.gunicorn_workers, "threads": settings.gunicorn_threads}


def _grpc_ready(addr: str) -> bool:
    import grpc

    with grpc.insecure_channel(addr) as channel:
        grpc.channel_ready_future(channel).result(timeout=2)
    return True


def _weather_reply_size(addr: str) -> int:
    import grpc

    with grpc.insecure_channel(addr) as channel:
        reply = weather_pb2_grpc.WeatherServiceStub(channel).GetCurrentWeather(weather_request(), timeout=10)
    return reply.ByteSize()


def cold_row(settings: Settings, addr: str, standin: OwmStandIn) -> RowResult:
    """K never-asked codes, each by several callers at once (all units), through a slow upstream."""
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
    try:
        result, outcomes = grpc_load.burst_row(
            7, f"cold path: {len(codes)} codes x {settings.cold_callers} callers", addr, calls
        )
    finally:
        standin.set_latency(0)
    result.extra.update(
        {
            "distinct_codes": len(codes),
            "callers_per_code": settings.cold_callers,
            "upstream_latency_ms": settings.cold_latency_ms,
            "upstream_calls": standin.request_count - before,
            "outcomes": {code: outcomes.count(code) for code in sorted(set(outcomes))},
        }
    )
    return result


def print_results(results: dict[str, Any]) -> None:
    rows = [RowResult(**{k: v for k, v in r.items() if k != "rps"}) for r in results["rows"]]
    print()
    print(report.table(rows))
    print()
    print("ratios (throughput of tenki's row over the bare row under it):")
    print(report.ratio_table(results["ratios"]))
    cold = results["cold_path"]
    verdict = "ok" if cold["met"] else "MISSED"
    print(
        f"  row 7 upstream calls: {cold['upstream_calls']} for {cold['distinct_codes']} distinct codes"
        f"  (target: equal)  {verdict}"
    )
    pages = results["settings"]["page_bytes"]
    print(f"  page sizes: bare {pages['bare']} B, tenki {pages['tenki']} B;"
          f" cache-hit rows made {results['cache_hit_rows_upstream_calls']} upstream calls")


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(description="tenki's side-by-side benchmark")
    parser.add_argument("--rounds", type=int, default=int(env.get("BENCH_ROUNDS", "2")))
    parser.add_argument("--seconds", type=int, default=int(env.get("BENCH_SECONDS", "8")))
    parser.add_argument("--warmup", type=int, default=int(env.get("BENCH_WARMUP", "2")))
    parser.add_argument("--connections", type=int, default=int(env.get("BENCH_CONNECTIONS", "16")))
    parser.add_argument("--grpc-concurrency", type=int, default=int(env.get("BENCH_GRPC_CONCURRENCY", "16")))
    parser.add_argument("--cold-codes", type=int, default=int(env.get("BENCH_COLD_CODES", "50")))
    parser.add_argument("--cold-callers", type=int, default=int(env.get("BENCH_COLD_CALLERS", "8")))
    parser.add_argument("--cold-latency-ms", type=int, default=int(env.get("BENCH_COLD_LATENCY_MS", "200")))
    parser.add_argument("--out", type=Path, default=Path(env.get("BENCH_OUT", ROOT / "build" / "bench")))
    parser.add_argument("--strict", action="store_true", default=env.get("BENCH_STRICT") == "1",
                        help="exit 1 when a throughput ratio misses its target too")
    args = parser.parse_args(argv)
    settings = Settings(
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        http_connections=args.connections,
        grpc_concurrency=args.grpc_concurrency,
        cold_codes=args.cold_codes,
        cold_callers=args.cold_callers,
        cold_latency_ms=args.cold_latency_ms,
        out=args.out,
    )
    results = run(settings)
    (settings.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_results(results)
    print(f"\nbench: results saved to {settings.out / 'results.json'}")
    # Row 7 is a correctness property (single flight), not a timing: it always decides the exit code.
    failed = not results["cold_path"]["met"]
    if args.strict:
        failed = failed or any(r["met"] is False for r in results["ratios"])
    return 1 if failed else 0
