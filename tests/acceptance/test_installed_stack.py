"""The installed commands serve the whole stack: pages with their styles and icons, the API, the client.

These requests need the templates, static files and stubs from the wheels; the services are started from
this environment's console scripts (tenki_stack finds them beside this Python).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tenki_stack import LocalStack

TIMEOUT = 30  # seconds per request: generous, the machine is shared


@pytest.fixture(scope="module")
def installed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Demo data: no key, no network. METRICS_PORT 0 keeps the run to the ports it needs.
    with LocalStack(
        weather_env={"WEATHER_PROVIDER": "demo", "OWM_API_KEY": ""},
        metrics_port=0,
        log_dir=tmp_path_factory.mktemp("stack-logs"),
    ) as local:
        yield local


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 -- 127.0.0.1 only
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_services_run_from_this_environments_console_scripts(installed_stack: LocalStack) -> None:
    env_bin = Path(sys.executable).parent
    for service in (installed_stack.weather, installed_stack.frontend):
        assert service is not None
        argv = Path(f"/proc/{service.pid}/cmdline").read_bytes().split(b"\0")
        scripts = [Path(a.decode()) for a in argv if a.decode().endswith(("/tenki", "/tenki-frontend"))]
        assert scripts and scripts[0].parent == env_bin, f"{service.name} runs {argv}"


def test_weather_page_renders_with_every_asset_it_references(installed_stack: LocalStack) -> None:
    status, content_type, body = get(f"{installed_stack.url}/weather?zip=94040&country=us&units=metric")
    page = body.decode()
    assert status == 200 and content_type.startswith("text/html")
    assert 'name="zip"' in page and "94040" in page
    assets = sorted(set(re.findall(r'(?:href|src)="(/static/[^"?#]+)', page)))
    assert any(a.endswith(".css") for a in assets), assets
    assert any(a.endswith(".svg") for a in assets), assets
    for asset in assets:
        status, _, data = get(f"{installed_stack.url}{asset}")
        assert status == 200 and data, asset


def test_home_page_renders(installed_stack: LocalStack) -> None:
    status, _, body = get(f"{installed_stack.url}/")
    assert status == 200 and b"<form" in body


def test_json_api_answers_from_the_weather_service(installed_stack: LocalStack) -> None:
    status, content_type, body = get(f"{installed_stack.url}/api/v1/weather?zip=94040&country=us")
    data = json.loads(body)
    assert status == 200 and content_type.startswith("application/json")
    assert data["source"] == "demo" and data["location"]["postal_code"] == "94040"


def test_tenki_client_command_calls_the_installed_service(installed_stack: LocalStack) -> None:
    result = subprocess.run(
        [
            "tenki",
            "weather",
            "94040",
            "--country",
            "us",
            "--units",
            "imperial",
            "--addr",
            installed_stack.weather_addr,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "°F" in result.stdout or "F" in result.stdout.split(), result.stdout
