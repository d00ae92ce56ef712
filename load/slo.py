"""The load test's service-level objective, decided from Locust's own statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Slo:
    """At most `max_fail_ratio` of requests may fail, and the 95th percentile stays under `p95_ms`."""

    p95_ms: float = 1000.0
    max_fail_ratio: float = 0.01


@dataclass(frozen=True)
class Verdict:
    passed: bool
    lines: tuple[str, ...]


def judge(slo: Slo, requests: int, failures: int, p95_ms: float) -> Verdict:
    """Compare one run's totals with the objective; every line says what was measured and allowed."""
    if requests == 0:
        return Verdict(False, ("SLO FAILED: no request was made, so nothing was proven",))
    ratio = failures / requests
    ratio_ok = ratio <= slo.max_fail_ratio
    p95_ok = not math.isnan(p95_ms) and p95_ms <= slo.p95_ms
    lines = (
        f"SLO {'ok' if ratio_ok else 'FAILED'}: error ratio {ratio:.2%} ({failures} of {requests})"
        f" -- at most {slo.max_fail_ratio:.2%} allowed",
        f"SLO {'ok' if p95_ok else 'FAILED'}: p95 {p95_ms:.0f} ms -- at most {slo.p95_ms:.0f} ms allowed",
    )
    return Verdict(ratio_ok and p95_ok, lines)
