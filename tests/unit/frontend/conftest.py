"""Fixtures of the frontend's unit tests: the app with fake gRPC stubs and a fixed clock."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from fakes import NOW_SECONDS, FakeForecastCall, FakeHealthStub, FakeWeatherStub
from flask import Flask
from flask.testing import FlaskClient

from tenki_frontend import create_app, draining
from tenki_frontend.config import FrontendSettings
from tenki_frontend.weather_client import Stubs, WeatherClient

NOW = datetime.fromtimestamp(NOW_SECONDS, tz=timezone.utc)


@pytest.fixture
def weather_stub() -> FakeWeatherStub:
    return FakeWeatherStub()


@pytest.fixture
def forecast_call() -> FakeForecastCall:
    return FakeForecastCall()


@pytest.fixture
def health_stub() -> FakeHealthStub:
    return FakeHealthStub()


@pytest.fixture
def settings() -> FrontendSettings:
    return FrontendSettings.from_env({"WEATHER_DEADLINE_SECONDS": "1.5", "LOG_LEVEL": "INFO"})


@pytest.fixture
def app(
    settings: FrontendSettings,
    weather_stub: FakeWeatherStub,
    health_stub: FakeHealthStub,
    forecast_call: FakeForecastCall,
) -> Flask:
    stubs = Stubs(weather_stub.GetCurrentWeather, health_stub.Check, forecast_call)
    client = WeatherClient("fake:0", settings.weather_deadline_seconds, connect=lambda target: stubs)
    app = create_app(settings, client, clock=lambda: NOW)
    app.testing = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def shutdown_flag(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A shutdown-drain flag of the test's own: a drain begun in the test ends with it.

    In a real process the drain never ends (the process stops), so draining.py has no way to clear it.
    """
    monkeypatch.setattr(draining, "_flag", mmap.mmap(-1, 1))
    yield
