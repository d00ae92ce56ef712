"""Distributed tracing (OpenTelemetry): the SDK, the gRPC server, requests and redis instrumentations, and
the exporter that keeps the OWM key out of every span.

Off unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT): then
`start()` returns None and nothing is built: no tracer provider, no exporter, no thread, no
instrumentation, no connection. On, every RPC of the weather API gets a server span (the caller's
`traceparent` is its parent), with the upstream HTTP calls (requests) and Redis commands under it, and
the interceptor's request id and cache result as attributes (`annotate`).

OWM takes the key as the `appid` query parameter, and the requests instrumentation records URLs (and an
exception event quotes them too). `RedactingExporter` rewrites every string of every span before it
leaves the process: name, attributes, events, links, status, resource.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import filters, server_interceptor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, Status

from .config import WeatherSettings
from .redaction import redact

log = logging.getLogger(__name__)

HEALTH_SERVICE = "grpc.health.v1.Health"
REQUEST_ID_ATTRIBUTE = "tenki.request_id"
CACHE_ATTRIBUTE = "tenki.cache.result"


# As tenki_frontend.tracing has it: the two services ship as separate wheels, sharing only the stubs.
def sampler(name: str, ratio: float) -> Sampler:
    """OpenTelemetry's sampler for an OTEL_TRACES_SAMPLER name (config.Sampler) and its argument."""
    roots: dict[str, Sampler] = {
        "always_on": ALWAYS_ON, "always_off": ALWAYS_OFF, "traceidratio": TraceIdRatioBased(ratio),
    }
    if name.startswith("parentbased_"):
        return ParentBased(roots[name.removeprefix("parentbased_")])
    return roots[name]


def resource_attributes(text: str) -> dict[str, str]:
    """OTEL_RESOURCE_ATTRIBUTES (key=value,key=value, values percent-encoded) as a dict."""
    attributes: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = unquote(value.strip())
    return attributes


def resource(service_name: str, attributes_text: str) -> Resource:
    attributes: dict[str, Any] = resource_attributes(attributes_text)
    # OTEL_SERVICE_NAME wins over a service.name in the attributes, as the specification says; the pid
    # tells the processes of one service apart.
    attributes.update({"service.name": service_name, "process.pid": os.getpid()})
    return Resource.create(attributes)


class RedactingExporter(SpanExporter):
    """An exporter that hands `inner` every span with the key taken out of every string in it."""

    def __init__(self, inner: SpanExporter, secrets: Sequence[str] = ()) -> None:
        self.inner = inner
        self._secrets = [s for s in secrets if s]

    def _text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, "[REDACTED]")
        return redact(value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, (tuple, list)):
            return tuple(self._value(item) for item in value)
        return value

    def _attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        return {self._text(k): self._value(v) for k, v in (attributes or {}).items()}

    def clean(self, span: ReadableSpan) -> ReadableSpan:
        status = span.status
        if status.description:
            status = Status(status.status_code, self._text(status.description))
        return ReadableSpan(
            name=self._text(span.name),
            context=span.context,
            parent=span.parent,
            resource=Resource(self._attributes(span.resource.attributes), span.resource.schema_url),
            attributes=self._attributes(span.attributes),
            events=[
                Event(self._text(e.name), self._attributes(e.attributes), e.timestamp) for e in span.events
            ],
            links=[Link(link.context, self._attributes(link.attributes)) for link in span.links],
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([self.clean(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


@dataclass
class Tracing:
    """The SDK of this process: its provider, and the gRPC server interceptor that starts the spans."""

    provider: TracerProvider
    interceptor: grpc.ServerInterceptor
    endpoint: str

    def shutdown(self) -> None:
        """Export what is buffered, then stop (on the way out of serve())."""
        RequestsInstrumentor().uninstrument()
        _uninstrument_redis()
        self.provider.shutdown()


def start(settings: WeatherSettings, exporter: SpanExporter | None = None) -> Tracing | None:
    """The SDK, when an endpoint is configured (else None, and nothing started); `exporter` for tests."""
    endpoint = settings.tracing_endpoint
    if not endpoint:
        return None
    provider = TracerProvider(
        sampler=sampler(settings.otel_traces_sampler, settings.otel_traces_sampler_arg),
        resource=resource(settings.otel_service_name, settings.otel_resource_attributes),
    )
    # The endpoint as resolved from settings: a test's mapping is honoured exactly; OpenTelemetry's other
    # OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) are read by the exporter itself.
    inner = exporter or OTLPSpanExporter(endpoint=endpoint)
    # The OWM key (requests records URLs), and Redis's password and URL (the redis instrumentation).
    provider.add_span_processor(BatchSpanProcessor(RedactingExporter(inner, settings.secrets)))
    trace.set_tracer_provider(provider)
    RequestsInstrumentor().instrument(tracer_provider=provider)
    _instrument_redis(provider)
    # Probes call health every few seconds: no trace for each.
    # (The instrumentation is untyped; it returns its grpc.ServerInterceptor.)
    interceptor: grpc.ServerInterceptor = server_interceptor(  # type: ignore[no-untyped-call]
        provider, filter_=filters.negate(filters.service_name(HEALTH_SERVICE))
    )
    log.info(
        "tracing on",
        extra={
            "endpoint": endpoint,
            "sampler": settings.otel_traces_sampler,
            "sampler_arg": settings.otel_traces_sampler_arg,
            "service_name": settings.otel_service_name,
        },
    )
    return Tracing(provider, interceptor, endpoint)


def _instrument_redis(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    if not RedisInstrumentor().is_instrumented_by_opentelemetry:
        RedisInstrumentor().instrument(tracer_provider=provider)


def _uninstrument_redis() -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().uninstrument()


def annotate(fields: Mapping[str, Any]) -> None:
    """The request id and cache result of the call in progress, on its span (when one is recorded)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute(REQUEST_ID_ATTRIBUTE, str(fields.get("request_id")))
    if fields.get("cache"):
        span.set_attribute(CACHE_ATTRIBUTE, str(fields["cache"]))
    if fields.get("error_kind"):
        span.set_attribute("tenki.error_kind", str(fields["error_kind"]))
    if fields.get("fault"):
        span.set_attribute("tenki.fault", str(fields["fault"]))
