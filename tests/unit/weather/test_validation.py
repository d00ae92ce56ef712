"""Validation: what reaches the provider is normalised; anything else is a clear field violation."""

from __future__ import annotations

import pytest

from tenki_weather.errors import InvalidInput
from tenki_weather.model import Query, Units
from tenki_weather.validation import validate


@pytest.mark.parametrize(
    ("postal_code", "country", "expected"),
    [
        ("94040", "us", Query("94040", "US", lookup_code="94040")),
        ("  94040 ", "", Query("94040", "US", lookup_code="94040")),  # empty country means US; trimmed
        # ZIP+4 is shown as typed and sent as the 5-digit ZIP.
        ("94040-1234", "US", Query("94040-1234", "US", lookup_code="94040")),
        # GB: canonical postcode, the outward code for the geocoder (the weather is for the district).
        ("sw1a 1aa", "gb", Query("SW1A 1AA", "GB", lookup_code="SW1A", district=True)),
        ("100-0001", " jp ", Query("100-0001", "JP", lookup_code="100-0001")),
        ("10115", "DE", Query("10115", "DE", lookup_code="10115")),
        ("2000", "au", Query("2000", "AU", lookup_code="2000")),
        # Countries without a rule: the generic shape, 2 to 10 characters, sent as written.
        ("AB", "gq", Query("AB", "GQ", lookup_code="AB")),
        ("1234567890", "ye", Query("1234567890", "YE", lookup_code="1234567890")),
    ],
)
def test_valid_questions_are_normalised(postal_code: str, country: str, expected: Query) -> None:
    assert validate(postal_code, country) == expected


@pytest.mark.parametrize(
    "postal_code",
    ["9404", "940401", "94O40", "94040-12", "94040-12345", "٩٤٠٤٠", "", "   "],
)
def test_us_zip_codes_must_be_five_digits_or_zip_plus_four(postal_code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(postal_code, "us")
    assert [v.field for v in caught.value.violations] == ["postal_code"]


@pytest.mark.parametrize(
    "postal_code",
    [
        "A",  # too short
        "12345678901",  # too long
        "SW1A-1A A",  # two separators
        "-SW1A",  # separator not inside
        "SW1A-",
        "SW1A_1AA",
        "<script>",
        "1000;DROP",
        "Ä1234",
    ],
)
def test_countries_without_a_rule_take_letters_digits_and_one_inner_separator(postal_code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(postal_code, "gq")
    violation = caught.value.violations[0]
    assert violation.field == "postal_code"
    assert "2 to 10 letters or digits" in violation.description


@pytest.mark.parametrize("country", ["zz", "USA", "u", "1", "xk", "ÜS", "us-"])
def test_country_must_be_a_real_iso_alpha2_code(country: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate("12345", country)
    assert [v.field for v in caught.value.violations] == ["country_code"]
    assert "ISO 3166-1 alpha-2" in caught.value.message


def test_every_bad_field_is_reported_at_once_without_echoing_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate("<b>x</b>", "zz", "furlongs")
    fields = {v.field for v in caught.value.violations}
    assert fields == {"postal_code", "country_code", "units"}
    assert "<b>" not in caught.value.message


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (None, Units.METRIC),
        ("", Units.METRIC),
        ("metric", Units.METRIC),
        ("IMPERIAL", Units.IMPERIAL),
        ("standard", Units.STANDARD),
        ("kelvin", Units.STANDARD),
        (Units.IMPERIAL, Units.IMPERIAL),
    ],
)
def test_units(units: Units | str | None, expected: Units) -> None:
    assert validate("94040", "us", units).units is expected


def test_units_are_not_part_of_the_cache_key() -> None:
    assert validate("94040", "us", "metric").place_key == validate("94040-0001", "US", "imperial").place_key
