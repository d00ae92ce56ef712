"""JSON log lines, and the key never in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tenki_weather.logs import configure_logging

KEY = "canary-key-5f3c2a1b9e8d7c6b"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", secrets=[KEY], stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_line_with_its_extra_fields(log_stream: io.StringIO) -> None:
    logging.getLogger("tenki_weather.rpc").info("rpc", extra={"request_id": "abc", "code": "OK"})
    (line,) = lines(log_stream)
    assert line["message"] == "rpc" and line["request_id"] == "abc" and line["code"] == "OK"
    assert line["level"] == "INFO" and line["logger"] == "tenki_weather.rpc"
    assert line["time"].endswith("+00:00")


def test_the_key_is_redacted_wherever_it_appears(log_stream: io.StringIO) -> None:
    log = logging.getLogger("test")
    log.warning("failed: %s", f"GET /weather?zip=1&APPID={KEY}", extra={"detail": KEY})
    try:
        raise RuntimeError(f"boom {KEY}")
    except RuntimeError:
        log.exception("with traceback")
    text = log_stream.getvalue()
    assert KEY not in text
    assert "[REDACTED]" in text
    assert len(lines(log_stream)) == 2


def test_any_appid_parameter_is_redacted_even_for_an_unknown_key(log_stream: io.StringIO) -> None:
    logging.getLogger("test").error("url: /data/2.5/weather?appid=someone-elses-key&zip=1")
    assert "someone-elses-key" not in log_stream.getvalue()


def test_with_tracing_on_every_line_names_its_trace_and_span() -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from tenki_weather.logs import RedactingJsonFormatter

    record = logging.LogRecord("tenki_weather.rpc", logging.INFO, __file__, 1, "rpc", None, None)
    context = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, False, TraceFlags(1))
    with trace.use_span(NonRecordingSpan(context)):
        traced = json.loads(RedactingJsonFormatter([], tracing=True).format(record))
        untraced = json.loads(RedactingJsonFormatter([]).format(record))
    assert (traced["trace_id"], traced["span_id"]) == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    assert "trace_id" not in untraced and "span_id" not in untraced
    outside = json.loads(RedactingJsonFormatter([], tracing=True).format(record))
    assert outside["trace_id"] is None
