"""The one HTTP load generator of the benchmark: Debian's wrk, with the same settings for every row.

wrk is written in C and spends far less CPU per request than any Python client, which matters on
a 2-core machine where the load generator shares the CPUs with the servers it measures. Its
numbers come from the JSON line that report.lua prints in wrk's `done` hook (no text scraping).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .stats import RowResult

REPORT_LUA = Path(__file__).with_name("report.lua")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no report line."""


@dataclass(frozen=True)
class WrkSettings:
    """One setting for every HTTP row: threads, open connections, warm-up and measured seconds."""

    threads: int = 1
    connections: int = 16
    warmup_seconds: int = 2
    seconds: int = 10
    timeout_seconds: int = 5


def parse_report(stdout: str) -> dict:
    """The JSON object report.lua printed, from wrk's whole stdout."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{") and '"tenki_bench"' in line:
            return json.loads(line)
    raise WrkError("wrk printed no report line (is report.lua in place?)")


def to_row(row: int, name: str, report: dict, settings: WrkSettings) -> RowResult:
    errors = sum(report["errors"].values())
    latency = report["latency_us"]
    return RowResult(
        row=row,
        name=name,
        tool=f"wrk -t{settings.threads} -c{settings.connections}",
        requests=report["requests"],
        errors=errors,
        seconds=report["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        extra={"bytes_per_response": round(report["bytes"] / max(report["requests"], 1))},
    )


def _wrk(url: str, settings: WrkSettings, seconds: int) -> str:
    exe = shutil.which("wrk")
    if exe is None:
        raise WrkError("wrk is not installed: scripts/apt-ensure.sh wrk=wrk")
    cmd = [
        exe,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{seconds}s",
        f"--timeout={settings.timeout_seconds}s",
        "-s",
        str(REPORT_LUA),
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def run(row: int, name: str, url: str, settings: WrkSettings) -> RowResult:
    """Warm the target up (not counted), then measure it for settings.seconds."""
    if settings.warmup_seconds > 0:
        _wrk(url, settings, settings.warmup_seconds)
    return to_row(row, name, parse_report(_wrk(url, settings, settings.seconds)), settings)
