"""This environment holds tenki from its wheels only, at the release version, with working commands."""

from __future__ import annotations

import csv
import importlib
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import pytest

MODULES = (
    "tenki_weather",
    "tenki_frontend",
    "tenki.weather.v1.weather_pb2",
    "tenki.weather.v1.weather_pb2_grpc",
)
PROJECTS = ("tenki-proto", "tenki-weather", "tenki-frontend")


def test_runs_in_a_virtualenv_that_is_not_the_development_one(source_root: Path) -> None:
    assert sys.prefix != sys.base_prefix
    assert not Path(sys.prefix).resolve().is_relative_to(source_root / ".venv")


@pytest.mark.parametrize("name", MODULES)
def test_tenki_is_imported_from_site_packages_not_the_source_tree(name: str, source_root: Path) -> None:
    module = importlib.import_module(name)
    path = Path(module.__file__ or "").resolve()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert path.is_relative_to(site_packages), f"{name} comes from {path}, not {site_packages}"
    assert not any(
        p
        for p in sys.path
        if p
        and Path(p).resolve()
        in {
            source_root / "proto",
            source_root / "services/weather/src",
            source_root / "services/frontend/src",
        }
    )


@pytest.mark.parametrize("project", PROJECTS)
def test_installed_as_a_wheel_not_an_editable_link(project: str) -> None:
    dist = metadata.distribution(project)
    # An editable install records direct_url.json with "editable": true; a wheel from dist/ has a file URL
    # to the wheel itself.
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    assert not direct_url.get("dir_info", {}).get("editable", False), direct_url
    assert not [f for f in dist.files or [] if str(f).endswith(".pth")]


@pytest.mark.parametrize("project", PROJECTS)
def test_installed_files_are_the_wheels_in_dist(project: str, dist_dir: Path, release_version: str) -> None:
    # Byte for byte (RECORD's hashes): not a cached build of the same version, not a rebuilt one.
    wheel = dist_dir / f"{project.replace('-', '_')}-{release_version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        shipped = {row[0]: row[1] for row in csv.reader(archive.read(record).decode().splitlines()) if row[1]}
    installed = {str(f): f.hash.value for f in metadata.distribution(project).files or [] if f.hash}
    for name, digest in shipped.items():
        assert installed.get(name) == digest.split("=", 1)[1], f"{name} differs from {wheel.name}"


@pytest.mark.parametrize("project", PROJECTS)
def test_installed_version_is_the_release_version(project: str, release_version: str) -> None:
    assert metadata.version(project) == release_version


@pytest.mark.parametrize("project", ["tenki-weather", "tenki-frontend"])
def test_each_console_script_loads_and_is_on_this_environments_path(project: str) -> None:
    scripts = [ep for ep in metadata.distribution(project).entry_points if ep.group == "console_scripts"]
    assert scripts, f"{project} installs no console script"
    for script in scripts:
        assert callable(script.load())
        found = shutil.which(script.name)
        assert (
            found and Path(found).parent == Path(sys.executable).parent
        ), f"{script.name} resolves to {found}"


@pytest.mark.parametrize("command", ["tenki", "tenki-frontend"])
def test_version_option_prints_the_release_version(command: str, release_version: str) -> None:
    result = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert release_version in result.stdout.split(), result.stdout


def test_tenki_help_lists_the_management_commands() -> None:
    result = subprocess.run(["tenki", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "check", "weather"):
        assert command in result.stdout


def test_package_data_is_installed() -> None:
    frontend = files("tenki_frontend")
    assert [t.name for t in (frontend / "templates").iterdir() if t.name.endswith(".html")]
    assert [s.name for s in (frontend / "static").iterdir()]
    proto = (files("tenki.weather.v1") / "weather.proto").read_text(encoding="utf-8")
    assert "service WeatherService" in proto
