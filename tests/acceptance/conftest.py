"""Acceptance runs only inside the tox environments that `make acceptance` builds from dist/.

There, tenki is installed from its wheels alone, so these tests judge what ships. In the development
venv tenki is an editable install of the source tree: the same tests would judge the wrong thing, so
they are not collected there at all (`make acceptance` is the way to run them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ACCEPTANCE = os.environ.get("TENKI_ACCEPTANCE") == "1"


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if not ACCEPTANCE and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return True
    return None


@pytest.fixture(scope="session")
def source_root() -> Path:
    """The checkout the artefacts were built from (for its VERSION and package trees, never imported)."""
    return Path(os.environ["TENKI_SOURCE"]).resolve()


@pytest.fixture(scope="session")
def dist_dir() -> Path:
    path = Path(os.environ["TENKI_DIST"]).resolve()
    assert path.is_dir(), f"{path} is missing: run `make dist` first"
    return path


@pytest.fixture(scope="session")
def release_version(source_root: Path) -> str:
    return (source_root / "VERSION").read_text(encoding="utf-8").strip()
