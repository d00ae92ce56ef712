"""The chart's OWM settings from issue 14: the Geocoding API's base URL and how long a place is kept."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import component_container, helm, render


def env(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in component_container(objects, "weather")["env"]}


def test_the_defaults_leave_the_geocoder_to_the_service_and_keep_places_a_month() -> None:
    weather = env(render())
    assert "OWM_GEO_BASE_URL" not in weather  # the service derives it from OWM_BASE_URL
    assert weather["GEOCODE_TTL_SECONDS"] == "2592000"


def test_the_geocoder_and_the_place_ttl_are_set_from_values() -> None:
    weather = env(
        render(
            "--set", "owm.baseUrl=http://stand-in:8080/data/2.5",
            "--set", "owm.geoBaseUrl=http://stand-in:8080/geo/1.0",
            "--set", "weather.cache.geocodeTtlSeconds=86400",
        )
    )
    assert weather["OWM_GEO_BASE_URL"] == "http://stand-in:8080/geo/1.0"
    assert weather["GEOCODE_TTL_SECONDS"] == "86400"


@pytest.mark.parametrize(
    "args",
    [("--set", "owm.geoBaseUrl=ftp://x"), ("--set", "weather.cache.geocodeTtlSeconds=-1")],
)
def test_the_schema_refuses_a_bad_geocoder_or_ttl(args: tuple[str, ...]) -> None:
    result = helm("template", "t", "charts/tenki", *args, check=False)
    assert result.returncode != 0
