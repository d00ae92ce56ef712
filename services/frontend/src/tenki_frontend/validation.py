"""Parsing of the weather question from a form or the JSON API's query string.

The frontend checks only what it owns: that a postal code was given (and is of a sane length), that the
country is a real ISO 3166-1 country (countries.py, whose list also fills the form's select), and that
the units are ones the page offers. The postal code's format per country is the weather service's rule;
its INVALID_ARGUMENT answer is shown next to the field like any local error (see errors.py).
Messages never echo the input back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tenki.weather.v1 import weather_pb2

from . import countries

DEFAULT_COUNTRY = "US"
DEFAULT_UNITS = "metric"
# Longer than any postal code on earth, short enough that nothing silly travels further.
ZIP_MAX_LENGTH = 16
ZIP_ECHO_LENGTH = 100
UNITS = {"metric": weather_pb2.UNITS_METRIC, "imperial": weather_pb2.UNITS_IMPERIAL}

MESSAGES = {
    "zip_required": "Enter a postal code.",
    "zip_too_long": f"A postal code has at most {ZIP_MAX_LENGTH} characters.",
    "country": "Choose a country from the list.",
    "units": "Choose °C or °F.",
}


@dataclass(frozen=True)
class FormValues:
    """What the form shows: the user's input as typed (escaped by the templates), normalised where valid."""

    zip: str = ""
    country: str = DEFAULT_COUNTRY
    units: str = DEFAULT_UNITS


@dataclass(frozen=True)
class Query:
    """A question the weather service can be asked."""

    zip: str
    country: str  # ISO 3166-1 alpha-2, upper case
    units: str  # a key of UNITS

    def to_request(self) -> weather_pb2.GetCurrentWeatherRequest:
        return weather_pb2.GetCurrentWeatherRequest(
            postal_code=self.zip, country_code=self.country, units=UNITS[self.units]
        )

    def to_forecast_request(self) -> weather_pb2.GetForecastRequest:
        return weather_pb2.GetForecastRequest(
            postal_code=self.zip, country_code=self.country, units=UNITS[self.units]
        )


@dataclass(frozen=True)
class Parsed:
    """The form's values and either a query or the errors per field (form field name -> message)."""

    values: FormValues
    query: Query | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse(args: Mapping[str, str], zip_aliases: tuple[str, ...] = ()) -> Parsed:
    """Parse `zip`, `country` and `units` (first value of each); `zip_aliases` are other names for zip."""
    raw_zip = args.get("zip")
    for alias in zip_aliases:
        if raw_zip is None:
            raw_zip = args.get(alias)
    zip_code = (raw_zip or "").strip()
    raw_country = (args.get("country") or "").strip().upper()
    raw_units = (args.get("units") or "").strip().lower()

    errors: dict[str, str] = {}
    if not zip_code:
        errors["zip"] = MESSAGES["zip_required"]
    elif len(zip_code) > ZIP_MAX_LENGTH:
        errors["zip"] = MESSAGES["zip_too_long"]
    country = raw_country or DEFAULT_COUNTRY
    if country not in countries.names():
        errors["country"] = MESSAGES["country"]
    units = raw_units or DEFAULT_UNITS
    if units not in UNITS:
        errors["units"] = MESSAGES["units"]

    values = FormValues(
        # Shown back in the form (escaped); a pasted novel is cut, not echoed whole.
        zip=zip_code[:ZIP_ECHO_LENGTH],
        country=country if "country" not in errors else DEFAULT_COUNTRY,
        units=units if "units" not in errors else DEFAULT_UNITS,
    )
    if errors:
        return Parsed(values, None, errors)
    return Parsed(values, Query(zip=zip_code, country=country, units=units))
