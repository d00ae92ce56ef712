"""Domain errors, and their one mapping to gRPC status codes.

Every error carries a plain human message that is safe to show a client: no traceback, no upstream
URL, never the API key. Details that help an operator go to the log, not to the client.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field (the request's field name, as in the proto) and what is wrong with it."""

    field: str
    description: str


class WeatherError(Exception):
    """Base of the errors a client sees. `kind` labels logs and metrics; `code` is the gRPC status."""

    kind = "internal"
    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(WeatherError):
    kind = "invalid_input"
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = list(violations)


class NotFound(WeatherError):
    kind = "not_found"
    code = grpc.StatusCode.NOT_FOUND

    @classmethod
    def place(cls, postal_code: str, country_code: str) -> NotFound:
        """The one wording of "this postal code is unknown", whichever provider finds it out."""
        return cls(f"no weather is known for postal code {postal_code} in country {country_code}")


class Unavailable(WeatherError):
    kind = "unavailable"
    code = grpc.StatusCode.UNAVAILABLE


class RateLimited(WeatherError):
    kind = "rate_limited"
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Misconfigured(WeatherError):
    kind = "misconfigured"
    code = grpc.StatusCode.FAILED_PRECONDITION


class InternalError(WeatherError):
    """Anything unexpected. The client only ever sees GENERIC_INTERNAL_MESSAGE."""

    kind = "internal"
    code = grpc.StatusCode.INTERNAL


GENERIC_INTERNAL_MESSAGE = "internal error in the weather service; the details are in its log"


def is_internal(error: BaseException) -> bool:
    """True for a bug or an InternalError: the client sees only GENERIC_INTERNAL_MESSAGE."""
    return not isinstance(error, WeatherError) or isinstance(error, InternalError)


def to_grpc_status(error: Exception) -> grpc.Status:
    """The gRPC status for an error; InvalidInput carries google.rpc.BadRequest field violations."""
    if is_internal(error):
        internal = status_pb2.Status(code=code_pb2.INTERNAL, message=GENERIC_INTERNAL_MESSAGE)
        return rpc_status.to_status(internal)
    status = status_pb2.Status(code=error.code.value[0], message=error.message)
    if isinstance(error, InvalidInput):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    return rpc_status.to_status(status)


def field_violations(rpc_error: grpc.RpcError) -> list[FieldViolation]:
    """The BadRequest field violations a server sent with an error (client side), if any."""
    status = rpc_status.from_call(rpc_error)  # type: ignore[arg-type]
    if status is None:
        return []
    violations = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(FieldViolation(v.field, v.description) for v in bad_request.field_violations)
    return violations
