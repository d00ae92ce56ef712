"""Distributed tracing (OpenTelemetry): the SDK, the Flask, gRPC client and redis instrumentations.

Off unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT): then
nothing is built, no exporter, thread or connection, and no instrumentation. On, every page and API
request gets a server span (a client's or the Gateway's `traceparent` is its parent), the gRPC call to
the weather service a client span under it (its context travels in the call's metadata), and the
request id as an attribute.

gunicorn forks its workers from the master, and the SDK's export thread and connection do not survive a
fork: `start()` runs in each worker after the fork (gunicorn_conf's post_fork), never in the master;
`init_app` starts it too when the app runs without gunicorn (tests, `flask run`). The probes (/healthz,
/readyz; /metrics is not the app's, the gunicorn master serves it) and the gRPC health checks are not
traced: one trace per probe is noise.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient, filters
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased

from . import request_id
from .config import FrontendSettings

log = logging.getLogger("tenki_frontend.tracing")

UNTRACED_PATHS = "healthz,readyz,static"
REQUEST_ID_ATTRIBUTE = "tenki.request_id"

_started: dict[int, TracerProvider] = {}


# As tenki_weather.tracing has it: the two services ship as separate wheels, sharing only the stubs.
def sampler(name: str, ratio: float) -> Sampler:
    """OpenTelemetry's sampler for an OTEL_TRACES_SAMPLER name (config.Sampler) and its argument."""
    roots: dict[str, Sampler] = {
        "always_on": ALWAYS_ON, "always_off": ALWAYS_OFF, "traceidratio": TraceIdRatioBased(ratio),
    }
    if name.startswith("parentbased_"):
        return ParentBased(roots[name.removeprefix("parentbased_")])
    return roots[name]


def resource(service_name: str, attributes_text: str) -> Resource:
    """OTEL_RESOURCE_ATTRIBUTES (key=value,..., percent-encoded), service.name and this process's pid."""
    attributes: dict[str, Any] = {}
    for item in attributes_text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = unquote(value.strip())
    attributes.update({"service.name": service_name, "process.pid": os.getpid()})
    return Resource.create(attributes)


def provider() -> TracerProvider | None:
    """This process's SDK, if started."""
    return _started.get(os.getpid())


def start(settings: FrontendSettings, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """The SDK of this process (once per process id), or None when no endpoint is configured."""
    endpoint = settings.tracing_endpoint
    if not endpoint:
        return None
    pid = os.getpid()
    if pid in _started:
        return _started[pid]
    sdk = TracerProvider(
        sampler=sampler(settings.otel_traces_sampler, settings.otel_traces_sampler_arg),
        resource=resource(settings.otel_service_name, settings.otel_resource_attributes),
    )
    sdk.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(sdk)
    # Channels made from here on (the weather client makes its own after the fork) carry the trace.
    # (The instrumentations are untyped.)
    client = GrpcInstrumentorClient(  # type: ignore[no-untyped-call]
        filter_=filters.negate(filters.health_check())
    )
    if not client.is_instrumented_by_opentelemetry:
        client.instrument()
    _instrument_redis(sdk)
    _started[pid] = sdk
    log.info("tracing on", extra={"endpoint": endpoint, "sampler": settings.otel_traces_sampler,
                                  "service_name": settings.otel_service_name, "pid": pid})
    return sdk


def _instrument_redis(sdk: TracerProvider) -> None:
    """Redis commands (the shared rate-limit counters, with REDIS_URL) as client spans of the request."""
    if not RedisInstrumentor().is_instrumented_by_opentelemetry:
        RedisInstrumentor().instrument(tracer_provider=sdk)


def shutdown() -> None:
    """Export what is buffered, then stop (gunicorn's worker_exit)."""
    sdk = _started.pop(os.getpid(), None)
    if sdk is not None:
        sdk.shutdown()


def init_app(app: Flask, settings: FrontendSettings) -> None:
    """Trace the app's requests, when tracing is on (call it before the other parts' hooks)."""
    sdk = start(settings)
    if sdk is None:
        return
    FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
        app, tracer_provider=sdk, excluded_urls=UNTRACED_PATHS
    )

    @app.after_request
    def tag_span(response: Response) -> Response:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id.current())
        return response
