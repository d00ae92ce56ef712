"""Security headers on every kind of response: pages, errors, the API, static files, probes."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

PATHS = ["/", "/weather?zip=94040", "/weather?zip=", "/api/v1/weather?zip=94040", "/nope",
         "/static/style.css",
         "/static/icons/01d.svg", "/healthz", "/readyz", "/no-such-page"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split("; ")}
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    # Only our own origin, and no inline script or style at all.
    for directive in ("script-src", "style-src", "img-src"):
        assert csp[directive] == ["'self'"], directive
    assert not any("unsafe" in " ".join(v) for v in csp.values())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    for path in ("/", "/weather?zip=94040", "/weather?zip="):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html and "<style" not in html and "style=" not in html
        # Everything the page loads (images, stylesheet, icon) comes from this origin.
        loaded = re.findall(r'<img [^>]*src="([^"]+)"', html) + re.findall(r'<link [^>]*href="([^"]+)"', html)
        assert loaded and all(url.startswith("/static/") for url in loaded), loaded


def test_static_files_are_served_by_the_app(client: FlaskClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.content_type.startswith("text/css")
    icon = client.get("/static/icons/10n.svg")
    assert icon.status_code == 200 and icon.content_type.startswith("image/svg+xml")
