"""The chart's tracing, fault-injection and egress values, as the services and the cluster would read them."""

from __future__ import annotations

from typing import Any

from deploy_support import RELEASE, VALUE_SETS, component_container, helm, named, render
from tenki_frontend.config import FrontendSettings
from tenki_weather.config import WeatherSettings
from tenki_weather.faults import FaultPlan

COLLECTOR = "http://otel-collector.observability.svc:4318"


def env_of(objects: list[dict[str, Any]], component: str) -> dict[str, str]:
    container = component_container(objects, component)
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_by_default_no_tracing_no_faults_no_egress_rules(default_objects: list[dict[str, Any]]) -> None:
    weather = WeatherSettings.from_env(env_of(default_objects, "weather"))
    frontend = FrontendSettings.from_env(env_of(default_objects, "frontend"))
    assert weather.tracing_endpoint == "" and frontend.tracing_endpoint == ""
    assert not FaultPlan.from_settings(weather).on
    assert not [n for n in env_of(default_objects, "weather") if n.startswith(("OTEL_", "FAULT_"))]
    for component in ("weather", "frontend"):
        policy = named(default_objects, "NetworkPolicy", f"{RELEASE}-{component}")
        assert policy["spec"]["policyTypes"] == ["Ingress"]


def test_tracing_on_both_services_export_to_the_collector_with_the_sampler() -> None:
    objects = render(*VALUE_SETS["tracing-drill"])
    weather = WeatherSettings.from_env(env_of(objects, "weather"))
    frontend = FrontendSettings.from_env(env_of(objects, "frontend"))
    for settings, name in ((weather, "tenki-weather"), (frontend, "tenki-frontend")):
        assert settings.tracing_endpoint == f"{COLLECTOR}/v1/traces"
        assert settings.otel_service_name == name
        assert settings.otel_traces_sampler == "parentbased_traceidratio"
        assert settings.otel_traces_sampler_arg == 0.25
        assert "deployment.environment=staging" in settings.otel_resource_attributes
        assert "k8s.namespace.name=tenki" in settings.otel_resource_attributes


def test_faults_reach_the_weather_service_and_the_notes_warn() -> None:
    objects = render(*VALUE_SETS["tracing-drill"])
    plan = FaultPlan.from_settings(WeatherSettings.from_env(env_of(objects, "weather")))
    assert plan.on and plan.describe() == (
        "weather API calls delayed by 0.2 s; 10% of weather API calls fail with RESOURCE_EXHAUSTED; "
        "health says NOT_SERVING for tenki.weather.v1.WeatherService"
    )
    assert not [n for n in env_of(objects, "frontend") if n.startswith("FAULT_")]
    text = helm("install", RELEASE, "charts/tenki", "--dry-run=client", "-n", "tenki",
                *VALUE_SETS["tracing-drill"]).stdout
    assert "FAULT INJECTION IS ON" in text and f"export spans (OTLP/HTTP) to {COLLECTOR}" in text


def test_restricted_egress_admits_the_collector_dns_owm_and_the_weather_port() -> None:
    objects = render(*VALUE_SETS["tracing-drill"])
    for component in ("weather", "frontend"):
        policy = named(objects, "NetworkPolicy", f"{RELEASE}-{component}")
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        rules = policy["spec"]["egress"]
        ports = [{(p["port"], p["protocol"]) for p in rule["ports"]} for rule in rules]
        assert {(53, "UDP"), (53, "TCP")} in ports
        collector = next(rule for rule in rules if {(p["port"]) for p in rule["ports"]} == {4318})
        assert collector["to"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
        ]
    weather_rules = named(objects, "NetworkPolicy", f"{RELEASE}-weather")["spec"]["egress"]
    assert any({p["port"] for p in rule["ports"]} == {443, 80} and "to" not in rule for rule in weather_rules)
    frontend_rules = named(objects, "NetworkPolicy", f"{RELEASE}-frontend")["spec"]["egress"]
    grpc_rule = next(rule for rule in frontend_rules if {p["port"] for p in rule["ports"]} == {50051})
    assert grpc_rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "weather"


def test_the_collector_port_follows_the_endpoint_and_tracing_needs_one() -> None:
    objects = render("--set", "tracing.enabled=true", "--set", "tracing.endpoint=https://otlp.example.org",
                     "--set", "networkPolicy.egress.enabled=true")
    rules = named(objects, "NetworkPolicy", f"{RELEASE}-weather")["spec"]["egress"]
    assert any([p["port"] for p in rule["ports"]] == [443] and "to" not in rule for rule in rules)
    failed = helm("template", RELEASE, "charts/tenki", "--set", "tracing.enabled=true", check=False)
    assert failed.returncode != 0 and "tracing.enabled needs tracing.endpoint" in failed.stderr


def test_the_schema_rejects_a_fault_rate_above_one_and_an_unknown_sampler() -> None:
    for bad in (["--set-json", "weather.faults.errorRate=2"], ["--set", "tracing.sampler=sometimes"],
                ["--set", "weather.faults.errorCode=OK"]):
        result = helm("template", RELEASE, "charts/tenki", *bad, check=False)
        assert result.returncode != 0 and "schema" in result.stderr, bad


def test_restricted_egress_keeps_the_metrics_ingress_and_reaches_the_charts_redis() -> None:
    objects = render("--set", "networkPolicy.egress.enabled=true", "--set", "redis.enabled=true")
    for component in ("weather", "frontend"):
        ingress = named(objects, "NetworkPolicy", f"{RELEASE}-{component}")["spec"]["ingress"]
        metrics = [rule for rule in ingress if {p["port"] for p in rule["ports"]} == {"metrics"}]
        assert len(metrics) == 1 and "namespaceSelector" in metrics[0]["from"][0], component
    egress = named(objects, "NetworkPolicy", f"{RELEASE}-weather")["spec"]["egress"]
    redis = next(rule for rule in egress if {p["port"] for p in rule["ports"]} == {6379})
    assert redis["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "redis"
