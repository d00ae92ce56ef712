"""The countries tenki knows: every ISO 3166-1 country, from pycountry's list, read once.

One list for every reader: validation accepts exactly these codes, and the presenters name them on the
pages and offer them in the form's select, so the form never offers what validation refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

import pycountry


@lru_cache(maxsize=1)
def names() -> Mapping[str, str]:
    """Alpha-2 code (upper case) -> everyday name of every ISO 3166-1 country."""
    return MappingProxyType(
        {c.alpha_2: str(getattr(c, "common_name", None) or c.name) for c in pycountry.countries}
    )


@lru_cache(maxsize=1)
def by_name() -> tuple[tuple[str, str], ...]:
    """(alpha-2, name) of every country, sorted by name, for the form's select."""
    return tuple(sorted(names().items(), key=lambda pair: pair[1].casefold()))


def name(alpha_2: str) -> str:
    """The country's everyday name, or the code itself when pycountry does not know it."""
    return names().get(alpha_2.upper(), alpha_2)
