"""The postal table: per country, the valid codes, how they are written, what OWM's geocoder is asked."""

from __future__ import annotations

import pytest

from tenki_weather import postal
from tenki_weather.errors import InvalidInput
from tenki_weather.validation import validate

# (country, as typed, canonical, the geocoder's form, district?)
VALID = [
    ("GB", "SW1A 1AA", "SW1A 1AA", "SW1A", True),
    ("GB", "sw1a1aa", "SW1A 1AA", "SW1A", True),
    ("GB", "E14 5AB", "E14 5AB", "E14", True),
    ("GB", "m1 1ae", "M1 1AE", "M1", True),
    ("GB", "B33 8TH", "B33 8TH", "B33", True),
    ("GB", "EC1A 1BB", "EC1A 1BB", "EC1A", True),
    ("CA", "M5V 3L9", "M5V 3L9", "M5V", True),
    ("CA", "m5v3l9", "M5V 3L9", "M5V", True),
    ("CA", "K1A-0B1", "K1A 0B1", "K1A", True),
    ("NL", "1011 AB", "1011 AB", "1011", True),
    ("NL", "1011ab", "1011 AB", "1011", True),
    ("IE", "d02 x285", "D02 X285", "D02", True),
    ("JP", "100-0001", "100-0001", "100-0001", False),
    ("JP", "1000001", "100-0001", "100-0001", False),
    ("BR", "01310100", "01310-100", "01310-100", False),
    ("BR", "01310-100", "01310-100", "01310-100", False),
    ("PL", "00950", "00-950", "00-950", False),
    ("PT", "1000-001", "1000-001", "1000-001", False),
    ("SE", "11455", "114 55", "114 55", False),
    ("CZ", "110 00", "110 00", "110 00", False),
    ("US", "94040", "94040", "94040", False),
    ("US", "94040-1234", "94040-1234", "94040", False),
    ("US", "940401234", "94040-1234", "94040", False),
    ("DE", "10115", "10115", "10115", False),
    ("FR", "75001", "75001", "75001", False),
    ("AU", "2000", "2000", "2000", False),
    ("IN", "110001", "110001", "110001", False),
    ("CN", "100000", "100000", "100000", False),
    ("MX", "06000", "06000", "06000", False),
    ("AR", "C1425DKA", "C1425DKA", "1425", False),
    ("AR", "1425", "1425", "1425", False),
    ("LV", "lv-1050", "LV-1050", "LV-1050", False),
    ("AZ", "1000", "AZ 1000", "AZ 1000", False),
]

INVALID = [
    ("GB", "SW1A"),  # the outward code alone is not a postcode
    ("GB", "SW1A 1A"),
    ("GB", "12345"),
    ("CA", "M5V"),
    ("CA", "D5V 3L9"),  # D is not a Canadian first letter
    ("CA", "M5V 3L"),
    ("NL", "0123 AB"),  # no leading zero
    ("NL", "1011"),
    ("JP", "100-001"),
    ("DE", "1011"),
    ("DE", "101155"),
    ("FR", "7500A"),
    ("AU", "20000"),
    ("BR", "0131010"),
    ("US", "9404"),
    ("IN", "11001"),
]


@pytest.mark.parametrize(("country", "typed", "canonical", "query", "district"), VALID)
def test_valid_codes_get_their_canonical_and_geocoder_forms(
    country: str, typed: str, canonical: str, query: str, district: bool
) -> None:
    assert postal.parse(typed, country) == postal.PostalCode(canonical, query, district)
    asked = validate(typed, country)
    assert (asked.postal_code, asked.place_key, asked.district) == (canonical, (query, country), district)


@pytest.mark.parametrize(("country", "typed"), INVALID)
def test_invalid_codes_are_refused_with_the_countrys_example(country: str, typed: str) -> None:
    assert postal.parse(typed, country) is None
    with pytest.raises(InvalidInput) as caught:
        validate(typed, country)
    (violation,) = caught.value.violations
    assert violation.field == "postal_code"
    example = postal.RULES[country].example
    if country != "US":
        assert f"they look like {example}" in violation.description
    assert typed not in violation.description.replace(example, "").replace("94040-1234", "")  # no echo


@pytest.mark.parametrize(
    ("country", "variants"),
    [
        ("GB", ["SW1A 1AA", "sw1a1aa", " Sw1A  1aA ", "SW1A-1AA", "SW1A 2AA"]),
        ("CA", ["M5V 3L9", "m5v3l9", "M5V-3L9"]),
        ("NL", ["1011 AB", "1011ab", "1011 CD"]),
        ("JP", ["100-0001", "1000001", " 100 0001 "]),
        ("US", ["94040", "94040-1234", "940401234"]),
    ],
)
def test_case_and_spacing_variants_share_one_cache_key(country: str, variants: list[str]) -> None:
    assert len({validate(code, country).place_key for code in variants}) == 1


def test_the_table_covers_the_forty_most_populous_countries_with_postal_codes() -> None:
    # The 40 most populous countries that use postal codes (UN population estimates, 2024).
    populous = (
        "IN CN US ID PK NG BR BD RU MX JP ET PH EG VN IR TR DE TH GB FR IT ZA KE KR CO ES AR DZ UA "
        "SD IQ PL CA MA SA UZ PE MY AU"
    ).split()
    assert len(populous) == 40
    assert [country for country in populous if country not in postal.RULES] == []


def test_every_rules_example_is_valid_and_canonical() -> None:
    for country, rule in postal.RULES.items():
        code = postal.parse(rule.example, country)
        assert code is not None and code.canonical == rule.example, country


def test_countries_without_a_rule_keep_the_generic_shape() -> None:
    assert postal.parse("ab  12", "GQ") == postal.PostalCode("AB 12", "AB 12", False)
    assert postal.parse("A", "GQ") is None
