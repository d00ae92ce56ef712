"""The OWM API key out of text: as the known secret, and as any appid=... query parameter.

A logging concern first (logs.py redacts every line as defence in depth); the OWM provider also
redacts the upstream detail it logs.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"
# Query parameters that carry the key, in whatever case PyOWM or a proxy wrote them.
_KEY_PARAM = re.compile(r"(appid=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str, secret: str = "") -> str:
    """`text` without the API key, both as the known secret and as any appid=... query parameter."""
    if secret:
        text = text.replace(secret, REDACTED)
    return _KEY_PARAM.sub(rf"\1{REDACTED}", text)
