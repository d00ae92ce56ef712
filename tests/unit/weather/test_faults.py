"""The fault plan, its words, the upstream wrapper's domain errors, the reminder (no network, no sleeps)."""

from __future__ import annotations

import logging
import random

import pytest

from tenki_weather import errors, faults
from tenki_weather.config import ConfigError, WeatherSettings
from tenki_weather.demo import DemoProvider
from tenki_weather.faults import FaultPlan, FaultyProvider


def plan(**env: str) -> FaultPlan:
    return FaultPlan.from_settings(WeatherSettings.from_env(env))


def test_every_fault_is_off_by_default() -> None:
    settings = WeatherSettings.from_env({})
    assert not settings.faults_on and not plan().on and plan().describe() == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [("FAULT_ERROR_RATE", "1.5"), ("FAULT_ERROR_CODE", "OK"), ("FAULT_ERROR_CODE", "TEAPOT"),
     ("FAULT_DELAY_SECONDS", "-1"), ("FAULT_TARGET", "database"), ("FAULT_HEALTH_NOT_SERVING", "maybe")],
)
def test_a_fault_setting_that_makes_no_sense_stops_the_start(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WeatherSettings.from_env({name: value})


def test_the_plan_in_words() -> None:
    assert plan(FAULT_DELAY_SECONDS="0.2", FAULT_DELAY_JITTER_SECONDS="0.3").describe() == (
        "weather API calls delayed by 0.2 s + 0..0.3 s at random"
    )
    assert plan(FAULT_ERROR_RATE="0.1", FAULT_TARGET="upstream", FAULT_INCLUDE_HEALTH="1").describe() == (
        "10% of calls to OpenWeatherMap fail with UNAVAILABLE; health checks included"
    )
    assert plan(FAULT_HEALTH_NOT_SERVING="true").describe() == (
        "health says NOT_SERVING for tenki.weather.v1.WeatherService"
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [("UNAVAILABLE", errors.Unavailable), ("RESOURCE_EXHAUSTED", errors.RateLimited),
     ("FAILED_PRECONDITION", errors.Misconfigured), ("NOT_FOUND", errors.NotFound),
     ("DATA_LOSS", errors.InternalError), ("INVALID_ARGUMENT", errors.InternalError)],
)
def test_upstream_faults_raise_the_domain_error_of_their_code(code: str, kind: type) -> None:
    slept: list[float] = []
    provider = FaultyProvider(
        DemoProvider(), plan(FAULT_ERROR_RATE="1", FAULT_ERROR_CODE=code, FAULT_DELAY_SECONDS="0.3"),
        sleep=slept.append,
    )
    place = DemoProvider().geocode("94040", "US")
    assert place is not None
    with pytest.raises(kind, match="injected fault"):
        provider.weather_at(place)
    with pytest.raises(kind, match="injected fault"):
        provider.geocode("94040", "US")
    with pytest.raises(kind, match="injected fault"):
        provider.forecast_at(place)
    assert slept == [0.3, 0.3, 0.3] and provider.source == DemoProvider.source


def test_upstream_without_a_failure_is_the_real_answer() -> None:
    provider = FaultyProvider(DemoProvider(), plan(FAULT_ERROR_RATE="0.5"), rng=random.Random(1))
    place = DemoProvider().geocode("94040", "US")
    assert place is not None
    outcomes = []
    for _ in range(200):
        try:
            outcomes.append(provider.weather_at(place).location.postal_code)
        except errors.Unavailable:
            outcomes.append("failed")
    assert 60 < outcomes.count("failed") < 140 and set(outcomes) == {"94040", "failed"}


def test_the_reminder_warns_at_start_and_on_every_interval(caplog: pytest.LogCaptureFixture) -> None:
    reminder = faults.Reminder(plan(FAULT_ERROR_RATE="0.5"), interval=0.01)
    with caplog.at_level(logging.WARNING, logger="tenki_weather.faults"):
        reminder.start()
        for _ in range(500):
            if len(caplog.records) >= 3:
                break
            reminder._stop.wait(0.01)
        reminder.stop()
    assert len(caplog.records) >= 3
    assert all(r.getMessage() == "FAULT INJECTION ON: 50% of weather API calls fail with UNAVAILABLE"
               for r in caplog.records)
