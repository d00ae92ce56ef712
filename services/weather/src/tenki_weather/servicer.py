"""The gRPC servicer: protobuf in, domain call, protobuf out; domain errors become gRPC statuses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from .caller_limits import Caller, caller_from
from .interceptor import CallLog
from .model import CacheResult, Condition, ForecastReport, Location, Report, Units, Wind
from .service import WeatherLookup
from .status import is_public, to_grpc_status

log = logging.getLogger(__name__)
A = TypeVar("A", Report, ForecastReport)

# gRPC's retry pushback (gRFC A6): a negative value in this trailer tells the client's retry policy not to
# retry. Every answer the servicer gives has been through the lookup, which may have cost an upstream call,
# so none is retried; the policy still retries UNAVAILABLE from a server that is down or shutting down
# (the call never reached the servicer), and the channel's next attempt finds another pod.
NO_RETRY = (("grpc-retry-pushback-ms", "-1"),)

UNITS_FROM_PROTO = {
    weather_pb2.UNITS_UNSPECIFIED: Units.METRIC,
    weather_pb2.UNITS_METRIC: Units.METRIC,
    weather_pb2.UNITS_IMPERIAL: Units.IMPERIAL,
    weather_pb2.UNITS_STANDARD: Units.STANDARD,
}
UNITS_TO_PROTO = {
    Units.METRIC: weather_pb2.UNITS_METRIC,
    Units.IMPERIAL: weather_pb2.UNITS_IMPERIAL,
    Units.STANDARD: weather_pb2.UNITS_STANDARD,
}

CACHE_TO_PROTO = {
    CacheResult.HIT: weather_pb2.CACHE_STATUS_HIT,
    CacheResult.MISS: weather_pb2.CACHE_STATUS_MISS,
    CacheResult.STALE: weather_pb2.CACHE_STATUS_STALE,
}


def _peer(context: grpc.ServicerContext) -> str:
    try:
        return str(context.peer())
    except NotImplementedError:  # grpc_testing's context
        return ""


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _condition(condition: Condition) -> weather_pb2.Condition:
    return weather_pb2.Condition(
        id=condition.id, status=condition.status, description=condition.description, icon=condition.icon
    )


def _location(place: Location) -> weather_pb2.Location:
    return weather_pb2.Location(
        name=place.name,
        country_code=place.country_code,
        latitude=place.latitude,
        longitude=place.longitude,
        utc_offset_seconds=place.utc_offset_seconds,
        postal_code=place.postal_code,
        district=place.district,
    )


def _wind(wind: Wind) -> weather_pb2.Wind:
    return weather_pb2.Wind(
        speed=wind.speed,
        direction_degrees=wind.direction_degrees,
        gust=wind.gust or 0.0,
        reported_gust=wind.gust,
    )


def to_proto(report: Report) -> weather_pb2.GetCurrentWeatherResponse:
    obs = report.observation
    rain_snow = report.precipitation
    return weather_pb2.GetCurrentWeatherResponse(
        location=_location(obs.location),
        condition=_condition(obs.condition),
        conditions=[_condition(condition) for condition in obs.conditions],
        temperature=weather_pb2.Temperature(
            current=report.temperature.current,
            # v0.1's fields keep their meaning for old clients: no feels-like reads as the temperature.
            feels_like=(
                report.temperature.current
                if report.temperature.feels_like is None
                else report.temperature.feels_like
            ),
            reported_feels_like=report.temperature.feels_like,
            min=report.temperature.min,
            max=report.temperature.max,
        ),
        wind=_wind(report.wind),
        precipitation=weather_pb2.Precipitation(
            rain_1h=rain_snow.rain_1h,
            rain_3h=rain_snow.rain_3h,
            snow_1h=rain_snow.snow_1h,
            snow_3h=rain_snow.snow_3h,
        ),
        humidity_percent=obs.humidity_percent,
        pressure_hpa=obs.pressure_hpa,
        cloudiness_percent=obs.cloudiness_percent,
        visibility_meters=obs.visibility_meters or 0,
        reported_visibility_meters=obs.visibility_meters,
        sunrise_time=_timestamp(obs.sunrise),
        sunset_time=_timestamp(obs.sunset),
        no_sunrise=obs.no_sunrise,
        no_sunset=obs.no_sunset,
        observation_time=_timestamp(obs.observed_at),
        units=UNITS_TO_PROTO[report.units],
        source=obs.source,
        fetch_time=_timestamp(obs.fetched_at),
        stale=report.stale,
        cache=CACHE_TO_PROTO[report.cache],
    )


def forecast_to_proto(report: ForecastReport) -> weather_pb2.GetForecastResponse:
    forecast = report.forecast
    return weather_pb2.GetForecastResponse(
        location=_location(forecast.location),
        slots=[
            weather_pb2.ForecastSlot(
                start_time=_timestamp(slot.start),
                temperature=slot.temperature,
                feels_like=slot.feels_like,
                conditions=[_condition(condition) for condition in slot.conditions],
                precipitation_probability_percent=slot.precipitation_probability_percent,
                rain=slot.rain,
                snow=slot.snow,
                wind=_wind(slot.wind),
                humidity_percent=slot.humidity_percent,
            )
            for slot in report.slots
        ],
        days=[
            weather_pb2.ForecastDay(
                date=day.day.isoformat(),
                min_temperature=day.min_temperature,
                max_temperature=day.max_temperature,
                condition=_condition(day.condition),
                max_precipitation_probability_percent=day.max_precipitation_probability_percent,
                total_rain=day.total_rain,
                total_snow=day.total_snow,
                slot_count=day.slot_count,
            )
            for day in report.days
        ],
        units=UNITS_TO_PROTO[report.units],
        source=forecast.source,
        fetch_time=_timestamp(forecast.fetched_at),
        stale=report.stale,
        cache=CACHE_TO_PROTO[report.cache],
    )


class WeatherServicer(weather_pb2_grpc.WeatherServiceServicer):
    def __init__(self, lookup: WeatherLookup, call_log: Callable[[grpc.ServicerContext], CallLog]) -> None:
        """`call_log` gives the log of a call in progress (the interceptor's), for the servicer's fields."""
        self._lookup = lookup
        self._call_log = call_log

    def GetCurrentWeather(
        self, request: weather_pb2.GetCurrentWeatherRequest, context: grpc.ServicerContext
    ) -> weather_pb2.GetCurrentWeatherResponse:
        report = self._answer(request, context, self._lookup.current_weather)
        return to_proto(report)

    def GetForecast(
        self, request: weather_pb2.GetForecastRequest, context: grpc.ServicerContext
    ) -> weather_pb2.GetForecastResponse:
        report = self._answer(request, context, self._lookup.forecast)
        return forecast_to_proto(report)

    def _answer(
        self,
        request: weather_pb2.GetCurrentWeatherRequest | weather_pb2.GetForecastRequest,
        context: grpc.ServicerContext,
        lookup: Callable[[str, str, Units | str, Caller, float | None], A],
    ) -> A:
        """The domain's answer to a request naming a place; a domain error aborts with its status."""
        call = self._call_log(context)
        # An enum number this server does not know (proto3 enums are open) is invalid input. `or`, not
        # get()'s default, so the hot path does not format that text for every valid request.
        units: Units | str = UNITS_FROM_PROTO.get(request.units) or f"#{request.units}"
        caller = caller_from(context.invocation_metadata(), _peer(context), request.cache_only)
        # The caller's deadline as a plain budget for the domain (None without a deadline).
        budget = context.time_remaining()
        try:
            report = lookup(request.postal_code, request.country_code, units, caller, budget)
        except Exception as exc:
            if is_public(exc):
                call.fields["error_kind"] = exc.kind
            else:
                # The client gets a generic message; the detail stays here.
                log.error("internal error", exc_info=exc, extra={"request_id": call.request_id})
            status = to_grpc_status(exc)
            # What abort_with_status does, spelled out so grpc_testing's context (which lacks it) works.
            context.set_trailing_metadata(tuple(status.trailing_metadata) + NO_RETRY)
            context.abort(status.code, status.details)
        answer = report.forecast if isinstance(report, ForecastReport) else report.observation
        place = answer.location
        call.fields.update(
            cache=report.cache.value, postal_code=place.postal_code, country_code=place.country_code
        )
        if report.stale_cause:
            # The RPC's own line (with its request id) says what the stale answer covers for.
            call.fields["stale_cause"] = report.stale_cause
        return report
