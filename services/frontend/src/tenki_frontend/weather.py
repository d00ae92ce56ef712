"""The weather service as this app's resource, as flaskr's db.py is the database's.

`init_app` keeps the app's WeatherClient and clock in `app.extensions`; the blueprints ask for them
through `get_client()`, `now()` and `fetch_weather()` inside a request. So the blueprints import this
module, never the factory (app.py imports the blueprints, not the other way round).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import grpc
from flask import Flask, current_app

from tenki.weather.v1 import weather_pb2

from . import errors, limiting, request_id
from .config import FrontendSettings
from .validation import Parsed, Query
from .weather_client import WeatherClient

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

CLIENT_KEY = "tenki_weather_client"
CLOCK_KEY = "tenki_clock"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def init_app(
    app: Flask, settings: FrontendSettings, client: WeatherClient | None = None, clock: Clock = utc_now
) -> None:
    """`client` defaults to one for settings.weather_addr (its channel is made lazily, per process);
    `clock` is what "updated N minutes ago" is measured against."""
    app.extensions[CLIENT_KEY] = client or WeatherClient(
        settings.weather_addr,
        settings.weather_deadline_seconds,
        keepalive_seconds=settings.weather_keepalive_seconds,
    )
    app.extensions[CLOCK_KEY] = clock


def get_client() -> WeatherClient:
    client: WeatherClient = current_app.extensions[CLIENT_KEY]
    return client


def now() -> datetime:
    clock: Clock = current_app.extensions[CLOCK_KEY]
    return clock()


def _query(parsed: Parsed) -> Query:
    if parsed.query is None:
        raise errors.invalid_input(parsed.errors)
    return parsed.query


def _limited(ask: Callable[[bool], limiting.Reply]) -> limiting.Reply:
    """`ask(cache_only)` under the client's limit on lookups that miss the cache (limiting.py); the
    service's error status raised as the FrontendError the page and the API show."""
    try:
        return limiting.upstream_limited(ask)
    except grpc.RpcError as exc:
        raise errors.from_rpc_error(exc) from None


def fetch_weather_and_forecast(
    parsed: Parsed,
) -> tuple[weather_pb2.GetCurrentWeatherResponse, weather_pb2.GetForecastResponse | None]:
    """The weather and the forecast, fetched concurrently; the forecast None when it failed (logged),
    FrontendError when the weather itself failed."""
    query = _query(parsed)
    question, forecast_question = query.to_request(), query.to_forecast_request()
    forecast: weather_pb2.GetForecastResponse | grpc.RpcError | None = None

    def ask(cache_only: bool) -> weather_pb2.GetCurrentWeatherResponse:
        nonlocal forecast
        question.cache_only = forecast_question.cache_only = cache_only
        weather, forecast = get_client().get_weather_and_forecast(
            question, forecast_question, request_id.current()
        )
        return weather

    weather = _limited(ask)  # the pair counts as one lookup
    if forecast is None or isinstance(forecast, grpc.RpcError):
        log.warning("forecast unavailable", extra={"error": str(forecast)[:200]})
        return weather, None
    return weather, forecast


def fetch_forecast(parsed: Parsed) -> weather_pb2.GetForecastResponse:
    """The forecast for a parsed question; FrontendError for bad input or the service's error status."""
    question = _query(parsed).to_forecast_request()

    def ask(cache_only: bool) -> weather_pb2.GetForecastResponse:
        question.cache_only = cache_only
        return get_client().get_forecast(question, request_id.current())

    return _limited(ask)


def fetch_weather(parsed: Parsed) -> weather_pb2.GetCurrentWeatherResponse:
    """The weather for a parsed question; FrontendError for bad input or the service's error status."""
    question = _query(parsed).to_request()

    def ask(cache_only: bool) -> weather_pb2.GetCurrentWeatherResponse:
        question.cache_only = cache_only
        return get_client().get_current_weather(question, request_id.current())

    return _limited(ask)
