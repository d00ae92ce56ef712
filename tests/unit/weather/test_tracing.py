"""Tracing's parts that need no collector: the redacting exporter, samplers, resource, and tracing off."""

from __future__ import annotations

import threading

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanContext, Status, StatusCode

from tenki_weather import tracing
from tenki_weather.config import WeatherSettings

KEY = "0123456789abcdef0123456789abcdef"
URL = f"https://api.openweathermap.org/data/2.5/weather?APPID={KEY}&zip=94040%2Cus"


class Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_the_key_is_taken_out_of_every_string_of_a_span() -> None:
    context = SpanContext(trace_id=1, span_id=2, is_remote=False)
    span = ReadableSpan(
        name=f"GET {URL}",
        context=context,
        resource=Resource({"service.name": "tenki-weather", "note": KEY}),
        attributes={"http.url": URL, "list": (URL, "plain"), "code": 503, f"k-{KEY}": "v"},
        events=[Event("exception", {"exception.message": f"Max retries exceeded with url: {URL}"})],
        links=[Link(context, {"from": URL})],
        status=Status(StatusCode.ERROR, f"failed: appid={KEY}"),
    )
    collected = Collect()
    assert tracing.RedactingExporter(collected, [KEY]).export([span]) == SpanExportResult.SUCCESS
    (clean,) = collected.spans
    events = [(e.name, dict(e.attributes or {})) for e in clean.events]
    links = [dict(link.attributes or {}) for link in clean.links]
    text = repr((clean.name, dict(clean.attributes or {}), events, links, clean.status.description,
                 dict(clean.resource.attributes)))
    assert KEY not in text
    assert clean.attributes is not None and clean.attributes["http.url"].startswith(
        "https://api.openweathermap.org/data/2.5/weather?APPID=[REDACTED]&zip="
    )
    assert clean.attributes["code"] == 503 and clean.attributes["list"][1] == "plain"
    assert clean.context == context and clean.status.status_code is StatusCode.ERROR


def test_samplers_and_resource_follow_opentelemetrys_names() -> None:
    ratio = tracing.sampler("parentbased_traceidratio", 0.25)
    assert isinstance(ratio, ParentBased) and "0.25" in ratio.get_description()
    assert isinstance(tracing.sampler("traceidratio", 0.5), TraceIdRatioBased)
    resource = tracing.resource("tenki-weather", "deployment.environment=prod,team=sre%2Cops, broken")
    assert resource.attributes["service.name"] == "tenki-weather"
    assert resource.attributes["deployment.environment"] == "prod"
    assert resource.attributes["team"] == "sre,ops"


def test_without_an_endpoint_nothing_is_started() -> None:
    threads_before = {t.name for t in threading.enumerate()}
    assert tracing.start(WeatherSettings.from_env({})) is None
    assert not isinstance(trace.get_tracer_provider(), tracing.TracerProvider)
    new_threads = {t.name for t in threading.enumerate()} - threads_before
    assert not new_threads


def test_the_redis_password_and_url_are_taken_out_of_spans_too() -> None:
    """The redis instrumentation traces commands: whatever it records, the exporter tracing.start builds
    redacts every secret the settings hold (settings.secrets, as the logs do), not only the OWM key."""
    password, url_password = "pw-" + "a1b2c3d4e5f6", "in-url-" + "f6e5d4c3"
    url = f"redis://:{url_password}@127.0.0.1:6379/0"
    settings = WeatherSettings.from_env({
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OWM_API_KEY": KEY,
        "REDIS_URL": url, "REDIS_PASSWORD": password,
    })
    collected = Collect()
    started = tracing.start(settings, exporter=collected)
    assert started is not None
    try:
        with started.provider.get_tracer("test").start_as_current_span("AUTH") as span:
            span.set_attribute("db.statement", f"AUTH {password}")
            span.set_attribute("db.url", url)
            span.set_attribute("other", f"pw={url_password} key={KEY}")
    finally:
        started.shutdown()
    (clean,) = [s for s in collected.spans if s.name == "AUTH"]
    text = repr(dict(clean.attributes or {}))
    assert password not in text and url_password not in text and KEY not in text and url not in text
    assert "[REDACTED]" in text
