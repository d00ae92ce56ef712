"""The load test's verdict: which runs pass the SLO and what the verdict says."""

from __future__ import annotations

import math

from slo import Slo, judge

SLO = Slo(p95_ms=500, max_fail_ratio=0.01)


def test_a_run_within_both_bounds_passes() -> None:
    verdict = judge(SLO, requests=1000, failures=10, p95_ms=480)
    assert verdict.passed
    assert any("1.00%" in line and "10 of 1000" in line for line in verdict.lines)


def test_more_than_one_percent_errors_fails() -> None:
    verdict = judge(SLO, requests=1000, failures=11, p95_ms=100)
    assert not verdict.passed
    assert any(line.startswith("SLO FAILED: error ratio 1.10%") for line in verdict.lines)


def test_a_slow_p95_fails_even_without_errors() -> None:
    verdict = judge(SLO, requests=1000, failures=0, p95_ms=510)
    assert not verdict.passed
    assert any(line.startswith("SLO FAILED: p95 510 ms") for line in verdict.lines)


def test_a_run_without_requests_proves_nothing_and_fails() -> None:
    assert not judge(SLO, requests=0, failures=0, p95_ms=math.nan).passed
