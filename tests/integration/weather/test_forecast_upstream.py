"""GetForecast over a real channel, through PyOWM's HTTP path to the OWM stand-in's /data/2.5/forecast:
realistic bodies, every upstream fault, upstream calls counted, stale-if-error; and the demo forecast."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
from tenki.weather.v1 import weather_pb2
from weather_servers import Client, StartServer

from support.owm_fixtures import STANDIN_API_KEY
from support.upstream_faults import FAULTS, FROM_STANDIN
from tenki_stack.owm_standin import OwmStandIn, forecast_json


def test_the_standin_sends_realistic_forecast_bodies() -> None:
    body = forecast_json(51.501, -0.1416, ("SW1A", "GB"), now=1_782_900_000)
    assert body["cod"] == "200" and body["cnt"] == 40 and len(body["list"]) == 40
    assert body["city"]["timezone"] == 3600 and body["city"]["country"] == "GB"
    slots = body["list"]
    assert all(b["dt"] - a["dt"] == 10800 for a, b in zip(slots, slots[1:]))
    assert all(0 <= s["pop"] <= 1 for s in slots)
    assert any("rain" in s for s in slots) or any("snow" in s for s in slots)
    assert all(set(s.get("rain", {})) <= {"3h"} and set(s.get("snow", {})) <= {"3h"} for s in slots)


def test_a_forecast_comes_from_openweathermap_through_pyowm(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    answer = owm_client.forecast("SW1A 1AA", "gb", weather_pb2.UNITS_METRIC)
    assert answer.source == "openweathermap" and not answer.stale
    place = answer.location
    assert (place.name, place.country_code, place.postal_code, place.district) == (
        "London", "GB", "SW1A 1AA", "SW1A",
    )
    assert place.utc_offset_seconds == 3600
    assert len(answer.slots) == 40
    body = forecast_json(place.latitude, place.longitude, ("SW1A", "GB"))
    first, sent = answer.slots[0], body["list"][0]
    start = first.start_time.ToDatetime(tzinfo=timezone.utc)
    assert start == datetime.fromtimestamp(sent["dt"], timezone.utc)
    assert first.temperature == pytest.approx(sent["main"]["temp"] - 273.15, abs=0.01)
    assert first.precipitation_probability_percent == round(sent["pop"] * 100)
    assert [c.status for c in first.conditions] == [w["main"] for w in sent["weather"]]
    for slot, item in zip(answer.slots, body["list"]):
        assert slot.HasField("rain") == ("rain" in item)
        assert slot.HasField("snow") == ("snow" in item)
    # Days are London's local days (UTC+1 here): about six of them, the middle ones with all 8 slots.
    assert 5 <= len(answer.days) <= 6
    assert all(day.slot_count == 8 for day in answer.days[1:-1])
    assert sum(day.slot_count for day in answer.days) == 40
    day = answer.days[1]
    local = [
        s for s in answer.slots
        if (s.start_time.ToDatetime(tzinfo=timezone.utc) + timedelta(hours=1)).date().isoformat() == day.date
    ]
    assert day.min_temperature == min(s.temperature for s in local)
    assert day.max_precipitation_probability_percent == max(
        s.precipitation_probability_percent for s in local
    )
    assert [r["zip"] for r in owm_standin.requests if "zip" in r] == ["SW1A,GB"]
    assert (owm_standin.geocode_count, owm_standin.forecast_count) == (1, 1)


def test_one_upstream_forecast_per_place_per_ttl_across_units_and_shared_geocoding(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    metric = owm_client.forecast("94040", "us", weather_pb2.UNITS_METRIC)
    imperial = owm_client.forecast("94040-1234", "US", weather_pb2.UNITS_IMPERIAL)
    standard = owm_client.forecast(" 94040", "", weather_pb2.UNITS_STANDARD)
    assert imperial.slots[0].temperature == pytest.approx(metric.slots[0].temperature * 9 / 5 + 32, abs=0.02)
    assert standard.slots[0].temperature == pytest.approx(metric.slots[0].temperature + 273.15, abs=0.02)
    hottest = metric.days[0].max_temperature
    assert imperial.days[0].max_temperature == pytest.approx(hottest * 9 / 5 + 32, abs=0.02)
    # The current weather of the same place geocodes no second time.
    owm_client.weather("94040", "us")
    assert (owm_standin.geocode_count, owm_standin.forecast_count, owm_standin.weather_count) == (1, 1, 1)
    owm_client.forecast("10001", "us")
    assert (owm_standin.geocode_count, owm_standin.forecast_count) == (2, 2)


def test_the_forecast_ttl_is_its_own(start_server: StartServer, owm_standin: OwmStandIn) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, FORECAST_CACHE_TTL_SECONDS="0"
    )
    client.forecast("94040", "us")
    client.forecast("94040", "us")
    client.weather("94040", "us")
    client.weather("94040", "us")
    assert (owm_standin.forecast_count, owm_standin.weather_count, owm_standin.geocode_count) == (2, 1, 1)


@pytest.mark.parametrize("fault", FROM_STANDIN)
def test_each_upstream_fault_has_its_status_code(
    owm_client: Client, owm_standin: OwmStandIn, fault: str
) -> None:
    owm_standin.set_fault(fault, "forecast")
    with pytest.raises(grpc.RpcError) as caught:
        owm_client.forecast("94040", "us")
    assert caught.value.code() is FAULTS[fault].outcome.grpc_code
    assert STANDIN_API_KEY not in caught.value.details()
    assert "Traceback" not in caught.value.details()
    assert (owm_standin.geocode_count, owm_standin.forecast_count) == (1, 1)


@pytest.mark.parametrize(
    # Stale-if-error's scope (service.STALE_KINDS): an unknown place (404, cod 404) is NOT_FOUND, not stale.
    "fault", ["401", "429", "500", "503", "malformed", "unreadable"]
)
def test_a_cached_forecast_is_served_stale_when_upstream_fails(
    start_server: StartServer, owm_standin: OwmStandIn, fault: str
) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, FORECAST_CACHE_TTL_SECONDS="0"
    )
    fresh = client.forecast("94040", "us")
    owm_standin.set_fault(fault, "forecast")
    stale = client.forecast("94040", "us")
    assert stale.stale and not fresh.stale
    assert list(stale.slots) == list(fresh.slots) and stale.fetch_time == fresh.fetch_time
    assert owm_standin.forecast_count == 2


def test_invalid_input_and_unknown_codes(owm_client: Client, owm_standin: OwmStandIn) -> None:
    assert owm_client.code_of("9404", "us", "forecast") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_client.code_of("94040", "zz", "forecast") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_standin.request_count == 0
    assert owm_client.code_of("00000", "us", "forecast") is grpc.StatusCode.NOT_FOUND
    # The unknown code is remembered: asking again (forecast or weather) costs no upstream call.
    assert owm_client.code_of("00000", "us", "forecast") is grpc.StatusCode.NOT_FOUND
    assert owm_client.code_of("00000", "us") is grpc.StatusCode.NOT_FOUND
    assert owm_standin.request_count == 1


def test_the_demo_forecast_over_grpc(demo_client: Client) -> None:
    first = demo_client.forecast("M5V 3L9", "ca", weather_pb2.UNITS_METRIC)
    again = demo_client.forecast("m5v3l9", "CA", weather_pb2.UNITS_METRIC)
    assert first.source == "demo" and first.location.name == "Toronto"
    assert len(first.slots) == 40 and list(first.slots) == list(again.slots)
    assert 5 <= len(first.days) <= 6
