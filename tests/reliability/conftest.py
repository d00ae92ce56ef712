"""Fixtures of the reliability drills: whole stacks (weather service + frontend) as real processes.

Each stack runs the installed console scripts through scripts/stack.py on free 127.0.0.1 ports, so the
drills exercise exactly what `make run` and the images run. Stacks that several tests can share are
module-scoped: starting gunicorn and the gRPC server costs seconds on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from drills import Stack, start_stack


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[Stack]:
    """A long-lived stack on the demo provider: fast and deterministic, for the input fuzzing."""
    with ExitStack() as exits:
        yield start_stack({"WEATHER_PROVIDER": "demo", "LOG_LEVEL": "WARNING"}, exits=exits)
