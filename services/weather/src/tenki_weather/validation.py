"""Validation and normalisation of a weather question: nothing invalid reaches the upstream API.

Country codes come from pycountry (ISO 3166-1, maintained upstream), not from a hand-written list.
Messages never echo the input back: a client already knows what it sent, and a message that repeats
arbitrary input is one more place to escape.
"""

from __future__ import annotations

import re

import pycountry

from .errors import FieldViolation, InvalidInput
from .model import Query, Units

DEFAULT_COUNTRY = "US"
# ASCII only: \d would also match other scripts' digits, which no postal system uses.
US_ZIP = re.compile(r"^([0-9]{5})(?:-[0-9]{4})?$")
# Letters and digits with at most one inner space or hyphen ("SW1A 1AA", "100-0001", "10115").
POSTAL_CODE = re.compile(r"^[A-Z0-9]+(?:[ -][A-Z0-9]+)?$")
POSTAL_MIN, POSTAL_MAX = 2, 10
# Read from pycountry once at import: every request then does a set lookup, not pycountry's search.
ALPHA_2_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
UNITS_HELP = "use metric, imperial or standard"


def normalise_country(raw: str) -> str | FieldViolation:
    country = raw.strip().upper() or DEFAULT_COUNTRY
    if country not in ALPHA_2_CODES:
        return FieldViolation("country_code", "must be an ISO 3166-1 alpha-2 country code, like US, GB or DE")
    return country


def normalise_postal_code(raw: str, country: str | None) -> str | FieldViolation:
    code = raw.strip().upper()
    if not code:
        return FieldViolation("postal_code", "is required")
    if country == "US":
        match = US_ZIP.match(code)
        if match is None:
            return FieldViolation("postal_code", "a US ZIP code is 5 digits, or ZIP+4 like 94040-1234")
        # OWM knows places by the 5-digit ZIP; the +4 part only narrows down a delivery route.
        return match.group(1)
    if not (POSTAL_MIN <= len(code) <= POSTAL_MAX) or not POSTAL_CODE.match(code):
        return FieldViolation(
            "postal_code",
            f"must be {POSTAL_MIN} to {POSTAL_MAX} letters or digits, "
            "with at most one space or hyphen inside",
        )
    return code


def normalise_units(raw: Units | str | None) -> Units | FieldViolation:
    if isinstance(raw, Units):
        return raw
    text = (raw or "").strip().lower()
    if not text:
        return Units.METRIC
    if text == "kelvin":
        return Units.STANDARD
    try:
        return Units(text)
    except ValueError:
        return FieldViolation("units", f"unknown unit system; {UNITS_HELP}")


def validate(postal_code: str, country_code: str = "", units: Units | str | None = None) -> Query:
    """A normalised Query, or InvalidInput naming every bad field at once."""
    country = normalise_country(country_code or "")
    # A bad country still lets us check the postal code's general shape.
    code = normalise_postal_code(postal_code or "", country if isinstance(country, str) else None)
    unit_system = normalise_units(units)
    violations = [v for v in (code, country, unit_system) if isinstance(v, FieldViolation)]
    if violations:
        raise InvalidInput(violations)
    assert isinstance(code, str) and isinstance(country, str) and isinstance(unit_system, Units)
    return Query(postal_code=code, country_code=country, units=unit_system)
