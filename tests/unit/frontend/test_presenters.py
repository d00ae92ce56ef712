"""Template helpers: compass text, local times from the place's UTC offset, "N minutes ago", units."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tenki_frontend import presenters

NOON = datetime(2026, 6, 21, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("degrees", "point"),
    [(0, "N"), (360, "N"), (11.2, "N"), (11.3, "NNE"), (45, "NE"), (90, "E"), (135, "SE"), (180, "S"),
     (202.5, "SSW"), (225, "SW"), (270, "W"), (315, "NW"), (330, "NNW"), (348.7, "NNW"), (348.8, "N"),
     (-90, "W"), (720 + 90, "E")],
)
def test_compass_point(degrees: float, point: str) -> None:
    assert presenters.compass_point(degrees) == point


@pytest.mark.parametrize(
    ("point", "words"),
    [("N", "north"), ("NE", "northeast"), ("NNW", "north-northwest"), ("ESE", "east-southeast"),
     ("SW", "southwest")],
)
def test_compass_words(point: str, words: str) -> None:
    assert presenters.compass_words(point) == words


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, "12:00"), (-25200, "05:00"), (32400, "21:00"), (19800, "17:30"), (-36000, "02:00"),
     (50400, "02:00")],
)
def test_local_time_uses_the_places_offset(offset: int, expected: str) -> None:
    assert presenters.local_time(NOON, offset) == expected


def test_local_time_of_an_unknown_moment_is_a_dash() -> None:
    assert presenters.local_time(None, 0) == "–"


@pytest.mark.parametrize(
    ("offset", "label"),
    [(0, "UTC"), (-28800, "UTC−8"), (19800, "UTC+5:30"), (-12600, "UTC−3:30"), (3600, "UTC+1")],
)
def test_utc_offset_label(offset: int, label: str) -> None:
    assert presenters.utc_offset_label(offset) == label


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "just now"), (59, "just now"), (60, "1 minute ago"), (119, "1 minute ago"), (300, "5 minutes ago"),
     (3599, "59 minutes ago"), (3600, "1 hour ago"), (7300, "2 hours ago"), (47 * 3600, "47 hours ago"),
     (3 * 86400, "3 days ago"), (-30, "just now")],
)
def test_ago(seconds: int, text: str) -> None:
    assert presenters.ago(NOON - timedelta(seconds=seconds), NOON) == text


def test_ago_of_an_unknown_moment() -> None:
    assert presenters.ago(None, NOON) == "at an unknown time"


@pytest.mark.parametrize(
    ("metres", "units", "text"),
    [(10000, "metric", "10 km"), (9500, "metric", "9.5 km"), (800, "metric", "800 m"),
     (10000, "imperial", "6.2 mi"), (1000, "standard", "1 km")],
)
def test_visibility_text(metres: int, units: str, text: str) -> None:
    assert presenters.visibility_text(metres, units) == text


@pytest.mark.parametrize(
    ("code", "name"),
    [("01d", "01d"), ("01n", "01n"), ("04n", "04"), ("10n", "10n"), ("50d", "50"), ("99x", "unknown"),
     ("", "unknown")],
)
def test_icon_names_map_owm_codes_to_our_svgs(code: str, name: str) -> None:
    assert presenters.icon_name(code) == name


def test_every_icon_the_mapping_names_exists() -> None:
    from importlib.resources import files

    icons = files("tenki_frontend") / "static" / "icons"
    for name in {*presenters.ICONS.values(), presenters.UNKNOWN_ICON}:
        assert (icons / f"{name}.svg").is_file(), name


@pytest.mark.parametrize(("value", "rounded"), [(18.4, 18), (18.5, 19), (-0.4, 0), (-0.5, -1), (-7.6, -8)])
def test_temperatures_round_half_away_from_zero(value: float, rounded: int) -> None:
    assert presenters._round(value) == rounded
