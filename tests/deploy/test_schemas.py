"""What the API server would say: every rendered object against the schema of its kind.

Built-in kinds: kubernetes-validate --strict (unknown fields are errors) for the Kubernetes
version of the kind node image. Gateway API kinds: the openAPIV3Schema of the v1.6.1 standard-channel CRDs,
made strict the same way. skaffold.yaml: skaffold's own JSON schema for v4beta14. The schemas are read in
place from TENKI_SCHEMAS_DIR (see conftest.py).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_support import ROOT, render

# The Kubernetes minor of kind-config.yaml's node image; tests below keep the two in step.
KUBERNETES_VERSION = "1.35.0"
GATEWAY_GROUP = "gateway.networking.k8s.io"
MONITORING_GROUP = "monitoring.coreos.com"
# Kinds kubernetes-validate does not know: each is checked against its own schema below.
CRD_GROUPS = {GATEWAY_GROUP, MONITORING_GROUP}


def test_validated_version_is_the_kind_node_version() -> None:
    config = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    images = {node["image"] for node in config["nodes"]}
    assert len(images) == 1
    (image,) = images
    match = re.fullmatch(r"kindest/node:v(\d+\.\d+)\.\d+@sha256:[0-9a-f]{64}", image)
    assert match, f"the kind node image must be pinned by version and digest: {image}"
    assert KUBERNETES_VERSION.startswith(match.group(1) + ".")


def test_builtin_objects_are_valid_kubernetes(objects: list[dict[str, Any]]) -> None:
    builtin = [o for o in objects if o["apiVersion"].split("/")[0] not in CRD_GROUPS]
    assert builtin
    for obj in builtin:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_kubernetes_validate_rejects_an_unknown_field(default_objects: list[dict[str, Any]]) -> None:
    # The strict check is what catches a misspelt field in a template: prove it is on.
    deployment = copy.deepcopy(next(o for o in default_objects if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown properties forbidden wherever it lists properties (kubectl's strict field
    validation: the API server would otherwise drop a misspelt field without a word)."""
    schema = dict(schema)
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for key in ("properties",):
        if key in schema:
            schema[key] = {name: strict(sub) for name, sub in schema[key].items()}
    if isinstance(schema.get("items"), dict):
        schema["items"] = strict(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = strict(schema["additionalProperties"])
    return schema


def gateway_schemas(schemas_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict openAPIV3Schema of every Gateway API CRD version that is served."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((schemas_dir / "gateway-api-v1.6").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    # metadata is validated by the API server, not by the CRD schema.
                    schema["properties"]["metadata"] = {"type": "object"}
                    found[(f"{group}/{version['name']}", kind)] = schema
    return found


def test_gateway_api_objects_match_the_crd_schemas(objects: list[dict[str, Any]], schemas_dir: Path) -> None:
    schemas = gateway_schemas(schemas_dir)
    assert ("gateway.networking.k8s.io/v1", "HTTPRoute") in schemas
    for obj in objects:
        if not obj["apiVersion"].startswith(GATEWAY_GROUP + "/"):
            continue
        schema = schemas.get((obj["apiVersion"], obj["kind"]))
        assert schema, f"{obj['apiVersion']} {obj['kind']} is not a served Gateway API v1.6 kind"
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{obj['kind']} {obj['metadata']['name']}: " + "; ".join(
            f"{e.message} at {list(e.path)}" for e in errors[:5]
        )


def test_the_crd_check_rejects_a_misspelt_field(
    default_objects: list[dict[str, Any]], schemas_dir: Path
) -> None:
    route = copy.deepcopy(next(o for o in default_objects if o["kind"] == "HTTPRoute"))
    route["spec"]["rules"][0]["backendRef"] = route["spec"]["rules"][0].pop("backendRefs")
    schema = gateway_schemas(schemas_dir)[(route["apiVersion"], "HTTPRoute")]
    assert list(jsonschema.Draft7Validator(schema).iter_errors(route))


def test_skaffold_yaml_matches_skaffolds_schema(schemas_dir: Path) -> None:
    schema = json.loads((schemas_dir / "skaffold-v4beta14.json").read_text())
    documents = [d for d in yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()) if d]
    assert documents and all(d["apiVersion"] == "skaffold/v4beta14" for d in documents)
    validator = jsonschema.Draft7Validator(schema)
    for document in documents:
        errors = list(validator.iter_errors(document))
        assert not errors, "; ".join(f"{e.message[:200]} at {list(e.path)}" for e in errors[:5])


def run_schema_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on the skaffold schema test alone, with the schemas pointed at an empty folder."""
    environ = {k: v for k, v in os.environ.items() if k != "TENKI_REQUIRE_SCHEMAS"}
    environ.update(TENKI_SCHEMAS_DIR=str(tmp_path), **env)
    test = f"{Path(__file__)}::test_skaffold_yaml_matches_skaffolds_schema"
    return subprocess.run([sys.executable, "-m", "pytest", test, "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)


def test_absent_schemas_are_one_skip_line_here_and_a_failure_in_ci(tmp_path: Path) -> None:
    skipped = run_schema_test(tmp_path)
    assert skipped.returncode == 0, skipped.stdout
    assert f"reference schemas not found in {tmp_path}" in skipped.stdout
    required = run_schema_test(tmp_path, TENKI_REQUIRE_SCHEMAS="1")
    assert required.returncode != 0, required.stdout
    assert "TENKI_REQUIRE_SCHEMAS=1 makes this a failure" in required.stdout


# The Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1) is not in kubernetes-validate and its
# CRD is not among the reference schemas, so its shape is checked against this schema of exactly the fields
# the chart renders, transcribed from the CRD's openAPIV3Schema (types and the Duration pattern) and strict:
# a field the chart adds must be added here, against the CRD's documentation.
DURATION = "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "namespace"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": LABELS},
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["matchLabels"],
                    "properties": {"matchLabels": LABELS},
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchNames": {"type": "array", "items": {"type": "string"}}},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string", "minLength": 1},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                        },
                    },
                },
            },
        },
    },
}


def test_service_monitors_match_the_fields_schema(objects: list[dict[str, Any]]) -> None:
    monitors = [o for o in objects if o["apiVersion"].startswith(MONITORING_GROUP + "/")]
    assert all(o["kind"] == "ServiceMonitor" for o in monitors)
    validator = jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA)
    for monitor in monitors:
        errors = sorted(validator.iter_errors(monitor), key=lambda e: list(e.path))
        assert not errors, f"ServiceMonitor {monitor['metadata']['name']}: " + "; ".join(
            f"{e.message} at {list(e.path)}" for e in errors[:5]
        )


def test_the_service_monitor_check_rejects_a_misspelt_field() -> None:
    monitor = next(o for o in render("--set", "serviceMonitor.enabled=true") if o["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = monitor["spec"]["endpoints"][0].pop("interval")
    assert list(jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA).iter_errors(monitor))
    monitor["spec"]["endpoints"][0]["interval"] = "30 seconds"
    assert list(jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA).iter_errors(monitor))
