"""Shared test set-up: every test is marked after the suite folder it lives in.

`make test-unit` and friends select suites by folder; the marker lets `pytest -m` do the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Shared fixtures live in tests/support; `pythonpath` in setup.cfg puts tests/ and scripts/ (for tenki_stack)
# on sys.path.
pytest_plugins = ["support.owm_fixtures", "support.stack_fixtures", "support.redis_server"]

SUITES = ("unit", "integration", "web", "deploy", "cluster", "reliability", "acceptance")
TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            suite = Path(item.path).relative_to(TESTS_DIR).parts[0]
        except ValueError:
            continue
        if suite in SUITES:
            item.add_marker(getattr(pytest.mark, suite))
