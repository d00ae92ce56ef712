"""The weather lookup: validation, cache, rate limit and provider together, without gRPC."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenki_weather import budget
from tenki_weather.cache import ObservationCache
from tenki_weather.config import WeatherSettings
from tenki_weather.demo import DemoProvider
from tenki_weather.errors import InvalidInput, RateLimited, Unavailable, WeatherError
from tenki_weather.metrics import Metrics
from tenki_weather.model import CacheResult, Observation, Units
from tenki_weather.owm import OwmProvider
from tenki_weather.ratelimit import local_budget
from tenki_weather.service import WeatherLookup


class ScriptedProvider:
    source = "openweathermap"

    def __init__(self, make: Callable[[], Observation]) -> None:
        self.make = make
        self.calls: list[tuple[str, str]] = []
        self.error: WeatherError | None = None

    def current_weather(self, postal_code: str, country_code: str) -> Observation:
        self.calls.append((postal_code, country_code))
        if self.error is not None:
            raise self.error
        return self.make()


@pytest.fixture
def provider(make_observation) -> ScriptedProvider:
    return ScriptedProvider(make_observation)


def service_with(provider, clock, rate: int = 60) -> WeatherLookup:
    cache: ObservationCache[Observation] = ObservationCache(600, 100, 3600, clock=clock)
    return WeatherLookup(provider, cache, local_budget(rate), Metrics())


def metric(service: WeatherLookup, name: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(name, labels) or 0.0


def upstream(service: WeatherLookup, outcome: str) -> float:
    return metric(service, "tenki_weather_upstream_calls_total", provider="openweathermap", outcome=outcome)


def test_units_are_converted_from_one_cached_observation(provider, clock) -> None:
    service = service_with(provider, clock)
    metric_report = service.current_weather("94040", "us", "metric")
    imperial = service.current_weather("94040-1234", "US", Units.IMPERIAL)
    kelvin = service.current_weather("94040", "", "standard")
    assert provider.calls == [("94040", "US")]
    assert metric_report.temperature.current == pytest.approx(18.4)
    assert imperial.temperature.current == pytest.approx(65.12)
    assert kelvin.temperature.current == pytest.approx(291.55)
    assert imperial.wind.speed == pytest.approx(8.95) and metric_report.wind.speed == 4.0
    results = [r.cache for r in (metric_report, imperial, kelvin)]
    assert results == [CacheResult.MISS, CacheResult.HIT, CacheResult.HIT]
    assert metric(service, "tenki_weather_cache_lookups_total", result="hit") == 2
    assert upstream(service, "ok") == 1


def test_invalid_input_never_reaches_the_provider(provider, clock) -> None:
    with pytest.raises(InvalidInput):
        service_with(provider, clock).current_weather("not a zip!", "us")
    assert provider.calls == []


def test_the_rate_limit_refuses_upstream_calls_beyond_the_budget(provider, clock) -> None:
    service = service_with(provider, clock, rate=2)
    service.current_weather("10001", "us")
    service.current_weather("10002", "us")
    with pytest.raises(RateLimited, match=r"budget \(2 OpenWeatherMap calls a minute\) is used up"):
        service.current_weather("10003", "us")
    assert len(provider.calls) == 2
    assert upstream(service, "throttled") == 1
    decisions = "tenki_weather_upstream_budget_decisions_total"
    assert metric(service, decisions, scope="local", result="allowed") == 2
    assert metric(service, decisions, scope="local", result="denied") == 1
    # Cached places are still answered while the budget is spent.
    assert service.current_weather("10001", "us").cache is CacheResult.HIT


def test_an_exhausted_budget_serves_a_stale_entry(provider, clock) -> None:
    service = service_with(provider, clock, rate=2)
    service.current_weather("10001", "us")
    clock.advance(601)  # past the TTL (the cache's clock; the budget's window runs on real time)
    service.current_weather("10002", "us")  # spends the second call of the window
    report = service.current_weather("10001", "us")
    assert report.stale and report.cache is CacheResult.STALE


def test_upstream_errors_serve_stale_and_count_the_outcome(provider, clock) -> None:
    service = service_with(provider, clock)
    service.current_weather("94040", "us")
    clock.advance(900)
    provider.error = Unavailable("down")
    assert service.current_weather("94040", "us").stale
    with pytest.raises(Unavailable):
        service.current_weather("10001", "us")
    assert upstream(service, "unavailable") == 2
    assert metric(service, "tenki_weather_cache_lookups_total", result="stale") == 1


@pytest.mark.parametrize(
    ("environ", "provider_type", "limited"),
    [
        ({}, DemoProvider, False),
        ({"OWM_API_KEY": "k"}, OwmProvider, True),
        ({"WEATHER_PROVIDER": "owm"}, OwmProvider, True),
    ],
)
def test_from_settings_picks_the_provider(environ, provider_type, limited) -> None:
    service = WeatherLookup.from_settings(WeatherSettings.from_env(environ))
    assert isinstance(service.provider, provider_type)
    assert (service.budget is not None) is limited


class BudgetRecordingProvider(ScriptedProvider):
    """Records the time upstream would be allowed (what the OWM provider's requests get as timeout)."""

    def __init__(self, make: Callable[[], Observation]) -> None:
        super().__init__(make)
        self.allowed: list[float] = []

    def current_weather(self, postal_code: str, country_code: str) -> Observation:
        self.allowed.append(budget.timeout(5.0))
        return super().current_weather(postal_code, country_code)


def budgeted(provider, clock, margin: float) -> WeatherLookup:
    cache: ObservationCache[Observation] = ObservationCache(0, 100, 3600, clock=clock)
    return WeatherLookup(provider, cache, None, Metrics(), margin_seconds=margin)


def test_upstream_gets_the_callers_budget_less_the_margin(make_observation, clock) -> None:
    provider = BudgetRecordingProvider(make_observation)
    service = budgeted(provider, clock, margin=0.5)
    service.current_weather("94040", "us", budget_seconds=2.0)
    service.current_weather("94040", "us", budget_seconds=60.0)
    service.current_weather("94040", "us")
    short, long, unbounded = provider.allowed
    assert 1.4 < short <= 1.5
    assert long == 5.0 and unbounded == 5.0  # never more than the provider's own timeout


def test_no_time_left_means_no_upstream_call_and_a_stale_answer_when_there_is_one(
    make_observation, clock
) -> None:
    provider = BudgetRecordingProvider(make_observation)
    service = budgeted(provider, clock, margin=0.5)
    with pytest.raises(Unavailable):
        service.current_weather("94040", "us", budget_seconds=0.4)
    assert provider.calls == [] and upstream(service, "no_time") == 1
    service.current_weather("94040", "us", budget_seconds=2.0)
    report = service.current_weather("94040", "us", budget_seconds=0.4)
    assert report.stale and len(provider.calls) == 1


def test_the_budget_ends_with_the_lookup(make_observation, clock) -> None:
    service = budgeted(BudgetRecordingProvider(make_observation), clock, margin=0.5)
    service.current_weather("94040", "us", budget_seconds=1.0)
    assert budget.remaining() is None
