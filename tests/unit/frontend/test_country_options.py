"""The form's country options, built once per selected country: every country, one selected at most."""

from __future__ import annotations

import re

from tenki_frontend import countries
from tenki_frontend.presenters import country_options
from tenki_frontend.validation import parse


def test_every_country_is_an_option_and_only_the_chosen_one_is_selected() -> None:
    html = str(country_options("JP"))
    assert len(re.findall(r"<option ", html)) == len(countries.by_name())
    assert re.findall(r'<option value="([A-Z]{2})" selected>', html) == ["JP"]
    assert '<option value="JP" selected>Japan</option>' in html


def test_an_unknown_or_hostile_choice_selects_nothing_and_is_never_echoed() -> None:
    for choice in ("XX", "", '"><script>alert(1)</script>'):
        html = str(country_options(choice))
        assert " selected" not in html
        assert "<script>" not in html


def test_names_are_html_escaped() -> None:
    html = str(country_options("CI"))
    assert '<option value="CI" selected>Côte d&#39;Ivoire</option>' in html
    assert "d'Ivoire" not in html


def test_the_form_offers_exactly_the_countries_that_validation_accepts() -> None:
    offered = re.findall(r'<option value="([A-Z]{2})"', str(country_options("")))
    assert len(offered) == len(countries.names()) > 200
    refused = [code for code in offered if parse({"zip": "94040", "country": code}).query is None]
    assert refused == []
