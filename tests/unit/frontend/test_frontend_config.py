"""FrontendSettings: defaults, parsing of the environment, and errors that name the variable."""

from __future__ import annotations

import pytest

from tenki_frontend.config import ConfigError, FrontendSettings, env_var_names


def test_defaults() -> None:
    settings = FrontendSettings.from_env({})
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.weather_addr == "127.0.0.1:50051"
    assert settings.weather_deadline_seconds == 4.0 and settings.budget_warnings() == []
    assert settings.metrics_port == 9091 and settings.weather_keepalive_seconds == 30
    assert (settings.gunicorn_workers, settings.gunicorn_threads) == (2, 4)
    assert settings.gunicorn_graceful_timeout == 10
    assert settings.log_level == "INFO"


def test_the_metrics_listener_binds_frontend_host_unless_told_otherwise() -> None:
    assert FrontendSettings.from_env({"FRONTEND_HOST": "127.0.0.1"}).metrics_bind_host == "127.0.0.1"
    behind_proxy = FrontendSettings.from_env(
        {"FRONTEND_HOST": "127.0.0.1", "FRONTEND_METRICS_HOST": "0.0.0.0"}
    )
    assert behind_proxy.metrics_bind_host == "0.0.0.0"


def test_values_from_the_environment() -> None:
    settings = FrontendSettings.from_env(
        {"FRONTEND_HOST": "127.0.0.1", "FRONTEND_PORT": "9000", "WEATHER_ADDR": "weather:50051",
         "WEATHER_DEADLINE_SECONDS": "0.5", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "8",
         "GUNICORN_GRACEFUL_TIMEOUT": "20", "LOG_LEVEL": " debug ", "UNRELATED": "x"}
    )
    assert (settings.host, settings.port, settings.weather_addr) == ("127.0.0.1", 9000, "weather:50051")
    assert settings.weather_deadline_seconds == 0.5
    assert (settings.gunicorn_workers, settings.gunicorn_threads) == (3, 8)
    assert settings.gunicorn_graceful_timeout == 20
    assert settings.log_level == "DEBUG"


def test_empty_values_mean_the_default() -> None:
    assert FrontendSettings.from_env({"FRONTEND_PORT": "", "WEATHER_ADDR": "  "}).port == 8080


@pytest.mark.parametrize(
    ("name", "value"),
    [("FRONTEND_PORT", "http"), ("FRONTEND_PORT", "70000"), ("WEATHER_DEADLINE_SECONDS", "0"),
     ("GUNICORN_WORKERS", "0"), ("GUNICORN_THREADS", "-1"), ("LOG_LEVEL", "chatty"),
     ("RATE_LIMIT_DEFAULT", "many"), ("RATE_LIMIT_UPSTREAM", "5 per fortnight"),
     ("TRUSTED_PROXY_HOPS", "-1")],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        FrontendSettings.from_env({name: value})


def test_env_var_names_are_the_documented_ones() -> None:
    assert env_var_names() == {
        "FRONTEND_HOST", "FRONTEND_PORT", "WEATHER_ADDR", "WEATHER_DEADLINE_SECONDS",
        "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_GRACEFUL_TIMEOUT", "LOG_LEVEL",
        # OpenTelemetry's own names (tracing.py), validated here, handed to the SDK from here.
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_RESOURCE_ATTRIBUTES",
        "SHUTDOWN_DRAIN_SECONDS", "FRONTEND_METRICS_PORT", "FRONTEND_METRICS_HOST",
        "WEATHER_KEEPALIVE_SECONDS",
        "RATE_LIMIT_DEFAULT", "RATE_LIMIT_UPSTREAM", "TRUSTED_PROXY_HOPS", "REDIS_URL", "REDIS_PASSWORD",
    }


def test_tracing_is_off_without_an_endpoint_and_resolves_it_as_opentelemetry_does() -> None:
    assert FrontendSettings.from_env({}).tracing_endpoint == ""
    base = FrontendSettings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    assert base.tracing_endpoint == "http://collector:4318/v1/traces"
    full = FrontendSettings.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b/t"}
    )
    assert full.tracing_endpoint == "http://b/t"


@pytest.mark.parametrize(
    ("name", "value"),
    [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
     ("OTEL_TRACES_SAMPLER_ARG", "1.5"), ("OTEL_SERVICE_NAME", " ")],
)
def test_a_tracing_setting_the_sdk_cannot_use_stops_the_start(name: str, value: str) -> None:
    if not value.strip():
        # Blank means the default, like every other variable.
        assert FrontendSettings.from_env({name: value}).otel_service_name == "tenki-frontend"
        return
    with pytest.raises(ConfigError, match=name):
        FrontendSettings.from_env({name: value})


def test_the_process_environment_is_read_by_default_and_only_then(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTEND_PORT", "9999")
    monkeypatch.setenv("LOG_LEVEL", "")
    assert FrontendSettings.from_env().port == 9999
    assert FrontendSettings.from_env().log_level == "INFO"
    # A mapping given is the whole environment: nothing of the shell that runs the tests leaks in.
    assert FrontendSettings.from_env({}).port == 8080


def test_every_bad_variable_is_named_in_one_message() -> None:
    with pytest.raises(ConfigError) as caught:
        FrontendSettings.from_env({"FRONTEND_PORT": "http", "GUNICORN_WORKERS": "0", "WEATHER_ADDR": "ok:1"})
    message = str(caught.value)
    assert message.startswith("invalid configuration: ")
    assert "FRONTEND_PORT" in message and "GUNICORN_WORKERS" in message and "WEATHER_ADDR" not in message
