"""The real PyOWM HTTP path against the OWM stand-in: faults, caching, single flight, stale-if-error."""

from __future__ import annotations

import threading

import grpc
import pytest
from tenki.weather.v1 import weather_pb2
from weather_servers import Client, StartServer

from support.owm_fixtures import STANDIN_API_KEY
from support.upstream_faults import FAULTS, FROM_STANDIN
from tenki_stack.owm_standin import OwmStandIn, refused_base_url
from tenki_weather.owm import OwmProvider


def test_an_answer_comes_from_openweathermap_through_pyowm(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    answer = owm_client.weather("94040-1234", "us", weather_pb2.UNITS_IMPERIAL)
    assert answer.source == "openweathermap" and not answer.stale
    assert answer.location.name == "Mountain View" and answer.location.postal_code == "94040-1234"
    assert 0 < answer.temperature.current < 120
    geocoding, weather = owm_standin.requests
    # Geocoding first (the ZIP+4 as 5 digits), then the weather at the coordinates it gave, both with
    # PyOWM's own parameters.
    assert geocoding["zip"] == "94040,US" and geocoding["APPID"] == STANDIN_API_KEY
    assert (weather["lat"], weather["lon"], weather["APPID"]) == ("37.3861", "-122.0839", STANDIN_API_KEY)


@pytest.mark.parametrize("fault", FROM_STANDIN)
def test_each_upstream_fault_has_its_status_code(
    owm_client: Client, owm_standin: OwmStandIn, fault: str
) -> None:
    owm_standin.set_fault(fault)
    with pytest.raises(grpc.RpcError) as caught:
        owm_client.weather("94040", "us")
    assert caught.value.code() is FAULTS[fault].outcome.grpc_code
    assert STANDIN_API_KEY not in caught.value.details()
    assert "Traceback" not in caught.value.details()
    assert owm_standin.request_count == 1  # the geocoding call met the fault; no weather call


@pytest.mark.parametrize("fault", FROM_STANDIN)
def test_each_fault_of_the_weather_call_has_its_status_code(
    owm_client: Client, owm_standin: OwmStandIn, fault: str
) -> None:
    owm_standin.set_fault(fault, "weather")
    with pytest.raises(grpc.RpcError) as caught:
        owm_client.weather("94040", "us")
    assert caught.value.code() is FAULTS[fault].outcome.grpc_code
    assert STANDIN_API_KEY not in caught.value.details()
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 1)


def test_connection_refused_is_unavailable(start_server: StartServer) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=refused_base_url(), OWM_TIMEOUT_SECONDS="2"
    )
    with pytest.raises(grpc.RpcError) as caught:
        client.weather("94040")
    assert caught.value.code() is FAULTS["refused"].outcome.grpc_code
    assert "could not connect" in caught.value.details()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_pyowm_raises_what_the_fault_table_says(owm_standin: OwmStandIn, fault: str) -> None:
    # The unit tests map the table's PyOWM errors; here PyOWM itself meets each fault over HTTP.
    if fault == "refused":
        base_url = refused_base_url()
    else:
        base_url = owm_standin.base_url
        owm_standin.set_fault(fault)
    manager = OwmProvider(STANDIN_API_KEY, base_url, 1)._manager
    with pytest.raises(Exception) as caught:
        manager.weather_at_coords(37.3861, -122.0839)
    # Exactly the class: PyOWM's errors subclass APIRequestError, which would match them all.
    assert type(caught.value) is type(FAULTS[fault].pyowm_error)


def test_an_unknown_postal_code_is_not_found(owm_client: Client) -> None:
    assert owm_client.code_of("00000", "us") is grpc.StatusCode.NOT_FOUND


def test_invalid_input_never_reaches_upstream(owm_client: Client, owm_standin: OwmStandIn) -> None:
    assert owm_client.code_of("9404", "us") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_client.code_of("94040", "zz") is grpc.StatusCode.INVALID_ARGUMENT
    assert owm_standin.request_count == 0


def test_answers_are_cached_per_place_whatever_the_units(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    metric = owm_client.weather("94040", "us", weather_pb2.UNITS_METRIC)
    imperial = owm_client.weather("94040", "US", weather_pb2.UNITS_IMPERIAL)
    kelvin = owm_client.weather(" 94040-0001", "", weather_pb2.UNITS_STANDARD)
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 1)
    assert imperial.temperature.current == pytest.approx(metric.temperature.current * 9 / 5 + 32, abs=0.02)
    assert kelvin.temperature.current == pytest.approx(metric.temperature.current + 273.15, abs=0.02)
    owm_client.weather("10001", "us")
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (2, 2)


def test_concurrent_requests_for_a_cold_place_make_one_upstream_call(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    # The stand-in answers slowly, so the 20 calls overlap the first one's upstream request.
    owm_standin.set_latency(1.5)
    barrier = threading.Barrier(20)
    codes: list[grpc.StatusCode] = []

    def call() -> None:
        barrier.wait(timeout=30)
        codes.append(owm_client.code_of("10115", "de"))

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [grpc.StatusCode.OK] * 20
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 1)


@pytest.mark.parametrize("fault", ["401", "404", "404-in-body", "429", "500", "503", "malformed"])
def test_a_cached_entry_is_served_stale_when_upstream_fails(
    start_server: StartServer, owm_standin: OwmStandIn, fault: str
) -> None:
    # TTL 0: every call goes upstream, so the second one meets the fault.
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, CACHE_TTL_SECONDS="0"
    )
    fresh = client.weather("94040", "us")
    owm_standin.set_fault(fault)
    if not FAULTS[fault].outcome.serves_stale:
        # Out of stale-if-error's scope: an unknown place is NOT_FOUND, never the old entry.
        assert client.code_of("94040", "us") is grpc.StatusCode.NOT_FOUND
        assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 2)
        return
    stale = client.weather("94040", "us")
    assert stale.stale and not fresh.stale
    assert stale.temperature.current == fresh.temperature.current
    assert stale.fetch_time == fresh.fetch_time
    # The place stays geocoded (GEOCODE_TTL_SECONDS); only the weather was asked again.
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 2)


def test_no_stale_entry_beyond_the_stale_window(start_server: StartServer, owm_standin: OwmStandIn) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY,
        OWM_BASE_URL=owm_standin.base_url,
        CACHE_TTL_SECONDS="0",
        STALE_IF_ERROR_SECONDS="0",
    )
    client.weather("94040", "us")
    owm_standin.set_fault("500")
    assert client.code_of("94040", "us") is grpc.StatusCode.UNAVAILABLE


def test_the_own_rate_limit_answers_resource_exhausted(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    client = start_server(
        OWM_API_KEY=STANDIN_API_KEY, OWM_BASE_URL=owm_standin.base_url, OWM_RATE_LIMIT_PER_MINUTE="4"
    )
    assert [client.code_of(code, "us") for code in ("10001", "10002", "10003")] == [
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ]
    # Each new place costs two calls of the budget: geocoding and weather.
    assert owm_standin.request_count == 4
    # Cached places are still answered.
    assert client.code_of("10001", "us") is grpc.StatusCode.OK


def test_owm_forced_without_a_key_is_failed_precondition(
    start_server: StartServer, owm_standin: OwmStandIn
) -> None:
    client = start_server(WEATHER_PROVIDER="owm", OWM_BASE_URL=owm_standin.base_url)
    with pytest.raises(grpc.RpcError) as caught:
        client.weather("94040")
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "OWM_API_KEY" in caught.value.details()
    assert owm_standin.request_count == 0


# (code as typed, country, place, canonical code, district, UTC offset on the stand-in's day)
PLACES = [
    ("sw1a1aa", "gb", "London", "SW1A 1AA", "SW1A"),
    ("m5v 3l9", "ca", "Toronto", "M5V 3L9", "M5V"),
    ("1011ab", "nl", "Amsterdam", "1011 AB", "1011"),
    ("1000001", "jp", "Chiyoda", "100-0001", ""),
    ("10115", "de", "Berlin", "10115", ""),
    ("94040", "us", "Mountain View", "94040", ""),
]


@pytest.mark.parametrize(("typed", "country", "name", "canonical", "district"), PLACES)
def test_real_codes_give_the_right_place(
    owm_client: Client, typed: str, country: str, name: str, canonical: str, district: str
) -> None:
    place = owm_client.weather(typed, country).location
    assert (place.name, place.country_code) == (name, country.upper())
    assert (place.postal_code, place.district) == (canonical, district)


def test_the_geocoder_is_asked_for_the_form_it_accepts(owm_client: Client, owm_standin: OwmStandIn) -> None:
    for typed, country, *_ in PLACES:
        owm_client.weather(typed, country)
    asked = [r["zip"] for r in owm_standin.requests if "zip" in r]
    assert asked == ["SW1A,GB", "M5V,CA", "1011,NL", "100-0001,JP", "10115,DE", "94040,US"]


def test_a_gb_code_typed_three_ways_costs_one_geocoding_and_one_weather_call(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    answers = [owm_client.weather(code, "gb") for code in ("SW1A 1AA", "sw1a1aa", "Sw1A 1aA")]
    assert {a.location.postal_code for a in answers} == {"SW1A 1AA"}
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 1)


def test_an_unknown_code_is_asked_once(owm_client: Client, owm_standin: OwmStandIn) -> None:
    assert [owm_client.code_of("00000", "us") for _ in range(3)] == [grpc.StatusCode.NOT_FOUND] * 3
    assert (owm_standin.geocode_count, owm_standin.weather_count) == (1, 0)


def test_rain_and_every_condition_reach_the_client(owm_client: Client) -> None:
    answer = owm_client.weather("SW1A 1AA", "gb", weather_pb2.UNITS_METRIC)
    assert [c.status for c in answer.conditions] == ["Drizzle", "Rain", "Mist"]
    assert answer.condition.status == "Drizzle"
    assert answer.precipitation.HasField("rain_1h") and answer.precipitation.rain_1h == 3.16
    assert not answer.precipitation.HasField("snow_1h")
    imperial = owm_client.weather("SW1A 1AA", "gb", weather_pb2.UNITS_IMPERIAL)
    assert imperial.precipitation.rain_1h == pytest.approx(3.16 / 25.4, abs=0.005)


def test_what_owm_did_not_measure_is_absent(owm_client: Client) -> None:
    answer = owm_client.weather("M5V 3L9", "ca")
    assert not answer.HasField("reported_visibility_meters")
    assert not answer.wind.HasField("reported_gust")
    assert not answer.temperature.HasField("reported_feels_like")
    assert (answer.precipitation.snow_1h, answer.precipitation.snow_3h) == (0.58, 1.2)
    full = owm_client.weather("94040", "us")
    assert full.HasField("reported_visibility_meters") and full.wind.HasField("reported_gust")


def test_times_are_local_even_without_a_timezone_in_the_answer(owm_client: Client) -> None:
    # Amsterdam's answer has no `timezone`: the offset comes from its coordinates (CET or CEST).
    assert owm_client.weather("1011 AB", "nl").location.utc_offset_seconds in (3600, 7200)
    assert owm_client.weather("100-0001", "jp").location.utc_offset_seconds == 32400


def test_an_empty_name_falls_back_to_the_geocoders(owm_client: Client) -> None:
    place = owm_client.weather("10115", "de").location
    assert (place.name, place.country_code) == ("Berlin", "DE")


def test_polar_night_has_no_sunrise_and_no_sunset(owm_client: Client) -> None:
    answer = owm_client.weather("9010", "no")
    assert not answer.HasField("sunrise_time") and not answer.HasField("sunset_time")
    assert answer.no_sunrise and answer.no_sunset


def test_an_unreadable_answer_is_unavailable_with_a_plain_message(
    owm_client: Client, owm_standin: OwmStandIn
) -> None:
    owm_standin.set_fault("unreadable", "weather")
    with pytest.raises(grpc.RpcError) as caught:
        owm_client.weather("94040", "us")
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert caught.value.details() == "OpenWeatherMap sent an answer tenki cannot read"
