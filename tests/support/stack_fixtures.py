"""Fixtures that start tenki's services as real processes on free 127.0.0.1 ports (scripts/tenki_stack).

- `local_stack`: the weather service on the demo provider plus the frontend (session-wide; starting
  gunicorn and the gRPC server costs seconds on a loaded machine). The demo provider knows every
  well-formed code except "00000", which is its not-found case.
- `standin_stack`: the same, but the weather service uses the OWM provider against an OWM stand-in
  (WEATHER_PROVIDER=owm, a test key, OWM_BASE_URL=the stand-in), so the real PyOWM path runs behind it.
  Its `.owm` attribute is the stand-in. Module-wide, since tests may set faults on the stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tenki_stack import LocalStack

from tenki_stack.owm_standin import OwmStandIn

STANDIN_KEY = "stack-standin-key-0123456789abcdef"


class StandInStack(LocalStack):
    """A LocalStack whose weather service reads weather from `owm`, an OWM stand-in."""

    owm: OwmStandIn


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(
        {"WEATHER_PROVIDER": "demo"}, log_dir=tmp_path_factory.mktemp("local-stack")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def standin_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInStack]:
    owm = OwmStandIn()
    try:
        running = StandInStack(
            {
                "WEATHER_PROVIDER": "owm",
                "OWM_API_KEY": STANDIN_KEY,
                "OWM_BASE_URL": owm.base_url,
                "OWM_TIMEOUT_SECONDS": "2",
            },
            log_dir=tmp_path_factory.mktemp("standin-stack"),
        )
        running.owm = owm
        with running:
            yield running
    finally:
        owm.stop()
