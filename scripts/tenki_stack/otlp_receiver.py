"""An OTLP/HTTP trace receiver on 127.0.0.1: what an OpenTelemetry collector's otlphttp receiver accepts.

It decodes each POST /v1/traces body as an `ExportTraceServiceRequest` (opentelemetry-proto, protobuf;
gzip-encoded bodies too, the exporter's compression option) and keeps every span, flattened, for the
tests to read; `make bench` exports to it for its traced row.

    receiver = OtlpReceiver()          # a free port at once
    receiver.endpoint                  # "http://127.0.0.1:PORT" -> OTEL_EXPORTER_OTLP_ENDPOINT
    receiver.spans                     # every span so far (Span: service, names, ids, attributes, ...)
    receiver.wait_for(lambda spans: ..., timeout=20)
    receiver.stop()
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRACES_PATH = "/v1/traces"


def _value(any_value: Any) -> Any:
    """An OTLP AnyValue as Python (strings, numbers, bools, lists; bytes as hex)."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind)


def _attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


@dataclass(frozen=True)
class Span:
    """One received span, with its resource's attributes."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: str  # SPAN_KIND_SERVER, SPAN_KIND_CLIENT, ...
    status_code: str  # STATUS_CODE_UNSET, STATUS_CODE_OK, STATUS_CODE_ERROR
    status_message: str
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    resource: dict[str, Any]
    start_ns: int
    end_ns: int
    scope: str = ""
    strings: list[str] = field(default_factory=list)  # every text in the span, for secret searches


class OtlpReceiver:
    def __init__(self, port: int = 0, *, keep_spans: bool = True) -> None:
        """`keep_spans=False` only counts them (`span_count`): a benchmark's receiver stays cheap."""
        self._lock = threading.Lock()
        self._spans: list[Span] = []
        self.keep_spans = keep_spans
        self.span_count = 0
        self.requests = 0
        self.bad_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)
        self._thread.start()

    @property
    def spans(self) -> list[Span]:
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()

    def wait_for(self, predicate: Callable[[list[Span]], bool], timeout: float = 30.0) -> list[Span]:
        """The spans once `predicate(spans)` holds; AssertionError with what arrived after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans
            if predicate(spans):
                return spans
            if time.monotonic() > deadline:
                names = sorted({f"{s.service}: {s.name}" for s in spans})
                raise AssertionError(f"the receiver did not get the spans in {timeout:.0f} s; got {names}")
            time.sleep(0.1)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> OtlpReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan, Status

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        if not self.keep_spans:
            count = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
            with self._lock:
                self.span_count += count
                self.requests += 1
            return
        received = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = _attributes(span.attributes)
                    events = [
                        {"name": e.name, "attributes": _attributes(e.attributes)} for e in span.events
                    ]
                    links = [
                        {"trace_id": link.trace_id.hex(), "attributes": _attributes(link.attributes)}
                        for link in span.links
                    ]
                    strings = [span.name, span.status.message, *map(str, attributes.items()),
                               *map(str, events), *map(str, links), *map(str, resource.items())]
                    received.append(
                        Span(
                            service=str(resource.get("service.name", "")),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=ProtoSpan.SpanKind.Name(span.kind),
                            status_code=Status.StatusCode.Name(span.status.code),
                            status_message=span.status.message,
                            attributes=attributes,
                            events=events,
                            links=links,
                            resource=resource,
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                            scope=scope_spans.scope.name,
                            strings=strings,
                        )
                    )
        with self._lock:
            self._spans.extend(received)
            self.span_count += len(received)
            self.requests += 1


def _handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            if self.path.split("?")[0] != TRACES_PATH:
                self._answer(404)
                return
            try:
                receiver._accept(body)
            except Exception:  # noqa: BLE001 -- a body that is no export request: 400, as a collector says
                with receiver._lock:
                    receiver.bad_requests += 1
                self._answer(400)
                return
            self._answer(200)

        def _answer(self, status: int) -> None:
            # An empty ExportTraceServiceResponse: full success.
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
