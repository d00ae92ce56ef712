"""Domain errors: what can go wrong with a weather question, in plain Python.

Every error carries a plain human message that is safe to show a client: no traceback, no upstream
URL, never the API key. Details that help an operator go to the log, not to the client. The gRPC
layer gives each kind its status code (status.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field (the request's field name, as in the proto) and what is wrong with it."""

    field: str
    description: str


class WeatherError(Exception):
    """Base of the errors a client sees. `kind` labels logs and metrics."""

    kind = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(WeatherError):
    kind = "invalid_input"

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = list(violations)


class UpstreamRejected(InvalidInput):
    """OpenWeatherMap refused the question as malformed (its 400): the postal code's fault as far as the
    caller can tell, though tenki's validation let it through. One wording, so a remembered one (negative
    caching keeps kind and message) is raised again as the same error."""

    DESCRIPTION = "OpenWeatherMap cannot use this postal code (it answered 400)"

    def __init__(self, message: str = "") -> None:
        super().__init__([FieldViolation("postal_code", self.DESCRIPTION)])


class NotFound(WeatherError):
    kind = "not_found"

    @classmethod
    def place(cls, postal_code: str, country_code: str) -> NotFound:
        """The one wording of "this postal code is unknown", whichever provider finds it out."""
        return cls(f"no weather is known for postal code {postal_code} in country {country_code}")


class Unavailable(WeatherError):
    kind = "unavailable"


class RateLimited(WeatherError):
    kind = "rate_limited"


class Misconfigured(WeatherError):
    kind = "misconfigured"


class InternalError(WeatherError):
    """Anything unexpected: the client sees a generic message, never this one."""

    kind = "internal"
