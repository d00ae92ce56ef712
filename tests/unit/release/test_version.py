"""One version from one place: VERSION, and every copy of it in the tree agrees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import version  # scripts/version.py

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "version.py"


def test_every_copy_in_the_tree_agrees_with_version_file() -> None:
    assert version.drift(ROOT) == []


def test_the_checked_copies_cover_all_three_packages() -> None:
    places = " ".join(c.where for c in version.copies(ROOT))
    for rel in version.PACKAGES.values():
        assert rel in places
    assert set(version.PACKAGES) == {"tenki-proto", "tenki-weather", "tenki-frontend"}


def test_chart_version_and_app_version_are_checked_when_the_chart_exists() -> None:
    if not (ROOT / version.CHART).exists():
        pytest.skip(f"{version.CHART} is not in this tree yet")
    places = [c.where for c in version.copies(ROOT)]
    assert f"{version.CHART} version" in places and f"{version.CHART} appVersion" in places


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the files that hold the version, so `set` can be exercised without touching the repo."""
    for rel in ["VERSION", version.LOCK, *version.PACKAGES.values()]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    chart = tmp_path / version.CHART
    chart.parent.mkdir(parents=True)
    chart.write_text(
        'apiVersion: v2\nname: tenki\n# the chart\nversion: 0.1.0\nappVersion: "0.1.0"\n', encoding="utf-8"
    )
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_check_names_each_copy_that_drifts(tree: Path) -> None:
    frontend = tree / "services/frontend/pyproject.toml"
    frontend.write_text(frontend.read_text().replace('version = "0.1.0"', 'version = "0.1.1"', 1))
    chart = tree / version.CHART
    chart.write_text(chart.read_text().replace('appVersion: "0.1.0"', 'appVersion: "0.0.9"'))

    result = run("--root", str(tree), "check")

    assert result.returncode == 1
    assert "services/frontend/pyproject.toml [project] version (tenki-frontend) is '0.1.1'" in result.stdout
    assert "charts/tenki/Chart.yaml appVersion is '0.0.9'" in result.stdout
    assert "proto/pyproject.toml" not in result.stdout


def test_set_writes_every_copy_and_keeps_the_rest_of_each_file(tree: Path) -> None:
    # uv.lock is rewritten by `uv lock` itself; here only the files this script writes are checked.
    weather_before = (tree / "services/weather/pyproject.toml").read_text()

    result = run("--root", str(tree), "set", "1.4.0", "--no-lock")

    assert result.returncode == 0, result.stderr
    assert (tree / "VERSION").read_text() == "1.4.0\n"
    weather_after = (tree / "services/weather/pyproject.toml").read_text()
    assert weather_after == weather_before.replace('version = "0.1.0"', 'version = "1.4.0"', 1)
    chart = (tree / version.CHART).read_text()
    assert "\nversion: 1.4.0\n" in chart and '\nappVersion: "1.4.0"\n' in chart
    assert "# the chart" in chart
    leftovers = [c.where for c in version.copies(tree) if c.value != "1.4.0"]
    assert leftovers == [f"uv.lock {name}" for name in version.PACKAGES]


@pytest.mark.parametrize("bad", ["1.4", "v1.4.0", "1.4.0rc1", "01.4.0", "1.4.0-beta", ""])
def test_set_refuses_a_version_that_is_not_major_minor_patch(tree: Path, bad: str) -> None:
    result = run("--root", str(tree), "set", bad, "--no-lock")

    assert result.returncode == 2
    assert "MAJOR.MINOR.PATCH" in result.stderr
    assert (tree / "VERSION").read_text() == (ROOT / "VERSION").read_text()


def test_show_prints_the_version_file(tree: Path) -> None:
    (tree / "VERSION").write_text("2.0.1\n")
    assert run("--root", str(tree), "show").stdout == "2.0.1\n"


def test_a_missing_version_file_is_a_clear_error(tree: Path) -> None:
    (tree / "VERSION").unlink()
    result = run("--root", str(tree), "check")
    assert result.returncode == 2
    assert "VERSION is missing" in result.stderr
