"""The rest of dist/: the chart, the source tarball, the SBOMs and SHA256SUMS, all at the one version."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
import yaml


def test_sha256sums_lists_every_artefact_with_its_hash(dist_dir: Path) -> None:
    listed = {}
    for line in (dist_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    on_disk = {p.name for p in dist_dir.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((dist_dir / name).read_bytes()).hexdigest() == digest, name


def test_helm_chart_package_is_at_the_release_version(dist_dir: Path, release_version: str) -> None:
    with tarfile.open(dist_dir / f"tenki-{release_version}.tgz") as archive:
        chart = yaml.safe_load(archive.extractfile("tenki/Chart.yaml").read())  # type: ignore[union-attr]
        names = archive.getnames()
    assert chart["name"] == "tenki"
    assert str(chart["version"]) == release_version and str(chart["appVersion"]) == release_version
    assert "tenki/values.yaml" in names and "tenki/values.schema.json" in names
    assert any(n.startswith("tenki/templates/") for n in names)


def test_source_tarball_is_the_tree_at_the_release_version(dist_dir: Path, release_version: str) -> None:
    (tarball,) = dist_dir.glob(f"tenki-{release_version}-[0-9]*.tar.gz")
    assert (
        len(tarball.name.removeprefix(f"tenki-{release_version}-").removesuffix(".tar.gz")) == 8
    )  # YYYYMMDD
    prefix = f"tenki-{release_version}/"
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        version_file = archive.extractfile(prefix + "VERSION")
        assert version_file is not None and version_file.read().decode().strip() == release_version
    for path in ("Makefile", "uv.lock", "proto/tenki/weather/v1/weather.proto", "charts/tenki/Chart.yaml"):
        assert prefix + path in names
    assert not [n for n in names if "/.venv/" in n or "/dist/" in n or n.endswith((".pyc", "/.env"))]


@pytest.mark.parametrize(
    "service, must_have", [("weather", {"pyowm", "grpcio"}), ("frontend", {"flask", "gunicorn"})]
)
def test_sbom_lists_the_services_locked_dependencies(
    dist_dir: Path, release_version: str, service: str, must_have: set[str]
) -> None:
    bom = json.loads((dist_dir / f"tenki-{service}-{release_version}.cdx.json").read_text())
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["metadata"]["component"]["name"] == f"tenki-{service}"
    assert bom["metadata"]["component"]["version"] == release_version
    components = {c["name"].lower(): c for c in bom["components"]}
    assert must_have <= set(components)
    assert components["tenki-proto"]["version"] == release_version
    # Pinned to the lock file: every third-party component has an exact version and a purl.
    assert all(c.get("version") and c.get("purl", "").startswith("pkg:pypi/") for c in bom["components"])
    # Each image holds only its own service's dependencies.
    other = {"weather": "flask", "frontend": "pyowm"}[service]
    assert other not in components
