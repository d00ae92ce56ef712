"""Fakes of the weather service's gRPC stubs: they answer like a real channel would, errors included.

A FakeRpcError is what grpc raises for a failed unary call (an RpcError that is also a Call), with the
status details trailer that grpcio-status writes, so errors.py reads it exactly as in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

from tenki.weather.v1 import weather_pb2

# 2026-06-21 12:00:00 UTC: the "now" of the unit tests.
NOW_SECONDS = 1_782_043_200


class FakeRpcError(grpc.RpcError, grpc.Call):
    def __init__(self, code: grpc.StatusCode, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self._code, self._message = code, message
        self._trailers: tuple[tuple[str, Any], ...] = ()
        if details:
            status = status_pb2.Status(code=getattr(code_pb2, code.name), message=message)
            for detail in details:
                packed = any_pb2.Any()
                packed.Pack(detail)
                status.details.append(packed)
            self._trailers = rpc_status.to_status(status).trailing_metadata

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._trailers

    def initial_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


def bad_request(*violations: tuple[str, str]) -> FakeRpcError:
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
        ]
    )
    message = "; ".join(f"{f}: {d}" for f, d in violations)
    return FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, message, [detail])


def london_in_the_rain() -> weather_pb2.GetCurrentWeatherResponse:
    """SW1A 1AA: the weather for district SW1A, three conditions, rain, and no gust, visibility or
    feels-like reported (what OWM leaves out)."""
    reply = sample_reply()
    reply.location.CopyFrom(weather_pb2.Location(
        name="London", country_code="GB", latitude=51.501, longitude=-0.1416, utc_offset_seconds=3600,
        postal_code="SW1A 1AA", district="SW1A",
    ))
    del reply.conditions[:]
    reply.conditions.extend([
        weather_pb2.Condition(id=300, status="Drizzle", description="light intensity drizzle", icon="09d"),
        weather_pb2.Condition(id=501, status="Rain", description="moderate rain", icon="10d"),
        weather_pb2.Condition(id=701, status="Mist", description="mist", icon="50d"),
    ])
    reply.condition.CopyFrom(reply.conditions[0])
    reply.precipitation.rain_1h = 3.16
    reply.precipitation.rain_3h = 5.5
    reply.temperature.ClearField("reported_feels_like")
    reply.wind.ClearField("reported_gust")
    reply.wind.gust = 0
    reply.ClearField("reported_visibility_meters")
    reply.visibility_meters = 0
    return reply


def polar_night() -> weather_pb2.GetCurrentWeatherResponse:
    reply = sample_reply()
    reply.location.name, reply.location.country_code = "Tromsø", "NO"
    reply.ClearField("sunrise_time")
    reply.ClearField("sunset_time")
    reply.no_sunrise = reply.no_sunset = True
    return reply


def sample_reply(**overrides: Any) -> weather_pb2.GetCurrentWeatherResponse:
    """A realistic answer for 94040, US (Mountain View), metric, fetched 5 minutes before NOW_SECONDS."""
    reply = weather_pb2.GetCurrentWeatherResponse(
        location=weather_pb2.Location(
            name="Mountain View", country_code="US", latitude=37.3861, longitude=-122.0839,
            utc_offset_seconds=-25200, postal_code="94040",
        ),
        condition=weather_pb2.Condition(id=801, status="Clouds", description="few clouds", icon="02d"),
        conditions=[weather_pb2.Condition(id=801, status="Clouds", description="few clouds", icon="02d")],
        temperature=weather_pb2.Temperature(
            current=18.4, feels_like=17.6, reported_feels_like=17.6, min=15.2, max=21.9
        ),
        wind=weather_pb2.Wind(speed=4.1, direction_degrees=330, gust=7.2, reported_gust=7.2),
        humidity_percent=64,
        pressure_hpa=1015,
        cloudiness_percent=20,
        visibility_meters=10000,
        reported_visibility_meters=10000,
        units=weather_pb2.UNITS_METRIC,
        source="openweathermap",
        stale=False,
    )
    # Sunrise 05:48 and sunset 20:33 local time (UTC-7) on that day.
    reply.sunrise_time.FromSeconds(NOW_SECONDS + 48 * 60)  # 12:48 UTC
    reply.sunset_time.FromSeconds(NOW_SECONDS + 15 * 3600 + 33 * 60)  # 03:33 UTC the next day
    reply.observation_time.FromSeconds(NOW_SECONDS - 8 * 60)
    reply.fetch_time.FromSeconds(NOW_SECONDS - 5 * 60)
    for name, value in overrides.items():
        setattr(reply, name, value)
    return reply


@dataclass
class FakeWeatherStub:
    """Answers GetCurrentWeather with `reply`, or raises `error`; records each call's arguments."""

    reply: weather_pb2.GetCurrentWeatherResponse = field(default_factory=sample_reply)
    error: grpc.RpcError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def GetCurrentWeather(
        self, request: Any, timeout: float | None = None, metadata: Any = None
    ) -> Any:
        self.calls.append({"request": request, "timeout": timeout, "metadata": dict(metadata or ())})
        if self.error is not None:
            raise self.error
        return self.reply


def sample_forecast() -> weather_pb2.GetForecastResponse:
    """Mountain View's next five days from NOW_SECONDS (12:00 UTC, 05:00 local): 40 slots, rain on day 2."""
    reply = weather_pb2.GetForecastResponse(
        location=sample_reply().location, units=weather_pb2.UNITS_METRIC, source="openweathermap"
    )
    for i in range(40):
        rainy = 8 <= i < 12
        slot = reply.slots.add(
            temperature=15 + (i % 8), precipitation_probability_percent=80 if rainy else 10,
            humidity_percent=60, wind=weather_pb2.Wind(speed=3.0, direction_degrees=300),
        )
        slot.start_time.FromSeconds(NOW_SECONDS + 3 * 3600 * (i + 1))
        slot.conditions.add().CopyFrom(
            weather_pb2.Condition(id=500, status="Rain", description="light rain", icon="10d") if rainy
            else weather_pb2.Condition(id=800, status="Clear", description="clear sky", icon="01d")
        )
        if rainy:
            slot.rain = 1.2
    dates = ("2026-06-21", "2026-06-22", "2026-06-23", "2026-06-24", "2026-06-25", "2026-06-26")
    for n, date in enumerate(dates):
        reply.days.add(
            date=date, min_temperature=12.4 + n, max_temperature=24.6 + n,
            condition=weather_pb2.Condition(id=800, status="Clear", description="clear sky", icon="01d"),
            max_precipitation_probability_percent=10 * n, slot_count=8,
        )
    reply.fetch_time.FromSeconds(NOW_SECONDS - 5 * 60)
    return reply


class FakePending:
    def __init__(self, reply: Any, error: grpc.RpcError | None) -> None:
        self._reply, self._error = reply, error
        self.cancelled = False

    def cancel(self) -> bool:
        """As a call still in flight: cancelled."""
        self.cancelled = True
        return True

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._reply


@dataclass
class FakeForecastCall:
    """GetForecast as a stub's multicallable: `.future()` answers `reply` or fails with `error`."""

    reply: weather_pb2.GetForecastResponse = field(default_factory=sample_forecast)
    error: grpc.RpcError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    pending: list[FakePending] = field(default_factory=list)

    def future(self, request: Any, timeout: float | None = None, metadata: Any = None) -> FakePending:
        self.calls.append({"request": request, "timeout": timeout, "metadata": dict(metadata or ())})
        self.pending.append(FakePending(self.reply, self.error))
        return self.pending[-1]


@dataclass
class FakeHealthStub:
    """Answers grpc.health.v1 Check with `status` (a ServingStatus name) or raises `error`."""

    status: str = "SERVING"
    error: grpc.RpcError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def Check(
        self, request: Any, timeout: float | None = None, metadata: Any = None
    ) -> Any:
        self.calls.append({"request": request, "timeout": timeout, "metadata": dict(metadata or ())})
        if self.error is not None:
            raise self.error
        status = health_pb2.HealthCheckResponse.ServingStatus.Value(self.status)
        return health_pb2.HealthCheckResponse(status=status)
