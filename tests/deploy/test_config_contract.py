"""The chart's env entries are exactly the settings the services read, so the two cannot drift apart.

The services' config modules are the one source of truth for the names (pydantic field aliases); this test
reads them through `env_var_names()` and feeds the chart's literal values through the services' own
parsers, so a value the service would reject fails here, not in a crash-looping pod.
"""

from __future__ import annotations

from typing import Any

import yaml
from deploy_support import NAMESPACE, OPERATOR_VALUES, RELEASE, component_container, named, proxy_container
from tenki_frontend import config as frontend_config
from tenki_weather import config as weather_config

# Names the chart must always set, because the services' defaults are wrong in a cluster or because the
# chart's ports, probes and termination grace are computed from them.
REQUIRED = {
    "weather": {
        "WEATHER_HOST", "WEATHER_PORT", "METRICS_PORT", "SHUTDOWN_GRACE_SECONDS", "SHUTDOWN_DRAIN_SECONDS",
    },
    "frontend": {
        "FRONTEND_HOST", "FRONTEND_PORT", "WEATHER_ADDR",
        "GUNICORN_GRACEFUL_TIMEOUT", "SHUTDOWN_DRAIN_SECONDS",
    },
}
KNOWN = {
    "weather": weather_config.env_var_names(),
    "frontend": frontend_config.env_var_names(),
}


# What an operator adds through extraEnv is the operator's own business (a CA bundle path, the pod's name):
# the contract covers the names the chart itself sets.
OPERATOR_EXTRA_ENV = {
    component: {e["name"] for e in settings.get("extraEnv", [])}
    for component, settings in yaml.safe_load(OPERATOR_VALUES.read_text()).items()
    if component in KNOWN
}


def literal_env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_the_chart_sets_only_variables_the_services_read(objects: list[dict[str, Any]]) -> None:
    for component, known in KNOWN.items():
        names = {e["name"] for e in component_container(objects, component).get("env", [])}
        unknown = names - known - OPERATOR_EXTRA_ENV.get(component, set())
        assert not unknown, f"{component}: the chart sets {sorted(unknown)}, which the service never reads"
        missing = REQUIRED[component] - names
        assert not missing, f"{component}: the chart does not set {sorted(missing)}"


def test_the_services_accept_every_value_the_chart_sets(objects: list[dict[str, Any]]) -> None:
    weather = weather_config.WeatherSettings.from_env(literal_env(component_container(objects, "weather")))
    frontend = frontend_config.FrontendSettings.from_env(
        literal_env(component_container(objects, "frontend"))
    )
    # gunicorn behind the pod's proxy: loopback only; its metrics on the pod's address for Prometheus.
    assert weather.host == "0.0.0.0" and frontend.host == "127.0.0.1"
    assert frontend.metrics_bind_host == "0.0.0.0"


def test_ports_in_env_are_the_ports_the_containers_and_services_declare(
    objects: list[dict[str, Any]],
) -> None:
    weather = component_container(objects, "weather")
    settings = weather_config.WeatherSettings.from_env(literal_env(weather))
    ports = {p["name"]: p["containerPort"] for p in weather["ports"]}
    assert ports == {"grpc": settings.port, "metrics": settings.metrics_port}

    frontend = component_container(objects, "frontend")
    front = frontend_config.FrontendSettings.from_env(literal_env(frontend))
    ports = {p["name"]: p["containerPort"] for p in frontend["ports"]}
    assert ports == {"metrics": front.metrics_port}
    # The proxy listens on the pod's http port and hands requests to gunicorn's loopback port, as its
    # ConfigMap (the chart's files/nginx-frontend.conf, rendered) says.
    (proxy_port,) = [p["containerPort"] for p in proxy_container(objects)["ports"] if p["name"] == "http"]
    config = named(objects, "ConfigMap", f"{RELEASE}-frontend-proxy")["data"]["nginx.conf"]
    assert f"listen {proxy_port};" in config and f"server 127.0.0.1:{front.port};" in config
    assert len({front.metrics_port, front.port, proxy_port}) == 3
    service = named(objects, "Service", f"{RELEASE}-frontend")
    assert next(p for p in service["spec"]["ports"] if p["name"] == "http")["targetPort"] == "http"

    # The frontend resolves the weather pods through the headless Service (gRPC dns:/// target), so its
    # round_robin channel spreads calls over every pod.
    service = named(objects, "Service", f"{RELEASE}-weather-headless")
    assert service["spec"]["clusterIP"] == "None" and not service["spec"]["publishNotReadyAddresses"]
    grpc = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert front.weather_addr == f"dns:///{service['metadata']['name']}.{NAMESPACE}.svc:{grpc['port']}"
    assert grpc["targetPort"] == "grpc" and grpc["port"] == settings.port


def test_the_time_budget_of_the_chart_can_work(objects: list[dict[str, Any]]) -> None:
    # README "The time budget": the frontend's deadline covers the upstream timeout plus the service's margin.
    weather = weather_config.WeatherSettings.from_env(literal_env(component_container(objects, "weather")))
    front = frontend_config.FrontendSettings.from_env(literal_env(component_container(objects, "frontend")))
    assert weather.budget_warnings() == [] and front.budget_warnings() == []
    assert front.weather_deadline_seconds >= weather.owm_timeout_seconds + weather.deadline_margin_seconds
    # The weather service admits the frontend's keepalive pings (no GOAWAY too_many_pings).
    assert weather.keepalive_min_ping_seconds <= front.weather_keepalive_seconds


def test_demo_mode_is_the_default_provider(default_objects: list[dict[str, Any]]) -> None:
    settings = weather_config.WeatherSettings.from_env(
        literal_env(component_container(default_objects, "weather"))
    )
    assert settings.provider == "demo"
