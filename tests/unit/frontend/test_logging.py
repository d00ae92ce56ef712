"""JSON access lines with the request id; the JSON formatter gunicorn and the app share."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from tenki_frontend import logging as json_logging


def test_one_access_line_per_request_with_the_request_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tenki_frontend.access"):
        client.get("/weather?zip=94040&country=us", headers={"X-Request-ID": "follow-me-42"})
    lines = [r for r in caplog.records if r.name == "tenki_frontend.access"]
    assert len(lines) == 1
    line = vars(lines[0])  # the `extra` fields are attributes of the record
    assert line["request_id"] == "follow-me-42"
    fields = (line["method"], line["path"], line["route"], line["status"])
    assert fields == ("GET", "/weather", "/weather", 200)
    assert line["query"] == "zip=94040&country=us"
    assert line["duration_ms"] >= 0


def test_the_formatter_writes_one_json_object_per_line() -> None:
    record = logging.LogRecord("tenki_frontend.access", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    line = json_logging.formatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "INFO" and data["logger"] == "tenki_frontend.access"
    assert data["message"] == "request" and data["request_id"] == "abc"
    assert data["time"].endswith("+00:00")


def test_gunicorn_log_config_is_json_on_stdout() -> None:
    config = json_logging.logconfig_dict("DEBUG")
    assert config["formatters"]["json"]["()"] == "tenki_frontend.logging.formatter"
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert config["loggers"]["gunicorn.error"]["level"] == "DEBUG"


def test_configure_adds_a_stdout_handler_only_when_nothing_else_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    root, app_logger = logging.getLogger(), logging.getLogger("tenki_frontend")
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(app_logger, "handlers", [])
    monkeypatch.setattr(app_logger, "propagate", True)
    json_logging.configure("WARNING")
    assert app_logger.level == logging.WARNING
    assert len(app_logger.handlers) == 1 and not app_logger.propagate
    assert isinstance(app_logger.handlers[0].formatter, type(json_logging.formatter()))


def test_gunicorns_own_access_log_stays_off_whatever_its_settings() -> None:
    from gunicorn import glogging
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")  # would turn plain gunicorn's access log on
    assert glogging.Logger(cfg).access_log_enabled
    ours = json_logging.GunicornLogger(cfg)
    assert not ours.access_log_enabled
    # Nothing is gathered: plain gunicorn would read the response, request and environ here.
    ours.access(None, None, {}, None)


def test_the_packaged_gunicorn_config_uses_that_logger() -> None:
    from gunicorn.util import load_class

    from tenki_frontend import gunicorn_conf

    # Resolved the way gunicorn resolves it at start-up, so a typo in the dotted path fails here.
    assert load_class(gunicorn_conf.logger_class, section="gunicorn.loggers") is json_logging.GunicornLogger
