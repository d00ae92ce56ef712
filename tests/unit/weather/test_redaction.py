"""The API key out of text, as the known secret and as any appid parameter."""

from __future__ import annotations

from tenki_weather.redaction import redact

KEY = "0123456789abcdef0123456789abcdef"


def test_redact_removes_the_key_and_any_appid_parameter() -> None:
    text = f"url?zip=1&appid=other-secret&x=1 and {KEY}"
    assert redact(text, KEY) == "url?zip=1&appid=[REDACTED]&x=1 and [REDACTED]"
