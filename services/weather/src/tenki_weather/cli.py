"""`tenki`, the project's management command: serve the weather service, check the set-up, call it."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import TextIO, cast

from pydantic import SecretStr

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

from .config import ConfigError, WeatherSettings, env_var_names
from .errors import FieldViolation, WeatherError
from .faults import FaultPlan
from .interceptor import REQUEST_ID_HEADER
from .provider import build_provider
from .status import status_code

DESCRIPTION = """\
tenki: the current weather and the forecast for a postal code, over gRPC.

  tenki serve                                   run the weather service (foreground; Ctrl-C stops it)
  tenki check [--addr HOST:PORT]                verify configuration, API key or demo mode, upstream
  tenki weather 94040 --country us --units imperial   ask a running service
  tenki forecast 94040 --country us --units imperial  the next 24 hours and five days

Without OWM_API_KEY the service runs in demo mode (invented, deterministic data; no network).
Settings come from environment variables; `tenki serve --help` lists them.
"""

# `tenki serve --help`'s list of variables, made from the settings' Field aliases, descriptions and
# defaults (config.py, the one source of them): a group per prefix, the rest first.
ENV_GROUPS = (
    ("", "environment variables (defaults in brackets):"),
    ("OTEL_", "tracing (OpenTelemetry's own variables; no endpoint = no tracing at all):"),
    ("FAULT_", "fault injection for drills (all off by default; any on = WARNING at start and every minute)"
               ":"),
)


def _shown_default(default: object) -> str:
    """A default as the help shows it: a secret's is empty, 2592000.0 is 2592000, False is false."""
    if isinstance(default, SecretStr):
        return default.get_secret_value()
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def env_help() -> str:
    """Every variable the weather service reads, with what it means and its default, by group."""
    grouped: dict[str, list[tuple[str, str]]] = {prefix: [] for prefix, _ in ENV_GROUPS}
    for name, field in WeatherSettings.model_fields.items():
        alias = field.alias or name
        prefix = next((p for p, _ in ENV_GROUPS[1:] if alias.startswith(p)), "")
        grouped[prefix].append((alias, f"{field.description or ''} [{_shown_default(field.default)}]"))
    sections = []
    for prefix, title in ENV_GROUPS:
        width = max(len(alias) for alias, _ in grouped[prefix]) + 2
        lines = [f"  {alias:<{width}}{text}" for alias, text in grouped[prefix]]
        sections.append("\n".join([title, *lines]))
    return "\n\n".join(sections) + "\n"


ENV_HELP = env_help()

UNITS = {
    "metric": weather_pb2.UNITS_METRIC,
    "imperial": weather_pb2.UNITS_IMPERIAL,
    "standard": weather_pb2.UNITS_STANDARD,
}
TEMP_SUFFIX = {
    weather_pb2.UNITS_METRIC: "°C",
    weather_pb2.UNITS_IMPERIAL: "°F",
    weather_pb2.UNITS_STANDARD: "K",
}
DEFAULT_PORT = WeatherSettings.model_fields["port"].default
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"


def package_version() -> str:
    try:
        return version("tenki-weather")
    except PackageNotFoundError:  # pragma: no cover (only when run from an uninstalled tree)
        return "unknown"


def default_addr() -> str:
    try:
        port = WeatherSettings.from_env().port
    except ConfigError:
        port = DEFAULT_PORT
    return f"127.0.0.1:{port}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tenki", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "serve",
        help="run the weather service in the foreground (settings from the environment)",
        description="Run the gRPC weather service until SIGTERM or Ctrl-C, then shut down gracefully.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    check = commands.add_parser(
        "check",
        help="check configuration, API key or demo mode, and that upstream is reachable",
        description="Check the set-up item by item; exit 1 when any check fails.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--addr", help="also check the health of a running service at HOST:PORT")
    check.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer [5]")

    for name, what, rpc in (
        ("weather", "the current weather", "GetCurrentWeather"),
        ("forecast", "the forecast (next 24 hours, then per day)", "GetForecast"),
    ):
        weather = commands.add_parser(
            name,
            help=f"ask a running weather service for {what}",
            description=f"Call {rpc} and print the answer, or the status code and message (exit 1).",
        )
        weather.add_argument("postal_code", metavar="POSTAL_CODE", help="e.g. 94040, 'SW1A 1AA', 100-0001")
        weather.add_argument("--country", default="us", help="ISO 3166-1 alpha-2 country code [us]")
        weather.add_argument("--units", choices=tuple(UNITS), default="metric", help="unit system [metric]")
        weather.add_argument(
            "--addr", default=None, help="HOST:PORT of the service [127.0.0.1:$WEATHER_PORT]"
        )
        weather.add_argument("--timeout", type=float, default=5.0, help="deadline in seconds [5]")
        weather.add_argument("--request-id", default=None, help="x-request-id to send (default: a new one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return run_serve()
    if args.command == "check":
        return run_check(args.addr, args.timeout)
    return run_weather(args)


def run_serve() -> int:
    from .server import serve

    try:
        settings = WeatherSettings.from_env()
    except ConfigError as exc:
        print(f"tenki: {exc}", file=sys.stderr)
        return 2
    try:
        return serve(settings)
    except RuntimeError as exc:
        # grpc raises RuntimeError when the port cannot be bound.
        print(f"tenki: cannot start: {exc}", file=sys.stderr)
        return 1


# -- check ---------------------------------------------------------------------------------------


class Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.failed = 0

    def item(self, ok: bool | None, name: str, text: str, *, warn: bool = False) -> None:
        """One verdict: OK, FAIL (counted), SKIP (ok None), or WARN (`warn`: true but worth a look)."""
        mark = "WARN" if warn else "SKIP" if ok is None else (" OK " if ok else "FAIL")
        self.failed += ok is False
        print(f"[{mark}] {name}: {text}", file=self.out)


def run_check(addr: str | None, timeout: float, out: TextIO = sys.stdout) -> int:
    report = Report(out)
    try:
        settings = WeatherSettings.from_env()
    except ConfigError as exc:
        report.item(False, "configuration", str(exc))
    else:
        report.item(
            True,
            "configuration",
            f"valid ({len(env_var_names())} variables known; port {settings.port}, "
            f"metrics port {settings.metrics_port or 'off'})",
        )
        check_provider(settings, report, timeout)
        check_shared(settings, report, timeout)
        check_tracing_and_faults(settings, report)
    if addr:
        check_server(addr, timeout, report)
    verdict = "all checks passed" if not report.failed else f"{report.failed} check(s) failed"
    print(f"verdict: {verdict}", file=out)
    return 1 if report.failed else 0


def check_provider(settings: WeatherSettings, report: Report, timeout: float) -> None:
    if settings.provider == "demo":
        why = "WEATHER_PROVIDER=demo" if settings.weather_provider == "demo" else "no OWM_API_KEY"
        report.item(True, "provider", f"demo mode ({why}): invented, deterministic data, no network")
        report.item(None, "upstream", "not used in demo mode")
        return
    if not settings.owm_api_key.get_secret_value():
        report.item(False, "provider", "WEATHER_PROVIDER=owm but OWM_API_KEY is not set")
        return
    report.item(True, "provider", "OpenWeatherMap (OWM_API_KEY is set)")
    provider = build_provider(settings.model_copy(update={"owm_timeout_seconds": timeout}))
    try:
        # The first step of every lookup: the Geocoding API (an unknown code is an answer all the same).
        provider.geocode("94040", "US")
    except WeatherError as exc:
        report.item(False, "upstream", f"{settings.owm_base_url}: {status_code(exc).name}: {exc.message}")
        return
    report.item(True, "upstream", f"{settings.owm_base_url} answered")


def check_tracing_and_faults(settings: WeatherSettings, report: Report) -> None:
    endpoint = settings.tracing_endpoint
    if endpoint:
        arg = f" {settings.otel_traces_sampler_arg:g}" if "ratio" in settings.otel_traces_sampler else ""
        report.item(
            True, "tracing",
            f"on: spans to {endpoint} as {settings.otel_service_name}, "
            f"sampler {settings.otel_traces_sampler}{arg}",
        )
    else:
        report.item(None, "tracing", "off (no OTEL_EXPORTER_OTLP_ENDPOINT)")
    plan = FaultPlan.from_settings(settings)
    if plan.on:
        report.item(True, "faults", f"FAULT INJECTION ON: {plan.describe()}", warn=True)
    else:
        report.item(True, "faults", "none injected")


def check_shared(settings: WeatherSettings, report: Report, timeout: float) -> None:
    if not settings.shared:
        report.item(None, "redis", "REDIS_URL not set: cache, single flight and budget are per process")
        return
    from .shared import check_redis, connect

    client = connect(
        settings.redis_url,
        settings.redis_password.get_secret_value(),
        min(timeout, max(settings.redis_timeout_seconds, 1.0)),
        client_name="tenki-check",
    )
    try:
        verdict = check_redis(client)
    finally:
        client.close()
    report.item(verdict.ok, "redis", verdict.text)


def check_server(addr: str, timeout: float, report: Report) -> None:
    with grpc.insecure_channel(addr) as channel:
        # What the generated HealthStub's Check does; called directly, as the grpc stubs declare no
        # methods on HealthStub.
        check = channel.unary_unary(
            HEALTH_CHECK_METHOD,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            answer = check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError as exc:
            report.item(False, f"server {addr}", f"{exc.code().name}: {exc.details()}")
            return
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    report.item(answer.status == health_pb2.HealthCheckResponse.SERVING, f"server {addr}", f"health {status}")


# -- weather -------------------------------------------------------------------------------------


def run_weather(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """`tenki weather` and `tenki forecast`: one call, its answer printed (or its error, exit 1)."""
    addr = args.addr or default_addr()
    fields = dict(postal_code=args.postal_code, country_code=args.country, units=UNITS[args.units])
    request_id = args.request_id or uuid.uuid4().hex
    with grpc.insecure_channel(addr) as channel:
        stub = weather_pb2_grpc.WeatherServiceStub(channel)
        metadata = ((REQUEST_ID_HEADER, request_id),)
        try:
            if args.command == "forecast":
                text = format_forecast(
                    stub.GetForecast(
                        weather_pb2.GetForecastRequest(**fields), timeout=args.timeout, metadata=metadata
                    )
                )
            else:
                text = format_weather(
                    stub.GetCurrentWeather(
                        weather_pb2.GetCurrentWeatherRequest(**fields),
                        timeout=args.timeout,
                        metadata=metadata,
                    )
                )
        except grpc.RpcError as exc:
            violations = field_violations(exc)
            if violations:
                print(f"{exc.code().name}: the request is invalid", file=err)
                for violation in violations:
                    print(f"  {violation.field}: {violation.description}", file=err)
            else:
                print(f"{exc.code().name}: {exc.details()}", file=err)
            return 1
    print(text, file=out)
    return 0


def field_violations(rpc_error: grpc.RpcError) -> list[FieldViolation]:
    """The google.rpc.BadRequest field violations a server sent with an error, if any."""
    # The cast: the error a call raises is also its grpc.Call (grpc's _InactiveRpcError), which the grpc
    # stubs cannot say, as their RpcError.details and Call.details differ; from_call reads the code,
    # details and trailing metadata that RpcError declares.
    status = rpc_status.from_call(cast(grpc.Call, rpc_error))
    if status is None:
        return []
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(FieldViolation(v.field, v.description) for v in bad_request.field_violations)
    return violations


def _local(stamp: Timestamp, offset: int) -> str:
    moment = stamp.ToDatetime(tzinfo=timezone.utc)
    return (moment + timedelta(seconds=offset)).strftime("%H:%M")


def _sun_text(answer: weather_pb2.GetCurrentWeatherResponse, event: str) -> str:
    """'rises 06:42', 'no sunrise today' (polar night or day), 'sunrise not reported'."""
    if answer.HasField(f"{event}_time"):
        verb = "rises" if event == "sunrise" else "sets"
        return f"{verb} {_local(getattr(answer, f'{event}_time'), answer.location.utc_offset_seconds)}"
    if getattr(answer, f"no_{event}"):
        return f"no {event} today"
    return f"{event} not reported"


def _precipitation_text(answer: weather_pb2.GetCurrentWeatherResponse) -> str | None:
    depth = "in" if answer.units == weather_pb2.UNITS_IMPERIAL else "mm"
    amounts = answer.precipitation
    parts = [
        f"{label} {getattr(amounts, field):.2f} {depth} in the last {period}"
        for label, field, period in (
            ("rain", "rain_1h", "hour"),
            ("rain", "rain_3h", "3 hours"),
            ("snow", "snow_1h", "hour"),
            ("snow", "snow_3h", "3 hours"),
        )
        if amounts.HasField(field)
    ]
    return "; ".join(parts) if parts else None


def format_weather(answer: weather_pb2.GetCurrentWeatherResponse) -> str:
    """A readable, aligned summary of an answer; what OWM did not report is left out or said so."""
    place, temp, wind = answer.location, answer.temperature, answer.wind
    t = TEMP_SUFFIX.get(answer.units, "°C")
    speed = "mph" if answer.units == weather_pb2.UNITS_IMPERIAL else "m/s"
    zone = _zone(place.utc_offset_seconds)
    conditions = list(answer.conditions) or [answer.condition]
    feels = (
        f"feels like {temp.reported_feels_like:.1f} {t}; " if temp.HasField("reported_feels_like") else ""
    )
    code = place.postal_code + (f", weather for district {place.district}" if place.district else "")
    lines = [
        f"{place.name}, {place.country_code} ({code})  {place.latitude:.4f}, {place.longitude:.4f}",
        f"  {'Conditions':<13} " + ", ".join(f"{c.status}: {c.description}" for c in conditions),
        f"  {'Temperature':<13} {temp.current:.1f} {t} ({feels}min {temp.min:.1f}, max {temp.max:.1f})",
    ]
    rain_snow = _precipitation_text(answer)
    if rain_snow:
        lines.append(f"  {'Precipitation':<13} {rain_snow}")
    lines += [
        f"  {'Humidity':<13} {answer.humidity_percent} %",
        f"  {'Pressure':<13} {answer.pressure_hpa} hPa",
        f"  {'Wind':<13} {wind.speed:.1f} {speed} from {wind.direction_degrees:.0f}°"
        + (f" (gusts {wind.reported_gust:.1f} {speed})" if wind.HasField("reported_gust") else ""),
        f"  {'Clouds':<13} {answer.cloudiness_percent} %",
    ]
    if answer.HasField("reported_visibility_meters"):
        lines.append(f"  {'Visibility':<13} {answer.reported_visibility_meters} m")
    lines += [
        f"  {'Sun':<13} {_sun_text(answer, 'sunrise')}, {_sun_text(answer, 'sunset')} (local time, {zone})",
        _source_line(answer),
    ]
    return "\n".join(lines)


def _zone(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    return "UTC{}{:02d}:{:02d}".format(sign, abs(offset) // 3600, abs(offset) % 3600 // 60)


def _source_line(answer: weather_pb2.GetCurrentWeatherResponse | weather_pb2.GetForecastResponse) -> str:
    fetched = answer.fetch_time.ToDatetime(tzinfo=timezone.utc)
    age = max(0, int((datetime.now(timezone.utc) - fetched).total_seconds() // 60))
    return f"  {'Source':<13} {answer.source}, fetched {age} min ago" + ("  [STALE]" if answer.stale else "")


def format_forecast(answer: weather_pb2.GetForecastResponse) -> str:
    """The next 24 hours slot by slot, then one line per local day; times are the place's."""
    place = answer.location
    t = TEMP_SUFFIX.get(answer.units, "°C")
    depth = "in" if answer.units == weather_pb2.UNITS_IMPERIAL else "mm"
    speed = "mph" if answer.units == weather_pb2.UNITS_IMPERIAL else "m/s"
    offset = place.utc_offset_seconds
    code = place.postal_code + (f", forecast for district {place.district}" if place.district else "")
    lines = [
        f"{place.name}, {place.country_code} ({code})  {place.latitude:.4f}, {place.longitude:.4f}",
        f"  Next 24 hours (local time, {_zone(offset)})",
    ]
    for slot in answer.slots[:8]:
        start = slot.start_time.ToDatetime(tzinfo=timezone.utc) + timedelta(seconds=offset)
        wet = [
            f"{label} {getattr(slot, label):.2f} {depth}"
            for label in ("rain", "snow")
            if slot.HasField(label)
        ]
        headline = slot.conditions[0].description if slot.conditions else ""
        pop = slot.precipitation_probability_percent
        lines.append(
            f"    {start:%a %H:%M}  {slot.temperature:5.1f} {t}  {pop:3d} %"
            f"  {slot.wind.speed:4.1f} {speed}  {headline}" + (f" ({', '.join(wet)})" if wet else "")
        )
    lines.append("  Days")
    for day in answer.days:
        when = datetime.strptime(day.date, "%Y-%m-%d")
        wet = [
            f"{label} {amount:.2f} {depth}"
            for label, amount in (("rain", day.total_rain), ("snow", day.total_snow))
            if amount > 0
        ]
        lines.append(
            f"    {when:%a %d %b}  {day.min_temperature:5.1f} / {day.max_temperature:5.1f} {t}"
            f"  {day.max_precipitation_probability_percent:3d} %  {day.condition.description}"
            + (f" ({', '.join(wet)})" if wet else "")
        )
    lines.append(_source_line(answer))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
