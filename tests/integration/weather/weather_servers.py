"""Helpers of the weather integration tests: a client over a real channel, StartServer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from tenki_weather.server import WeatherServer

# Generous: the machine is shared with other suites; nothing here is a timing assertion.
DEADLINE = 30.0
Response = weather_pb2.GetCurrentWeatherResponse


@dataclass
class Client:
    server: WeatherServer
    channel: grpc.Channel

    @property
    def stub(self) -> weather_pb2_grpc.WeatherServiceStub:
        return weather_pb2_grpc.WeatherServiceStub(self.channel)

    def weather(self, postal_code: str, country: str = "", units: int = 0) -> Response:
        request = weather_pb2.GetCurrentWeatherRequest(
            postal_code=postal_code, country_code=country, units=units
        )
        return self.stub.GetCurrentWeather(request, timeout=DEADLINE)

    def forecast(
        self, postal_code: str, country: str = "", units: int = 0
    ) -> weather_pb2.GetForecastResponse:
        request = weather_pb2.GetForecastRequest(postal_code=postal_code, country_code=country, units=units)
        return self.stub.GetForecast(request, timeout=DEADLINE)

    def code_of(self, postal_code: str, country: str = "", rpc: str = "weather") -> grpc.StatusCode:
        """The status of a call to `rpc` ("weather" or "forecast")."""
        try:
            getattr(self, rpc)(postal_code, country)
        except grpc.RpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK


StartServer = Callable[..., Client]
