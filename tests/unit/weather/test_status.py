"""The mapping of domain errors to gRPC statuses, with BadRequest details for invalid input."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from tenki_weather import errors
from tenki_weather.errors import FieldViolation, InternalError, InvalidInput, WeatherError
from tenki_weather.status import (
    GENERIC_INTERNAL_MESSAGE,
    STATUS_CODES,
    is_public,
    status_code,
    to_grpc_status,
)


def error_of(kind: type[WeatherError]) -> WeatherError:
    """One error of a row's class, with a message of its own."""
    if issubclass(kind, InvalidInput):
        return kind([FieldViolation("postal_code", "is required")])
    return kind(f"a {kind.__name__} message")


@pytest.mark.parametrize(("kind", "code"), STATUS_CODES, ids=[kind.__name__ for kind, _ in STATUS_CODES])
def test_each_row_of_the_table_is_the_status_of_its_errors(
    kind: type[WeatherError], code: grpc.StatusCode
) -> None:
    # The first row an error is an instance of decides: a subclass's row must come before its base's.
    error = error_of(kind)
    assert status_code(error) is code
    status = to_grpc_status(error)
    assert status.code is code
    # The client reads the error's own message, but for the catch-all (a bug) and InternalError.
    assert status.details == (str(error) if is_public(error) else GENERIC_INTERNAL_MESSAGE)


def test_every_domain_error_a_client_reads_has_its_own_row() -> None:
    classes = {
        cls for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, WeatherError) and cls is not WeatherError
    }  # fmt: skip

    def first_row(cls: type) -> int:
        return next(i for i, (base, _) in enumerate(STATUS_CODES) if issubclass(cls, base))

    # InternalError (tenki's own bug, shown generically) falls to the catch-all, the last row; every other
    # error meets a row of its own first, or its parent's (UpstreamRejected is an InvalidInput).
    catch_all = len(STATUS_CODES) - 1
    assert {cls for cls in classes if first_row(cls) == catch_all} == {InternalError}
    assert STATUS_CODES[-1] == (WeatherError, grpc.StatusCode.INTERNAL)


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
