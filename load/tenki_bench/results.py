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


def gunicorn_settings() -> dict[str, Any]:
    from tenki_frontend.config import FrontendSettings

    settings = FrontendSettings.from_env()
    return {"workers": settings.gunicorn_workers, "threads": settings.gunicorn_threads}


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
    cold = best[7].extra
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
        "cold_path": {
            "distinct_codes": cold["distinct_codes"],
            "upstream_calls": cold["upstream_calls"],
            "met": cold["upstream_calls"] == cold["distinct_codes"],
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
    cold = results["cold_path"]
    verdict = "ok" if cold["met"] else "MISSED"
    print(
        f"  row 7 upstream calls: {cold['upstream_calls']} for {cold['distinct_codes']} distinct codes"
        f"  (target: equal)  {verdict}"
    )
    pages = results["settings"]["page_bytes"]
    print(f"  page sizes: bare {pages['bare']} B, tenki {pages['tenki']} B;"
          f" cache-hit rows made {results['cache_hit_rows_upstream_calls']} upstream calls")


def failed(results: dict[str, Any], strict: bool) -> bool:
    """Row 7 is a correctness property (single flight), not a timing: it always decides; `strict` adds
    the throughput ratios."""
    missed = not results["cold_path"]["met"]
    if strict:
        missed = missed or any(r["met"] is False for r in results["ratios"])
    return missed
