"""The mapping of domain errors to gRPC statuses, with BadRequest details for invalid input."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from tenki_weather.errors import (
    FieldViolation,
    InternalError,
    InvalidInput,
    Misconfigured,
    NotFound,
    RateLimited,
    Unavailable,
)
from tenki_weather.status import GENERIC_INTERNAL_MESSAGE, to_grpc_status


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("no weather is known for 00000"), grpc.StatusCode.NOT_FOUND),
        (Unavailable("down"), grpc.StatusCode.UNAVAILABLE),
        (RateLimited("slow down"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (Misconfigured("bad key"), grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
def test_domain_errors_keep_their_human_message(error: Exception, code: grpc.StatusCode) -> None:
    status = to_grpc_status(error)
    assert status.code is code
    assert status.details == str(error)


@pytest.mark.parametrize("error", [InternalError("KeyError in parser at line 3"), KeyError("secret detail")])
def test_internal_errors_show_only_a_generic_message(error: Exception) -> None:
    status = to_grpc_status(error)
    assert status.code is grpc.StatusCode.INTERNAL
    assert status.details == GENERIC_INTERNAL_MESSAGE


def test_invalid_input_carries_bad_request_field_violations() -> None:
    error = InvalidInput([FieldViolation("postal_code", "is required"), FieldViolation("units", "unknown")])
    status = to_grpc_status(error)
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    assert status.details == "postal_code: is required; units: unknown"
    (key, value), = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    rich = status_pb2.Status.FromString(value)
    bad_request = error_details_pb2.BadRequest()
    assert rich.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("postal_code", "is required"),
        ("units", "unknown"),
    ]
