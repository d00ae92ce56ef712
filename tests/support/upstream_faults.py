"""The upstream fault table: every way OpenWeatherMap fails, and what each layer makes of it.

One row per fault the OWM stand-in injects (tenki_stack.owm_standin.FAULTS), plus "refused" (nothing
listens). Each suite reads the column it tests:

- unit (tests/unit/weather/test_owm.py): `pyowm_error`, what PyOWM raises for that answer, which the
  provider maps to the domain error of kind `outcome.kind` (the integration suite proves the column);
- integration (tests/integration/weather/test_owm_upstream.py): `outcome.grpc_code`, the status a
  gRPC client gets from the weather service;
- reliability (tests/reliability/test_upstream_faults.py): every column of `outcome`, from each surface
  a user has (gRPC, the page, the JSON API, the weather service's log).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from pyowm.commons import exceptions as owm_errors
from tenki_stack.owm_standin import FAULTS as STANDIN_FAULTS


@dataclass(frozen=True)
class Outcome:
    """What each surface shows for an upstream failure."""

    kind: str  # the weather service's error kind (WeatherError.kind, the log's error_kind)
    grpc_code: grpc.StatusCode
    http_status: int  # the frontend's, for the page and the JSON API alike
    page_text: str  # a phrase the error page shows (case-insensitive)
    api_code: str  # the JSON API's error.code
    # Whether a cached entry within STALE_IF_ERROR_SECONDS is served instead (stale-if-error's scope:
    # unavailable, rate limited, a refused key; never an unknown postal code).
    serves_stale: bool = True


@dataclass(frozen=True)
class Fault:
    name: str  # the stand-in's fault (OwmStandIn.set_fault), or "refused"
    outcome: Outcome
    pyowm_error: Exception  # what PyOWM (with the provider's HTTP client) raises for this answer


MISCONFIGURED = Outcome(
    "misconfigured", grpc.StatusCode.FAILED_PRECONDITION, 503, "weather service misconfigured",
    "misconfigured",
)
NOT_FOUND = Outcome(
    "not_found", grpc.StatusCode.NOT_FOUND, 404, "postal code not found", "not_found", serves_stale=False
)
RATE_LIMITED = Outcome(
    "rate_limited", grpc.StatusCode.RESOURCE_EXHAUSTED, 503, "too busy right now", "rate_limited"
)
UNAVAILABLE = Outcome(
    "unavailable", grpc.StatusCode.UNAVAILABLE, 503, "weather service unavailable", "unavailable"
)
UNPARSABLE = "Impossible to parse API response data"
# OWM refused the question (HTTP 400): tenki's validation let something through. The client sees it as
# invalid input, next to the postal code field. Outside stale-if-error's scope, like an unknown code: the
# question is wrong, not upstream (service.STALE_KINDS).
UPSTREAM_INVALID = Outcome(
    "invalid_input", grpc.StatusCode.INVALID_ARGUMENT, 400, "cannot use this postal code", "invalid_input",
    serves_stale=False,
)

FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        # cod as a string, as OWM sends it for 400 ({"cod": "400", "message": "Nothing to geocode"}).
        Fault("400", UPSTREAM_INVALID, owm_errors.APIRequestError(
            '{"cod": "400", "message": "Nothing to geocode"}'
        )),
        Fault("401", MISCONFIGURED, owm_errors.UnauthorizedError("Invalid API Key provided")),
        Fault("404", NOT_FOUND, owm_errors.NotFoundError("Unable to find the resource")),
        # A 200 body with cod "404": the provider's HTTP client raises what PyOWM raises for a 404.
        Fault("404-in-body", NOT_FOUND, owm_errors.NotFoundError("city not found")),
        # 429/500/503 arrive as a plain APIRequestError carrying the response body.
        Fault("429", RATE_LIMITED, owm_errors.APIRequestError(
            '{"cod": 429, "message": "Your account is temporary blocked"}'
        )),
        Fault("500", UNAVAILABLE, owm_errors.APIRequestError('{"cod": 500, "message": "Internal error"}')),
        Fault("502", UNAVAILABLE, owm_errors.BadGatewayError("Unable to contact the upstream server")),
        Fault("503", UNAVAILABLE, owm_errors.APIRequestError(
            '{"cod": 503, "message": "Service unavailable"}'
        )),
        Fault("slow", UNAVAILABLE, owm_errors.TimeoutError("API call timed out")),
        # PyOWM wraps every requests ConnectionError (refused, DNS, connect timeout) in this one.
        Fault("refused", UNAVAILABLE, owm_errors.InvalidSSLCertificateError(
            "HTTPConnectionPool(...): Max retries exceeded"
        )),
        Fault("malformed", UNAVAILABLE, owm_errors.ParseAPIResponseError(UNPARSABLE)),
        Fault("empty", UNAVAILABLE, owm_errors.ParseAPIResponseError(UNPARSABLE)),
        # A proxy's HTML page with status 200: not JSON, as "malformed" and "empty".
        Fault("html", UNAVAILABLE, owm_errors.ParseAPIResponseError(UNPARSABLE)),
        # Valid JSON PyOWM cannot read: a sunrise without a sunset makes its Weather compare None with 0.
        Fault("unreadable", UNAVAILABLE, TypeError(
            "'<' not supported between instances of 'NoneType' and 'int'"
        )),
    )
}
# The faults the stand-in injects ("refused" needs no server: tenki_stack.owm_standin.refused_base_url()).
FROM_STANDIN = [name for name in FAULTS if name != "refused"]

if sorted(FROM_STANDIN) != sorted(STANDIN_FAULTS):
    raise RuntimeError(f"the fault table has {sorted(FROM_STANDIN)}, the stand-in {sorted(STANDIN_FAULTS)}")
