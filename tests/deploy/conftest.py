"""Fixtures of the static delivery proofs: the chart rendered per value set, and the reference schemas.

Nothing here needs a cluster or a container engine: `helm template` renders what a cluster would receive,
and the tests read those objects the way the API server and the kubelet would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from deploy_support import ROOT, VALUE_SETS, render

_RENDERED: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(params=sorted(VALUE_SETS), ids=sorted(VALUE_SETS))
def value_set(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objects(value_set: str) -> list[dict[str, Any]]:
    """The rendered objects of `value_set` (rendered once per session: helm takes a moment per run)."""
    if value_set not in _RENDERED:
        _RENDERED[value_set] = render(*VALUE_SETS[value_set])
    return _RENDERED[value_set]


@pytest.fixture
def default_objects() -> list[dict[str, Any]]:
    if "default" not in _RENDERED:
        _RENDERED["default"] = render()
    return _RENDERED["default"]


SCHEMAS_MISSING = pytest.StashKey[str]()


def schemas_path() -> Path:
    return Path(os.environ.get("TENKI_SCHEMAS_DIR", ROOT.parent / "shared" / "schemas"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the shared schemas, every test that reads them is skipped with one reason (one `-rs` line).

    With TENKI_REQUIRE_SCHEMAS=1 (CI's .ci/run) they are not skipped: `schemas_dir` fails each of them.
    """
    path = schemas_path()
    if (path / "skaffold-v4beta14.json").is_file() and (path / "gateway-api-v1.6").is_dir():
        return
    reason = f"reference schemas not found in {path} (set TENKI_SCHEMAS_DIR)"
    config.stash[SCHEMAS_MISSING] = reason
    if os.environ.get("TENKI_REQUIRE_SCHEMAS") == "1":
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "schemas_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def schemas_dir(pytestconfig: pytest.Config) -> Path:
    """The shared reference schemas, read in place (never copied into the repo)."""
    if SCHEMAS_MISSING in pytestconfig.stash:
        pytest.fail(pytestconfig.stash[SCHEMAS_MISSING] + "; TENKI_REQUIRE_SCHEMAS=1 makes this a failure")
    return schemas_path()
