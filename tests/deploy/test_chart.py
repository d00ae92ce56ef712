"""The chart lints, rejects typos, documents every value, and its objects fit together.

"Fit together" is what breaks a release in a cluster without any error at install: a Service that selects no
pod, a targetPort no container has, a route to a Service that does not exist, a probe on a wrong port.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART,
    RELEASE,
    VALUE_SETS,
    component_container,
    helm,
    proxy_container,
    named,
    of_kind,
    pod_specs,
    render,
    selects,
)

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_helm_lint_strict_passes(value_set: str) -> None:
    proc = helm("lint", "--strict", str(CHART), *VALUE_SETS[value_set], check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "typo",
    [
        "weather.replicas=3",  # replicaCount
        "owm.apikey=abc",  # apiKey
        "networkpolicy.enabled=false",  # networkPolicy
        "frontend.service.prot=8080",  # port
    ],
)
def test_a_typo_in_set_fails_the_install(typo: str) -> None:
    proc = helm("template", RELEASE, str(CHART), "--set", typo, check=False)
    assert proc.returncode != 0, f"--set {typo} rendered without complaint"
    assert "additional properties" in proc.stderr


@pytest.mark.parametrize(
    "bad", ["weather.grpcPort=http", "weather.provider=openweather", "weather.logLevel=LOUD"]
)
def test_a_wrong_value_fails_the_install(bad: str) -> None:
    proc = helm("template", RELEASE, str(CHART), "--set", bad, check=False)
    assert proc.returncode != 0, f"--set {bad} rendered without complaint"


def test_termination_grace_shorter_than_the_drain_fails_the_install() -> None:
    proc = helm(
        "template", RELEASE, str(CHART), "--set", "weather.terminationGracePeriodSeconds=12", check=False
    )
    assert proc.returncode != 0 and "terminationGracePeriodSeconds must exceed" in proc.stderr


# Values that are Kubernetes objects passed through as a whole (toYaml): documented once, not per inner key.
PASSTHROUGH = {"resources", "startupProbe", "readinessProbe", "livenessProbe", "topologySpreadConstraints"}


def leaf_paths(values: Any, prefix: str = "") -> list[str]:
    if isinstance(values, dict) and values and prefix.rstrip(".").rpartition(".")[2] not in PASSTHROUGH:
        return [p for key, value in values.items() for p in leaf_paths(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def test_the_chart_readme_lists_every_value() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    missing = [p for p in leaf_paths(values) if f"`{p}`" not in readme]
    assert not missing, f"charts/tenki/README.md does not list: {missing}"


def test_every_value_in_values_yaml_has_a_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    uncommented = []
    inside_indent: int | None = None  # indentation of a passthrough block being skipped
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("- "):
            continue
        indent = len(line) - len(line.lstrip())
        if inside_indent is not None and indent > inside_indent:
            continue
        key, _, value = stripped.partition(":")
        inside_indent = indent if key in PASSTHROUGH else None
        is_leaf = value.strip() != ""
        previous = lines[number - 1].strip() if number else ""
        if is_leaf and not previous.startswith("#"):
            uncommented.append(key)
    assert not uncommented, f"values without a comment line above them: {uncommented}"


def test_every_object_carries_the_standard_labels(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        labels = obj["metadata"].get("labels", {})
        missing = [label for label in STANDARD_LABELS if label not in labels]
        assert not missing, f"{obj['kind']} {obj['metadata']['name']} lacks {missing}"
        assert obj["metadata"].get("namespace") == "tenki", (
            f"{obj['kind']} {obj['metadata']['name']}: namespace"
        )


def test_deployment_selectors_match_their_pod_labels(objects: list[dict[str, Any]]) -> None:
    for deployment in of_kind(objects, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(selector, labels), f"{deployment['metadata']['name']}: selector {selector} vs {labels}"
    # Two workloads must never select each other's pods.
    deployments = of_kind(objects, "Deployment")
    for a in deployments:
        for b in deployments:
            if a is not b:
                assert not selects(
                    a["spec"]["selector"]["matchLabels"], b["spec"]["template"]["metadata"]["labels"]
                )


def test_services_select_pods_and_target_named_container_ports(objects: list[dict[str, Any]]) -> None:
    hooks = {o["metadata"]["name"] for o in objects
             if o["metadata"].get("annotations", {}).get("helm.sh/hook")}
    pods = [(name, spec, labels) for name, spec, labels in pod_specs(objects) if name not in hooks]
    for service in of_kind(objects, "Service"):
        selected = [
            (name, spec) for name, spec, labels in pods if selects(service["spec"]["selector"], labels)
        ]
        assert len(selected) == 1, f"Service {service['metadata']['name']} selects {len(selected)} workloads"
        _, spec = selected[0]
        port_names = {p["name"] for c in spec["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (
                f"Service {service['metadata']['name']} port {port['name']} targets {port['targetPort']!r}, "
                f"the pods have {sorted(port_names)}"
            )


def service_port(objects: list[dict[str, Any]], name: str, port: int | str) -> dict[str, Any]:
    service = named(objects, "Service", name)
    for entry in service["spec"]["ports"]:
        if port in (entry["port"], entry["name"]):
            return entry
    raise AssertionError(f"Service {name} has no port {port}")


def test_routes_and_ingress_point_at_existing_services_and_gateway_listeners(
    objects: list[dict[str, Any]],
) -> None:
    gateways = {g["metadata"]["name"]: g for g in of_kind(objects, "Gateway")}
    for route in of_kind(objects, "HTTPRoute") + of_kind(objects, "GRPCRoute"):
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                service_port(objects, backend["name"], backend["port"])
        for parent in route["spec"]["parentRefs"]:
            if parent["name"] in gateways:
                listeners = {lst["name"]: lst for lst in gateways[parent["name"]]["spec"]["listeners"]}
                assert parent.get("sectionName") in listeners, f"{route['kind']}: no listener {parent}"
                allowed = [k["kind"] for k in listeners[parent["sectionName"]]["allowedRoutes"]["kinds"]]
                assert route["kind"] in allowed
            else:
                # Only a shared Gateway the release does not own may be referenced by name alone.
                assert not gateways and parent.get("namespace"), (
                    f"{route['kind']} attaches to a missing Gateway"
                )
    for ingress in of_kind(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service_port(
                    objects, backend["name"], backend["port"].get("name") or backend["port"]["number"]
                )


def test_the_way_in_follows_the_values(value_set: str, objects: list[dict[str, Any]]) -> None:
    kinds = {o["kind"] for o in objects}
    if value_set == "ingress":
        assert "Ingress" in kinds and "HTTPRoute" not in kinds and "Gateway" not in kinds
        assert named(objects, "Ingress", f"{RELEASE}-frontend")["spec"]["ingressClassName"] == "traefik"
    elif value_set == "shared-gateway":
        assert "HTTPRoute" in kinds and "Gateway" not in kinds
    else:
        assert {"Gateway", "HTTPRoute"} <= kinds and "Ingress" not in kinds
        (gateway,) = of_kind(objects, "Gateway")
        assert gateway["spec"]["gatewayClassName"] == "cloud-provider-kind"
    assert ("GRPCRoute" in kinds) == (value_set == "grpc-route")
    assert ("HorizontalPodAutoscaler" in kinds) == (value_set == "hpa")
    assert ("NetworkPolicy" in kinds) == (value_set != "no-network-policy")


def test_probes_point_at_real_ports_and_paths(objects: list[dict[str, Any]]) -> None:
    weather = component_container(objects, "weather")
    grpc_port = next(p["containerPort"] for p in weather["ports"] if p["name"] == "grpc")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert weather[probe]["grpc"]["port"] == grpc_port, f"weather {probe} is not on the gRPC port"
    # Readiness follows the service's own health status, which it flips to NOT_SERVING on SIGTERM.
    assert weather["readinessProbe"]["grpc"]["service"] == "tenki.weather.v1.WeatherService"

    # The frontend's probes go through the proxy (the path users take): its port by number, since a named
    # port is the probed container's own and gunicorn has none but metrics.
    frontend = component_container(objects, "frontend")
    proxy = proxy_container(objects)
    (proxy_port,) = [p["containerPort"] for p in proxy["ports"] if p["name"] == "http"]
    assert frontend["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert frontend["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert frontend[probe]["httpGet"]["port"] == proxy_port
    # The proxy's own liveness is nginx alone, not gunicorn behind it.
    # (The pod's readiness as users see it is the frontend's /readyz through the proxy.)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert proxy[probe]["httpGet"] == {"path": "/proxy-healthz", "port": "http"}


def test_without_the_proxy_gunicorn_serves_the_pods_port_itself() -> None:
    objects = render("--set", "frontend.proxy.enabled=false")
    pod = named(objects, "Deployment", f"{RELEASE}-frontend")["spec"]["template"]["spec"]
    (frontend,) = pod["containers"]
    assert f"{RELEASE}-frontend-proxy" not in {c["metadata"]["name"] for c in of_kind(objects, "ConfigMap")}
    env = {e["name"]: e.get("value") for e in frontend["env"]}
    assert (env["FRONTEND_HOST"], env["FRONTEND_PORT"]) == ("0.0.0.0", "8080")
    assert {p["name"] for p in frontend["ports"]} == {"http", "metrics"}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert frontend[probe]["httpGet"]["port"] == "http"


def test_replicas_pdb_and_hpa(value_set: str, objects: list[dict[str, Any]]) -> None:
    for component in ("weather", "frontend"):
        deployment = named(objects, "Deployment", f"{RELEASE}-{component}")
        pdb = named(objects, "PodDisruptionBudget", f"{RELEASE}-{component}")
        assert selects(
            pdb["spec"]["selector"]["matchLabels"], deployment["spec"]["template"]["metadata"]["labels"]
        )
        if value_set == "hpa":
            # The HPA owns the replica count; a fixed one in the Deployment would fight it on every upgrade.
            assert "replicas" not in deployment["spec"]
            hpa = named(objects, "HorizontalPodAutoscaler", f"{RELEASE}-{component}")
            assert hpa["spec"]["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": deployment["metadata"]["name"],
            }
        else:
            expected = {"operator": {"weather": 3, "frontend": 4}}.get(value_set, {}).get(component, 2)
            assert deployment["spec"]["replicas"] == expected


def test_replica_count_is_configurable() -> None:
    rendered = render("--set", "frontend.replicaCount=5")
    assert named(rendered, "Deployment", f"{RELEASE}-frontend")["spec"]["replicas"] == 5


def test_service_accounts_mount_no_token(objects: list[dict[str, Any]]) -> None:
    accounts = {a["metadata"]["name"]: a for a in of_kind(objects, "ServiceAccount")}
    assert set(accounts) == {f"{RELEASE}-weather", f"{RELEASE}-frontend"}
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())
    for name, spec, _ in pod_specs(objects):
        assert spec.get("automountServiceAccountToken") is False, f"{name} mounts a service account token"
        if name in accounts:
            assert spec["serviceAccountName"] == name


def test_selenium_is_off_by_default_and_complete_when_on(
    value_set: str, objects: list[dict[str, Any]]
) -> None:
    deployments = {d["metadata"]["name"] for d in of_kind(objects, "Deployment")}
    if value_set != "selenium":
        assert f"{RELEASE}-selenium" not in deployments
        return
    container = component_container(objects, "selenium")
    assert container["image"].startswith("selenium/standalone-chromium:")
    assert service_port(objects, f"{RELEASE}-selenium", 4444)["targetPort"] == "webdriver"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/dev/shm" in mounts
