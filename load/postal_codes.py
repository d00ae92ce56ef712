"""The postal codes tenki's simulated users ask for: a realistic mix, shared by Locust and the bench.

Real traffic is skewed: a few places (big cities, the user's own town) are asked for again and
again, which tenki's cache absorbs; a steady trickle of codes nobody asked for before goes
upstream; and people mistype. Each draw says what the right answer is, so a load test can count
a deliberately invalid input answered with 400 / INVALID_ARGUMENT as a success.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Kind = Literal["known", "new", "invalid"]


@dataclass(frozen=True)
class Lookup:
    """One question a user asks, and the kind of answer that is correct for it."""

    postal_code: str
    country: str
    kind: Kind

    @property
    def units(self) -> str:
        """The unit system a person from that country would most likely pick."""
        return "imperial" if self.country in {"us", "lr", "mm"} else "metric"


# Popular places, most asked for first; weights fall off like a Zipf distribution (1/rank).
POPULAR: tuple[tuple[str, str], ...] = (
    ("10001", "us"),  # New York
    ("94040", "us"),  # Mountain View
    ("60601", "us"),  # Chicago
    ("SW1A 1AA", "gb"),  # London
    ("98101", "us"),  # Seattle
    ("10115", "de"),  # Berlin
    ("75001", "fr"),  # Paris
    ("100-0001", "jp"),  # Tokyo
    ("02134", "us"),  # Boston
    ("K1A 0B1", "ca"),  # Ottawa
    ("73301", "us"),  # Austin
    ("2000", "au"),  # Sydney
    ("110001", "in"),  # New Delhi
    ("01310-100", "br"),  # São Paulo
    ("94040-1234", "us"),  # ZIP+4, answered as 94040
)
POPULAR_WEIGHTS: tuple[float, ...] = tuple(1 / rank for rank in range(1, len(POPULAR) + 1))

# Inputs a person might really type that tenki must refuse with a clear 400 / INVALID_ARGUMENT.
INVALID: tuple[tuple[str, str], ...] = (
    ("ABCDE", "us"),  # letters in a US ZIP code
    ("9404", "us"),  # one digit short
    ("", "us"),  # submitted the empty form
    ("94040", "xx"),  # not an ISO 3166 country
    ("<script>alert(1)</script>", "us"),  # someone probing for XSS
    ("SW1A  1AA 1", "gb"),  # more than one inner space
    ("1" * 40, "de"),  # far too long
)


def new_code(rng: random.Random) -> tuple[str, str]:
    """A valid code that is probably not in the cache yet (it may not exist upstream: 404 is right)."""
    country = rng.choice(("us", "us", "us", "de", "fr", "jp"))
    if country == "jp":
        return f"{rng.randrange(100, 1000)}-{rng.randrange(10000):04d}", country
    return f"{rng.randrange(1000, 100000):05d}", country


def draw(rng: random.Random, new_share: float = 0.15, invalid_share: float = 0.05) -> Lookup:
    """One lookup from the mix: mostly popular places, some new codes, a few invalid inputs."""
    roll = rng.random()
    if roll < invalid_share:
        code, country = rng.choice(INVALID)
        return Lookup(code, country, "invalid")
    if roll < invalid_share + new_share:
        code, country = new_code(rng)
        return Lookup(code, country, "new")
    code, country = rng.choices(POPULAR, weights=POPULAR_WEIGHTS)[0]
    return Lookup(code, country, "known")


def distinct_codes(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """`count` different valid (postal code, country) pairs, US and other countries, reproducibly."""
    rng = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    while len(seen) < count:
        seen.add(new_code(rng))
    return sorted(seen)
