"""In-process weather servers on free 127.0.0.1 ports, and clients that call them over real channels."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from weather_servers import Client, StartServer

from support.owm_fixtures import STANDIN_API_KEY
from tenki_stack.owm_standin import OwmStandIn
from tenki_weather.config import WeatherSettings
from tenki_weather.server import WeatherServer


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """start_server(ENV=value, ...) -> Client: a real server on a free port with those settings."""
    started: list[Client] = []

    def start(**env: str) -> Client:
        settings = WeatherSettings.from_env(
            {"WEATHER_HOST": "127.0.0.1", "WEATHER_PORT": "0", "METRICS_PORT": "0", **env}
        )
        server = WeatherServer(settings)
        server.start()
        client = Client(server, grpc.insecure_channel(server.address))
        started.append(client)
        return client

    yield start
    for client in started:
        client.channel.close()
        client.server.stop(grace=2)


@pytest.fixture
def demo_client(start_server: StartServer) -> Client:
    return start_server(WEATHER_PROVIDER="demo")


@pytest.fixture
def owm_client(start_server: StartServer, owm_standin: OwmStandIn) -> Client:
    """A server using OWM through PyOWM, pointed at the stand-in; the timeout below the stand-in's 'slow'."""
    owm_standin.slow_seconds = 6
    return start_server(
        OWM_API_KEY=STANDIN_API_KEY,
        OWM_BASE_URL=owm_standin.base_url,
        OWM_TIMEOUT_SECONDS="2",
        WEATHER_MAX_WORKERS="32",
    )
