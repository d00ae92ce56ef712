"""Chart security: checkov on the rendered Helm chart passes, apart from a short, justified skip list.

checkov reads the manifests `helm template` renders (what a cluster would receive), not the Go templates.
The skip list lives beside this file (checkov-skips.yaml); every entry needs a reason, and an entry whose
check passes again is reported as stale, so the list cannot silently grow or rot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "tenki"
SKIPS_FILE = Path(__file__).with_name("checkov-skips.yaml")
CHECKOV = Path(sys.executable).with_name("checkov")

# The value sets checked: the defaults, and the optional objects a production install can switch on.
VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "existing-secret-ingress-hpa": [
        "--set", "owm.existingSecret=tenki-owm", "--set", "ingress.enabled=true",
        "--set", "httpRoute.enabled=false", "--set", "gateway.create=false",
        "--set", "weather.autoscaling.enabled=true", "--set", "frontend.autoscaling.enabled=true",
    ],
    "chart-secret-grpcroute": ["--set", "owm.apiKey=not-a-real-key", "--set", "grpcRoute.enabled=true"],
    # The chart's own Redis-protocol server (Valkey) for the fleet's shared state, with a password.
    "redis": ["--set", "redis.enabled=true", "--set", "redis.existingSecret=tenki-redis"],
    # Without its password, as redis.enabled alone renders it.
    "redis-no-password": ["--set", "redis.enabled=true"],
    # What an operator sets: OpenShift-assigned ids, extension points, ServiceMonitors (one file, as a
    # production values file would be).
    "operator": ["-f", str(ROOT / "tests" / "deploy" / "operator-values.yaml")],
}


def helm_binary() -> str:
    local = ROOT / ".tools" / "bin" / "helm"
    found = shutil.which("helm") or (str(local) if local.exists() else None)
    if not found:
        pytest.fail("no helm binary: run `make helm` (it installs a pinned helm into .tools/bin)")
    return found


def load_skips() -> list[dict[str, Any]]:
    return list(yaml.safe_load(SKIPS_FILE.read_text())["skips"] or [])


def run_checkov(manifest: Path) -> dict[str, Any]:
    # --skip-download and BC_SKIP_MAPPING keep checkov offline (it would otherwise call its vendor's API).
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    proc = subprocess.run(
        [str(CHECKOV), "-f", str(manifest), "--framework", "kubernetes", "--output", "json",
         "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode in (0, 1), f"checkov crashed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    # With nothing failed and --quiet, checkov may print a list or a bare summary; normalise to one dict.
    if isinstance(report, list):
        failed = [c for r in report for c in r["results"].get("failed_checks", [])]
        report = {"results": {"failed_checks": failed},
                  "summary": {"parsing_errors": sum(r["summary"]["parsing_errors"] for r in report),
                              "resource_count": sum(r["summary"]["resource_count"] for r in report)}}
    report.setdefault("results", {}).setdefault("failed_checks", [])
    return report


def test_every_skip_has_a_reason() -> None:
    skips = load_skips()
    ids = [s.get("id") for s in skips]
    assert len(ids) == len(set(ids)), "a check is listed twice in checkov-skips.yaml"
    for skip in skips:
        assert str(skip.get("id", "")).startswith("CKV"), f"not a checkov check id: {skip}"
        assert set(skip.get("value_sets", [])) <= set(VALUE_SETS), f"{skip.get('id')}: unknown value set"
        reason = str(skip.get("reason", "")).strip()
        assert len(reason) >= 20, f"{skip.get('id')}: give the reason for the skip"


@pytest.fixture(scope="module")
def checkov_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """checkov's report for each value set (rendered once per module: checkov takes seconds per run)."""
    assert CHART.is_dir(), f"the chart is missing: {CHART}"
    helm = helm_binary()
    reports = {}
    for name, args in VALUE_SETS.items():
        rendered = subprocess.run(
            [helm, "template", "tenki", str(CHART), "--namespace", "tenki", *args],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert rendered.returncode == 0, f"helm template ({name}) failed: {rendered.stderr}"
        documents = [d for d in yaml.safe_load_all(rendered.stdout) if d]
        assert documents, f"helm template ({name}) rendered nothing"
        manifest = tmp_path_factory.mktemp(f"chart-{name}") / "rendered.yaml"
        manifest.write_text(rendered.stdout)
        reports[name] = run_checkov(manifest)
    return reports


def failed_checks(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_rendered_chart_passes_checkov(value_set: str, checkov_reports: dict[str, dict[str, Any]]) -> None:
    report = checkov_reports[value_set]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 0, "checkov found no Kubernetes resources to check"
    skips = {s["id"]: s for s in load_skips()}
    unexpected = sorted(
        f"{cid} {resource}: {name}"
        for cid, resource, name in failed_checks(report)
        if cid not in skips
        or (skips[cid].get("resources") and resource not in skips[cid]["resources"])
        or (skips[cid].get("value_sets") and value_set not in skips[cid]["value_sets"])
    )
    assert not unexpected, "checkov failed checks on the rendered chart:\n" + "\n".join(unexpected)


@pytest.mark.timeout(900)
def test_no_stale_skips(checkov_reports: dict[str, dict[str, Any]]) -> None:
    """Every skip is still needed by some value set; one that nothing needs any more must go."""
    needed = {cid for report in checkov_reports.values() for cid, _, _ in failed_checks(report)}
    stale = sorted({s["id"] for s in load_skips()} - needed)
    assert not stale, f"these checks pass now; remove them from {SKIPS_FILE.name}: {stale}"
