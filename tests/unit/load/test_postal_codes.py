"""The load mix asks what it claims: valid codes pass tenki's validation, invalid ones are refused."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from postal_codes import INVALID, POPULAR, distinct_codes, draw
from tenki_weather.errors import InvalidInput
from tenki_weather.validation import validate


@pytest.mark.parametrize(("code", "country"), POPULAR)
def test_popular_codes_are_valid(code: str, country: str) -> None:
    validate(code, country)


@pytest.mark.parametrize(("code", "country"), INVALID)
def test_invalid_inputs_are_refused_by_the_service(code: str, country: str) -> None:
    with pytest.raises(InvalidInput):
        validate(code, country)


def test_distinct_codes_are_valid_and_distinct_after_normalisation() -> None:
    codes = distinct_codes(60)
    queries = [validate(code, country) for code, country in codes]
    keys = {(query.postal_code, query.country_code) for query in queries}
    assert len(keys) == 60
    assert {country for _, country in codes} > {"us"}, "the cold path should not be US-only"


def test_mix_is_mostly_repeats_with_some_new_and_a_few_invalid() -> None:
    rng = random.Random(42)
    draws = [draw(rng) for _ in range(5000)]
    kinds = Counter(lookup.kind for lookup in draws)
    assert 0.70 < kinds["known"] / 5000 < 0.90
    assert 0.10 < kinds["new"] / 5000 < 0.20
    assert 0.02 < kinds["invalid"] / 5000 < 0.08
    # Repeats dominate: the most asked-for place is asked far more often than the least.
    places = Counter((d.postal_code, d.country) for d in draws if d.kind == "known")
    (_, most), *_ = places.most_common()
    assert most > 5 * places[POPULAR[-1]]
    assert {d.country for d in draws} >= {"us", "gb", "de", "jp"}
    for lookup in draws:
        if lookup.kind == "new":
            validate(lookup.postal_code, lookup.country)
