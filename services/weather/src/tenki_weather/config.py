"""The weather service's settings, read from environment variables with pydantic-settings.

This module is the one source of truth for the variable names: the Helm chart's env entries are
checked against `env_var_names()` by tests/deploy, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from redis import ConnectionPool

DEFAULT_OWM_BASE_URL = "https://api.openweathermap.org/data/2.5"
DEFAULT_OWM_GEO_BASE_URL = "https://api.openweathermap.org/geo/1.0"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# The frontend's channel re-resolves the weather service's name at most this often (its
# grpc.dns_min_time_between_resolutions_ms): a shorter connection age finds no new pods, only reconnects.
MIN_USEFUL_CONNECTION_AGE_SECONDS = 2.0


# OpenTelemetry's sampler names (OTEL_TRACES_SAMPLER) that the SDK ships.
Sampler = Literal[
    "always_on", "always_off", "traceidratio",
    "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
]
# The gRPC status codes an injected error may carry (every code but OK).
FaultCode = Literal[
    "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]


class ConfigError(ValueError):
    """The environment holds a setting the service cannot use; the message names each one."""


class WeatherSettings(BaseSettings):
    """Every knob of the weather service. Field aliases are the environment variable names (exact case).

    from_env() reads them, from os.environ or any mapping, and turns a bad value into a ConfigError
    naming the variable; the constructor itself takes keyword values only (see the sources below).
    """

    # Defaults are trusted as written (pydantic-settings would validate them, blanks included).
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, validate_default=False
    )

    # Upstream: OpenWeatherMap through PyOWM.
    owm_api_key: SecretStr = Field(
        SecretStr(""), alias="OWM_API_KEY",
        description="OpenWeatherMap key; unset = demo mode",
    )
    owm_base_url: str = Field(
        DEFAULT_OWM_BASE_URL, alias="OWM_BASE_URL", min_length=1,
        description="upstream base URL",
    )
    # OWM's Geocoding API (postal code -> place), asked before the weather by coordinates. Empty: on
    # OWM_BASE_URL's host (https://api.openweathermap.org/geo/1.0 by default), see geo_base_url.
    owm_geo_base_url: str = Field(
        "", alias="OWM_GEO_BASE_URL",
        description="geocoding base URL; empty = OWM_BASE_URL's host + /geo/1.0",
    )
    # The time budget (README, "The time budget"): upstream gets the smaller of this and the caller's
    # remaining time less DEADLINE_MARGIN_SECONDS, kept back for the answer (a stale entry, an error).
    owm_timeout_seconds: float = Field(
        3.0, alias="OWM_TIMEOUT_SECONDS", gt=0,
        description="upstream request timeout, cut to the caller's deadline",
    )
    deadline_margin_seconds: float = Field(
        0.5, alias="DEADLINE_MARGIN_SECONDS", ge=0,
        description="kept back from the caller's deadline to answer (stale)",
    )
    # The fleet's OWM calls in any 60 seconds (in Redis with REDIS_URL; else this process's own).
    owm_rate_limit_per_minute: int = Field(
        60, alias="OWM_RATE_LIMIT_PER_MINUTE", gt=0,
        description="the fleet's OWM calls in any 60 s (in Redis with REDIS_URL)",
    )
    # How many weather processes share the key: while Redis fails, each allows the limit divided by it.
    owm_rate_limit_replicas: int = Field(
        1, alias="OWM_RATE_LIMIT_REPLICAS", gt=0,
        description="processes sharing the key; each allows limit/this while Redis fails",
    )
    # "demo" or "owm"; empty means: "owm" when a key is set, else "demo".
    weather_provider: Literal["", "demo", "owm"] = Field(
        "", alias="WEATHER_PROVIDER",
        description="demo | owm; empty = owm with a key, else demo",
    )

    # Cache: OWM asks for at most one call per location per 10 minutes.
    cache_ttl_seconds: float = Field(
        600.0, alias="CACHE_TTL_SECONDS", ge=0,
        description="how long an answer is fresh",
    )
    # OWM recomputes its 5 day / 3 hour forecast every few hours: a place's forecast is kept 30 minutes.
    forecast_cache_ttl_seconds: float = Field(
        1800.0, alias="FORECAST_CACHE_TTL_SECONDS", ge=0,
        description="how long a place's forecast is fresh",
    )
    cache_max_entries: int = Field(
        10_000, alias="CACHE_MAX_ENTRIES", gt=0,
        description="places kept in the cache (LRU)",
    )
    # Postal codes do not move: geocoding answers (and unknown codes) are kept for 30 days.
    geocode_ttl_seconds: float = Field(
        30 * 86400.0, alias="GEOCODE_TTL_SECONDS", ge=0,
        description="how long a postal code's place (or its being unknown) is kept",
    )
    stale_if_error_seconds: float = Field(
        3600.0, alias="STALE_IF_ERROR_SECONDS", ge=0,
        description="max age of an answer served when upstream fails",
    )

    # Shared state: empty means in-process only. redis://, rediss:// or unix://; the password in the URL
    # or in REDIS_PASSWORD. Every Redis command is bounded by REDIS_TIMEOUT_SECONDS.
    redis_url: str = Field(
        "", alias="REDIS_URL",
        description="redis://, rediss:// or unix:// shared state; unset = in process",
    )
    redis_password: SecretStr = Field(
        SecretStr(""), alias="REDIS_PASSWORD",
        description="Redis password when REDIS_URL has none",
    )
    redis_timeout_seconds: float = Field(
        0.25, alias="REDIS_TIMEOUT_SECONDS", gt=0,
        description="bound of every Redis command",
    )
    # With REDIS_URL: the near cache in each process, in front of the shared one (shared.py).
    cache_local_ttl_seconds: float = Field(
        5.0, alias="CACHE_LOCAL_TTL_SECONDS", ge=0,
        description="near cache in front of Redis",
    )

    # Negative caching: an upstream failure (timeout, 5xx, 429, 401) is remembered briefly, so a crowd
    # during an outage does not each reach OWM; an unknown postal code much longer. 0 turns either off.
    negative_cache_error_seconds: float = Field(
        5.0, alias="NEGATIVE_CACHE_ERROR_SECONDS", ge=0,
        description="how long an upstream failure is remembered",
    )
    negative_cache_not_found_seconds: float = Field(
        3600.0, alias="NEGATIVE_CACHE_NOT_FOUND_SECONDS", ge=0,
        description="how long an unknown postal code is remembered",
    )

    # Fairness (caller_limits.py): lookups that miss the cache, per gRPC caller (x-client-id or peer
    # address), in the `limits` notation; ids listed (comma-separated) in the exemption are not counted.
    grpc_rate_limit_upstream: str = Field(
        "30/minute", alias="GRPC_RATE_LIMIT_UPSTREAM", min_length=1,
        description="cache misses per gRPC caller (x-client-id or peer)",
    )
    grpc_rate_limit_exempt: str = Field(
        "tenki-frontend", alias="GRPC_RATE_LIMIT_EXEMPT",
        description="caller ids not counted, comma-separated",
    )

    # Server.
    host: str = Field("0.0.0.0", alias="WEATHER_HOST", description="listen address", min_length=1)
    port: int = Field(50051, alias="WEATHER_PORT", description="listen port", ge=0, le=65535)
    max_workers: int = Field(16, alias="WEATHER_MAX_WORKERS", description="gRPC worker threads", gt=0)
    # 0 turns the Prometheus listener off.
    metrics_port: int = Field(
        9090, alias="METRICS_PORT", ge=0, le=65535,
        description="Prometheus /metrics port; 0 = off",
    )
    # Clients may ping an idle connection this often (the frontend pings every WEATHER_KEEPALIVE_SECONDS,
    # 30 s); pings more frequent than this end the connection with GOAWAY too_many_pings.
    keepalive_min_ping_seconds: float = Field(
        10.0, alias="KEEPALIVE_MIN_PING_SECONDS", gt=0,
        description="clients' keepalive pings admitted this often",
    )
    # Each client connection is ended (GOAWAY, in-flight calls finish within SHUTDOWN_GRACE_SECONDS) after
    # this long (gRPC adds up to 10% jitter), so clients that resolve every pod (the frontend's round_robin on
    # a headless Service) re-resolve and find new pods within seconds. The frontend re-resolves at most
    # every 2 s (its grpc.dns_min_time_between_resolutions_ms), well below this.
    max_connection_age_seconds: float = Field(
        10.0, alias="MAX_CONNECTION_AGE_SECONDS", gt=0,
        description="connections end (GOAWAY) after this, so clients re-resolve",
    )
    shutdown_grace_seconds: float = Field(
        10.0, alias="SHUTDOWN_GRACE_SECONDS", ge=0,
        description="time in-flight calls get to finish on SIGTERM",
    )
    # On SIGTERM, health says NOT_SERVING for this long while RPCs are still answered, so readiness
    # checks and load balancers see it before the listener closes.
    shutdown_drain_seconds: float = Field(
        1.0, alias="SHUTDOWN_DRAIN_SECONDS", ge=0,
        description="NOT_SERVING before the listener closes on SIGTERM",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", alias="LOG_LEVEL",
        description="DEBUG | INFO | WARNING | ERROR",
    )

    # Tracing (tracing.py): OpenTelemetry's own variable names and meanings. No endpoint, no tracing: no
    # SDK, no exporter, no instrumentation. The SDK reads OpenTelemetry's other variables (headers,
    # timeouts, batch sizes) itself.
    otel_endpoint: str = Field(
        "", alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="OTLP/HTTP collector, e.g. http://otel-collector:4318",
    )
    otel_traces_endpoint: str = Field(
        "", alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        description="the full traces URL, instead of ENDPOINT + /v1/traces",
    )
    # Only OTLP over HTTP with protobuf bodies is installed (opentelemetry-exporter-otlp-proto-http).
    otel_protocol: Literal["http/protobuf"] = Field(
        "http/protobuf", alias="OTEL_EXPORTER_OTLP_PROTOCOL",
        description="http/protobuf (the one installed)",
    )
    otel_service_name: str = Field(
        "tenki-weather", alias="OTEL_SERVICE_NAME", min_length=1,
        description="the service in every span",
    )
    otel_traces_sampler: Sampler = Field(
        "parentbased_always_on", alias="OTEL_TRACES_SAMPLER",
        description="always_on | always_off | traceidratio | parentbased_*",
    )
    otel_traces_sampler_arg: float = Field(
        1.0, alias="OTEL_TRACES_SAMPLER_ARG", ge=0, le=1,
        description="the ratio of traceidratio samplers, 0..1",
    )
    otel_resource_attributes: str = Field(
        "", alias="OTEL_RESOURCE_ATTRIBUTES",
        description="key=value,... added to every span's resource",
    )

    # Fault injection for drills (faults.py); every knob off by default.
    # An added delay of FAULT_DELAY_SECONDS plus a uniformly random 0..FAULT_DELAY_JITTER_SECONDS.
    fault_delay_seconds: float = Field(
        0.0, alias="FAULT_DELAY_SECONDS", ge=0, le=60,
        description="added delay of every call",
    )
    fault_delay_jitter_seconds: float = Field(
        0.0, alias="FAULT_DELAY_JITTER_SECONDS", ge=0, le=60,
        description="plus a uniformly random 0..this",
    )
    # The share of calls answered with FAULT_ERROR_CODE instead of the weather.
    fault_error_rate: float = Field(
        0.0, alias="FAULT_ERROR_RATE", ge=0, le=1,
        description="share of calls that fail, 0..1",
    )
    fault_error_code: FaultCode = Field(
        "UNAVAILABLE", alias="FAULT_ERROR_CODE",
        description="their gRPC status code",
    )
    # "rpc": the weather service's own answers are delayed or fail; "upstream": its calls to OWM are (so
    # the cache answers hits, and stale entries where it has them).
    fault_target: Literal["rpc", "upstream"] = Field(
        "rpc", alias="FAULT_TARGET",
        description="rpc (the service's answers) | upstream (its calls to OWM)",
    )
    # gRPC health says NOT_SERVING for tenki.weather.v1.WeatherService (readiness), while RPCs are answered.
    fault_health_not_serving: bool = Field(
        False, alias="FAULT_HEALTH_NOT_SERVING",
        description="health NOT_SERVING for tenki.weather.v1.WeatherService",
    )
    # Delay and errors apply to health checks too (never by default: probes must see the truth).
    fault_include_health: bool = Field(
        False, alias="FAULT_INCLUDE_HEALTH",
        description="delay and errors apply to health checks too",
    )

    # The same two rules as the frontend's settings (one pattern for both services).
    @field_validator("*", mode="before")
    @classmethod
    def _blank_means_default(cls, value: Any) -> Any:
        # As in most twelve-factor apps, FOO= (or FOO made of spaces) means "use the default".
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise PydanticUseDefault()
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(REDIS_SCHEMES):
            raise ValueError("must start with " + ", ".join(REDIS_SCHEMES))
        if value:
            try:
                # What redis-py will read (nothing connects): a bad port fails here, not at start-up.
                ConnectionPool.from_url(value)
            except ValueError as exc:
                raise ValueError(f"is not a Redis URL redis-py can read ({exc})") from None
        return value

    @field_validator("log_level", "fault_error_code", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("otel_traces_sampler", "otel_protocol", "fault_target", mode="before")
    @classmethod
    def _lower_case_name(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def secrets(self) -> list[str]:
        """Every secret that logs and spans must never show: the OWM key, the Redis password, the Redis
        URL (it may hold a password) and the password inside it."""
        url = self.redis_url
        return [
            self.owm_api_key.get_secret_value(),
            self.redis_password.get_secret_value(),
            url,
            (urlsplit(url).password or "") if url else "",
        ]

    @property
    def tracing_endpoint(self) -> str:
        """Where spans go (OTLP/HTTP), as OpenTelemetry resolves it; "" when tracing is off."""
        if self.otel_traces_endpoint:
            return self.otel_traces_endpoint
        return self.otel_endpoint.rstrip("/") + "/v1/traces" if self.otel_endpoint else ""

    @property
    def faults_on(self) -> bool:
        return bool(
            self.fault_delay_seconds or self.fault_delay_jitter_seconds or self.fault_error_rate
            or self.fault_health_not_serving
        )

    @field_validator("grpc_rate_limit_upstream")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be a rate limit such as 30/minute or 30/minute;300/hour") from None
        return value

    @property
    def geo_base_url(self) -> str:
        """OWM_GEO_BASE_URL, else the geocoder beside OWM_BASE_URL: ".../data/2.5" -> ".../geo/1.0".

        Derived rather than fixed, so a service pointed at a stand-in (or a proxy) never geocodes at
        the real OWM behind its back.
        """
        if self.owm_geo_base_url:
            return self.owm_geo_base_url
        base = self.owm_base_url.rstrip("/")
        if base.endswith("/data/2.5"):
            return base[: -len("/data/2.5")] + "/geo/1.0"
        return DEFAULT_OWM_GEO_BASE_URL if base == DEFAULT_OWM_BASE_URL else base + "/geo/1.0"

    @property
    def shared(self) -> bool:
        """True when the fleet shares state through Redis (REDIS_URL is set)."""
        return bool(self.redis_url)

    @property
    def provider(self) -> Literal["demo", "owm"]:
        """The provider in force: the explicit choice, else OWM when a key is present."""
        if self.weather_provider:
            return self.weather_provider
        return "owm" if self.owm_api_key.get_secret_value() else "demo"

    def budget_warnings(self) -> list[str]:
        """What makes the time budget unworkable; logged as warnings at start (README, "The time budget")."""
        problems = []
        if self.deadline_margin_seconds >= self.owm_timeout_seconds:
            problems.append(
                f"DEADLINE_MARGIN_SECONDS ({self.deadline_margin_seconds:g}) is not below "
                f"OWM_TIMEOUT_SECONDS ({self.owm_timeout_seconds:g}): a caller whose deadline is the "
                "upstream timeout would never reach upstream"
            )
        if self.deadline_margin_seconds < 0.1:
            problems.append(
                f"DEADLINE_MARGIN_SECONDS ({self.deadline_margin_seconds:g}) leaves no time to answer with a "
                "stale entry after an upstream timeout: callers will see DEADLINE_EXCEEDED instead"
            )
        if self.max_connection_age_seconds < MIN_USEFUL_CONNECTION_AGE_SECONDS:
            problems.append(
                f"MAX_CONNECTION_AGE_SECONDS ({self.max_connection_age_seconds:g}) is below the frontend's "
                f"DNS re-resolution interval ({MIN_USEFUL_CONNECTION_AGE_SECONDS:g} s): connections end "
                "before the client may look for new pods: each GOAWAY costs a reconnect and finds nothing new"
            )
        return problems

    # Deliberately the same as tenki_frontend.config's: one settings pattern for both services, which ship as
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
        # The keyword values only: from_env() reads the environment it is given and passes them, so a test's
        # mapping is never topped up from os.environ, and no .env file or secrets directory is read.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeatherSettings:
        """Read settings from `environ` (default: os.environ); raise ConfigError naming each bad variable."""
        environ = os.environ if environ is None else environ
        # Text, by variable name; pydantic parses each into its field's type (hence Any, not str).
        values: dict[str, Any] = {name: environ[name] for name in env_var_names() if name in environ}
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None


def _describe(error: ValidationError) -> str:
    """pydantic's error as prose, one "VARIABLE: problem (got value)" per bad variable."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        # Never echo the input of a secret back.
        secret = "KEY" in name or "PASSWORD" in name or name == "REDIS_URL"  # a URL may hold a password
        shown = "" if secret else f" (got {item.get('input')!r})"
        problems.append(f"{name}: {item['msg']}{shown}")
    return "invalid configuration: " + "; ".join(problems)


def env_var_names() -> frozenset[str]:
    """The environment variable names the weather service reads."""
    return frozenset(field.alias or name for name, field in WeatherSettings.model_fields.items())
