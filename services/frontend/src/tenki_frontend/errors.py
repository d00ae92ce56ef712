"""The frontend's errors: the one mapping from the weather service's gRPC status codes to what a person
or API client sees, and the handlers (`init_app`) that render every error as a page or as JSON.

| gRPC status                         | HTTP | error code     | why                                        |
| ----------------------------------- | ---- | -------------- | ------------------------------------------ |
| INVALID_ARGUMENT                    | 400  | invalid_input  | the field messages come from BadRequest    |
| NOT_FOUND                           | 404  | not_found      | the postal code is not known               |
| UNAVAILABLE, DEADLINE_EXCEEDED      | 503  | unavailable    | the weather service or OWM cannot answer   |
| FAILED_PRECONDITION                 | 503  | misconfigured  | the service's OWM key is missing or wrong  |
| RESOURCE_EXHAUSTED                  | 503  | rate_limited   | see below; with Retry-After                |
| anything else (INTERNAL, UNKNOWN..) | 502  | bad_gateway    | the service answered, but not usefully     |

RESOURCE_EXHAUSTED is 503, not 429: it means tenki's shared upstream budget (or OWM's limit on tenki's
key) is spent, not that this client sent too many requests, and 429 would tell the client to blame itself.
A Retry-After header says when to come back.

The handlers answer JSON under /api/ and a page elsewhere: the form, filled in, with the messages next
to the fields, and never a traceback (that goes to the log only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import grpc
from flask import Flask, Response, g, jsonify, render_template, request
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from . import request_id
from .validation import FormValues
from .weather_client import as_call

log = logging.getLogger("tenki_frontend")

API_PREFIX = "/api/"

# The weather service's request field names (the proto's) -> the form's field names.
FIELD_NAMES = {"postal_code": "zip", "country_code": "country", "units": "units"}
FIELD_LABELS = {"zip": "Postal code", "country": "Country", "units": "Units"}
RETRY_AFTER_SECONDS = 60
# The service's messages are fragments after the field name ("is required"); these words start one.
_FRAGMENT_STARTS = ("is ", "must ", "should ", "cannot ", "has ")


@dataclass(frozen=True)
class FrontendError(Exception):
    """An error as the frontend presents it: HTTP status, a stable code, a human title and message."""

    status: int
    code: str
    title: str
    message: str
    field_errors: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


NOT_FOUND_PAGE = FrontendError(404, "not_found", "Page not found", "There is no page at this address.")
METHOD_NOT_ALLOWED = FrontendError(
    405, "method_not_allowed", "Method not allowed", "This address does not accept that kind of request."
)
# A bug of ours: an honest 500 (so error budgets blame the frontend, not the weather service), with a
# plain page; the traceback goes to the log only.
UNEXPECTED = FrontendError(
    500, "internal_error", "Something went wrong",
    "tenki could not answer this request. Please try again shortly.",
)


def invalid_input(field_errors: dict[str, str]) -> FrontendError:
    message = " ".join(field_errors.values()) or "The request is not valid."
    return FrontendError(400, "invalid_input", "Please check your input", message, dict(field_errors))


def from_rpc_error(error: grpc.RpcError) -> FrontendError:
    """The FrontendError for a failed GetCurrentWeather call."""
    call = as_call(error)
    code = call.code() if call is not None else grpc.StatusCode.UNKNOWN
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return invalid_input(field_violations(error))
    if code == grpc.StatusCode.NOT_FOUND:
        return FrontendError(
            404,
            "not_found",
            "Postal code not found",
            "No place is known by that postal code in that country. Check the code and the country.",
        )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return FrontendError(
            503,
            "unavailable",
            "Weather service unavailable",
            "The weather service cannot answer right now. Please try again in a minute.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return FrontendError(
            503,
            "misconfigured",
            "Weather service misconfigured",
            "The weather service is not set up to fetch weather (its OpenWeatherMap key is missing or "
            "not accepted). The operators have to fix its configuration.",
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return FrontendError(
            503,
            "rate_limited",
            "Too busy right now",
            "tenki has used up its allowance of weather requests for the moment. "
            "Please try again in a minute.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    return FrontendError(
        502,
        "bad_gateway",
        "Weather service error",
        "The weather service failed to answer this request. Please try again shortly.",
    )


def field_violations(error: grpc.RpcError) -> dict[str, str]:
    """Form field name -> message, from the google.rpc.BadRequest detail of an INVALID_ARGUMENT status."""
    call = as_call(error)
    # A google.rpc.Status (googleapis-common-protos ships no types, so it is Any), or None.
    status = None
    if call is not None:
        try:
            status = rpc_status.from_call(call)
        except ValueError:  # a details trailer that contradicts the status code: ignore the details
            pass
    violations: dict[str, str] = {}
    for detail in status.details if status is not None else []:
        if not detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            continue
        bad_request = error_details_pb2.BadRequest()
        detail.Unpack(bad_request)
        for violation in bad_request.field_violations:
            name = FIELD_NAMES.get(violation.field, violation.field)
            message = sentence(FIELD_LABELS.get(name, name), violation.description)
            if message:
                violations.setdefault(name, message)
    if not violations:
        details = call.details() if call is not None else None
        violations["zip"] = (details or "The weather service did not accept this request.").strip()
    return violations


def sentence(label: str, description: str) -> str:
    """'must be 5 digits' -> 'Postal code must be 5 digits.'; other text is capitalised and closed."""
    text = description.strip()
    if not text:
        return ""
    if text.startswith(_FRAGMENT_STARTS):
        text = f"{label} {text}"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def render_error(error: FrontendError, values: FormValues | None = None) -> Response:
    """The error as JSON (API) or as a page with the form, filled in, and messages next to fields."""
    if wants_json():
        response = jsonify({"error": {"code": error.code, "message": error.message}})
    else:
        response = Response(
            render_template(
                "error.html", error=error, values=values or FormValues(), errors=error.field_errors
            )
        )
    response.status_code = error.status
    response.headers.update(error.headers())
    return response


def init_app(app: Flask) -> None:
    """Every error, ours or werkzeug's, answered by render_error."""

    @app.errorhandler(FrontendError)
    def frontend_error(error: FrontendError) -> Response:
        # views.weather leaves the parsed form values in g, so the form comes back filled in.
        return render_error(error, g.get("form_values"))

    @app.errorhandler(NotFound)
    def not_found(_: NotFound) -> Response:
        return render_error(NOT_FOUND_PAGE)

    @app.errorhandler(MethodNotAllowed)
    def method_not_allowed(error: MethodNotAllowed) -> Response:
        response = render_error(METHOD_NOT_ALLOWED)
        response.headers["Allow"] = ", ".join(error.valid_methods or ())
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Werkzeug's other client errors (414, 431...): its status, our page, no stack.
        status = error.code or 400
        return render_error(
            FrontendError(
                status, (error.name or "error").lower().replace(" ", "_"), error.name, error.description or ""
            )
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The detail goes to the log only; the person gets a plain page, never a traceback.
        log.exception("unexpected error", extra={"request_id": request_id.current()})
        return render_error(UNEXPECTED)
