"""JSON log lines to stdout (python-json-logger), with the API key redacted as defence in depth.

Code never logs the key on purpose; the redaction catches it if a library message carries it anyway
(requests' connection errors, for one, quote the full URL with its appid parameter).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from .redaction import REDACTED, redact

LOG_FIELDS = "{asctime}{levelname}{name}{message}"


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, secrets: list[str], **kwargs: Any) -> None:
        # The same keys as the frontend's lines (time, level, logger, message), so one query reads both.
        renames = {"levelname": "level", "asctime": "time", "name": "logger"}
        super().__init__(LOG_FIELDS, style="{", rename_fields=renames, **kwargs)
        self._secrets = [secret for secret in secrets if secret]

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC with milliseconds: sortable, and unambiguous across machines.
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return redact(line)


def configure_logging(
    level: str = "INFO", secrets: list[str] | None = None, stream: TextIO | None = None
) -> None:
    """One JSON line per record on `stream` (stdout), replacing any handler configured before."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(RedactingJsonFormatter(secrets or []))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # grpc and urllib3 are chatty at INFO/DEBUG; their warnings still come through.
    for noisy in ("urllib3", "grpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
