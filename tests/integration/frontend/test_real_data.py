"""Real codes and real OWM answers (the stand-in's corpus) through the page and the JSON API."""

from __future__ import annotations

import re

import pytest
import requests

from support.stack_fixtures import StandInStack

PLACES = [
    ("sw1a1aa", "gb", "London", "SW1A 1AA", "SW1A"),
    ("m5v3l9", "ca", "Toronto", "M5V 3L9", "M5V"),
    ("1011ab", "nl", "Amsterdam", "1011 AB", "1011"),
    ("1000001", "jp", "Chiyoda", "100-0001", None),
    ("10115", "de", "Berlin", "10115", None),
    ("94040", "us", "Mountain View", "94040", None),
]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(("typed", "country", "name", "canonical", "district"), PLACES)
def test_the_page_and_the_api_name_the_right_place(
    stack: StandInStack, typed: str, country: str, name: str, canonical: str, district: str | None
) -> None:
    page = requests.get(f"{stack.url}/weather", params={"zip": typed, "country": country}, timeout=30)
    assert page.status_code == 200, page.text[:300]
    text = text_of(page.text)
    assert name in text and canonical in text
    if district:
        assert f"{canonical} · weather for {name}, district {district}" in text
    api = requests.get(f"{stack.url}/api/v1/weather", params={"zip": typed, "country": country}, timeout=30)
    location = api.json()["location"]
    assert (location["name"], location["postal_code"], location["district"]) == (name, canonical, district)


def test_rain_and_every_condition_on_the_page_and_in_the_api(stack: StandInStack) -> None:
    params = {"zip": "SW1A 1AA", "country": "gb"}
    text = text_of(requests.get(f"{stack.url}/weather", params=params, timeout=30).text)
    assert "Light intensity drizzle" in text and "Also moderate rain, mist" in text
    assert "Rain 3.2 mm in the last hour" in text
    body = requests.get(f"{stack.url}/api/v1/weather", params=params, timeout=30).json()
    assert [c["status"] for c in body["conditions"]] == ["Drizzle", "Rain", "Mist"]
    assert body["precipitation"] == {"rain_1h": 3.16, "unit": "mm"}


def test_what_owm_did_not_measure_is_absent_on_the_page_and_null_in_the_api(stack: StandInStack) -> None:
    params = {"zip": "M5V 3L9", "country": "ca"}
    text = text_of(requests.get(f"{stack.url}/weather", params=params, timeout=30).text)
    assert "Visibility" not in text and "gusts" not in text and "Feels like" not in text
    assert "Snow 0.6 mm in the last hour" in text
    body = requests.get(f"{stack.url}/api/v1/weather", params=params, timeout=30).json()
    assert (body["visibility_meters"], body["wind"]["gust"], body["temperature"]["feels_like"]) == (None,) * 3


def test_polar_night_and_local_times(stack: StandInStack) -> None:
    tromso = requests.get(f"{stack.url}/weather", params={"zip": "9010", "country": "no"}, timeout=30)
    text = text_of(tromso.text)
    assert "No sunrise today" in text and "No sunset today" in text
    japan = {"zip": "100-0001", "country": "jp"}
    tokyo = requests.get(f"{stack.url}/api/v1/weather", params=japan, timeout=30)
    assert tokyo.json()["sunrise"].endswith("T06:00:00+09:00")
