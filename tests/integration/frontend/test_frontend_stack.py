"""The frontend end to end: gunicorn -> gRPC -> the weather service -> PyOWM -> the OWM stand-in.

What a person or an API client sees (pages, JSON, status codes, headers), and what an operator sees
(probes, metrics, one request id through both services' JSON logs).
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

import pytest
import requests

from support.stack_fixtures import STANDIN_KEY, StandInStack

Get = Callable[..., requests.Response]


def test_the_home_page_is_a_form_that_asks_for_a_postal_code(get: Get) -> None:
    page = get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<form class="search' in page.text and 'action="/weather"' in page.text
    assert 'name="zip"' in page.text and 'name="country"' in page.text and 'name="units"' in page.text
    # The United States is the default country.
    assert re.search(r'<option value="US"\s+selected>', page.text)


def test_every_response_carries_the_security_headers(get: Get) -> None:
    for path in ("/", "/weather?zip=94040&country=us", "/api/v1/weather?zip=1", "/no-such-page", "/readyz"):
        headers = get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"], path


def test_the_weather_page_shows_the_weather_from_openweathermap(get: Get, stack: StandInStack) -> None:
    page = get("/weather", params={"zip": "94040", "country": "us", "units": "metric"})
    assert page.status_code == 200
    assert '<h1 id="place" class="place">Mountain View</h1>' in page.text
    assert "United States" in page.text
    assert re.search(r'id="temperature">-?\d+</span><span class="temp-unit">°C', page.text)
    for label in ("Wind", "Humidity", "Pressure", "Cloudiness", "Visibility", "Sunrise", "Sunset"):
        assert f"<dt>{label}</dt>" in page.text
    # Real data from the (stand-in) OWM: no demo badge; the form stays, filled in.
    assert "Demo data" not in page.text
    assert 'id="zip" name="zip" type="text" value="94040"' in page.text
    # The weather service asked OWM for it (now or for an earlier test: it caches), with its key and the
    # place; the key never reaches the page.
    asked = [{name.lower(): value for name, value in r.items()} for r in stack.owm.requests]  # APPID
    assert {"zip": "94040,us", "appid": STANDIN_KEY} in [
        {"zip": r.get("zip", "").lower(), "appid": r.get("appid")} for r in asked
    ]
    assert STANDIN_KEY not in page.text


def test_imperial_units_show_fahrenheit(get: Get) -> None:
    page = get("/weather", params={"zip": "10001", "country": "us", "units": "imperial"})
    assert page.status_code == 200
    assert "New York" in page.text
    assert re.search(r'class="temp-unit">°F', page.text)
    assert 'value="imperial" checked' in page.text


def test_an_unknown_postal_code_is_a_404_page(get: Get) -> None:
    page = get("/weather", params={"zip": "00000", "country": "us"})
    assert page.status_code == 404
    assert "Postal code not found" in page.text
    assert 'value="00000"' in page.text


def test_a_malformed_postal_code_is_a_400_page_with_the_message_at_the_field(get: Get) -> None:
    # The frontend lets any short code through; the weather service's rule for US codes rejects it.
    page = get("/weather", params={"zip": "12", "country": "us", "units": "imperial"})
    assert page.status_code == 400
    message = re.search(r'<p class="field-error" id="zip-error">([^<]+)</p>', page.text)
    assert message is not None and "ZIP code" in message.group(1)
    assert 'aria-invalid="true" aria-describedby="zip-error"' in page.text
    assert 'value="12"' in page.text and 'value="imperial" checked' in page.text


def test_user_input_is_escaped_and_never_a_traceback(get: Get) -> None:
    payload = "<script>alert(1)</script>"
    page = get("/weather", params={"zip": payload, "country": "us"})
    assert page.status_code == 400
    assert payload not in page.text
    # The form shows it back as the text it was, escaped.
    assert f'value="{html.escape(payload)}"' in page.text
    bad_country = get("/weather", params={"zip": "94040", "country": "<b>zz</b>"})
    assert bad_country.status_code == 400
    assert "<b>zz</b>" not in bad_country.text
    assert "Traceback" not in page.text + bad_country.text


def test_the_json_api_answers_with_the_same_data(get: Get) -> None:
    reply = get("/api/v1/weather", params={"zip": "94040", "country": "us", "units": "metric"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    data = reply.json()
    assert data["location"]["name"] == "Mountain View"
    assert data["location"]["country_code"] == "US"
    assert data["temperature"]["unit"] == "°C"
    assert data["units"] == "metric"
    assert data["source"] != "demo" and data["stale"] is False
    # `postalcode` is the original tenki API's name for zip.
    alias = get("/api/v1/weather", params={"postalcode": "94040", "country": "us", "units": "imperial"})
    assert alias.status_code == 200
    assert alias.json()["location"]["name"] == "Mountain View"
    assert alias.json()["temperature"]["unit"] == "°F"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"zip": "00000", "country": "us"}, 404, "not_found"),
        ({"zip": "12", "country": "us"}, 400, "invalid_input"),
        ({"country": "us"}, 400, "invalid_input"),
        ({"zip": "94040", "country": "XX"}, 400, "invalid_input"),
        ({"zip": "94040", "units": "kelvin"}, 400, "invalid_input"),
    ],
)
def test_json_api_errors(get: Get, params: dict[str, str], status: int, code: str) -> None:
    reply = get("/api/v1/weather", params=params)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in error["message"]


@pytest.mark.parametrize(
    ("fault", "zip_code", "code"),
    [("401", "30301", "misconfigured"), ("503", "60601", "unavailable"), ("429", "73301", "rate_limited")],
)
def test_upstream_failures_are_503_pages_that_say_so(
    get: Get, stack: StandInStack, fault: str, zip_code: str, code: str
) -> None:
    # Codes used nowhere else: nothing cached, so the weather service has to ask OWM and fail.
    stack.owm.set_fault(fault)
    try:
        page = get("/weather", params={"zip": zip_code, "country": "us"})
        api = get("/api/v1/weather", params={"zip": zip_code, "country": "us"})
    finally:
        stack.owm.clear_fault()
    assert page.status_code == 503
    assert '<p class="status-code">Error 503</p>' in page.text
    assert api.status_code == 503 and api.json()["error"]["code"] == code
    assert STANDIN_KEY not in page.text + api.text


def test_an_unknown_path_is_a_404_page(get: Get) -> None:
    page = get("/no/such/page")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert get("/weather", params={"zip": "94040"}, headers={}).status_code == 200
    post = requests.post(get("/").url + "weather", data={"zip": "94040"}, timeout=30)
    assert post.status_code == 405 and "GET" in post.headers["Allow"]


def test_probes_and_metrics(get: Get, stack: StandInStack) -> None:
    assert get("/healthz").json() == {"status": "ok"}
    ready = get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["weather_service"] == "SERVING"
    get("/weather", params={"zip": "94040", "country": "us"})
    # Never on the public port (the Gateway routes / to it): there it is tenki's 404 page.
    public = get("/metrics")
    assert public.status_code == 404 and "tenki_frontend_" not in public.text
    assert stack.frontend is not None and stack.frontend.metrics_port
    metrics = requests.get(f"http://127.0.0.1:{stack.frontend.metrics_port}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    text = metrics.text
    assert re.search(r'tenki_frontend_http_requests_total\{[^}]*route="/weather"[^}]*status="200"', text)
    assert "tenki_frontend_http_request_duration_seconds_bucket" in text
    assert re.search(r'tenki_frontend_grpc_calls_total\{[^}]*code="OK"', text)
    assert STANDIN_KEY not in text


def test_one_request_id_is_in_both_services_logs(get: Get, stack: StandInStack) -> None:
    request_id = f"it-{uuid.uuid4().hex}"
    page = get("/weather", params={"zip": "94040", "country": "us"}, headers={"X-Request-ID": request_id})
    assert page.status_code == 200
    assert page.headers["X-Request-ID"] == request_id
    assert stack.frontend is not None and stack.weather is not None
    access = stack.frontend.wait_for_log(lambda e: e.get("request_id") == request_id)
    assert (access["path"], access["status"]) == ("/weather", 200)
    # The page makes two RPCs with the one id, the forecast's and the weather's, in either order.
    for method in ("/GetCurrentWeather", "/GetForecast"):
        rpc = stack.weather.wait_for_log(
            lambda e, m=method: e.get("request_id") == request_id and str(e.get("method", "")).endswith(m)
        )
        assert rpc["code"] == "OK"
    assert STANDIN_KEY not in stack.frontend.output() + stack.weather.output()


def test_a_request_without_an_id_gets_a_fresh_one(get: Get, stack: StandInStack) -> None:
    first = get("/api/v1/weather", params={"zip": "94040"}).headers["X-Request-ID"]
    second = get("/api/v1/weather", params={"zip": "94040"}, headers={"X-Request-ID": "bad id\twith space"})
    assert first and second.headers["X-Request-ID"] not in ("", first, "bad id\twith space")
    assert stack.weather is not None
    stack.weather.wait_for_log(lambda e: e.get("request_id") == first)
