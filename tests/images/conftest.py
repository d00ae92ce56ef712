"""Fixtures of the image tests: a Docker daemon, both images built, both containers run as the chart says.

`make test-images` runs this suite under scripts/docker_images.py's daemon wrapper. Standalone,
`pytest tests/images` starts a daemon itself when none answers (root) and stops it afterwards.
At the end the suite removes its containers and the images it built (the two service images, their
builder stages and any stand-in bases made in this run); TENKI_KEEP_IMAGES=1 keeps the images, so the
next run reuses Docker's build cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chart_run
import docker_images
import pytest
from chart_run import Workload

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "build" / "images" / "report.json"
VERSION = (ROOT / "VERSION").read_text().strip()
UV_VERSION = next(
    line.split(":=")[1].strip()
    for line in (ROOT / "Makefile").read_text().splitlines()
    if line.startswith("UV_VERSION :=")
)
KEEP = os.environ.get("TENKI_KEEP_IMAGES") == "1"
RUN_LABEL = "tenki.images-run"
_REPORT: dict[str, Any] = {}


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"docker {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def helm_binary() -> str:
    import shutil

    found = shutil.which("helm") or str(ROOT / ".tools" / "bin" / "helm")
    if not Path(found).exists():
        pytest.fail("no helm: `make helm` installs the pinned one into .tools/bin")
    return found


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
    with docker_images.daemon():
        try:
            result = docker_images.build(VERSION, UV_VERSION)
        except SystemExit as exc:
            pytest.fail(str(exc.code))
        _REPORT.update(report(result))
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(_REPORT, indent=2) + "\n")
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


def report(result: dict[str, Any]) -> dict[str, Any]:
    """Size and layer count of each image (and its bases: stand-in or real)."""
    rows: dict[str, Any] = {"version": VERSION, "bases": result["bases"], "images": {}}
    for service, info in result["images"].items():
        (inspected,) = json.loads(docker("image", "inspect", info["tag"]).stdout)
        rows["images"][service] = {
            "tag": info["tag"],
            "size_bytes": inspected["Size"],
            "size_mb": round(inspected["Size"] / 1e6, 1),
            "layers": len(inspected["RootFS"]["Layers"]),
            "build_seconds": info["build_seconds"],
            "user": inspected["Config"]["User"],
        }
    return rows


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORT:
        return
    write = terminalreporter.write_line
    terminalreporter.section("images")
    write(f"{'image':<24} {'size':>9} {'layers':>7} {'build':>8}")
    for row in _REPORT["images"].values():
        write(f"{row['tag']:<24} {row['size_mb']:>6.1f} MB {row['layers']:>7} {row['build_seconds']:>6.1f} s")
    for ref, how in _REPORT["bases"].items():
        write(f"base {ref}: {how}")
    write(f"(also in {REPORT.relative_to(ROOT)})")


@dataclass
class Running:
    """One container of the chart's workloads, started from its image."""

    service: str
    workload: Workload
    container_id: str
    env: dict[str, str] = field(default_factory=dict)

    def inspect(self) -> dict[str, Any]:
        (info,) = json.loads(docker("inspect", self.container_id).stdout)
        return dict(info)

    def pids(self) -> list[int]:
        out = docker("top", self.container_id, "-eo", "pid").stdout.split()[1:]
        return [int(pid) for pid in out]

    def logs(self) -> tuple[str, str]:
        proc = docker("logs", self.container_id)
        return proc.stdout, proc.stderr


def run_label() -> dict[str, str]:
    return {RUN_LABEL: os.environ.get("TENKI_IMAGES_RUN") or f"pytest-{os.getpid()}"}


def wait_for_probe(running: Running, probe: dict[str, Any], check: Any) -> None:
    """Poll `check` as the kubelet polls a startup probe: periodSeconds apart, failureThreshold times."""
    period = min(float(probe.get("periodSeconds", 10)), 1.0)  # sooner than the kubelet, within its bound
    bound = probe.get("initialDelaySeconds", 0)
    bound += probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    deadline = time.monotonic() + bound
    last: object = None
    while time.monotonic() < deadline:
        if not running.inspect()["State"]["Running"]:
            out, err = running.logs()
            pytest.fail(f"{running.service} exited: {running.inspect()['State']}\n{out[-2000:]}{err[-2000:]}")
        try:
            if check(running, probe):
                return
        except Exception as exc:  # not up yet: the kubelet retries too
            last = exc
        time.sleep(period)
    out, err = running.logs()
    pytest.fail(f"{running.service}: no startup for {bound} s ({last!r})\n{out[-2000:]}{err[-1000:]}")


STARTUP_ORDER = ("weather", "frontend")  # the frontend's env points at the weather container


@pytest.fixture(scope="module")
def stack(built: dict[str, Any], chart_objects: list[dict[str, Any]]) -> Iterator[dict[str, Running]]:
    """Both containers, started with the chart's settings, past their startup probes; removed afterwards."""
    from tenki_frontend.config import FrontendSettings
    from tenki_weather.config import WeatherSettings

    import probes

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
    try:
        for service in STARTUP_ORDER:
            workload = workloads[service]
            forced = {str(hosts[service]): chart_run.LOOPBACK}
            args = chart_run.run_args(chart_objects, list(workloads.values()), workload, forced, run_label())
            env = chart_run.env_of(chart_objects, list(workloads.values()), workload, forced)
            image = built["images"][service]["tag"]
            proc = docker("run", *args, image, *chart_run.command_args(workload), timeout=120)
            started[service] = Running(service, workload, proc.stdout.strip(), env)
            startup = workload.container.get("startupProbe") or workload.container.get("readinessProbe")
            assert startup, f"{service}: no startup or readiness probe to wait for"
            wait_for_probe(started[service], startup, lambda r, p: probes.probe_ok(r.workload, p))
        yield started
    finally:
        for running in started.values():
            docker("rm", "--force", running.container_id, check=False)
