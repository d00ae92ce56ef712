"""Validation and normalisation of a weather question: nothing invalid reaches the upstream API.

Country codes come from pycountry (ISO 3166-1, maintained upstream), not from a hand-written list.
Messages never echo the input back: a client already knows what it sent, and a message that repeats
arbitrary input is one more place to escape.
"""

from __future__ import annotations

import pycountry

from . import postal
from .errors import FieldViolation, InvalidInput
from .model import Query, Units

DEFAULT_COUNTRY = "US"
# Read from pycountry once at import: every request then does a set lookup, not pycountry's search.
ALPHA_2_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
UNITS_HELP = "use metric, imperial or standard"
# Longer than any postal code with any spacing: nothing silly is matched against the table.
MAX_RAW_LENGTH = 20


def normalise_country(raw: str) -> str | FieldViolation:
    country = raw.strip().upper() or DEFAULT_COUNTRY
    if country not in ALPHA_2_CODES:
        return FieldViolation("country_code", "must be an ISO 3166-1 alpha-2 country code, like US, GB or DE")
    return country


def normalise_postal_code(raw: str, country: str | None) -> postal.PostalCode | FieldViolation:
    """The code by the country's rule (postal.RULES), or the generic shape check for other countries."""
    if not raw.strip():
        return FieldViolation("postal_code", "is required")
    if len(raw) > MAX_RAW_LENGTH:
        return FieldViolation("postal_code", f"is too long for a postal code (at most {MAX_RAW_LENGTH})")
    code = postal.parse(raw, country or "")
    if code is not None:
        return code
    example = postal.example(country or "")
    if country == "US":
        return FieldViolation("postal_code", "a US ZIP code is 5 digits, or ZIP+4 like 94040-1234")
    if example is not None:
        return FieldViolation("postal_code", f"is not a postal code of {country}; they look like {example}")
    return FieldViolation(
        "postal_code",
        f"must be {postal.GENERIC_MIN} to {postal.GENERIC_MAX} letters or digits, "
        "with at most one space or hyphen inside",
    )


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
    assert isinstance(code, postal.PostalCode) and isinstance(country, str)
    assert isinstance(unit_system, Units)
    return Query(
        postal_code=code.canonical,
        country_code=country,
        units=unit_system,
        lookup_code=code.query,
        district=code.district,
    )
