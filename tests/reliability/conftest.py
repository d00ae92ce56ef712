"""Fixtures of the reliability drills: whole stacks (weather service + frontend) as real processes.

Each stack runs the installed console scripts through scripts/tenki_stack on free 127.0.0.1 ports, so the
drills exercise exactly what `make run` and the images run. Stacks that several tests can share are
module-scoped: starting gunicorn and the gRPC server costs seconds on a loaded machine.

Drills that measure something (the outage counts, the shutdown timelines) hand it to `drill_report`; the
reports are printed in their own section at the end of the run, so CI logs show them without `-s`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from drills import Stack, start_stack

_REPORTS: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def drill_report() -> Callable[[str, dict[str, Any]], None]:
    """drill_report(title, counts): keep a drill's measurements for the end-of-run report section."""

    def add(title: str, report: dict[str, Any]) -> None:
        _REPORTS.append((title, report))

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORTS:
        return
    terminalreporter.section("reliability drill reports")
    for title, report in _REPORTS:
        terminalreporter.write_line(f"{title}: {json.dumps(report, indent=2)}")


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[Stack]:
    """A long-lived stack on the demo provider: fast and deterministic, for the input fuzzing."""
    with ExitStack() as exits:
        yield start_stack({"WEATHER_PROVIDER": "demo", "LOG_LEVEL": "WARNING"}, exits=exits)
