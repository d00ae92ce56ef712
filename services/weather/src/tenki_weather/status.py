"""The gRPC face of the domain errors: a status code per kind, BadRequest details for invalid input."""

from __future__ import annotations

from typing import TypeGuard

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from . import errors

# The first entry an error is an instance of gives its code: WeatherError, the catch-all, stays last.
STATUS_CODES: tuple[tuple[type[errors.WeatherError], grpc.StatusCode], ...] = (
    (errors.InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Misconfigured, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.WeatherError, grpc.StatusCode.INTERNAL),
)

GENERIC_INTERNAL_MESSAGE = "internal error in the weather service; the details are in its log"


def is_public(error: BaseException) -> TypeGuard[errors.WeatherError]:
    """True when the client reads the error's own message; False for a bug or an InternalError, which
    the client sees only as GENERIC_INTERNAL_MESSAGE."""
    return isinstance(error, errors.WeatherError) and not isinstance(error, errors.InternalError)


def status_code(error: errors.WeatherError) -> grpc.StatusCode:
    return next(code for kind, code in STATUS_CODES if isinstance(error, kind))


def to_grpc_status(error: BaseException) -> grpc.Status:
    """The gRPC status for an error; InvalidInput carries google.rpc.BadRequest field violations."""
    if not is_public(error):
        internal = status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message=GENERIC_INTERNAL_MESSAGE)
        return rpc_status.to_status(internal)
    status = status_pb2.Status(code=status_code(error).value[0], message=error.message)
    if isinstance(error, errors.InvalidInput):
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
