"""`tenki weather` against a weather service on the OWM stand-in: what a person reads in a terminal."""

from __future__ import annotations

import io

import pytest
from weather_servers import Client

from tenki_weather import cli


def tenki_weather(client: Client, *args: str) -> str:
    """What `tenki weather ARGS --addr ...` prints."""
    out, err = io.StringIO(), io.StringIO()
    parsed = cli.build_parser().parse_args(["weather", *args, "--addr", client.server.address])
    status = cli.run_weather(parsed, out, err)
    assert status == 0, err.getvalue()
    return out.getvalue()


@pytest.mark.parametrize(
    ("typed", "country", "first_line"),
    [
        ("sw1a1aa", "gb", "London, GB (SW1A 1AA, weather for district SW1A)"),
        ("m5v3l9", "ca", "Toronto, CA (M5V 3L9, weather for district M5V)"),
        ("1011ab", "nl", "Amsterdam, NL (1011 AB, weather for district 1011)"),
        ("1000001", "jp", "Chiyoda, JP (100-0001)"),
        ("10115", "de", "Berlin, DE (10115)"),
        ("94040", "us", "Mountain View, US (94040)"),
    ],
)
def test_codes_of_six_countries_name_the_right_place(
    owm_client: Client, typed: str, country: str, first_line: str
) -> None:
    out = tenki_weather(owm_client, typed, "--country", country)
    assert out.splitlines()[0].startswith(first_line)


def test_rain_and_every_condition_are_printed(owm_client: Client) -> None:
    out = tenki_weather(owm_client, "SW1A 1AA", "--country", "gb")
    assert "Drizzle: light intensity drizzle, Rain: moderate rain, Mist: mist" in out
    assert "Precipitation rain 3.16 mm in the last hour" in out
    imperial = tenki_weather(owm_client, "SW1A 1AA", "--country", "gb", "--units", "imperial")
    assert "rain 0.12 in in the last hour" in imperial


def test_what_owm_did_not_measure_is_not_printed(owm_client: Client) -> None:
    out = tenki_weather(owm_client, "M5V 3L9", "--country", "ca")
    assert "Visibility" not in out and "gusts" not in out and "feels like" not in out
    assert "snow 0.58 mm in the last hour; snow 1.20 mm in the last 3 hours" in out


def test_polar_night_says_so(owm_client: Client) -> None:
    out = tenki_weather(owm_client, "9010", "--country", "no")
    assert "no sunrise today, no sunset today" in out and "00:00" not in out


def test_times_are_local(owm_client: Client) -> None:
    out = tenki_weather(owm_client, "100-0001", "--country", "jp")
    assert "(local time, UTC+09:00)" in out
    # The stand-in's day: sunrise 06:00 and sunset 19:00 at the place.
    assert "rises 06:00, sets 19:00" in out
