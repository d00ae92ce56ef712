"""Fixtures of the frontend's unit tests: the app with fake gRPC stubs and a fixed clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fakes import NOW_SECONDS, FakeHealthStub, FakeWeatherStub
from flask import Flask
from flask.testing import FlaskClient

from tenki_frontend import create_app
from tenki_frontend.config import FrontendSettings
from tenki_frontend.weather_client import Stubs, WeatherClient

NOW = datetime.fromtimestamp(NOW_SECONDS, tz=timezone.utc)


@pytest.fixture
def weather_stub() -> FakeWeatherStub:
    return FakeWeatherStub()


@pytest.fixture
def health_stub() -> FakeHealthStub:
    return FakeHealthStub()


@pytest.fixture
def settings() -> FrontendSettings:
    return FrontendSettings.from_env({"WEATHER_DEADLINE_SECONDS": "1.5", "LOG_LEVEL": "INFO"})


@pytest.fixture
def app(
    settings: FrontendSettings, weather_stub: FakeWeatherStub, health_stub: FakeHealthStub
) -> Flask:
    stubs = Stubs(weather_stub, health_stub)
    client = WeatherClient("fake:0", settings.weather_deadline_seconds, stubs=stubs)
    app = create_app(settings, client, clock=lambda: NOW)
    app.testing = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
