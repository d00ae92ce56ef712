"""Helpers of the image tests: docker, the report, a running container, waiting like a startup probe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
# Size and layers of each image, and what the tests measured (startup, SIGTERM); build/images/report.json.
REPORT_DATA: dict[str, Any] = {}


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"docker {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def helm_binary() -> str:
    found = shutil.which("helm") or str(ROOT / ".tools" / "bin" / "helm")
    if not Path(found).exists():
        pytest.fail("no helm: `make helm` installs the pinned one into .tools/bin")
    return found


def record(service: str, **measured: float) -> None:
    """Add what a test measured to the service's row of the report."""
    REPORT_DATA.setdefault("images", {}).setdefault(service, {}).update(measured)


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
