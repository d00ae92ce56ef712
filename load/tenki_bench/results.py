"""The benchmark's results: the document saved as OUT/results.json, its printed summary, its verdict."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from . import report, wrk
from .settings import Settings
from .stats import RowResult


# Row 8 (shared cache, near cache in front) may cost at most this times row 6's server CPU per call.
SHARED_CPU_TARGET = 1.1


def gunicorn_settings() -> dict[str, Any]:
    from tenki_frontend.config import FrontendSettings

    settings = FrontendSettings.from_env()
    return {"workers": settings.gunicorn_workers, "threads": settings.gunicorn_threads}


def cold_verdict(extra: dict[str, Any]) -> dict[str, Any]:
    """Single flight on the cold path: K codes cost K geocoding and K weather requests (2 K in all)."""
    k = extra["distinct_codes"]
    return {
        "distinct_codes": k,
        "upstream_calls": extra["upstream_calls"],
        "geocoding_calls": extra["geocoding_calls"],
        "weather_calls": extra["weather_calls"],
        "met": (extra["geocoding_calls"], extra["weather_calls"], extra["upstream_calls"]) == (k, k, 2 * k),
    }


def assemble(
    settings: Settings,
    best: dict[int, RowResult],
    all_rounds: dict[int, list[dict[str, Any]]],
    *,
    workers: int,
    page_bytes: dict[str, int],
    upstream_during_hits: int,
) -> dict[str, Any]:
    """The results document: the machine, the settings, the best round of each row, every round, ratios."""
    rows = [best[row] for row in sorted(best)]
    cold, cold_shared = best[7].extra, best[9].extra
    cpu_hit = best[6].extra.get("server_cpu_ms_per_request")
    cpu_shared = best[8].extra.get("server_cpu_ms_per_request")
    shared_ratio = round(cpu_shared / cpu_hit, 3) if cpu_hit and cpu_shared is not None else None
    return {
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
            "http": f"wrk -t{wrk.WrkSettings().threads} -c{settings.connections}",
            "grpc": f"grpc.aio, {settings.grpc_concurrency} calls in flight",
            "weather_max_workers": workers,
            "gunicorn": gunicorn_settings(),
            "page_bytes": page_bytes,
        },
        "rows": [r.to_json() for r in rows],
        "rounds": {str(row): results for row, results in all_rounds.items()},
        "ratios": report.ratio_results(best),
        "cold_path": cold_verdict(cold),
        "cold_path_shared": cold_verdict(cold_shared),
        "shared_cache_hit": {
            "server_cpu_ms_per_call_row6": cpu_hit,
            "server_cpu_ms_per_call_row8": cpu_shared,
            "ratio": shared_ratio,
            "target": SHARED_CPU_TARGET,
            "met": None if shared_ratio is None else shared_ratio <= SHARED_CPU_TARGET,
        },
        "cache_hit_rows_upstream_calls": upstream_during_hits,
    }


def save(results: dict[str, Any], out: Path) -> Path:
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def print_results(results: dict[str, Any]) -> None:
    rows = [RowResult(**{k: v for k, v in r.items() if k != "rps"}) for r in results["rows"]]
    print()
    print(report.table(rows))
    print()
    print("ratios (throughput of tenki's row over the bare row under it):")
    print(report.ratio_table(results["ratios"]))
    colds = ((7, "cold_path", ""), (9, "cold_path_shared", " through two processes sharing Redis"))
    for row, key, where in colds:
        cold = results[key]
        verdict = "ok" if cold["met"] else "MISSED"
        print(
            f"  row {row} upstream calls: {cold['geocoding_calls']} geocoding + {cold['weather_calls']}"
            f" weather"
            f" for {cold['distinct_codes']} distinct codes{where}  (target: K each)  {verdict}"
        )
    hit = results["shared_cache_hit"]
    verdict = "n/a" if hit["met"] is None else ("ok" if hit["met"] else "MISSED")
    print(
        f"  row 8 / row 6 server CPU per call: {hit['ratio']}  (target <= {hit['target']})  {verdict}"
    )
    tracing = results.get("tracing")
    if tracing:
        print("tracing (server CPU per request, ms; rows 10 and 11: rows 3 and 6 on a tenki tracing 100 %):")
        for cost in tracing["rows"]:
            print(f"  row {cost['row']} vs row {cost['untraced_row']}: {cost['cpu_ms_per_request_on']} vs "
                  f"{cost['cpu_ms_per_request_off']}: +{cost['cost_ms_per_request']} ms per request"
                  f"  (req/s {cost['rps_on']} vs {cost['rps_off']})")
        print(f"  spans received by the local OTLP receiver: {tracing['spans_received']} "
              f"(measured traced requests: {tracing['measured_traced_requests']}, warm-ups not counted)")
    pages = results["settings"]["page_bytes"]
    print(f"  page sizes: bare {pages['bare']} B, tenki {pages['tenki']} B;"
          f" cache-hit rows made {results['cache_hit_rows_upstream_calls']} upstream calls")


def failed(results: dict[str, Any], strict: bool) -> bool:
    """Row 7 is a correctness property (single flight), not a timing: it always decides; `strict` adds
    the throughput ratios."""
    missed = not results["cold_path"]["met"] or not results["cold_path_shared"]["met"]
    if strict:
        missed = missed or any(r["met"] is False for r in results["ratios"])
        missed = missed or results["shared_cache_hit"]["met"] is False
    return missed
