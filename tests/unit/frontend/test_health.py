"""/healthz, /readyz (this frontend can serve; the weather service's health in the body) and metrics."""

from __future__ import annotations

import grpc
import pytest
from fakes import FakeHealthStub, FakeRpcError, FakeWeatherStub
from flask.testing import FlaskClient

from tenki_frontend import draining, metrics
from tenki_frontend.weather_client import SERVICE_NAME


def test_healthz_is_200_whatever_the_weather_service_does(
    client: FlaskClient, health_stub: FakeHealthStub
) -> None:
    health_stub.error = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down")
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}
    assert health_stub.calls == []


def test_readyz_is_200_while_the_weather_service_is_serving(
    client: FlaskClient, health_stub: FakeHealthStub
) -> None:
    reply = client.get("/readyz", headers={"X-Request-ID": "probe-1"})
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ready", "weather_service": "SERVING"}
    call = health_stub.calls[0]
    assert call["request"].service == SERVICE_NAME
    # The probe's own short timeout, so a weather outage never makes the probe time out.
    assert call["timeout"] == 0.5 and call["metadata"]["x-request-id"] == "probe-1"


@pytest.mark.parametrize("status", ["NOT_SERVING", "SERVICE_UNKNOWN", "UNKNOWN"])
def test_readyz_stays_200_when_the_weather_service_is_not_serving_and_says_so(
    client: FlaskClient, health_stub: FakeHealthStub, status: str
) -> None:
    health_stub.status = status
    reply = client.get("/readyz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ready", "weather_service": status}


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_readyz_stays_200_when_the_weather_service_cannot_be_reached(
    client: FlaskClient, health_stub: FakeHealthStub, code: grpc.StatusCode
) -> None:
    health_stub.error = FakeRpcError(code, "no connection")
    reply = client.get("/readyz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ready", "weather_service": code.name}


def test_metrics_are_not_on_the_public_port(client: FlaskClient) -> None:
    reply = client.get("/metrics")
    assert reply.status_code == 404 and b"tenki_frontend_" not in reply.data


def sample_value(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics_text.splitlines():
        if line.startswith(name + "{"):
            head, value = line.rsplit(" ", 1)
            have = ",".join(sorted(head[len(name) + 1 : -1].split(",")))
            if have == wanted:
                return float(value)
    return 0.0


def test_metrics_count_requests_by_route_and_status_and_grpc_outcomes(
    client: FlaskClient, weather_stub: FakeWeatherStub
) -> None:
    before = metrics.exposition()[0].decode()
    client.get("/weather?zip=94040")
    client.get("/weather?zip=94040")
    weather_stub.error = FakeRpcError(grpc.StatusCode.NOT_FOUND, "unknown")
    client.get("/api/v1/weather?zip=00000")
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")
    after = metrics.exposition()[0].decode()

    def delta(name: str, **labels: str) -> float:
        return sample_value(after, name, **labels) - sample_value(before, name, **labels)

    requests = "tenki_frontend_http_requests_total"
    assert delta(requests, route="/weather", method="GET", status="200") == 2
    assert delta(requests, route="/api/v1/weather", method="GET", status="404") == 1
    # Unknown paths share one label value, so they cannot blow up the series count.
    assert delta(requests, route="<unmatched>", method="GET", status="404") == 2
    assert "no-such-page" not in after
    grpc_calls = "tenki_frontend_grpc_calls_total"
    method = "/tenki.weather.v1.WeatherService/GetCurrentWeather"
    assert delta(grpc_calls, method=method, code="OK") == 2
    assert delta(grpc_calls, method=method, code="NOT_FOUND") == 1
    assert delta("tenki_frontend_http_request_duration_seconds_count", route="/weather", method="GET") == 2
    assert delta("tenki_frontend_grpc_call_duration_seconds_count", method=method) == 3


@pytest.mark.usefixtures("shutdown_flag")
def test_readyz_is_503_during_the_shutdown_drain_while_pages_are_still_served(
    client: FlaskClient, health_stub: FakeHealthStub
) -> None:
    assert client.get("/readyz").status_code == 200
    asked = len(health_stub.calls)
    draining.begin()
    reply = client.get("/readyz")
    assert reply.status_code == 503 and reply.get_json() == {"status": "draining"}
    assert len(health_stub.calls) == asked, "no need to ask the weather service while shutting down"
    assert client.get("/weather?zip=94040&country=us").status_code == 200
