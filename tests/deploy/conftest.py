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


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """The shared reference schemas, read in place (never copied into the repo).

    Absent: skip with one line, unless TENKI_REQUIRE_SCHEMAS=1 (CI's .ci/run), where absence is a failure.
    """
    path = Path(os.environ.get("TENKI_SCHEMAS_DIR", ROOT.parent / "shared" / "schemas"))
    if not (path / "skaffold-v4beta14.json").is_file() or not (path / "gateway-api-v1.6").is_dir():
        message = f"reference schemas not found in {path} (set TENKI_SCHEMAS_DIR)"
        if os.environ.get("TENKI_REQUIRE_SCHEMAS") == "1":
            pytest.fail(message + "; TENKI_REQUIRE_SCHEMAS=1 makes this a failure")
        pytest.skip(message)
    return path
