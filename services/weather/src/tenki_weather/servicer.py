"""The gRPC servicer: protobuf in, domain call, protobuf out; domain errors become gRPC statuses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from .caller_limits import caller_from
from .interceptor import CallLog
from .model import CacheResult, Condition, Report, Units
from .service import WeatherLookup
from .status import is_public, to_grpc_status

log = logging.getLogger(__name__)

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


def to_proto(report: Report) -> weather_pb2.GetCurrentWeatherResponse:
    obs = report.observation
    place = obs.location
    rain_snow = report.precipitation
    return weather_pb2.GetCurrentWeatherResponse(
        location=weather_pb2.Location(
            name=place.name,
            country_code=place.country_code,
            latitude=place.latitude,
            longitude=place.longitude,
            utc_offset_seconds=place.utc_offset_seconds,
            postal_code=place.postal_code,
            district=place.district,
        ),
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
        wind=weather_pb2.Wind(
            speed=report.wind.speed,
            direction_degrees=report.wind.direction_degrees,
            gust=report.wind.gust or 0.0,
            reported_gust=report.wind.gust,
        ),
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


class WeatherServicer(weather_pb2_grpc.WeatherServiceServicer):
    def __init__(self, lookup: WeatherLookup, call_log: Callable[[grpc.ServicerContext], CallLog]) -> None:
        """`call_log` gives the log of a call in progress (the interceptor's), for the servicer's fields."""
        self._lookup = lookup
        self._call_log = call_log

    def GetCurrentWeather(
        self, request: weather_pb2.GetCurrentWeatherRequest, context: grpc.ServicerContext
    ) -> weather_pb2.GetCurrentWeatherResponse:
        call = self._call_log(context)
        # An enum number this server does not know (proto3 enums are open) is invalid input. `or`, not
        # get()'s default, so the hot path does not format that text for every valid request.
        units: Units | str = UNITS_FROM_PROTO.get(request.units) or f"#{request.units}"
        caller = caller_from(context.invocation_metadata(), _peer(context), request.cache_only)
        # The caller's deadline as a plain budget for the domain (None without a deadline).
        budget = context.time_remaining()
        try:
            report = self._lookup.current_weather(
                request.postal_code, request.country_code, units, caller, budget_seconds=budget
            )
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
        place = report.observation.location
        call.fields.update(
            cache=report.cache.value, postal_code=place.postal_code, country_code=place.country_code
        )
        if report.stale_cause:
            # The RPC's own line (with its request id) says what the stale answer covers for.
            call.fields["stale_cause"] = report.stale_cause
        return to_proto(report)
