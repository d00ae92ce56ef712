"""JSON-lines logging (python-json-logger) for the app and for gunicorn.

One JSON object per line on stdout: machine-readable in any log pipeline, greppable by request id.
The access log is written by the app (one line per request, with the request id, route, status and
duration), so gunicorn's own access log is off; gunicorn's error log uses the same JSON formatter.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import Any

from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class _Formatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC with milliseconds, exactly as the weather service writes it.
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")


def formatter() -> JsonFormatter:
    # Keys time, level, logger, message first: the weather service's lines have the same shape.
    return _Formatter(FORMAT, rename_fields=RENAMED)


def logconfig_dict(level: str) -> dict[str, Any]:
    """A logging.config dict: gunicorn's loggers and ours as JSON lines on stdout (gunicorn_conf uses it)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "tenki_frontend.logging.formatter"}},
        "handlers": {"stdout": handler},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            # gunicorn's access log is off: the app writes the access lines (with the request id).
            "gunicorn.access": {"level": "WARNING", "handlers": ["stdout"], "propagate": False},
        },
    }


def configure(level: str) -> None:
    """Send the app's loggers to stdout as JSON, unless something (gunicorn's logconfig) already did."""
    logger = logging.getLogger("tenki_frontend")
    logger.setLevel(level)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(formatter())
        logger.addHandler(handler)
        logger.propagate = False


# gunicorn ships no type information (pyproject's mypy overrides make it Any), and switching one of its
# properties off is this class's whole job: the one subclass of an untyped base in the package.
class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger with gunicorn's access log off for good (gunicorn_conf's `logger_class`).

    The app writes the access lines itself (with the request id). Plain gunicorn still gathers its
    access-log fields for every request whenever a logconfig_dict is set, silenced logger or not: 2-3 %
    of the frontend's CPU in `make bench`.
    """

    @property
    def access_log_enabled(self) -> bool:
        return False
