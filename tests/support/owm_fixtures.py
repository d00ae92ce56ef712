"""Fixtures around the OpenWeatherMap stand-in server (tenki_stack.owm_standin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenki_stack.owm_standin import OwmStandIn

# The key the weather tests give the service (the stand-in accepts any); a fake, recognisable in any leak.
STANDIN_API_KEY = "standin-test-key-0123456789abcdef"


@pytest.fixture
def owm_standin() -> Iterator[OwmStandIn]:
    """A fresh OWM stand-in on a free 127.0.0.1 port, stopped after the test. Accepts any key."""
    standin = OwmStandIn()
    try:
        yield standin
    finally:
        standin.stop()
