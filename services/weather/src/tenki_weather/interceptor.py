"""A server interceptor: request id, one JSON log line and the metrics of every RPC."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import grpc

from .metrics import Metrics

log = logging.getLogger("tenki_weather.rpc")

REQUEST_ID_HEADER = "x-request-id"
SERVICE_PREFIX = "/tenki."
# A request id from a client is echoed into logs and metadata: keep it short and printable.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def request_id_from(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str) and _REQUEST_ID.match(value):
            return value
    return uuid.uuid4().hex


@dataclass
class CallLog:
    """One call's log line beyond method, code and duration: its request id, and what the servicer adds."""

    request_id: str
    # "cache" ("hit", "miss", "stale"), "postal_code" and "country_code" of an answer; "error_kind".
    fields: dict[str, str] = field(default_factory=dict)


class _StatusOfCall(Protocol):
    def code(self) -> grpc.StatusCode | None: ...


class ObservabilityInterceptor(grpc.ServerInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # The log of each call in progress, by its context (one key per call; dict operations are atomic).
        self._calls: dict[grpc.ServicerContext, CallLog] = {}

    def call_log(self, context: grpc.ServicerContext) -> CallLog:
        """The log of the call that `context` serves, for a servicer to add its fields to."""
        return self._calls[context]

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        # Only unary-unary methods are ours; health Watch (streaming) and reflection pass through.
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        request_id = request_id_from(handler_call_details.invocation_metadata)
        inner = handler.unary_unary

        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            call = self._calls[context] = CallLog(request_id)
            start = time.perf_counter()
            failed = False
            try:
                return inner(request, context)
            except BaseException:
                # Past abort() (which sets the code first), an exception reaches the client as UNKNOWN.
                failed = True
                raise
            finally:
                # The request id goes back in the trailing metadata, next to an error's details: trailers
                # travel with the status in the call's one final batch, where initial metadata sent
                # early costs every call a batch of its own (sequential calls: ~15% more CPU).
                trailers = tuple(context.trailing_metadata() or ())
                context.set_trailing_metadata(trailers + ((REQUEST_ID_HEADER, request_id),))
                seconds = time.perf_counter() - start
                # The cast: grpc's server context has code() since 1.38 (gRFC L78), None until a status
                # is set; the grpc stubs do not declare it yet.
                code = cast(_StatusOfCall, context).code() or (
                    grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
                )
                del self._calls[context]
                self._observe(method, call, code, seconds)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _observe(self, method: str, call: CallLog, code: grpc.StatusCode, seconds: float) -> None:
        self._metrics.observe_rpc(method, code.name, seconds)
        extra = dict(call.fields)
        fields = {
            "method": method,
            "code": code.name,
            "duration_ms": round(seconds * 1000, 3),
            "request_id": call.request_id,
            # Always there: None when no lookup answered (invalid input, an error, health).
            "cache": extra.pop("cache", None),
            **extra,
        }
        # Probes call health every few seconds; their lines are DEBUG so they do not drown the log.
        level = logging.INFO if method.startswith(SERVICE_PREFIX) else logging.DEBUG
        log.log(level, "rpc", extra=fields)
