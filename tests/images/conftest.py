"""Fixtures of the image tests: a Docker daemon, both images built, both containers run as the chart says.

`make test-images` runs this suite under scripts/docker_images.py's daemon wrapper. Standalone,
`pytest tests/images` starts a daemon itself when none answers (root) and stops it afterwards.
At the end the suite removes its containers and the images it built (the two service images, their
builder stages and any stand-in bases made in this run); TENKI_KEEP_IMAGES=1 keeps the images, so the
next run reuses Docker's build cache.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import chart_run
import docker_images
import probes
import pytest
from image_support import (
    KEEP, REPORT, REPORT_DATA, ROOT, UV_VERSION, VERSION, Running, docker, helm_binary, record, report,
    run_label, wait_for_probe,
)


@pytest.fixture(scope="session")
def chart_objects() -> list[dict[str, Any]]:
    """The chart's default render, as a cluster would receive it."""
    out = subprocess.run(
        [helm_binary(), "template", "tenki", str(ROOT / "charts" / "tenki"), "--namespace", "tenki"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    return chart_run.parse(out)


@pytest.fixture(scope="session")
def built() -> Iterator[dict[str, Any]]:
    """Both images built from the Dockerfiles (a daemon started for the session when none answers)."""
    with contextlib.ExitStack() as session:
        try:
            session.enter_context(docker_images.daemon())
            result = docker_images.build(VERSION, UV_VERSION)
        except SystemExit as exc:  # the script's way of saying what went wrong
            pytest.fail(str(exc.code))
        REPORT_DATA.update(report(result))
        write_report()
        yield result
        if KEEP:
            return
        images: dict[str, dict[str, Any]] = result["images"]
        doomed = [info["tag"] for info in images.values()]
        doomed += [ref for ref, how in result["bases"].items() if how == "stand-in"]
        docker("rmi", *doomed, check=False)
        intermediate = [i for info in images.values() for i in info["intermediate"]]
        if intermediate:
            docker("rmi", *intermediate, check=False)


def write_report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(REPORT_DATA, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The table: each image's size and layers, its build, startup and SIGTERM times, and the bases."""
    if not REPORT_DATA:
        return
    write_report()  # now with what the tests measured
    write = terminalreporter.write_line
    terminalreporter.section("images")
    write(f"{'image':<22} {'size':>9} {'layers':>6} {'build':>7} {'startup':>8} {'SIGTERM':>8}")

    def seconds(row: dict[str, Any], key: str) -> str:
        return f"{row[key]:.1f} s" if key in row else "-"

    for row in REPORT_DATA["images"].values():
        write(
            f"{row['tag']:<22} {row['size_mb']:>6.1f} MB {row['layers']:>6}"
            f" {seconds(row, 'build_seconds'):>7}"
            f" {seconds(row, 'startup_seconds'):>8} {seconds(row, 'sigterm_seconds'):>8}"
        )
    for ref, how in REPORT_DATA["bases"].items():
        write(f"base {ref}: {how}")
    write(f"(also in {REPORT.relative_to(ROOT)})")


# The frontend's env points at the weather container, and its probes go through the proxy beside it
# (in the pod they start together; here the proxy first, so the frontend's startup probe can pass).
STARTUP_ORDER = ("weather", "proxy", "frontend")


@pytest.fixture(scope="module")
def stack(built: dict[str, Any], chart_objects: list[dict[str, Any]]) -> Iterator[dict[str, Running]]:
    """The containers, started with the chart's settings, past their startup probes; removed afterwards."""
    from tenki_frontend.config import FrontendSettings
    from tenki_weather.config import WeatherSettings

    workloads = {
        service: chart_run.workload_of(chart_objects, f"tenki-{service}") for service in STARTUP_ORDER
    }
    chart_run.assign_ports(list(workloads.values()))
    # Listen on loopback only, whatever the chart says (the settings' own variable names).
    hosts = {
        "weather": WeatherSettings.model_fields["host"].alias,
        "frontend": FrontendSettings.model_fields["host"].alias,
    }
    started: dict[str, Running] = {}
    mounted: list[str] = []  # the ConfigMap directories run_args wrote, removed with the containers
    try:
        for service in STARTUP_ORDER:
            workload = workloads[service]
            forced = {str(hosts[service]): chart_run.LOOPBACK} if service in hosts else {}
            args = chart_run.run_args(chart_objects, list(workloads.values()), workload, forced, run_label())
            mounted += [args[i + 1].split(":")[0] for i, a in enumerate(args) if a == "--volume"]
            env = chart_run.env_of(chart_objects, list(workloads.values()), workload, forced)
            image = built["images"][service]["tag"]
            began = time.monotonic()
            proc = docker("run", *args, image, *chart_run.command_args(workload), timeout=120)
            started[service] = Running(service, workload, proc.stdout.strip(), env)
            startup = workload.container.get("startupProbe") or workload.container.get("readinessProbe")
            assert startup, f"{service}: no startup or readiness probe to wait for"
            wait_for_probe(started[service], startup, lambda r, p: probes.probe_ok(r.workload, p))
            record(service, startup_seconds=round(time.monotonic() - began, 1))
        yield started
    finally:
        for running in started.values():
            docker("rm", "--force", running.container_id, check=False)
        for directory in mounted:
            shutil.rmtree(directory, ignore_errors=True)
