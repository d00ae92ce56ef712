"""Settings from the environment, including the ones the weather service added."""

from __future__ import annotations

import pytest

from tenki_weather.config import ConfigError, WeatherSettings, env_var_names
from tenki_weather.server import server_options


def test_defaults_are_the_documented_ones() -> None:
    settings = WeatherSettings.from_env({})
    assert settings.port == 50051 and settings.metrics_port == 9090
    assert settings.cache_ttl_seconds == 600 and settings.stale_if_error_seconds == 3600
    assert settings.owm_rate_limit_per_minute == 60 and settings.owm_timeout_seconds == 3
    assert settings.deadline_margin_seconds == 0.5 and settings.budget_warnings() == []
    assert settings.shutdown_grace_seconds == 10 and settings.shutdown_drain_seconds == 1
    assert settings.max_connection_age_seconds == 10
    assert settings.owm_base_url == "https://api.openweathermap.org/data/2.5"


@pytest.mark.parametrize(
    ("environ", "provider"),
    [
        ({}, "demo"),
        ({"OWM_API_KEY": "k"}, "owm"),
        ({"OWM_API_KEY": "  "}, "demo"),  # blank is unset
        ({"OWM_API_KEY": "k", "WEATHER_PROVIDER": "demo"}, "demo"),
        ({"WEATHER_PROVIDER": "owm"}, "owm"),
    ],
)
def test_the_provider_follows_the_key_unless_overridden(environ: dict[str, str], provider: str) -> None:
    assert WeatherSettings.from_env(environ).provider == provider


def test_bad_values_are_named_and_a_key_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        WeatherSettings.from_env(
            {"WEATHER_PORT": "eighty", "SHUTDOWN_DRAIN_SECONDS": "-1", "LOG_LEVEL": "loud"}
        )
    message = str(caught.value)
    assert "WEATHER_PORT" in message and "SHUTDOWN_DRAIN_SECONDS" in message and "LOG_LEVEL" in message


def test_every_variable_the_readme_documents_is_read() -> None:
    documented = {"SHUTDOWN_DRAIN_SECONDS", "OWM_BASE_URL", "METRICS_PORT", "WEATHER_MAX_WORKERS"}
    assert documented <= env_var_names()


def test_blank_values_mean_the_default_and_the_level_any_case() -> None:
    settings = WeatherSettings.from_env({"WEATHER_PORT": " ", "CACHE_TTL_SECONDS": "", "LOG_LEVEL": "debug"})
    assert settings.port == 50051 and settings.cache_ttl_seconds == 600
    assert settings.log_level == "DEBUG"


def test_a_given_environment_is_read_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEATHER_PORT", "6000")
    assert WeatherSettings.from_env({}).port == 50051
    assert WeatherSettings.from_env().port == 6000


def test_redis_is_off_unless_a_url_is_given_and_the_fallback_share_defaults_to_one_process() -> None:
    settings = WeatherSettings.from_env({})
    assert settings.redis_url == "" and settings.owm_rate_limit_replicas == 1
    assert settings.redis_timeout_seconds == 0.25
    for url in ("redis://127.0.0.1:6379/0", "rediss://cache.example.org:6380/1", "unix:///run/redis.sock"):
        assert WeatherSettings.from_env({"REDIS_URL": url}).redis_url == url


def test_a_bad_redis_url_is_named_and_neither_it_nor_the_password_is_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        WeatherSettings.from_env(
            {"REDIS_URL": "http://user:s3cret@cache:6379", "OWM_RATE_LIMIT_REPLICAS": "0"}
        )
    message = str(caught.value)
    assert "REDIS_URL: Value error, must start with redis://, rediss://, unix://" in message
    assert "OWM_RATE_LIMIT_REPLICAS" in message and "s3cret" not in message


@pytest.mark.parametrize("url", ["redis://cache:notaport/0", "redis://cache:99999999999999999999/0"])
def test_a_redis_url_redis_py_cannot_read_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL: Value error, is not a Redis URL redis-py can read"):
        WeatherSettings.from_env({"REDIS_URL": url})


def test_redis_url_takes_the_three_schemes_and_never_echoes_its_value() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/redis.sock"):
        assert WeatherSettings.from_env({"REDIS_URL": url}).shared
    assert not WeatherSettings.from_env({}).shared
    with pytest.raises(ConfigError, match="REDIS_URL: Value error, must start with redis://") as caught:
        WeatherSettings.from_env({"REDIS_URL": "http://user:hunter2@cache:6379"})
    assert "hunter2" not in str(caught.value)


def test_negative_cache_and_near_cache_defaults() -> None:
    settings = WeatherSettings.from_env({})
    assert settings.negative_cache_error_seconds == 5
    assert settings.negative_cache_not_found_seconds == 3600
    assert settings.cache_local_ttl_seconds == 5
    assert settings.redis_timeout_seconds == 0.25


def test_a_budget_that_cannot_work_is_warned_about() -> None:
    (problem,) = WeatherSettings.from_env(
        {"OWM_TIMEOUT_SECONDS": "1", "DEADLINE_MARGIN_SECONDS": "1"}
    ).budget_warnings()
    assert "DEADLINE_MARGIN_SECONDS" in problem and "never reach upstream" in problem
    (problem,) = WeatherSettings.from_env({"DEADLINE_MARGIN_SECONDS": "0"}).budget_warnings()
    assert "stale" in problem
    (problem,) = WeatherSettings.from_env({"MAX_CONNECTION_AGE_SECONDS": "1"}).budget_warnings()
    assert "MAX_CONNECTION_AGE_SECONDS" in problem and "re-resolution" in problem


def test_the_server_ends_connections_after_the_age_with_the_shutdown_grace() -> None:
    options = dict(server_options(WeatherSettings.from_env({})))
    assert options["grpc.max_connection_age_ms"] == 10_000
    assert options["grpc.max_connection_age_grace_ms"] == 10_000
