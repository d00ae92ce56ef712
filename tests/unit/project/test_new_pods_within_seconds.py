"""Both services' halves of "new weather pods get traffic within seconds" (README, "The time budget").

The weather service ends each connection after MAX_CONNECTION_AGE_SECONDS (GOAWAY), which makes the
frontend's round_robin channel re-resolve its dns:/// target; the channel does that at most every
grpc.dns_min_time_between_resolutions_ms. Both must be seconds, and the second below the first.
"""

from __future__ import annotations

from tenki_frontend.weather_client import channel_options
from tenki_weather.config import MIN_USEFUL_CONNECTION_AGE_SECONDS, WeatherSettings
from tenki_weather.server import server_options


def test_the_client_re_resolves_faster_than_the_server_ages_connections() -> None:
    resolve_ms = dict(channel_options())["grpc.dns_min_time_between_resolutions_ms"]
    age_ms = dict(server_options(WeatherSettings.from_env({})))["grpc.max_connection_age_ms"]
    assert resolve_ms < age_ms <= 15_000, "a new pod gets traffic within seconds, not gRPC's default 30 s"
    # The weather service's warning threshold is the frontend's interval, so the two cannot drift apart.
    assert resolve_ms == MIN_USEFUL_CONNECTION_AGE_SECONDS * 1000
