"""The chart's security promises, read off the rendered objects.

Every container: requests and limits, no privilege escalation, no capabilities, non-root, seccomp
RuntimeDefault, a read-only root filesystem (with a writable /tmp). The weather service's gRPC port admits
the frontend and nothing else. The OWM key lives in a Secret and nowhere else.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from deploy_support import (
    CANARY_KEY,
    RELEASE,
    component_container,
    named,
    of_kind,
    pod_specs,
    render,
    selects,
)

# The one container that keeps a writable root filesystem, and why: the selenium image writes its generated
# config, browser profile and supervisor logs under its own directories (a test-only toggle, off by default).
WRITABLE_ROOT = {"selenium": "the selenium image writes config and profiles into its root filesystem"}


def containers(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (f"{name}/{c['name']}", c, spec)
        for name, spec, _ in pod_specs(objects)
        for c in spec.get("initContainers", []) + spec["containers"]
    ]


def test_every_container_has_requests_and_limits(objects: list[dict[str, Any]]) -> None:
    for where, container, _ in containers(objects):
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{where}: requests"
        assert {"cpu", "memory"} <= set(resources.get("limits", {})), f"{where}: limits"


def test_every_container_runs_locked_down(objects: list[dict[str, Any]]) -> None:
    for where, container, spec in containers(objects):
        pod = spec.get("securityContext", {})
        ctx = container.get("securityContext", {})
        assert ctx.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation"
        assert ctx.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities not dropped"
        assert not ctx.get("capabilities", {}).get("add"), f"{where}: adds capabilities"
        assert ctx.get("privileged") in (None, False), f"{where}: privileged"
        assert ctx.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, f"{where}: runAsNonRoot"
        # A user id, when given, is never root; without one (OpenShift) the platform assigns a non-root one.
        uid = ctx.get("runAsUser", pod.get("runAsUser"))
        assert uid is None or uid > 0, f"{where}: runs as root"
        seccomp = ctx.get("seccompProfile") or pod.get("seccompProfile") or {}
        assert seccomp.get("type") == "RuntimeDefault", f"{where}: seccomp"
        if container["name"] in WRITABLE_ROOT:
            continue
        assert ctx.get("readOnlyRootFilesystem") is True, f"{where}: root filesystem is writable"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{where}: no writable emptyDir /tmp"


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def test_termination_grace_covers_the_pre_stop_pause_and_the_drain(objects: list[dict[str, Any]]) -> None:
    # Seconds from SIGTERM to exit, by the services' own settings: each one's drain, then its grace (the
    # weather service's, gunicorn's graceful timeout).
    shutdown = {
        "weather": ("SHUTDOWN_DRAIN_SECONDS", "SHUTDOWN_GRACE_SECONDS"),
        "frontend": ("SHUTDOWN_DRAIN_SECONDS", "GUNICORN_GRACEFUL_TIMEOUT"),
    }
    for component, names in shutdown.items():
        deployment = named(objects, "Deployment", f"{RELEASE}-{component}")
        spec = deployment["spec"]["template"]["spec"]
        container = component_container(objects, component)
        pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pause > 0, f"{component}: no preStop pause"
        drain = sum(float(env_of(container)[name]["value"]) for name in names)
        assert spec["terminationGracePeriodSeconds"] > pause + drain, component


def policies_for(objects: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        p
        for p in of_kind(objects, "NetworkPolicy")
        if selects(p["spec"]["podSelector"]["matchLabels"], labels)
    ]


def admits(rule: dict[str, Any], port_name: str, port_number: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") in (port_name, port_number) for p in ports)


def test_weather_grpc_admits_the_frontend_and_nothing_else(
    value_set: str, objects: list[dict[str, Any]]
) -> None:
    weather = named(objects, "Deployment", f"{RELEASE}-weather")["spec"]["template"]["metadata"]["labels"]
    frontend = named(objects, "Deployment", f"{RELEASE}-frontend")["spec"]["template"]["metadata"]["labels"]
    policies = policies_for(objects, weather)
    if value_set == "no-network-policy":
        assert not policies
        return
    assert len(policies) == 1 and policies[0]["spec"]["policyTypes"] == ["Ingress"]
    grpc = next(p for p in component_container(objects, "weather")["ports"] if p["name"] == "grpc")
    rules = [r for r in policies[0]["spec"]["ingress"] if admits(r, "grpc", grpc["containerPort"])]
    assert rules, "nothing may reach the weather gRPC port: the frontend could not work"
    peers = [peer for rule in rules for peer in rule.get("from", [{}])]
    # Exactly two peers, both pods of the release's namespace (no namespaceSelector, no ipBlock): the
    # frontend's pods and the gRPC `helm test` pod, which calls GetCurrentWeather on this port.
    assert len(peers) == 2 and all(set(p) == {"podSelector"} for p in peers), f"gRPC peers: {peers}"
    frontend_peer, test_peer = (p["podSelector"]["matchLabels"] for p in peers)
    assert (
        frontend_peer
        == named(objects, "Deployment", f"{RELEASE}-frontend")["spec"]["selector"]["matchLabels"]
    )
    assert selects(frontend_peer, frontend)
    pods = {name: labels for name, _, labels in pod_specs(objects)}
    assert [name for name, labels in pods.items() if selects(test_peer, labels)] == [f"{RELEASE}-test-grpc"]
    # Nothing else matches either peer: not the selenium pod, not the web `helm test` pod.
    for name, labels in pods.items():
        if name not in (f"{RELEASE}-frontend", f"{RELEASE}-test-grpc"):
            assert not selects(frontend_peer, labels) and not selects(test_peer, labels), name


def test_weather_metrics_admit_the_configured_namespace() -> None:
    rendered = render("--set", "networkPolicy.metricsNamespace=observability")
    (policy,) = [
        p for p in of_kind(rendered, "NetworkPolicy") if p["metadata"]["name"] == f"{RELEASE}-weather"
    ]
    metrics_rules = [r for r in policy["spec"]["ingress"] if admits(r, "metrics", 9090)]
    assert len(metrics_rules) == 1
    assert metrics_rules[0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
    ]
    assert not admits(metrics_rules[0], "grpc", 50051)


def test_the_key_lives_in_a_secret_and_nowhere_else() -> None:
    rendered = render("--set", f"owm.apiKey={CANARY_KEY}")
    (secret,) = of_kind(rendered, "Secret")
    assert base64.b64decode(secret["data"]["OWM_API_KEY"]).decode() == CANARY_KEY
    others = [o for o in rendered if o is not secret]
    text = json.dumps(others)
    assert CANARY_KEY not in text, "the OWM key is rendered outside its Secret"
    assert base64.b64encode(CANARY_KEY.encode()).decode() not in text
    assert not of_kind(rendered, "ConfigMap") or CANARY_KEY not in json.dumps(of_kind(rendered, "ConfigMap"))
    env = env_of(component_container(rendered, "weather"))
    assert "value" not in env["OWM_API_KEY"]
    assert env["OWM_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": secret["metadata"]["name"],
        "key": "OWM_API_KEY",
    }


@pytest.mark.parametrize("value_set", ["existing-secret"])
def test_an_existing_secret_is_referenced_not_created(objects: list[dict[str, Any]]) -> None:
    assert not of_kind(objects, "Secret")
    env = env_of(component_container(objects, "weather"))
    assert env["OWM_API_KEY"] == {
        "name": "OWM_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "tenki-owm-prod", "key": "api-key"}},
    }


def test_without_a_key_the_service_runs_in_demo_mode(default_objects: list[dict[str, Any]]) -> None:
    assert not of_kind(default_objects, "Secret")
    for component in ("weather", "frontend"):
        assert "OWM_API_KEY" not in env_of(component_container(default_objects, component))


def test_no_env_value_anywhere_is_a_literal_key(objects: list[dict[str, Any]]) -> None:
    for where, container, _ in containers(objects):
        for entry in container.get("env", []):
            if "KEY" in entry["name"] or "SECRET" in entry["name"] or "TOKEN" in entry["name"]:
                assert "value" not in entry, f"{where}: {entry['name']} is a literal value"
