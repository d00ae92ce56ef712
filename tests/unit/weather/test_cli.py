"""The `tenki` command's arguments, help, check verdicts and answer formatting (no server needed)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from tenki.weather.v1 import weather_pb2

from tenki_weather import cli
from tenki_weather.config import WeatherSettings


def parse(*argv: str):
    return cli.build_parser().parse_args(argv)


def test_weather_defaults() -> None:
    args = parse("weather", "94040")
    assert (args.postal_code, args.country, args.units) == ("94040", "us", "metric")
    assert (args.addr, args.timeout) == (None, 5.0)


def test_weather_options() -> None:
    args = parse(
        "weather", "SW1A 1AA", "--country", "gb", "--units", "imperial", "--addr", "h:1", "--timeout", "2"
    )
    assert (args.country, args.units, args.addr, args.timeout) == ("gb", "imperial", "h:1", 2.0)


def test_unknown_units_are_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse("weather", "94040", "--units", "furlongs")
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse()
    assert "COMMAND" in capsys.readouterr().err


def test_help_lists_what_a_newcomer_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse("--help")
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for text in ("serve", "check", "weather 94040 --country us --units imperial", "demo mode"):
        assert text in out


def test_serve_help_lists_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("serve", "--help")
    out = capsys.readouterr().out
    for name in cli.env_var_names():
        assert name in out


@pytest.mark.parametrize(
    ("name", "shown"),
    [("OWM_API_KEY", "[]"), ("GEOCODE_TTL_SECONDS", "[2592000]"), ("REDIS_TIMEOUT_SECONDS", "[0.25]"),
     ("FAULT_INCLUDE_HEALTH", "[false]"), ("LOG_LEVEL", "[INFO]")],
)
def test_serve_help_gives_each_variable_its_fields_description_and_default(name: str, shown: str) -> None:
    # Made from the settings' Fields (config.py), so the two cannot drift apart.
    (line,) = [line for line in cli.env_help().splitlines() if line.split()[:1] == [name]]
    field = next(f for f in WeatherSettings.model_fields.values() if f.alias == name)
    assert field.description and line.endswith(f"{field.description} {shown}")


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--version")
    assert capsys.readouterr().out.strip() == f"tenki {cli.package_version()}"
    assert cli.package_version()[0].isdigit()


def test_default_addr_follows_weather_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEATHER_PORT", "6000")
    assert cli.default_addr() == "127.0.0.1:6000"
    monkeypatch.setenv("WEATHER_PORT", "not a port")
    assert cli.default_addr() == "127.0.0.1:50051"


def run_check(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in cli.env_var_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    status = cli.run_check(None, 1.0, out=out)
    return status, out.getvalue()


def test_check_passes_in_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch)
    assert status == 0
    assert "[ OK ] configuration" in out and "demo mode (no OWM_API_KEY)" in out
    assert "[SKIP] upstream" in out and "verdict: all checks passed" in out


def test_check_fails_on_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch, CACHE_TTL_SECONDS="-5")
    assert status == 1
    assert "[FAIL] configuration" in out and "CACHE_TTL_SECONDS" in out and "1 check(s) failed" in out


def test_check_fails_when_owm_is_forced_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch, WEATHER_PROVIDER="owm")
    assert status == 1
    assert "[FAIL] provider: WEATHER_PROVIDER=owm but OWM_API_KEY is not set" in out


def test_check_names_an_explicit_demo_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch, WEATHER_PROVIDER="demo", OWM_API_KEY="k")
    assert status == 0 and "demo mode (WEATHER_PROVIDER=demo)" in out


def test_check_says_when_faults_are_injected_and_where_spans_go(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(
        monkeypatch, FAULT_ERROR_RATE="0.25", FAULT_ERROR_CODE="internal", FAULT_DELAY_SECONDS="0.5",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318", OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="0.1",
    )
    # A warning, not a failure: the drill's set-up is valid.
    assert status == 0
    assert (
        "[WARN] faults: FAULT INJECTION ON: weather API calls delayed by 0.5 s; "
        "25% of weather API calls fail with INTERNAL"
    ) in out
    assert (
        "[ OK ] tracing: on: spans to http://collector:4318/v1/traces as tenki-weather, "
        "sampler parentbased_traceidratio 0.1"
    ) in out


def test_check_says_no_faults_and_no_tracing_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run_check(monkeypatch)
    assert status == 0
    assert "[ OK ] faults: none injected" in out
    assert "[SKIP] tracing: off (no OTEL_EXPORTER_OTLP_ENDPOINT)" in out


def test_format_weather_reads_well() -> None:
    fetched = datetime.now(timezone.utc)
    answer = weather_pb2.GetCurrentWeatherResponse(
        location=weather_pb2.Location(name="Berlin", country_code="DE", postal_code="10115",
                                      latitude=52.5, longitude=13.4, utc_offset_seconds=3600),
        condition=weather_pb2.Condition(id=800, status="Clear", description="clear sky", icon="01d"),
        temperature=weather_pb2.Temperature(current=64.4, feels_like=63.0, min=60.0, max=70.0),
        wind=weather_pb2.Wind(speed=8.9, direction_degrees=270, gust=0),
        humidity_percent=40,
        pressure_hpa=1015,
        units=weather_pb2.UNITS_IMPERIAL,
        source="openweathermap",
        stale=True,
    )
    answer.sunrise_time.FromDatetime(datetime(2026, 7, 1, 3, 0, tzinfo=timezone.utc))
    answer.sunset_time.FromDatetime(datetime(2026, 7, 1, 19, 30, tzinfo=timezone.utc))
    answer.fetch_time.FromDatetime(fetched)
    text = cli.format_weather(answer)
    assert text.splitlines()[0].startswith("Berlin, DE (10115)")
    assert "64.4 °F" in text and "8.9 mph from 270°" in text and "gusts" not in text
    assert "rises 04:00, sets 20:30 (local time, UTC+01:00)" in text
    assert "[STALE]" in text and "openweathermap" in text
