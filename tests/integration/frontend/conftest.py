"""The frontend as `tenki-frontend` (gunicorn) in front of `tenki serve`, with the OWM stand-in behind it.

`stack` is support.stack_fixtures' `standin_stack` (module-wide): every request below crosses a real HTTP
socket, a real gRPC channel and PyOWM's real HTTP client. Tests that stop the weather service start their
own processes instead (see test_frontend_readiness.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from support.stack_fixtures import StandInStack

TIMEOUT = 30  # seconds per HTTP request: generous, the machine is shared


@pytest.fixture(scope="module")
def stack(standin_stack: StandInStack) -> StandInStack:
    return standin_stack


@pytest.fixture
def get(stack: StandInStack) -> Callable[..., requests.Response]:
    """get("/path", params=..., headers=...) against the running frontend."""

    def fetch(path: str, **kwargs: Any) -> requests.Response:
        return requests.get(stack.url + path, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    return fetch
