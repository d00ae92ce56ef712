"""The benchmark's arithmetic: percentiles, ratios against targets, and wrk's report line."""

from __future__ import annotations

import pytest
from tenki_bench import report, results, wrk
from tenki_bench.stats import RowResult, percentile

WRK_STDOUT = """Running 8s test @ http://127.0.0.1:40000/bare
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.61ms    2.10ms  31.02ms   80.12%
  16844 requests in 8.00s, 98.11MB read
Requests/sec:   2105.23
Transfer/sec:     12.26MB
{"tenki_bench": 1, "requests": 16844, "duration_us": 8001234, "bytes": 102876543, \
"errors": {"connect": 0, "read": 0, "write": 0, "status": 3, "timeout": 1}, \
"latency_us": {"p50": 7420, "p90": 9800, "p99": 15210, "max": 31020, "mean": 7610.5}}
"""


def row(number: int, rps: float) -> RowResult:
    return RowResult(number, f"row {number}", "test", requests=int(rps * 10), errors=0, seconds=10,
                     p50_ms=1, p99_ms=2)


def test_percentile_is_nearest_rank() -> None:
    samples = [float(v) for v in range(1, 101)]
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile([3.0], 99) == 3.0


def test_ratios_compare_tenki_rows_with_the_bare_rows_under_them() -> None:
    rows = {n: row(n, rps) for n, rps in {2: 1000, 3: 900, 4: 800, 5: 2000, 6: 1900}.items()}
    results = {r["ratio"][:3]: r for r in report.ratio_results(rows)}
    assert results["3/2"]["value"] == pytest.approx(0.9) and results["3/2"]["met"] is True
    assert results["4/2"]["value"] == pytest.approx(0.8) and results["4/2"]["met"] is False
    assert results["6/5"]["value"] == pytest.approx(0.95) and results["6/5"]["met"] is True
    assert "MISSED" in report.ratio_table(list(results.values()))


def test_a_missing_row_gives_no_ratio_rather_than_a_wrong_one() -> None:
    results = report.ratio_results({2: row(2, 1000)})
    assert all(r["value"] is None and r["met"] is None for r in results)


def test_wrk_report_line_becomes_a_row_with_every_error_counted() -> None:
    result = wrk.to_row(3, "page", wrk.parse_report(WRK_STDOUT), wrk.WrkSettings())
    assert result.requests == 16844
    assert result.errors == 4
    assert result.rps == pytest.approx(16844 / 8.001234)
    assert (result.p50_ms, result.p99_ms) == (7.42, 15.21)


def test_wrk_output_without_the_report_line_is_an_error() -> None:
    with pytest.raises(wrk.WrkError):
        wrk.parse_report("Running 8s test @ http://127.0.0.1:1/\n")


def test_cpu_ratio_is_the_bare_rows_cpu_per_request_over_tenkis() -> None:
    rows = {n: row(n, 1000) for n in (2, 3, 4, 5, 6)}
    for number, cpu_ms in {2: 1.0, 3: 1.25, 5: 0.2, 6: 0.5}.items():
        rows[number].extra[report.CPU_KEY] = cpu_ms
    results = {r["ratio"][:3]: r for r in report.ratio_results(rows)}
    assert results["3/2"]["by_cpu"] == pytest.approx(0.8)
    assert results["6/5"]["by_cpu"] == pytest.approx(0.4)
    assert results["4/2"]["by_cpu"] is None, "row 4 has no CPU reading: no ratio rather than a wrong one"
    assert "by server CPU per request:  0.800" in report.ratio_table(list(results.values()))


@pytest.mark.parametrize(
    ("geocoding", "weather", "met"),
    [(50, 50, True), (51, 50, False), (50, 52, False), (25, 50, False)],
)
def test_the_cold_path_costs_one_geocoding_and_one_weather_request_per_code(
    geocoding: int, weather: int, met: bool
) -> None:
    extra = {"distinct_codes": 50, "upstream_calls": geocoding + weather, "geocoding_calls": geocoding,
             "weather_calls": weather}
    assert results.cold_verdict(extra)["met"] is met
