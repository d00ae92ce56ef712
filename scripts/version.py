#!/usr/bin/env python3
"""tenki's one version, from one place: the root VERSION file.

Every other place that states the version is a copy that this script keeps in step:

    scripts/version.py show            print the version (the content of VERSION)
    scripts/version.py check           exit 1 and name every copy that differs from VERSION
    scripts/version.py set 0.2.0       write 0.2.0 into VERSION and every copy, then re-lock (uv lock)

The copies are the `version` of each package's pyproject.toml (tenki-proto, tenki-weather, tenki-frontend),
their entries in uv.lock, and the Helm chart's `version` and `appVersion` (charts/tenki/Chart.yaml).
The images get it as `--build-arg VERSION=...` and `tenki --version` reads it from the installed
package's metadata, so neither holds a copy that could drift.

Why copies and not hatchling's dynamic version: a package's sdist must build on its own, and a path
outside the package (../VERSION) is not in its sdist; static versions also keep uv.lock and tools that
read pyproject.toml without building it (Dependabot, uv export) exact. Plain standard library only,
so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# MAJOR.MINOR.PATCH only: the one form that is both a valid PEP 440 version (the wheels) and a valid
# SemVer 2 (Helm's chart version), and that reads the same in both.
VERSION_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

PACKAGES = {
    "tenki-proto": "proto/pyproject.toml",
    "tenki-weather": "services/weather/pyproject.toml",
    "tenki-frontend": "services/frontend/pyproject.toml",
}
CHART = "charts/tenki/Chart.yaml"
CHART_KEYS = ("version", "appVersion")
LOCK = "uv.lock"

# `version = "..."` at the start of a line; in these pyprojects only [project] has such a line.
PYPROJECT_VERSION_RE = re.compile(r'^(version\s*=\s*)"([^"]*)"', re.MULTILINE)


class VersionError(Exception):
    """A version that cannot be used, with the reason in plain words."""


@dataclass(frozen=True)
class Copy:
    """One place that states the version, and what it says there (None: the place is missing)."""

    where: str
    value: str | None


def validate(version: str) -> str:
    version = version.strip()
    if not VERSION_RE.match(version):
        raise VersionError(
            f"{version!r} is not a release version: use MAJOR.MINOR.PATCH, e.g. 1.4.0 "
            "(one form that is valid for both Python packages and the Helm chart)"
        )
    return version


def read_version(root: Path = ROOT) -> str:
    path = root / "VERSION"
    try:
        return validate(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VersionError(f"{path} is missing: it is the one source of tenki's version") from None


def chart_value(text: str, key: str) -> str | None:
    match = re.search(rf"^{key}:\s*['\"]?([^'\"\s#]+)['\"]?\s*(#.*)?$", text, re.MULTILINE)
    return match.group(1) if match else None


def lock_versions(text: str) -> dict[str, str]:
    """The version uv.lock records for each of tenki's own packages."""
    packages = tomllib.loads(text).get("package", [])
    return {p["name"]: p.get("version", "") for p in packages if p.get("name") in PACKAGES}


def copies(root: Path = ROOT) -> list[Copy]:
    """Every copy of the version in the tree, in the order a reader would look for them."""
    found: list[Copy] = []
    for name, rel in PACKAGES.items():
        data = tomllib.loads((root / rel).read_text(encoding="utf-8"))
        found.append(Copy(f"{rel} [project] version ({name})", data.get("project", {}).get("version")))
    chart = root / CHART
    # The chart is built by another part of the project; until it exists there is nothing to compare.
    if chart.exists():
        text = chart.read_text(encoding="utf-8")
        found.extend(Copy(f"{CHART} {key}", chart_value(text, key)) for key in CHART_KEYS)
    lock = root / LOCK
    if lock.exists():
        locked = lock_versions(lock.read_text(encoding="utf-8"))
        found.extend(Copy(f"{LOCK} {name}", locked.get(name)) for name in PACKAGES)
    return found


def drift(root: Path = ROOT) -> list[str]:
    """Human sentences, one per copy that differs from VERSION; empty when all agree."""
    version = read_version(root)
    return [
        f"{c.where} is {c.value!r}, VERSION is {version!r}" for c in copies(root) if c.value != version
    ]


def write_version(root: Path, version: str) -> list[str]:
    """Write `version` into VERSION, the pyprojects and Chart.yaml; return the files changed."""
    version = validate(version)
    changed: list[str] = []

    def rewrite(rel: str, new_text: str, old_text: str) -> None:
        if new_text != old_text:
            (root / rel).write_text(new_text, encoding="utf-8")
            changed.append(rel)

    rewrite("VERSION", version + "\n", (root / "VERSION").read_text(encoding="utf-8"))
    for rel in PACKAGES.values():
        text = (root / rel).read_text(encoding="utf-8")
        new, count = PYPROJECT_VERSION_RE.subn(rf'\g<1>"{version}"', text, count=1)
        if count != 1:
            raise VersionError(f'{rel} has no `version = "..."` line to update')
        rewrite(rel, new, text)
    chart = root / CHART
    if chart.exists():
        text = new = chart.read_text(encoding="utf-8")
        for key in CHART_KEYS:
            pattern = rf"^({key}:\s*)(['\"]?)[^'\"\s#]+(['\"]?)"
            new, count = re.subn(pattern, rf"\g<1>\g<2>{version}\g<3>", new, count=1, flags=re.MULTILINE)
            if count != 1:
                raise VersionError(f"{CHART} has no `{key}:` line to update")
        rewrite(CHART, new, text)
    return changed


def relock(root: Path) -> None:
    """uv.lock records each workspace package's version: let uv itself rewrite it."""
    uv = os.environ.get("UV") or str(root / ".tools/bin/uv")
    subprocess.run([uv, "lock"], cwd=root, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="version.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the tenki checkout (default: this one)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show", help="print the version")
    sub.add_parser("check", help="fail when any copy of the version differs from VERSION")
    set_cmd = sub.add_parser("set", help="write a new version into VERSION and every copy, then re-lock")
    set_cmd.add_argument("version", help="MAJOR.MINOR.PATCH")
    set_cmd.add_argument("--no-lock", action="store_true", help="do not run `uv lock` afterwards")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        if args.command == "show":
            print(read_version(root))
        elif args.command == "check":
            problems = drift(root)
            if problems:
                print("version drift: every copy must equal VERSION (fix: scripts/version.py set X.Y.Z)")
                for line in problems:
                    print(f"  {line}")
                return 1
            print(f"version {read_version(root)}: all {len(copies(root))} copies agree with VERSION")
        else:
            changed = write_version(root, args.version)
            if not args.no_lock:
                relock(root)
            print(f"version set to {read_version(root)}; changed: {', '.join(changed) or 'nothing'}")
    except VersionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
