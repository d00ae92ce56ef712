"""The JSON API: the same data and status codes as the pages, errors as {"error": {"code", "message"}}."""

from __future__ import annotations

import grpc
import pytest
from fakes import FakeRpcError, FakeWeatherStub, bad_request, london_in_the_rain, polar_night, sample_reply
from flask.testing import FlaskClient

from tenki.weather.v1 import weather_pb2


def test_weather_as_json(client: FlaskClient) -> None:
    reply = client.get("/api/v1/weather?zip=94040&country=us&units=metric")
    assert reply.status_code == 200
    assert reply.content_type == "application/json"
    body = reply.get_json()
    assert body["location"] == {
        "name": "Mountain View",
        "postal_code": "94040",
        "country_code": "US",
        "country": "United States",
        "latitude": 37.3861,
        "longitude": -122.0839,
        "utc_offset_seconds": -25200,
        "district": None,
    }
    assert body["temperature"] == {
        "current": 18.4, "feels_like": 17.6, "min": 15.2, "max": 21.9, "unit": "°C",
    }
    assert body["wind"] == {
        "speed": 4.1, "gust": 7.2, "direction_degrees": 330.0, "direction": "NNW", "unit": "m/s",
    }
    assert body["condition"] == {"id": 801, "status": "Clouds", "description": "few clouds", "icon": "02d"}
    assert body["conditions"] == [body["condition"]]
    assert body["precipitation"] == {"unit": "mm"}  # dry: no amounts
    assert (body["no_sunrise"], body["no_sunset"]) == (False, False)
    assert (body["humidity_percent"], body["pressure_hpa"], body["cloudiness_percent"]) == (64, 1015, 20)
    assert body["visibility_meters"] == 10000
    assert body["sunrise"] == "2026-06-21T05:48:00-07:00"
    assert body["sunset"] == "2026-06-21T20:33:00-07:00"
    assert body["fetch_time"] == "2026-06-21T11:55:00+00:00"
    assert (body["units"], body["source"], body["stale"]) == ("metric", "openweathermap", False)


def test_postalcode_is_an_alias_of_zip(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    reply = client.get("/api/v1/weather?postalcode=SW1A%201AA&country=gb&units=imperial")
    assert reply.status_code == 200
    request = weather_stub.calls[0]["request"]
    assert (request.postal_code, request.country_code, request.units) == (
        "SW1A 1AA", "GB", weather_pb2.UNITS_IMPERIAL,
    )


def test_zip_wins_over_postalcode(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    client.get("/api/v1/weather?zip=10001&postalcode=94040")
    assert weather_stub.calls[0]["request"].postal_code == "10001"


def test_unset_timestamps_are_null(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = sample_reply()
    weather_stub.reply.ClearField("sunrise_time")
    assert client.get("/api/v1/weather?zip=94040").get_json()["sunrise"] is None


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (bad_request(("postal_code", "is required")), 400, "invalid_input"),
        (FakeRpcError(grpc.StatusCode.NOT_FOUND, "unknown"), 404, "not_found"),
        (FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down"), 503, "unavailable"),
        (FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"), 503, "unavailable"),
        (FakeRpcError(grpc.StatusCode.FAILED_PRECONDITION, "key"), 503, "misconfigured"),
        (FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "limit"), 503, "rate_limited"),
        (FakeRpcError(grpc.StatusCode.INTERNAL, "bug"), 502, "bad_gateway"),
    ],
)
def test_errors_are_json_with_code_and_message(
    client: FlaskClient, weather_stub: FakeWeatherStub, error: FakeRpcError, status: int, code: str
) -> None:
    weather_stub.error = error
    reply = client.get("/api/v1/weather?zip=94040")
    assert reply.status_code == status
    assert reply.content_type == "application/json"
    body = reply.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]


def test_invalid_input_message_says_what_is_wrong(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    reply = client.get("/api/v1/weather?country=zz")
    assert reply.status_code == 400
    assert reply.get_json()["error"] == {
        "code": "invalid_input",
        "message": "Enter a postal code. Choose a country from the list.",
    }
    assert weather_stub.calls == []


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED])
def test_retryable_errors_say_when_to_retry(
    client: FlaskClient, weather_stub: FakeWeatherStub, code: grpc.StatusCode
) -> None:
    weather_stub.error = FakeRpcError(code, "later")
    assert client.get("/api/v1/weather?zip=94040").headers["Retry-After"] == "60"


def test_unknown_api_route_is_a_json_404(client: FlaskClient) -> None:
    reply = client.get("/api/v1/nowhere")
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "not_found"


def test_api_405_is_json(client: FlaskClient) -> None:
    reply = client.delete("/api/v1/weather")
    assert reply.status_code == 405
    assert reply.get_json()["error"]["code"] == "method_not_allowed"


def test_rain_all_conditions_and_absent_fields_as_json(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = london_in_the_rain()
    body = client.get("/api/v1/weather?zip=sw1a1aa&country=gb").get_json()
    assert body["location"]["postal_code"] == "SW1A 1AA" and body["location"]["district"] == "SW1A"
    assert [c["status"] for c in body["conditions"]] == ["Drizzle", "Rain", "Mist"]
    assert body["condition"]["status"] == "Drizzle"
    assert body["precipitation"] == {"rain_1h": 3.16, "rain_3h": 5.5, "unit": "mm"}
    assert body["visibility_meters"] is None
    assert body["wind"]["gust"] is None and body["temperature"]["feels_like"] is None


def test_polar_night_as_json(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = polar_night()
    body = client.get("/api/v1/weather?zip=9010&country=no").get_json()
    assert (body["sunrise"], body["sunset"]) == (None, None)
    assert (body["no_sunrise"], body["no_sunset"]) == (True, True)
