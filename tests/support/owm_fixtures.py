"""Fixtures around the OpenWeatherMap stand-in server (support.owm_standin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.owm_standin import OwmStandIn, refused_base_url

# The key the stand-in fixtures accept; a fake, recognisable in any leak.
STANDIN_API_KEY = "standin-test-key-0123456789abcdef"


@pytest.fixture
def owm_standin() -> Iterator[OwmStandIn]:
    """A fresh OWM stand-in on a free 127.0.0.1 port, stopped after the test. Accepts any key."""
    standin = OwmStandIn()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def owm_env(owm_standin: OwmStandIn) -> dict[str, str]:
    """Environment variables pointing a weather service at `owm_standin` (metrics off, free port)."""
    return {
        "OWM_API_KEY": STANDIN_API_KEY,
        "OWM_BASE_URL": owm_standin.base_url,
        "WEATHER_PROVIDER": "owm",
        "OWM_TIMEOUT_SECONDS": "1",
        "METRICS_PORT": "0",
    }


@pytest.fixture
def owm_refused_url() -> str:
    """An OWM_BASE_URL where nothing listens (connection refused)."""
    return refused_base_url()
