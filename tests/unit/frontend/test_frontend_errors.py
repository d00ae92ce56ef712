"""The mapping of the weather service's gRPC errors to what people and API clients see."""

from __future__ import annotations

import grpc
from fakes import FakeRpcError, bad_request
from google.rpc import error_details_pb2

from tenki_frontend import errors


def test_field_violations_map_to_form_fields_as_sentences() -> None:
    error = bad_request(
        ("postal_code", "must be 2 to 10 letters or digits"),
        ("country_code", "must be an ISO 3166-1 alpha-2 country code, like US, GB or DE"),
        ("units", "unknown unit system; use metric, imperial or standard"),
    )
    assert errors.from_rpc_error(error).field_errors == {
        "zip": "Postal code must be 2 to 10 letters or digits.",
        "country": "Country must be an ISO 3166-1 alpha-2 country code, like US, GB or DE.",
        "units": "Unknown unit system; use metric, imperial or standard.",
    }


def test_invalid_argument_without_details_puts_the_message_at_the_postal_code() -> None:
    error = FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "postal code is wrong")
    mapped = errors.from_rpc_error(error)
    assert (mapped.status, mapped.code) == (400, "invalid_input")
    assert mapped.field_errors == {"zip": "postal code is wrong"}


def test_details_of_another_type_are_ignored() -> None:
    error = FakeRpcError(
        grpc.StatusCode.INVALID_ARGUMENT, "bad", [error_details_pb2.ErrorInfo(reason="X")]
    )
    assert errors.field_violations(error) == {"zip": "bad"}


def test_a_plain_rpc_error_that_is_no_call_is_a_bad_gateway() -> None:
    mapped = errors.from_rpc_error(grpc.RpcError("odd"))
    assert (mapped.status, mapped.code) == (502, "bad_gateway")


def test_sentence() -> None:
    assert errors.sentence("Postal code", "is required") == "Postal code is required."
    assert errors.sentence("Country", "Not a country.") == "Not a country."
    assert errors.sentence("Units", "  ") == ""
