"""The frontend's settings, read from environment variables with pydantic-settings.

This module is the one source of truth for the variable names: the Helm chart's env entries are
checked against `env_var_names()` by tests/deploy, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


# OpenTelemetry's sampler names (OTEL_TRACES_SAMPLER) that the SDK ships.
Sampler = Literal[
    "always_on", "always_off", "traceidratio",
    "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
]

# The weather service's default DEADLINE_MARGIN_SECONDS (0.5 s) and a second for upstream.
MIN_USEFUL_DEADLINE_SECONDS = 1.5


class ConfigError(ValueError):
    """The environment holds a setting the frontend cannot use; the message names each one."""


class FrontendSettings(BaseSettings):
    """Every knob of the frontend. Field aliases are the environment variable names."""

    # Defaults are trusted as written (pydantic-settings would validate them, blanks included).
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, validate_default=False
    )

    host: str = Field("0.0.0.0", alias="FRONTEND_HOST", min_length=1)
    port: int = Field(8080, alias="FRONTEND_PORT", ge=0, le=65535)
    # Prometheus /metrics, served by the gunicorn master on a port of its own (not the public one); 0 = off.
    metrics_port: int = Field(9091, alias="FRONTEND_METRICS_PORT", ge=0, le=65535)
    # Where the metrics listener binds; empty: FRONTEND_HOST. Behind the pod's proxy gunicorn binds
    # 127.0.0.1 while Prometheus still scrapes the pod's address (the chart sets 0.0.0.0).
    metrics_host: str = Field("", alias="FRONTEND_METRICS_HOST")
    # The weather service's gRPC target: host:port or any gRPC name (dns:///name:port, ipv4:a:p,b:p);
    # calls are spread over every address it resolves to (round_robin).
    weather_addr: str = Field("127.0.0.1:50051", alias="WEATHER_ADDR", min_length=3)
    # Deadline of every gRPC call, retries included. The time budget (README): the weather service's
    # upstream timeout (OWM_TIMEOUT_SECONDS, 3 s) plus its margin for a stale answer (0.5 s) plus room
    # for one connection-level retry (0.5 s).
    weather_deadline_seconds: float = Field(4.0, alias="WEATHER_DEADLINE_SECONDS", gt=0)
    # The channel pings the weather service this often, idle or not (the service admits it: its
    # KEEPALIVE_MIN_PING_SECONDS is lower).
    weather_keepalive_seconds: float = Field(30.0, alias="WEATHER_KEEPALIVE_SECONDS", gt=0)
    gunicorn_workers: int = Field(2, alias="GUNICORN_WORKERS", gt=0)
    gunicorn_threads: int = Field(4, alias="GUNICORN_THREADS", gt=0)
    # Seconds gunicorn gives in-flight requests to finish after SIGTERM (below the pod's grace period).
    gunicorn_graceful_timeout: int = Field(10, alias="GUNICORN_GRACEFUL_TIMEOUT", ge=0)
    # On SIGTERM, /readyz answers 503 for this long while requests are still served, so load balancers
    # stop sending before the listener closes (the weather service's variable of the same name and meaning).
    shutdown_drain_seconds: float = Field(1.0, alias="SHUTDOWN_DRAIN_SECONDS", ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    # Fairness (limiting.py), per client, in Flask-Limiter's notation ("120/minute", "20/minute;200/hour"):
    # every request (pages, API; not probes, /metrics, static files), and lookups that miss the cache.
    rate_limit_default: str = Field("120/minute", alias="RATE_LIMIT_DEFAULT", min_length=1)
    rate_limit_upstream: str = Field("20/minute", alias="RATE_LIMIT_UPSTREAM", min_length=1)
    # Proxies in front of the frontend (Gateway, Ingress) whose X-Forwarded-For entry is trusted (proxies.py).
    trusted_proxy_hops: int = Field(0, alias="TRUSTED_PROXY_HOPS", ge=0, le=10)
    # Shared rate-limit counters (redis://, rediss://, unix://); empty: each process counts alone.
    redis_url: str = Field("", alias="REDIS_URL")
    redis_password: SecretStr = Field(SecretStr(""), alias="REDIS_PASSWORD")

    @field_validator("rate_limit_default", "rate_limit_upstream")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be a rate limit such as 120/minute or 20/minute;200/hour") from None
        return value

    # Tracing (tracing.py): OpenTelemetry's own variable names and meanings, as in the weather service's
    # settings. No endpoint, no tracing: no SDK, no exporter, no instrumentation.
    otel_endpoint: str = Field("", alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_traces_endpoint: str = Field("", alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    otel_protocol: Literal["http/protobuf"] = Field("http/protobuf", alias="OTEL_EXPORTER_OTLP_PROTOCOL")
    otel_service_name: str = Field("tenki-frontend", alias="OTEL_SERVICE_NAME", min_length=1)
    otel_traces_sampler: Sampler = Field("parentbased_always_on", alias="OTEL_TRACES_SAMPLER")
    otel_traces_sampler_arg: float = Field(1.0, alias="OTEL_TRACES_SAMPLER_ARG", ge=0, le=1)
    otel_resource_attributes: str = Field("", alias="OTEL_RESOURCE_ATTRIBUTES")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_means_default(cls, value: Any) -> Any:
        # Surrounding blanks are typos; an empty value counts as unset: FOO= means "use the default".
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise PydanticUseDefault()
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("otel_traces_sampler", "otel_protocol", mode="before")
    @classmethod
    def _lower_case_name(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def metrics_bind_host(self) -> str:
        """The metrics listener's address: FRONTEND_METRICS_HOST, else FRONTEND_HOST."""
        return self.metrics_host or self.host

    @property
    def tracing_endpoint(self) -> str:
        """Where spans go (OTLP/HTTP), as OpenTelemetry resolves it; "" when tracing is off."""
        if self.otel_traces_endpoint:
            return self.otel_traces_endpoint
        return self.otel_endpoint.rstrip("/") + "/v1/traces" if self.otel_endpoint else ""

    def budget_warnings(self) -> list[str]:
        """What makes the time budget unworkable; logged as warnings at start (README, "The time budget")."""
        if self.weather_deadline_seconds < MIN_USEFUL_DEADLINE_SECONDS:
            return [
                f"WEATHER_DEADLINE_SECONDS ({self.weather_deadline_seconds:g}) is below "
                f"{MIN_USEFUL_DEADLINE_SECONDS:g} s: the weather service keeps 0.5 s of a call's time for "
                "its answer, so a cache miss would seldom reach OpenWeatherMap"
            ]
        return []

    # Deliberately the same as tenki_weather.config's: one settings pattern for both services, which ship as
    # separate wheels and share no code but the API stubs.
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what from_env hands over: os.environ in production, a test's mapping in a test, never
        # both mixed (a variable of the shell that runs the tests must not leak into them), and no .env
        # file or secrets directory (the image, the chart and `make run` all set plain variables).
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FrontendSettings:
        """Read settings from `environ` (default: os.environ); raise ConfigError naming bad values."""
        environ = os.environ if environ is None else environ
        # Text, by variable name; pydantic parses each into its field's type (hence Any, not str).
        values: dict[str, Any] = {name: environ[name] for name in env_var_names() if name in environ}
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = [
                f"{err['loc'][0] if err['loc'] else '?'}: {err['msg']} (got {err.get('input')!r})"
                for err in exc.errors()
            ]
            raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def env_var_names() -> frozenset[str]:
    """The environment variable names the frontend reads."""
    return frozenset(f.alias or n for n, f in FrontendSettings.model_fields.items())
