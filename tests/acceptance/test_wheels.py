"""The wheels in dist/ hold everything their package needs, and nothing that must not ship."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest
from wheel_audit import SPECS, WheelSpec, audit, wheel_path

SPEC = {spec.project: spec for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.project)
def test_wheel_is_complete_and_clean(
    spec: WheelSpec, dist_dir: Path, release_version: str, source_root: Path
):
    wheel = wheel_path(dist_dir, spec, release_version)
    assert wheel.is_file(), f"{wheel.name} is not in dist/: {sorted(p.name for p in dist_dir.iterdir())}"
    assert audit(wheel, spec, release_version, source_root) == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.project)
def test_sdist_builds_the_same_package_and_carries_no_local_files(
    spec: WheelSpec, dist_dir: Path, release_version: str
) -> None:
    sdist = dist_dir / f"{spec.project.replace('-', '_')}-{release_version}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = f"{spec.project.replace('-', '_')}-{release_version}"
    assert f"{top}/pyproject.toml" in names and f"{top}/PKG-INFO" in names
    leaked = [
        n for n in names if any(p in n.split("/") for p in ("__pycache__", ".env", ".venv", "tests", "build"))
    ]
    assert leaked == []


def test_dist_holds_exactly_one_version_of_each_package(dist_dir: Path, release_version: str) -> None:
    wheels = sorted(p.name for p in dist_dir.glob("*.whl"))
    assert wheels == sorted(wheel_path(dist_dir, s, release_version).name for s in SPECS)


# The audit itself must object to the mistakes it exists to catch: each case below breaks a good wheel.


def rewrite(wheel: Path, out: Path, drop=lambda name: False, replace: dict[str, bytes] | None = None) -> Path:
    replace = replace or {}
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if not drop(item.filename):
                dst.writestr(item, replace.get(item.filename, src.read(item.filename)))
        for name, data in replace.items():
            if name not in src.namelist():
                dst.writestr(name, data)
    return out


@pytest.fixture
def frontend_wheel(dist_dir: Path, release_version: str) -> Path:
    return wheel_path(dist_dir, SPEC["tenki-frontend"], release_version)


def test_audit_catches_templates_left_out(
    frontend_wheel: Path, release_version: str, source_root: Path, tmp_path
):
    broken = rewrite(frontend_wheel, tmp_path / frontend_wheel.name, drop=lambda n: "/templates/" in n)
    problems = audit(broken, SPEC["tenki-frontend"], release_version, source_root)
    assert any("nothing matches tenki_frontend/templates/*.html" in p for p in problems)
    assert any("templates/" in p and "is in the source tree but not in the wheel" in p for p in problems)


def test_audit_catches_static_files_left_out(
    frontend_wheel: Path, release_version: str, tmp_path: Path
) -> None:
    broken = rewrite(frontend_wheel, tmp_path / frontend_wheel.name, drop=lambda n: "/static/" in n)
    assert any("tenki_frontend/static/*" in p for p in audit(broken, SPEC["tenki-frontend"], release_version))


def test_audit_catches_stubs_left_out(dist_dir: Path, release_version: str, tmp_path: Path) -> None:
    good = wheel_path(dist_dir, SPEC["tenki-proto"], release_version)
    broken = rewrite(good, tmp_path / good.name, drop=lambda n: n.endswith("_pb2.py"))
    assert any("weather_pb2.py" in p for p in audit(broken, SPEC["tenki-proto"], release_version))


def test_audit_catches_a_console_script_that_points_nowhere(
    dist_dir: Path, release_version: str, tmp_path: Path
) -> None:
    good = wheel_path(dist_dir, SPEC["tenki-weather"], release_version)
    with zipfile.ZipFile(good) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
    moved = b"[console_scripts]\ntenki = tenki_weather.nowhere:main\n"
    broken = rewrite(good, tmp_path / good.name, replace={info: moved})
    problems = audit(broken, SPEC["tenki-weather"], release_version)
    assert any("points at tenki_weather.nowhere, which is not in the wheel" in p for p in problems)

    renamed = b"[console_scripts]\ntenki = tenki_weather.cli:no_such_function\n"
    broken = rewrite(good, tmp_path / "renamed.whl", replace={info: renamed})
    problems = audit(broken, SPEC["tenki-weather"], release_version)
    assert any("tenki_weather.cli:no_such_function, which is not defined" in p for p in problems)


def test_audit_catches_tests_caches_and_secrets(
    frontend_wheel: Path, release_version: str, tmp_path: Path
) -> None:
    canary = "0123456789abcdef0123456789abcdef"
    broken = rewrite(
        frontend_wheel,
        tmp_path / frontend_wheel.name,
        replace={
            "tenki_frontend/tests/test_views.py": b"def test(): pass\n",
            "tenki_frontend/__pycache__/views.cpython-311.pyc": b"\0",
            "tenki_frontend/.env": b"LOG_LEVEL=debug\n",
            "tenki_frontend/settings.py": f"DEFAULT_KEY = '{canary}'\n".encode(),
        },
    )
    problems = "\n".join(audit(broken, SPEC["tenki-frontend"], release_version))
    assert "tenki_frontend/tests/test_views.py must not be in a wheel" in problems
    assert "views.cpython-311.pyc must not be in a wheel" in problems
    assert "tenki_frontend/.env must not be in a wheel" in problems
    assert "tenki_frontend/settings.py contains something that looks like a secret" in problems
    assert canary not in problems


def test_audit_catches_a_version_that_is_not_the_release(frontend_wheel: Path, release_version: str) -> None:
    problems = audit(frontend_wheel, SPEC["tenki-frontend"], "99.0.0")
    assert any(f"METADATA Version is {release_version!r}, VERSION is '99.0.0'" in p for p in problems)
