"""Helpers of the static delivery proofs: the helm binary, rendering the chart, finding rendered objects.

Nothing here needs a cluster or a container engine: `helm template` renders what a cluster would receive,
and the tests read those objects the way the API server and the kubelet would.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "tenki"
NAMESPACE = "tenki"
RELEASE = "tenki"
# A key that must never show up outside the Secret holding it.
CANARY_KEY = "canary-owm-key-5f0c2d9e"

# The Secret an operator keeps the Redis password in (redis.existingSecret).
REDIS_SECRET = "tenki-redis-auth"

# An operator's production values file: OpenShift ids, every extension point, ServiceMonitors.
OPERATOR_VALUES = ROOT / "tests" / "deploy" / "operator-values.yaml"

# The value sets every test renders: the defaults and each switch a production install may flip.
VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "api-key": ["--set", f"owm.apiKey={CANARY_KEY}"],
    "existing-secret": [
        "--set",
        "owm.existingSecret=tenki-owm-prod",
        "--set",
        "owm.existingSecretKey=api-key",
    ],
    "ingress": [
        "--set",
        "ingress.enabled=true",
        "--set",
        "ingress.className=traefik",
        "--set",
        "ingress.host=tenki.example.org",
        "--set",
        "httpRoute.enabled=false",
    ],
    "selenium": ["--set", "selenium.enabled=true"],
    "hpa": ["--set", "weather.autoscaling.enabled=true", "--set", "frontend.autoscaling.enabled=true"],
    "no-network-policy": ["--set", "networkPolicy.enabled=false"],
    "grpc-route": [
        "--set",
        "grpcRoute.enabled=true",
        "--set",
        "grpcRoute.hostnames[0]=grpc.tenki.example.org",
    ],
    "shared-gateway": [
        "--set",
        "gateway.create=false",
        "--set",
        "gateway.parentRefs[0].name=shared-gateway",
        "--set",
        "gateway.parentRefs[0].namespace=gateway-infra",
        "--set",
        "httpRoute.hostnames[0]=tenki.example.org",
    ],
    "service-monitor": ["--set", "serviceMonitor.enabled=true"],
    "redis": ["--set", "redis.enabled=true"],
    "redis-external": [
        "--set",
        "redis.url=rediss://redis.cache.example.org:6380/2",
        "--set",
        f"redis.existingSecret={REDIS_SECRET}",
    ],
    "operator": ["-f", str(OPERATOR_VALUES)],
    # A drill with tracing: both services export to a collector, egress restricted (the collector admitted),
    # faults injected into the weather service.
    "tracing-drill": [
        "--set", "tracing.enabled=true",
        "--set", "tracing.endpoint=http://otel-collector.observability.svc:4318",
        "--set", "tracing.resourceAttributes=deployment.environment=staging",
        "--set-json", "tracing.samplerArg=0.25",
        "--set",
        "tracing.collectorPeers[0].namespaceSelector.matchLabels."
        "kubernetes\\.io/metadata\\.name=observability",
        "--set", "networkPolicy.egress.enabled=true",
        "--set-json", "weather.faults.delaySeconds=0.2",
        "--set-json", "weather.faults.errorRate=0.1",
        "--set", "weather.faults.errorCode=RESOURCE_EXHAUSTED",
        "--set", "weather.faults.healthNotServing=true",
    ],
}


def helm_binary() -> str:
    """helm on PATH (make test-deploy puts the pinned one there), else the one `make helm` installs."""
    found = shutil.which("helm")
    if found:
        return found
    local = ROOT / ".tools" / "bin" / "helm"
    if local.exists():
        return str(local)
    pytest.fail("no helm binary: run `make helm` (it installs a pinned, sha256-checked helm into .tools/bin)")


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([helm_binary(), *args], capture_output=True, text=True, timeout=180, cwd=ROOT)
    if check and proc.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def render(*args: str) -> list[dict[str, Any]]:
    """`helm template` of the chart with `args`, hooks (the helm test pod) included, as a list of objects."""
    out = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    """(object name, pod spec, pod labels) of every workload and bare pod."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            template = obj["spec"]["template"]
            yield obj["metadata"]["name"], template["spec"], template["metadata"].get("labels", {})
        elif obj["kind"] == "Pod":
            yield obj["metadata"]["name"], obj["spec"], obj["metadata"].get("labels", {})


def component_container(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """The container named `component` of its Deployment (weather or frontend; the frontend pod also has
    its proxy sidecar, `proxy_container`)."""
    return pod_container(objects, component, component)


def proxy_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The frontend pod's nginx sidecar (frontend.proxy.enabled)."""
    return pod_container(objects, "frontend", "proxy")


def pod_container(objects: list[dict[str, Any]], component: str, name: str) -> dict[str, Any]:
    deployment = named(objects, "Deployment", f"{RELEASE}-{component}")
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return container


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
