"""The forecast on the weather page and in the JSON API, with fake stubs: what a person sees."""

from __future__ import annotations

import re

import grpc
from fakes import FakeForecastCall, FakeRpcError, FakeWeatherStub


def test_the_page_shows_the_next_24_hours_and_five_days(
    client, weather_stub: FakeWeatherStub, forecast_call: FakeForecastCall
) -> None:
    page = client.get("/weather?zip=94040&country=us").get_data(as_text=True)
    hours = re.findall(r'<span class="hour-time">([0-9:]+)</span>', page)
    # Slots from 15:00 UTC, shown at UTC-7: 08:00, 11:00, ...
    assert hours == ["08:00", "11:00", "14:00", "17:00", "20:00", "23:00", "02:00", "05:00"]
    days = re.findall(r'<span class="day-name">(\w+) ', page)
    # 05:00 local on Sunday 21 June: today is the first day.
    assert days == ["Today", "Mon", "Tue", "Wed", "Thu"]
    assert "12°C / 25°C" in re.sub(r"<[^>]+>", "", page)
    assert "icons/01d.svg" in page
    assert "Forecast unavailable" not in page
    # Both calls went out, with the one deadline and the same request id.
    (weather_call,) = weather_stub.calls
    (forecast,) = forecast_call.calls
    assert forecast["timeout"] == weather_call["timeout"] == 1.5
    assert forecast["metadata"] == weather_call["metadata"]
    assert forecast["request"].postal_code == "94040"


def test_a_failed_forecast_leaves_the_current_weather_on_the_page(
    client, forecast_call: FakeForecastCall
) -> None:
    forecast_call.error = FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    response = client.get("/weather?zip=94040&country=us")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="temperature">18<' in page
    assert "Forecast unavailable" in page
    assert 'id="hours"' not in page


def test_a_failed_weather_call_cancels_the_pages_forecast(
    client, weather_stub: FakeWeatherStub, forecast_call: FakeForecastCall
) -> None:
    weather_stub.error = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "weather service unavailable")
    response = client.get("/weather?zip=94040&country=us")
    assert response.status_code == 503 and response.headers["Retry-After"]
    (pending,) = forecast_call.pending
    assert pending.cancelled  # not left running on the weather service for a page already answered


def test_the_forecast_api_returns_slots_and_days(client) -> None:
    response = client.get("/api/v1/forecast?zip=94040&country=us&units=metric")
    assert response.status_code == 200
    body = response.get_json()
    assert body["location"]["name"] == "Mountain View"
    assert len(body["slots"]) == 40 and len(body["days"]) == 6
    rainy = body["slots"][8]
    assert rainy["rain"] == 1.2 and rainy["precipitation_probability_percent"] == 80
    assert body["slots"][0]["snow"] is None
    assert body["slots"][0]["start_time"] == "2026-06-21T08:00:00-07:00"
    assert body["days"][0]["date"] == "2026-06-21" and body["units"]["temperature"] == "°C"


def test_the_forecast_api_has_the_apis_error_shape(client, forecast_call: FakeForecastCall) -> None:
    bad = client.get("/api/v1/forecast?zip=&country=us")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_input"
    assert forecast_call.calls == []
    forecast_call.error = FakeRpcError(grpc.StatusCode.NOT_FOUND, "postal code 00001 not found")
    missing = client.get("/api/v1/forecast?zip=00001&country=us")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
