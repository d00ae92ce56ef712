"""The pages, driven through Flask's test client with fake gRPC stubs: every status path a person can hit."""

from __future__ import annotations

import html as html_lib
import re

import grpc
import pytest
from fakes import (
    FakeRpcError, FakeWeatherStub, bad_request, london_in_the_rain, polar_night, sample_reply,
)
from flask.testing import FlaskClient

from tenki.weather.v1 import weather_pb2


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace (thin too) collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input id="{name}" name="{name}" type="text" value="([^"]*)"', html)
    return match.group(1) if match else None


def selected_country(html: str) -> str | None:
    match = re.search(r'<option value="([A-Z]{2})" selected>', html)
    return match.group(1) if match else None


def test_home_page_has_the_form_with_labelled_fields_and_defaults(client: FlaskClient) -> None:
    reply = client.get("/")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert '<form class="search" action="/weather" method="get"' in html
    for control in ("zip", "country", "units-metric", "units-imperial"):
        assert f'<label for="{control}">' in html
    assert selected_country(html) == "US"
    assert 'value="metric" checked' in html
    assert "tenki shows the current weather" in text_of(html)
    # No script at all: the page works without JavaScript.
    assert "<script" not in html


def test_country_select_lists_iso_countries_by_name(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<option value="JP">Japan</option>' in html
    assert '<option value="GB">United Kingdom</option>' in html
    assert len(re.findall(r'<option value="[A-Z]{2}"', html)) >= 240


def test_weather_page_shows_everything_about_the_current_weather(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    reply = client.get("/weather?zip=94040&country=us&units=metric")
    html = reply.get_data(as_text=True)
    text = text_of(html)
    assert reply.status_code == 200
    assert "Mountain View" in text and "94040 · United States" in text
    assert '<span class="temp-value" id="temperature">18</span><span class="temp-unit">°C</span>' in html
    assert "Few clouds" in text
    assert 'src="/static/icons/02d.svg"' in html
    assert "Feels like 18°C" in text
    assert "↓ 15°C" in text and "↑ 22°C" in text
    assert "64 %" in text
    assert "4.1 m/s from the north-northwest (NNW, 330°), gusts 7.2 m/s" in text
    assert "1015 hPa" in text
    assert "20 %" in text
    assert "10 km" in text
    # 12:48 UTC and 03:33 UTC the next day, at UTC-7.
    assert "Sunrise 05:48 local time (UTC−7)" in text
    assert "Sunset 20:33 local time (UTC−7)" in text
    assert "Updated 5 minutes ago" in text
    assert "Demo data" not in text and "Stale" not in text
    # The question went to the weather service as asked.
    request = weather_stub.calls[0]["request"]
    asked = (request.postal_code, request.country_code, request.units)
    assert asked == ("94040", "US", weather_pb2.UNITS_METRIC)
    # The form stays on the page, filled in.
    assert field_value(html, "zip") == "94040"
    assert selected_country(html) == "US"
    assert 'value="metric" checked' in html


def test_imperial_units_show_fahrenheit_and_mph(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = sample_reply(units=weather_pb2.UNITS_IMPERIAL)
    weather_stub.reply.temperature.current = 65.2
    weather_stub.reply.reported_visibility_meters = 16093
    html = client.get("/weather?zip=94040&country=US&units=imperial").get_data(as_text=True)
    assert weather_stub.calls[0]["request"].units == weather_pb2.UNITS_IMPERIAL
    assert '<span class="temp-value" id="temperature">65</span><span class="temp-unit">°F</span>' in html
    assert "4.1 mph" in text_of(html)
    assert "10.0 mi" in text_of(html)
    assert 'value="imperial" checked' in html


def test_demo_data_carries_a_visible_badge(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = sample_reply(source="demo")
    html = client.get("/weather?zip=94040").get_data(as_text=True)
    assert '<span class="badge badge-demo" id="demo-badge"' in html
    assert "Demo data" in text_of(html)


def test_stale_data_carries_a_visible_note(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = sample_reply(stale=True)
    html = client.get("/weather?zip=94040").get_data(as_text=True)
    assert 'id="stale-note"' in html
    assert "this is the last known weather, from 5 minutes ago" in text_of(html)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("zip=&country=us", "zip", "Enter a postal code."),
        ("country=us", "zip", "Enter a postal code."),
        ("zip=12345678901234567&country=us", "zip", "A postal code has at most 16 characters."),
        ("zip=94040&country=XX", "country", "Choose a country from the list."),
        ("zip=94040&country=USA", "country", "Choose a country from the list."),
        ("zip=94040&units=kelvin", "units", "Choose °C or °F."),
    ],
)
def test_bad_input_is_a_400_page_with_the_message_next_to_the_field(
    client: FlaskClient, weather_stub: FakeWeatherStub, query: str, field: str, message: str
) -> None:
    reply = client.get(f"/weather?{query}")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html
    assert "Please check your input" in text_of(html)
    assert weather_stub.calls == [], "nothing invalid reaches the weather service"


def test_the_services_field_violation_is_shown_next_to_the_postal_code(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.error = bad_request(("postal_code", "a US ZIP code is 5 digits, or ZIP+4 like 94040-1234"))
    reply = client.get("/weather?zip=9404&country=us&units=imperial")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert (
        '<p class="field-error" id="zip-error">A US ZIP code is 5 digits, or ZIP+4 like 94040-1234.</p>'
        in html
    )
    assert 'aria-invalid="true" aria-describedby="zip-error"' in html
    # Still filled in as typed.
    assert field_value(html, "zip") == "9404"
    assert 'value="imperial" checked' in html


def test_unknown_postal_code_is_a_404_page_with_the_form(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.error = FakeRpcError(grpc.StatusCode.NOT_FOUND, "no weather is known for 00000")
    reply = client.get("/weather?zip=00000&country=de")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 404
    assert "Postal code not found" in text_of(html)
    assert field_value(html, "zip") == "00000"
    assert selected_country(html) == "DE"


@pytest.mark.parametrize(
    ("code", "status", "title"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503, "Weather service unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 503, "Weather service unavailable"),
        (grpc.StatusCode.FAILED_PRECONDITION, 503, "Weather service misconfigured"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 503, "Too busy right now"),
        (grpc.StatusCode.INTERNAL, 502, "Weather service error"),
        (grpc.StatusCode.UNKNOWN, 502, "Weather service error"),
    ],
)
def test_weather_service_failures_are_explained_pages_not_500s(
    client: FlaskClient, weather_stub: FakeWeatherStub, code: grpc.StatusCode, status: int, title: str
) -> None:
    weather_stub.error = FakeRpcError(code, "internal detail: upstream said boom")
    reply = client.get("/weather?zip=94040")
    text = text_of(reply.get_data(as_text=True))
    assert reply.status_code == status
    assert title in text
    assert "internal detail" not in text, "the service's own message stays in its log"
    assert "Traceback" not in text


def test_an_unexpected_exception_is_a_plain_500_page_without_a_traceback(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.error = RuntimeError("secret internals")
    reply = client.get("/weather?zip=94040")
    text = text_of(reply.get_data(as_text=True))
    assert reply.status_code == 500
    assert "Something went wrong" in text
    assert "secret internals" not in text and "Traceback" not in text


def test_unknown_route_is_our_404_page(client: FlaskClient) -> None:
    reply = client.get("/no/such/page")
    assert reply.status_code == 404
    assert "Page not found" in text_of(reply.get_data(as_text=True))
    assert reply.content_type.startswith("text/html")


def test_wrong_method_is_our_405_page_with_allow(client: FlaskClient) -> None:
    reply = client.post("/weather", data={"zip": "94040"})
    assert reply.status_code == 405
    assert "Method not allowed" in text_of(reply.get_data(as_text=True))
    assert "GET" in reply.headers["Allow"]


def test_script_typed_as_postal_code_is_escaped_everywhere(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    payload = '"><script>alert(1)</script>'
    weather_stub.error = bad_request(("postal_code", "must be 2 to 10 letters or digits"))
    html = client.get("/weather", query_string={"zip": payload, "country": "gb"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert field_value(html, "zip") == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"


def test_text_from_the_service_is_escaped_too(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply = sample_reply()
    weather_stub.reply.location.name = "<img src=x onerror=alert(1)>"
    html = client.get("/weather?zip=94040").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_request_id_is_sent_to_the_weather_service_and_echoed(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    reply = client.get("/weather?zip=94040", headers={"X-Request-ID": "trace-me-123"})
    assert reply.headers["X-Request-ID"] == "trace-me-123"
    assert weather_stub.calls[0]["metadata"]["x-request-id"] == "trace-me-123"


@pytest.mark.parametrize("incoming", [None, "", "bad id with spaces", "x" * 200, "ünïcode"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(
    client: FlaskClient, weather_stub: FakeWeatherStub, incoming: str | None
) -> None:
    headers = {"X-Request-ID": incoming} if incoming is not None else {}
    reply = client.get("/weather?zip=94040", headers=headers)
    sent = weather_stub.calls[0]["metadata"]["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sent)
    assert reply.headers["X-Request-ID"] == sent


def test_every_call_carries_the_configured_deadline(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    client.get("/weather?zip=94040")
    assert weather_stub.calls[0]["timeout"] == 1.5


def test_a_district_answer_shows_the_code_canonical_and_the_district(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = london_in_the_rain()
    text = text_of(client.get("/weather?zip=sw1a1aa&country=gb").get_data(as_text=True))
    assert "SW1A 1AA · weather for London, district SW1A · United Kingdom" in text


def test_every_condition_and_the_precipitation_appear(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = london_in_the_rain()
    html = client.get("/weather?zip=SW1A%201AA&country=gb").get_data(as_text=True)
    text = text_of(html)
    assert "Light intensity drizzle" in text and "Also moderate rain, mist" in text
    assert 'src="/static/icons/09.svg"' in html  # the headline's icon
    assert "Rain 3.2 mm in the last hour" in text and "Rain 5.5 mm in the last 3 hours" in text


def test_precipitation_in_inches_with_imperial_units(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = london_in_the_rain()
    weather_stub.reply.units = weather_pb2.UNITS_IMPERIAL
    weather_stub.reply.precipitation.rain_1h = 0.12
    text = text_of(client.get("/weather?zip=SW1A%201AA&country=gb&units=imperial").get_data(as_text=True))
    assert "Rain 0.12 in in the last hour" in text


def test_what_was_not_reported_is_left_out_not_zero(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = london_in_the_rain()
    text = text_of(client.get("/weather?zip=SW1A%201AA&country=gb").get_data(as_text=True))
    assert "Visibility" not in text and "0 m" not in text
    assert "gusts" not in text and "Feels like" not in text


def test_dry_weather_shows_no_precipitation(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    html = client.get("/weather?zip=94040").get_data(as_text=True)
    assert 'id="precipitation"' not in html and 'id="conditions"' not in html


def test_polar_night_says_no_sunrise_and_no_sunset_today(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    weather_stub.reply = polar_night()
    text = text_of(client.get("/weather?zip=9010&country=no").get_data(as_text=True))
    assert "Sunrise No sunrise today" in text and "Sunset No sunset today" in text
    assert "00:00" not in text


def test_sun_times_not_reported_are_left_out(client: FlaskClient, weather_stub: FakeWeatherStub) -> None:
    weather_stub.reply.ClearField("sunrise_time")
    text = text_of(client.get("/weather?zip=94040").get_data(as_text=True))
    assert "Sunrise" not in text and "Sunset 20:33" in text
