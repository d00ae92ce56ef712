"""The time budget of one lookup: how long upstream may still take, so no call outlives its caller.

The gRPC layer reads the call's remaining time and hands the domain a plain number of seconds
(WeatherLookup.current_weather's `budget`); the lookup keeps a margin for its own answer (a stale
entry, an error) and sets the rest as the upstream deadline here, for the thread that serves the call.
Every upstream request the provider makes inside it is given `timeout(own_timeout)`: the smaller of
its own timeout (OWM_TIMEOUT_SECONDS) and what is left. A context variable rather than a parameter, so
each HTTP request a provider makes (one lookup may need more than one) shares the same deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("tenki_upstream_deadline", default=None)


@contextmanager
def upstream_deadline(seconds: float | None) -> Iterator[None]:
    """Upstream calls inside the block end within `seconds` from now (None: no bound)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left for upstream (at least 0), or None when no deadline is set."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def timeout(own: float) -> float:
    """The timeout for the next upstream request: `own`, or less when the deadline is nearer."""
    left = remaining()
    return own if left is None else min(own, left)
