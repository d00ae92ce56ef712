"""skaffold.yaml, kind-config.yaml and .circleci/config.yml agree with the chart, the images and the Makefile.

skaffold.yaml's own schema check is in test_schemas.py; here: the artifacts build what exists, the Helm
release installs this chart, every value it sets (per profile too) is one the chart's strict schema accepts,
and the CI jobs run the targets the issue asks for.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import CHART, ROOT, component_container, named, render

SKAFFOLD = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
ARTIFACTS = {a["image"]: a for a in SKAFFOLD["build"]["artifacts"]}
(RELEASE,) = SKAFFOLD["deploy"]["helm"]["releases"]
PROFILES = {p["name"]: p for p in SKAFFOLD.get("profiles", [])}


def values_path_exists(path: str) -> bool:
    node: Any = yaml.safe_load((CHART / "values.yaml").read_text())
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


# The image of each artifact is the chart's `<values>.image`: the proxy is the frontend pod's sidecar.
IMAGE_VALUES = {"tenki-weather": "weather", "tenki-frontend": "frontend", "tenki-proxy": "frontend.proxy"}


def test_artifacts_build_the_three_images_from_the_repo_root() -> None:
    assert set(ARTIFACTS) == set(IMAGE_VALUES)
    for image, artifact in ARTIFACTS.items():
        # The build context is the repo root: proto/ and uv.lock are shared by both images.
        assert artifact["context"] == ".", image
        dockerfile = ROOT / artifact["context"] / artifact["docker"]["dockerfile"]
        assert dockerfile.is_file(), f"{image}: {dockerfile} is missing"
        assert dockerfile.parent.name == image.removeprefix("tenki-")
        assert "VERSION" in artifact["docker"]["buildArgs"]


def test_the_release_installs_this_chart_and_maps_each_image_to_its_values() -> None:
    assert (ROOT / RELEASE["chartPath"]).resolve() == CHART
    templates = RELEASE["setValueTemplates"]
    for key in templates:
        assert values_path_exists(key), f"setValueTemplates.{key} is not a value of the chart"
    for image in ARTIFACTS:
        component = IMAGE_VALUES[image]
        variable = image.replace("-", "_")
        assert templates[f"{component}.image.repository"] == f"{{{{.IMAGE_REPO_{variable}}}}}"
        assert templates[f"{component}.image.tag"] == f"{{{{.IMAGE_TAG_{variable}}}}}"


def apply_patches(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The few JSON-patch `add` operations the profiles use, applied the way skaffold would."""
    config = copy.deepcopy(config)
    for patch in patches:
        assert patch["op"] == "add", patch
        parts = patch["path"].strip("/").split("/")
        *parents, leaf = [p.replace("~1", "/").replace("~0", "~") for p in parts]
        node: Any = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[leaf] = patch["value"]
    return config


def set_args(release: dict[str, Any]) -> list[str]:
    args = []
    for key, value in release.get("setValues", {}).items():
        assert values_path_exists(key), f"setValues.{key} is not a value of the chart"
        args += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    for key in release.get("setValueTemplates", {}):
        args += ["--set-string", f"{key}=rendered-by-skaffold"]
    return args


@pytest.mark.parametrize("profile", [None, "dev", "webtest", "load"])
def test_each_profile_renders_with_the_charts_strict_schema(profile: str | None) -> None:
    config = SKAFFOLD if profile is None else apply_patches(SKAFFOLD, PROFILES[profile].get("patches", []))
    (release,) = config["deploy"]["helm"]["releases"]
    objects = render(*set_args(release))
    weather = component_container(objects, "weather")
    assert weather["image"] == "rendered-by-skaffold:rendered-by-skaffold"
    env = {e["name"]: e.get("value") for e in weather["env"]}
    deployments = {d["metadata"]["name"] for d in objects if d["kind"] == "Deployment"}
    if profile == "dev":
        assert env.get("WEATHER_PROVIDER") == "demo"
        forwarded = {(f["resourceName"], f["port"]) for f in PROFILES["dev"]["portForward"]}
        for service_name, port in forwarded:
            service = named(objects, "Service", service_name)
            assert port in [p["port"] for p in service["spec"]["ports"]]
    assert ("tenki-selenium" in deployments) == (profile == "webtest")
    if profile == "load":
        assert named(objects, "Deployment", "tenki-frontend")["spec"]["replicas"] == 3


def test_the_kind_cluster_is_the_one_the_make_targets_use() -> None:
    config = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    deploy_mk = (ROOT / "mk" / "deploy.mk").read_text()
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert re.search(rf"^KIND_CLUSTER := {config['name']}$", deploy_mk, re.MULTILINE)
    assert RELEASE["namespace"] == re.search(r"^NAMESPACE := (\S+)$", deploy_mk, re.MULTILINE).group(1)
    # The chart's default GatewayClass is the one cluster-up's cloud-provider-kind implements.
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["gateway"]["className"] == "cloud-provider-kind" and "cloud-provider-kind" in deploy_mk


def circleci_commands(job: dict[str, Any]) -> list[str]:
    commands = []
    for step in job["steps"]:
        if isinstance(step, dict) and "run" in step:
            run = step["run"]
            commands.append(run if isinstance(run, str) else run["command"])
    return commands


def test_circleci_runs_lint_and_tests_and_a_kind_cluster_job() -> None:
    config = yaml.safe_load((ROOT / ".circleci" / "config.yml").read_text())
    jobs = config["jobs"]
    docker_jobs = [j for j in jobs.values() if "docker" in j]
    machine_jobs = [j for j in jobs.values() if "machine" in j]
    assert any("make lint test" in c for j in docker_jobs for c in circleci_commands(j))
    assert any(j["docker"][0]["image"].startswith("python:3.11") for j in docker_jobs)
    machine = [c for j in machine_jobs for c in circleci_commands(j)]
    assert "make cluster-up" in machine
    assert "make deploy cluster-test cluster-load" in machine
    workflow_jobs = [next(iter(j)) if isinstance(j, dict) else j for w in config["workflows"].values()
                     if isinstance(w, dict) for j in w["jobs"]]
    assert set(workflow_jobs) == set(jobs)


def test_every_make_target_ci_calls_exists() -> None:
    targets = set()
    for makefile in [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]:
        targets |= set(re.findall(r"^([a-zA-Z0-9_.-]+):", Path(makefile).read_text(), re.MULTILINE))
    for target in ("lint", "test", "test-deploy", "helm", "cluster-up", "deploy", "cluster-test",
                   "cluster-load", "cluster-down"):
        assert target in targets, f"make {target} is not defined"


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


def test_circleci_pins_tools_that_read_this_projects_files() -> None:
    config = yaml.safe_load((ROOT / ".circleci" / "config.yml").read_text())
    env = next(j for j in config["jobs"].values() if "machine" in j)["environment"]
    deploy_mk = (ROOT / "mk" / "deploy.mk").read_text()
    minimum = re.search(r"^SKAFFOLD_MIN_VERSION := (\S+)$", deploy_mk, re.MULTILINE).group(1)
    # skaffold.yaml's apiVersion is one `make deploy` accepts, and the CI's skaffold is new enough for it.
    assert SKAFFOLD["apiVersion"] == "skaffold/v4beta14" and minimum == "2.19.0"
    assert version(env["SKAFFOLD_VERSION"]) >= version(minimum)
    # kubectl within one minor of the kind node's Kubernetes (the supported skew).
    node = yaml.safe_load((ROOT / "kind-config.yaml").read_text())["nodes"][0]["image"]
    node_minor = version(re.search(r":v([0-9.]+)@", node).group(1))[1]
    assert abs(version(env["KUBECTL_VERSION"])[1] - node_minor) <= 1


def test_circleci_downloads_are_pinned_and_sha256_checked() -> None:
    config = yaml.safe_load((ROOT / ".circleci" / "config.yml").read_text())
    job = next(j for j in config["jobs"].values() if "machine" in j)
    env = job["environment"]
    for tool in ("KIND", "KUBECTL", "SKAFFOLD"):
        assert re.fullmatch(r"v\d+\.\d+\.\d+", env[f"{tool}_VERSION"]), f"{tool} is not pinned to a release"
    for tool in ("KIND", "KUBECTL"):
        assert re.fullmatch(r"[0-9a-f]{64}", env[f"{tool}_SHA256"]), f"{tool}: no sha256"
    script = "\n".join(circleci_commands(job))
    # Every binary the job downloads goes through fetch(), which checks its sha256 before anything runs it.
    assert "sha256sum --check --strict" in script
    downloads = re.findall(r'^\s*fetch "\$HOME/bin/(\w+)"', script, re.MULTILINE)
    assert sorted(downloads) == ["kind", "kubectl", "skaffold"]
    direct = re.search(r"curl[^\n]*-o[^\n]*\$HOME/bin", script)
    assert not direct, f"a download skips fetch: {direct}"
    # cloud-provider-kind, the fourth download, is the image `make cluster-up` runs: pinned by tag and digest.
    deploy_mk = (ROOT / "mk" / "deploy.mk").read_text()
    assert re.search(r"^CLOUD_PROVIDER_KIND_VERSION := v\d+\.\d+\.\d+$", deploy_mk, re.MULTILINE)
    assert re.search(r"^CLOUD_PROVIDER_KIND_DIGEST := sha256:[0-9a-f]{64}$", deploy_mk, re.MULTILINE)
    assert re.search(r"^CLOUD_PROVIDER_KIND_IMAGE := \S+:\$\(CLOUD_PROVIDER_KIND_VERSION\)@"
                     r"\$\(CLOUD_PROVIDER_KIND_DIGEST\)$", deploy_mk, re.MULTILINE)
    assert "$(CLOUD_PROVIDER_KIND_IMAGE)" in deploy_mk.split("cluster-up:", 1)[1].split("\n.PHONY", 1)[0]
