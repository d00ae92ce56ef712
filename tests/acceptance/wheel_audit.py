"""What a tenki wheel must hold and must not hold, as a list of human-readable problems.

Kept apart from the tests so that the tests can also feed it deliberately broken wheels and see it object.
"""

from __future__ import annotations

import ast
import configparser
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Files that never belong in a wheel: tests, caches, compiled bytecode, local settings and key material.
FORBIDDEN_PARTS = {"tests", "test", "__pycache__", ".pytest_cache", ".hypothesis", ".git", ".venv"}
FORBIDDEN_NAME_RE = re.compile(
    r"(\.py[co]$|^\.env(\..*)?$|\.pem$|\.key$|\.p12$|\.pfx$|^id_(rsa|ed25519|ecdsa)|^\.netrc$"
    # A data file named like a secret (a module such as redact_secrets.py is code, not a secret).
    r"|^[^.]*(secret|credential)[^.]*(\.(json|ya?ml|txt|ini|cfg|toml))?$)",
    re.IGNORECASE,
)
# Secrets in text: private keys, an OWM key assigned to a name, a bare 32-hex-digit string (an OWM key).
SECRET_TEXT_RE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|OWM_API_KEY\s*[=:]\s*['\"]?[0-9A-Za-z]{8,}|\b[0-9a-f]{32}\b)"
)
# Source files that are build inputs, not package content.
SOURCE_OMIT_PARTS = {"__pycache__"}
SOURCE_OMIT_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class WheelSpec:
    """What one of tenki's wheels is expected to be."""

    project: str  # distribution name, e.g. tenki-frontend
    source: str  # the package tree in the checkout, relative to its root
    install_root: str  # where that tree lands inside the wheel
    scripts: dict[str, str] = field(default_factory=dict)  # console script → "module:function"
    required: tuple[str, ...] = ()  # glob patterns (inside the wheel) that must each match at least one file


SPECS = (
    WheelSpec(
        project="tenki-proto",
        source="proto/tenki",
        install_root="tenki",
        required=(
            "tenki/weather/v1/weather.proto",
            "tenki/weather/v1/weather_pb2.py",
            "tenki/weather/v1/weather_pb2.pyi",
            "tenki/weather/v1/weather_pb2_grpc.py",
        ),
    ),
    WheelSpec(
        project="tenki-weather",
        source="services/weather/src/tenki_weather",
        install_root="tenki_weather",
        scripts={"tenki": "tenki_weather.cli:main"},
        required=("tenki_weather/cli.py", "tenki_weather/config.py"),
    ),
    WheelSpec(
        project="tenki-frontend",
        source="services/frontend/src/tenki_frontend",
        install_root="tenki_frontend",
        scripts={"tenki-frontend": "tenki_frontend.cli:main"},
        required=(
            "tenki_frontend/cli.py",
            "tenki_frontend/config.py",
            "tenki_frontend/templates/*.html",
            "tenki_frontend/static/*",
        ),
    ),
)


def wheel_path(dist: Path, spec: WheelSpec, version: str) -> Path:
    return dist / f"{spec.project.replace('-', '_')}-{version}-py3-none-any.whl"


def source_files(root: Path, spec: WheelSpec) -> set[str]:
    """Every file of the package tree in the checkout, named as it would be inside the wheel."""
    base = root / spec.source
    names = set()
    for path in base.rglob("*"):
        rel = path.relative_to(base)
        if (
            path.is_file()
            and not SOURCE_OMIT_PARTS & set(rel.parts)
            and path.suffix not in SOURCE_OMIT_SUFFIXES
        ):
            names.add(str(PurePosixPath(spec.install_root, *rel.parts)))
    return names


def _dist_info(names: list[str]) -> str | None:
    infos = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    return infos.pop() if len(infos) == 1 else None


def _defines(source: bytes, function: str) -> bool:
    tree = ast.parse(source)
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function
        for node in tree.body
    ) or any(
        isinstance(node, (ast.Import, ast.ImportFrom))
        and any((a.asname or a.name) == function for a in node.names)
        for node in tree.body
    )


def audit(wheel: Path, spec: WheelSpec, version: str, source_root: Path | None = None) -> list[str]:
    """Every way `wheel` falls short of `spec`; an empty list means it is fit to ship."""
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        files = [n for n in names if not n.endswith("/")]
        info = _dist_info(names)
        if info is None:
            return [f"{wheel.name}: no single .dist-info directory"]

        # Metadata: the right project at the one release version.
        metadata = archive.read(f"{info}/METADATA").decode()
        fields = dict(
            line.split(": ", 1) for line in metadata.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Name", "").lower().replace("_", "-") != spec.project:
            problems.append(
                f"{wheel.name}: METADATA Name is {fields.get('Name')!r}, expected {spec.project!r}"
            )
        if fields.get("Version") != version:
            problems.append(
                f"{wheel.name}: METADATA Version is {fields.get('Version')!r}, VERSION is {version!r}"
            )

        # Required members, and (when the checkout is at hand) every file of the package tree.
        for pattern in spec.required:
            if not any(PurePosixPath(n).match(pattern) for n in files):
                problems.append(f"{wheel.name}: nothing matches {pattern}")
        if source_root is not None:
            for missing in sorted(source_files(source_root, spec) - set(files)):
                problems.append(f"{wheel.name}: {missing} is in the source tree but not in the wheel")

        # Console scripts: declared as expected, and each points at a function the wheel really has.
        scripts: dict[str, str] = {}
        if f"{info}/entry_points.txt" in names:
            parser = configparser.ConfigParser(delimiters=("=",))
            parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
            parser.read_string(archive.read(f"{info}/entry_points.txt").decode())
            if parser.has_section("console_scripts"):
                scripts = {k: v.strip() for k, v in parser.items("console_scripts")}
        if scripts != spec.scripts:
            problems.append(f"{wheel.name}: console scripts are {scripts}, expected {spec.scripts}")
        for name, target in scripts.items():
            module, _, function = target.partition(":")
            candidates = [module.replace(".", "/") + ".py", module.replace(".", "/") + "/__init__.py"]
            found = [c for c in candidates if c in files]
            if not found:
                problems.append(
                    f"{wheel.name}: console script {name} points at {module}, which is not in the wheel"
                )
            elif function and not _defines(archive.read(found[0]), function.split(".")[0]):
                problems.append(
                    f"{wheel.name}: console script {name} points at {target}, which is not defined"
                )

        # Nothing that must not ship.
        for name in files:
            path = PurePosixPath(name)
            if FORBIDDEN_PARTS & set(path.parts[:-1]) or FORBIDDEN_NAME_RE.search(path.name):
                problems.append(f"{wheel.name}: {name} must not be in a wheel")
            elif not name.endswith("/RECORD") and SECRET_TEXT_RE.search(archive.read(name).decode("latin-1")):
                problems.append(f"{wheel.name}: {name} contains something that looks like a secret")
    return problems
