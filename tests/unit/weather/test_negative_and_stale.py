"""Negative caching and the scope of stale-if-error, in process, on an injected clock (issue 12, 3 and 4)."""

from __future__ import annotations

import logging

import pytest
from test_service import ScriptedProvider, metric

from tenki_weather.cache import ObservationCache
from tenki_weather.errors import InternalError, Misconfigured, NotFound, RateLimited, Unavailable
from tenki_weather.metrics import Metrics
from tenki_weather.model import CacheResult, Observation
from tenki_weather.ratelimit import LOCAL, Decision
from tenki_weather.service import WeatherLookup


@pytest.fixture
def provider(make_observation) -> ScriptedProvider:
    return ScriptedProvider(make_observation)


class ClockBudget:
    """The upstream budget's interface on the test's clock: `limit` calls in any 60 s (the lookup's clock)."""

    def __init__(self, limit: int, clock) -> None:
        self.limit = limit
        self._clock = clock
        self._calls: list[float] = []

    def acquire(self) -> Decision:
        now = self._clock()
        self._calls = [t for t in self._calls if now - t < 60]
        if len(self._calls) >= self.limit:
            return Decision(False, LOCAL)
        self._calls.append(now)
        return Decision(True, LOCAL)


def lookup_with(provider, clock, rate: int = 1000, max_entries: int = 100) -> WeatherLookup:
    cache: ObservationCache[Observation] = ObservationCache(600, max_entries, 3600, clock=clock)
    return WeatherLookup(
        provider, cache, ClockBudget(rate, clock), Metrics(),
        negative_error_seconds=5, negative_not_found_seconds=3600, clock=clock,
    )  # fmt: skip


def negative(lookup: WeatherLookup, event: str, kind: str) -> float:
    return metric(lookup, "tenki_weather_negative_cache_total", event=event, kind=kind, where="local")


def test_an_unknown_code_is_remembered_for_an_hour(provider, clock) -> None:
    lookup = lookup_with(provider, clock)
    provider.error = NotFound.place("99999", "US")
    for _ in range(5):
        with pytest.raises(NotFound, match="no weather is known for postal code 99999"):
            lookup.current_weather("99999", "us")
        clock.advance(600)
    assert len(provider.calls) == 1
    assert negative(lookup, "stored", "not_found") == 1 and negative(lookup, "hit", "not_found") == 4
    clock.advance(1200)  # 3600 s after the first answer
    with pytest.raises(NotFound):
        lookup.current_weather("99999", "us")
    assert len(provider.calls) == 2


@pytest.mark.parametrize("error", [Unavailable("down"), RateLimited("429"), Misconfigured("401")])
def test_an_upstream_failure_is_remembered_for_a_few_seconds(provider, clock, error) -> None:
    lookup = lookup_with(provider, clock)
    provider.error = error
    for _ in range(20):
        with pytest.raises(type(error)):
            lookup.current_weather("94040", "us")
        clock.advance(0.2)
    assert len(provider.calls) == 1  # 20 callers within 4 s: one upstream call
    clock.advance(1.0)
    provider.error = None
    assert lookup.current_weather("94040", "us").cache is CacheResult.MISS
    assert len(provider.calls) == 2


def test_tenkis_own_budget_and_internal_errors_are_not_remembered(provider, clock) -> None:
    lookup = lookup_with(provider, clock, rate=2)  # one lookup: a geocoding and a weather call
    lookup.current_weather("94040", "us")
    with pytest.raises(RateLimited, match=r"budget \(2 OpenWeatherMap calls a minute\) is used up"):
        lookup.current_weather("94041", "us")
    clock.advance(60)  # the first call has left the window; the refusal was not remembered
    assert lookup.current_weather("94041", "us").cache is CacheResult.MISS
    lookup = lookup_with(provider, clock)
    provider.error = InternalError("bug")
    for _ in range(2):
        with pytest.raises(InternalError):
            lookup.current_weather("94042", "us")
    assert provider.calls.count(("94042", "US")) == 2


def test_the_negative_cache_is_bounded(provider, clock) -> None:
    lookup = lookup_with(provider, clock, max_entries=2)
    provider.error = NotFound("unknown")
    for code in ("90001", "90002", "90003", "90001"):
        with pytest.raises(NotFound):
            lookup.current_weather(code, "us")
    # 90001 was pushed out by 90003 (the bound is 2), so it cost a second call.
    assert provider.calls.count(("90001", "US")) == 2


@pytest.mark.parametrize("error", [Unavailable("timeout"), RateLimited("429")])
def test_stale_covers_unavailability_and_rate_limiting(provider, clock, error) -> None:
    lookup = lookup_with(provider, clock)
    lookup.current_weather("94040", "us")
    clock.advance(3000)
    provider.error = error
    assert lookup.current_weather("94040", "us").cache is CacheResult.STALE
    # The failure is remembered: the next callers get the stale answer with no upstream call.
    assert lookup.current_weather("94040", "us").cache is CacheResult.STALE
    assert len(provider.calls) == 2


def test_a_refused_key_serves_stale_but_logs_an_error_and_counts_on_every_call(
    provider, clock, caplog
) -> None:
    lookup = lookup_with(provider, clock)
    lookup.current_weather("94040", "us")
    clock.advance(700)
    provider.error = Misconfigured("the OpenWeatherMap API key was refused")
    with caplog.at_level(logging.ERROR, logger="tenki_weather.service"):
        for _ in range(3):
            report = lookup.current_weather("94040", "us")
            assert report.stale and report.stale_cause == "misconfigured"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "refused the API key" in r.message]
    assert len(errors) == 3
    assert metric(lookup, "tenki_weather_stale_on_refused_key_total") == 3


@pytest.mark.parametrize("error", [InternalError("a bug"), NotFound("gone"), ValueError("a bug")])
def test_bugs_and_not_found_are_never_masked_as_stale(provider, clock, error) -> None:
    lookup = lookup_with(provider, clock)
    lookup.current_weather("94040", "us")
    clock.advance(700)
    provider.error = error  # type: ignore[assignment]  # a non-domain error: a bug in tenki
    with pytest.raises(type(error)):
        lookup.current_weather("94040", "us")
    assert metric(lookup, "tenki_weather_cache_lookups_total", result="stale") == 0
