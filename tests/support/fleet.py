"""A fleet: several `tenki serve` processes sharing one real Redis, the OWM stand-in behind them all.

    with Fleet(tmp_path, replicas=3) as fleet:
        fleet.call(0, "94040")          # (code name, response or error) through replica 0
        fleet.forecast(1, "94040")      # the same for GetForecast, through replica 1
        fleet.owm.request_count         # upstream calls, counted by the stand-in
        fleet.redis.stop(); fleet.redis.start()

Used by the integration tests and the reliability drills (tests/reliability); every process it starts it
stops by pid.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import grpc
import redis
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc
from tenki_stack import ServiceProcess, free_port, start_weather
from tenki_stack.owm_standin import OwmStandIn
from tenki_stack.redis_server import RedisServer

FLEET_KEY = "fleet-standin-key-0123456789abcdef"


def fleet_env(owm: OwmStandIn, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "WEATHER_PROVIDER": "owm",
        "OWM_API_KEY": FLEET_KEY,
        "OWM_BASE_URL": owm.base_url,
        "OWM_TIMEOUT_SECONDS": "2",
        "OWM_RATE_LIMIT_PER_MINUTE": "100000",
        "REDIS_URL": redis_url,
        "WEATHER_MAX_WORKERS": "32",
        # One test client asks for everything: the per-caller limit (README "Fairness") stays on, far above.
        "GRPC_RATE_LIMIT_UPSTREAM": "1000000/second",
        **extra,
    }


class Fleet:
    def __init__(self, directory: Path, replicas: int = 2, *, redis_password: str = "", **env: str) -> None:
        self._exits = ExitStack()
        try:
            self.owm = OwmStandIn()
            self._exits.callback(self.owm.stop)
            self.redis = RedisServer(directory / "redis", password=redis_password)
            self._exits.callback(self.redis.stop)
            self.env = fleet_env(self.owm, self.redis.url, **env)
            self.replicas: list[ServiceProcess] = []
            for index in range(replicas):
                self.start_replica(index, directory)
            self.channels = [grpc.insecure_channel(r.addr) for r in self.replicas]
            for channel in self.channels:
                self._exits.callback(channel.close)
            self.stubs = [weather_pb2_grpc.WeatherServiceStub(c) for c in self.channels]
        except BaseException:
            self._exits.close()
            raise

    def start_replica(self, index: int, directory: Path) -> ServiceProcess:
        replica = start_weather(
            self.env, port=free_port(), metrics_port=free_port(), log_path=directory / f"weather-{index}.log"
        )
        self._exits.callback(replica.stop)
        self.replicas.append(replica)
        return replica

    def call(self, replica: int, code: str, timeout: float = 10.0) -> tuple[grpc.StatusCode, Any]:
        request = weather_pb2.GetCurrentWeatherRequest(postal_code=code, country_code="us")
        try:
            return grpc.StatusCode.OK, self.stubs[replica].GetCurrentWeather(request, timeout=timeout)
        except grpc.RpcError as exc:
            return exc.code(), exc

    def forecast(
        self, replica: int, code: str, country: str = "us", timeout: float = 10.0
    ) -> tuple[grpc.StatusCode, Any]:
        request = weather_pb2.GetForecastRequest(postal_code=code, country_code=country)
        try:
            return grpc.StatusCode.OK, self.stubs[replica].GetForecast(request, timeout=timeout)
        except grpc.RpcError as exc:
            return exc.code(), exc

    def redis_client(self) -> redis.Redis:
        """A client of the fleet's Redis, to read or plant values under tenki's keys."""
        return redis.Redis.from_url(self.redis.url, socket_timeout=2)

    def upstream_calls(self, code: str) -> int:
        """The geocoding calls for `code` (only those carry `zip`; the weather is asked by coordinates)."""
        return sum(1 for params in self.owm.requests if params.get("zip", "").startswith(code))

    def cache_results(self, replica: int, code: str) -> list[str]:
        return [
            str(r.get("cache"))
            for r in self.replicas[replica].log_records()
            if r.get("postal_code") == code and "cache" in r
        ]

    def close(self) -> None:
        self._exits.close()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
