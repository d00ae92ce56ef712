"""Postal codes per country: what a valid code looks like, how people write it, what OWM's geocoder takes.

No maintained library in tenki's lock fits: pycountry has no postal formats, and the postal-code
libraries on PyPI either validate only (no canonical form, no geocoder form) or ship GeoNames' data
files (hundreds of MB). So this is one table, one row per country, for the 40+ most populous countries
that use postal codes; every other country keeps the generic rule (letters and digits, 2 to 10, at
most one inner space or hyphen), sent to OWM as typed.

Each rule gives three things:
- `pattern`, matched against the code with spaces and hyphens removed, upper case ("compact" form);
- the canonical form people write (`SW1A 1AA`, `M5V 3L9`, `1011 AB`, `100-0001`, `01310-100`);
- the form OWM's zip geocoder (`/geo/1.0/zip?zip={code},{country}`) accepts, with the evidence.

Evidence for the geocoder forms (collected for issue 14):
- OWM's Geocoding API documentation: the zip endpoint's own example is the GB outward code `E14,GB`
  (https://openweathermap.org/api/geocoding-api, "Coordinates by zip/post code").
- CA: hoobs-org/HOOBS#189, "OpenWeather only accepts the first 3 characters for Canadian zip codes"
  (the forward sortation area); full codes like `K0A1K0,CA` answer "city not found".
- OWM's zip data follows GeoNames' postal-code dump, which holds only the outward/area part for GB
  (outward code), CA (FSA), IE (Eircode routing key), NL (the 4 digits), AR (the 4-digit code inside
  a CPA) and MT; symerio/pgeocode, which reads the same dump, cuts GB/IE/CA codes the same way
  (symerio/pgeocode#10 and #12). For the other countries GeoNames lists the full code in the form
  written here, so the canonical form is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# ASCII only: \d would also match other scripts' digits, which no postal system uses.
GENERIC = re.compile(r"^[A-Z0-9]+(?:[ -][A-Z0-9]+)?$")
GENERIC_MIN, GENERIC_MAX = 2, 10


@dataclass(frozen=True)
class PostalCode:
    """A valid postal code: as people write it, and as tenki asks OWM's geocoder (the cache key)."""

    canonical: str  # "SW1A 1AA"
    query: str  # "SW1A": what the geocoder is asked; the cache key with the country
    district: bool  # True when `query` names a wider area than `canonical` (GB outward code, CA FSA)


@dataclass(frozen=True)
class PostalRule:
    country: str
    pattern: re.Pattern[str]  # on the compact form (no spaces or hyphens, upper case)
    canonical: Callable[[str], str]  # compact -> as written
    query: Callable[[str], str]  # compact -> what OWM's geocoder accepts
    example: str
    district: bool = False

    def parse(self, compact: str) -> PostalCode | None:
        if not self.pattern.match(compact):
            return None
        return PostalCode(self.canonical(compact), self.query(compact), self.district)


def _same(compact: str) -> str:
    return compact


def _split(at: int, sep: str) -> Callable[[str], str]:
    """Canonical form with `sep` after the first `at` characters ("1000001" -> "100-0001")."""
    return lambda compact: f"{compact[:at]}{sep}{compact[at:]}"


def _head(count: int) -> Callable[[str], str]:
    return lambda compact: compact[:count]


def _digits(count: int, example: str, country: str) -> PostalRule:
    return PostalRule(country, re.compile(rf"^[0-9]{{{count}}}$"), _same, _same, example)


def _gb_canonical(compact: str) -> str:
    return f"{compact[:-3]} {compact[-3:]}"


def _gb_outward(compact: str) -> str:
    return compact[:-3]


def _us_canonical(compact: str) -> str:
    return compact if len(compact) == 5 else f"{compact[:5]}-{compact[5:]}"


def _ar_query(compact: str) -> str:
    # A CPA ("C1425DKA") holds the old 4-digit code; GeoNames (and OWM) know places by that.
    return compact[1:5] if compact[0].isalpha() else compact


def _rules() -> dict[str, PostalRule]:
    rules = [
        # US: ZIP or ZIP+4; OWM knows the 5-digit ZIP (the +4 part only narrows a delivery route).
        PostalRule("US", re.compile(r"^[0-9]{5}(?:[0-9]{4})?$"), _us_canonical, _head(5), "94040"),
        # GB: outward code (area, district) + inward code (sector digit, unit letters). OWM's geocoder
        # documents the outward code (its example is E14,GB); full postcodes are not in its data.
        PostalRule(
            "GB",
            re.compile(r"^(?:[A-Z]{1,2}[0-9][0-9A-Z]?|GIR)[0-9][A-Z]{2}$"),
            _gb_canonical,
            _gb_outward,
            "SW1A 1AA",
            district=True,
        ),
        # CA: FSA + local delivery unit; OWM takes only the FSA (hoobs-org/HOOBS#189).
        PostalRule(
            "CA",
            re.compile(r"^[ABCEGHJ-NPRSTVXY][0-9][A-Z][0-9][A-Z][0-9]$"),
            _split(3, " "),
            _head(3),
            "M5V 3L9",
            district=True,
        ),
        # NL: 4 digits (no leading zero) + 2 letters; GeoNames/OWM list the 4-digit area.
        PostalRule("NL", re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$"), _split(4, " "), _head(4), "1011 AB", True),
        # IE: Eircode, routing key + unique identifier; GeoNames/OWM (and pgeocode) use the routing key.
        PostalRule(
            "IE",
            re.compile(r"^(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W)[0-9AC-FHKNPRTV-Y]{4}$"),
            _split(3, " "),
            _head(3),
            "D02 X285",
            district=True,
        ),
        # AR: CPA (letter, 4 digits, 3 letters) or the old 4 digits; the geocoder knows the 4 digits.
        PostalRule(
            "AR", re.compile(r"^(?:[A-HJ-NP-Z][0-9]{4}[A-Z]{3}|[0-9]{4})$"), _same, _ar_query, "C1425DKA"
        ),
        # JP: 7 digits written NNN-NNNN.
        PostalRule("JP", re.compile(r"^[0-9]{7}$"), _split(3, "-"), _split(3, "-"), "100-0001"),
        # BR: CEP, 8 digits written NNNNN-NNN.
        PostalRule("BR", re.compile(r"^[0-9]{8}$"), _split(5, "-"), _split(5, "-"), "01310-100"),
        # PL: NN-NNN.
        PostalRule("PL", re.compile(r"^[0-9]{5}$"), _split(2, "-"), _split(2, "-"), "00-950"),
        # PT: NNNN-NNN.
        PostalRule("PT", re.compile(r"^[0-9]{7}$"), _split(4, "-"), _split(4, "-"), "1000-001"),
        # SE, CZ, SK, GR: 5 digits written NNN NN.
        PostalRule("SE", re.compile(r"^[1-9][0-9]{4}$"), _split(3, " "), _split(3, " "), "114 55"),
        PostalRule("CZ", re.compile(r"^[1-7][0-9]{4}$"), _split(3, " "), _split(3, " "), "110 00"),
        PostalRule("SK", re.compile(r"^[089][0-9]{4}$"), _split(3, " "), _split(3, " "), "811 01"),
        PostalRule("GR", re.compile(r"^[1-8][0-9]{4}$"), _split(3, " "), _split(3, " "), "105 57"),
        # IR: 10 digits, written NNNNN-NNNNN.
        PostalRule("IR", re.compile(r"^[0-9]{10}$"), _split(5, "-"), _split(5, "-"), "11369-14411"),
        # KR: 5-digit code (since 2015).
        _digits(5, "03187", "KR"),
        # CL: 7 digits.
        _digits(7, "8320000", "CL"),
        # IL: 7 digits.
        _digits(7, "9614303", "IL"),
        # AZ: "AZ 1000".
        PostalRule("AZ", re.compile(r"^(?:AZ)?[0-9]{4}$"), lambda c: f"AZ {c[-4:]}", lambda c: f"AZ {c[-4:]}",
                   "AZ 1000"),
        # LV, LT: "LV-1050", "LT-01100".
        PostalRule("LV", re.compile(r"^(?:LV)?[0-9]{4}$"), lambda c: f"LV-{c[-4:]}", lambda c: f"LV-{c[-4:]}",
                   "LV-1050"),
        PostalRule("LT", re.compile(r"^(?:LT)?[0-9]{5}$"), lambda c: f"LT-{c[-5:]}", lambda c: f"LT-{c[-5:]}",
                   "LT-01100"),
    ]
    # Countries whose codes are plain digits, written as such: (digit count, example).
    plain = {
        "CN": (6, "100000"), "IN": (6, "110001"), "ID": (5, "10110"), "PK": (5, "44000"),
        "NG": (6, "100001"), "BD": (4, "1000"), "RU": (6, "101000"), "MX": (5, "06000"),
        "ET": (4, "1000"), "PH": (4, "1000"), "EG": (5, "11511"), "VN": (6, "100000"),
        "TR": (5, "06100"), "DE": (5, "10115"), "TH": (5, "10200"), "FR": (5, "75001"),
        "IT": (5, "00184"), "ZA": (4, "0001"), "KE": (5, "00100"), "CO": (6, "110111"),
        "ES": (5, "28013"), "DZ": (5, "16000"), "UA": (5, "01001"), "SD": (5, "11111"),
        "IQ": (5, "10001"), "MA": (5, "10000"), "SA": (5, "11564"), "UZ": (6, "100000"),
        "PE": (5, "15001"), "MY": (5, "50000"), "AU": (4, "2000"), "RO": (6, "010011"),
        "KZ": (6, "010000"), "NP": (5, "44600"), "VE": (4, "1010"), "LK": (5, "00100"),
        "TW": (5, "10048"), "BE": (4, "1000"), "CH": (4, "8001"), "AT": (4, "1010"),
        "DK": (4, "1050"), "FI": (5, "00100"), "NO": (4, "0150"), "NZ": (4, "6011"),
        "SG": (6, "018956"), "HU": (4, "1051"), "BY": (6, "220030"), "TN": (4, "1000"),
        "DO": (5, "10101"), "CU": (5, "10400"), "GT": (5, "01001"), "EC": (6, "170150"),
        "KH": (5, "12000"), "SN": (5, "10200"), "HR": (5, "10000"), "BG": (4, "1000"),
        "RS": (5, "11000"),
    }
    rules.extend(_digits(count, example, country) for country, (count, example) in plain.items())
    return {rule.country: rule for rule in rules}


RULES: dict[str, PostalRule] = _rules()


def compact(raw: str) -> str:
    """Upper case, without spaces or hyphens: what every rule's pattern is matched against."""
    return re.sub(r"[\s-]+", "", raw).upper()


def parse(raw: str, country: str) -> PostalCode | None:
    """The postal code, or None when it is not valid for the country (upper-case ISO alpha-2)."""
    rule = RULES.get(country)
    if rule is not None:
        return rule.parse(compact(raw))
    # The generic rule: today's shape check, spacing tidied ("ab  12" -> "AB 12"), sent as written.
    code = re.sub(r"\s+", " ", raw.strip().upper())
    if not (GENERIC_MIN <= len(code) <= GENERIC_MAX) or not GENERIC.match(code):
        return None
    return PostalCode(code, code, district=False)


def example(country: str) -> str | None:
    rule = RULES.get(country)
    return rule.example if rule is not None else None
