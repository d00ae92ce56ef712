"""Each operator-facing value does what it says, read off the rendered objects.

Rendering and validation of these values (kubernetes-validate --strict, the Gateway API and ServiceMonitor
schemas, helm lint) run over every value set, the `operator` and `service-monitor` sets included; checkov runs
on the operator set in tests/reliability. Here: the security contexts (defaults, OpenShift, staying within
Pod Security "restricted"), the extension points, the spread constraints and the ServiceMonitors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from deploy_support import (
    CHART,
    OPERATOR_VALUES,
    RELEASE,
    component_container,
    helm,
    named,
    of_kind,
    pod_specs,
    render,
    selects,
)

COMPONENTS = ("weather", "frontend")
# The pods run from the chart's own images; selenium (test-only) brings its own user.
OWN_PODS = (f"{RELEASE}-weather", f"{RELEASE}-frontend", f"{RELEASE}-test", f"{RELEASE}-test-grpc")
OPENSHIFT = ["--set", "podSecurityContext.runAsUser=null", "--set", "podSecurityContext.runAsGroup=null",
             "--set", "podSecurityContext.fsGroup=null"]


def own_pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pods = {name: spec for name, spec, _ in pod_specs(objects) if name in OWN_PODS}
    assert set(pods) == set(OWN_PODS)
    return pods


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """What Pod Security "restricted" (Kubernetes 1.35) would reject in a pod spec: its baseline and
    restricted controls, for the fields a pod of this chart can carry."""
    problems = []
    pod = spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            problems.append(flag)
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= allowed_volumes:
            problems.append(f"volume {volume['name']}: {sorted(kinds - allowed_volumes)}")
    if pod.get("runAsUser") == 0:
        problems.append("pod runAsUser 0")
    if pod.get("seccompProfile", {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
        problems.append("pod seccomp")
    for container in spec.get("initContainers", []) + spec["containers"]:
        ctx = container.get("securityContext", {})
        where = container["name"]
        if ctx.get("privileged"):
            problems.append(f"{where}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation not false")
        if ctx.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            problems.append(f"{where}: runAsNonRoot not true")
        if ctx.get("runAsUser") == 0:
            problems.append(f"{where}: runAsUser 0")
        seccomp = ctx.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: seccomp {seccomp}")
        caps = ctx.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            problems.append(f"{where}: capabilities not dropped")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds {caps['add']}")
        if any(p.get("hostPort") for p in container.get("ports", [])):
            problems.append(f"{where}: hostPort")
        if ctx.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount")
    return problems


# -- security contexts -----------------------------------------------------------------------------


def test_every_pod_of_every_value_set_satisfies_restricted(objects: list[dict[str, Any]]) -> None:
    for name, spec, _ in pod_specs(objects):
        assert not restricted_violations(spec), f"{name}: {restricted_violations(spec)}"


def test_the_restricted_check_catches_a_violation(default_objects: list[dict[str, Any]]) -> None:
    spec = json.loads(json.dumps(own_pods(default_objects)[f"{RELEASE}-weather"]))
    spec["containers"][0]["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
    spec["securityContext"]["runAsUser"] = 0
    assert len(restricted_violations(spec)) == 3


def test_by_default_every_own_pod_runs_as_10001(default_objects: list[dict[str, Any]]) -> None:
    for name, spec in own_pods(default_objects).items():
        assert spec["securityContext"] == {
            "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        for container in spec["containers"]:  # the frontend's proxy sidecar too
            assert container["securityContext"] == {
                "runAsNonRoot": True, "allowPrivilegeEscalation": False, "privileged": False,
                "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            }, (name, container["name"])


@pytest.mark.parametrize("how", ["--set", "values file"])
def test_openshift_unsets_the_ids_and_stays_restricted(how: str) -> None:
    objects = render(*OPENSHIFT) if how == "--set" else render("-f", str(OPERATOR_VALUES))
    for name, spec in own_pods(objects).items():
        pod = spec["securityContext"]
        assert not {"runAsUser", "runAsGroup", "fsGroup"} & set(pod), f"{name}: {pod}"
        assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert "runAsUser" not in ctx
            assert ctx["capabilities"] == {"drop": ["ALL"]} and ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True and ctx["runAsNonRoot"] is True
        assert not restricted_violations(spec), name


@pytest.mark.parametrize(
    "leaving_restricted",
    [
        "podSecurityContext.runAsNonRoot=false",
        "podSecurityContext.runAsUser=0",
        "podSecurityContext.seccompProfile.type=Unconfined",
        "containerSecurityContext.allowPrivilegeEscalation=true",
        "containerSecurityContext.privileged=true",
        "containerSecurityContext.capabilities.drop[0]=NET_RAW",
        "containerSecurityContext.capabilities.add[0]=SYS_ADMIN",
        "containerSecurityContext.runAsNonRoot=null",
    ],
)
def test_an_override_that_leaves_restricted_fails_the_install(leaving_restricted: str) -> None:
    proc = helm("template", RELEASE, str(CHART), "--set", leaving_restricted, check=False)
    assert proc.returncode != 0, f"--set {leaving_restricted} rendered"


def test_security_context_values_reach_the_pods() -> None:
    objects = render("--set", "podSecurityContext.fsGroupChangePolicy=OnRootMismatch",
                     "--set", "containerSecurityContext.capabilities.add[0]=NET_BIND_SERVICE")
    for name, spec in own_pods(objects).items():
        assert spec["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch", name
        assert spec["containers"][0]["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]


# -- per-workload values ---------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_extra_env_reaches_the_container_after_the_charts_own(component: str) -> None:
    objects = render("--set", f"{component}.extraEnv[0].name=TENKI_EXTRA",
                     "--set", f"{component}.extraEnv[0].value=from-values")
    env = component_container(objects, component)["env"]
    assert env[-1] == {"name": "TENKI_EXTRA", "value": "from-values"}
    names = [e["name"] for e in env]
    assert names.count("TENKI_EXTRA") == 1 and "LOG_LEVEL" in names[:-1]
    other = "frontend" if component == "weather" else "weather"
    assert "TENKI_EXTRA" not in [e["name"] for e in component_container(objects, other)["env"]]


def test_the_operator_values_reach_their_fields() -> None:
    objects = render("-f", str(OPERATOR_VALUES))
    weather = named(objects, "Deployment", f"{RELEASE}-weather")["spec"]["template"]
    spec, container = weather["spec"], weather["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["SSL_CERT_FILE"]["value"] == "/etc/tenki-ca/ca.crt"
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert container["envFrom"] == [{"configMapRef": {"name": "corporate-proxy"}}]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["corporate-ca"] == {"name": "corporate-ca", "configMap": {"name": "corporate-ca"}}
    assert "tmp" in volumes, "the chart's /tmp stays beside extraVolumes"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/tenki-ca"] == {"name": "corporate-ca", "mountPath": "/etc/tenki-ca", "readOnly": True}
    assert mounts["/tmp"]["name"] == "tmp"
    assert weather["metadata"]["annotations"] == {"example.org/owner": "weather-team"}
    assert weather["metadata"]["labels"]["example.org/team"] == "weather"
    assert spec["nodeSelector"] == {"node-role.example.org/apps": "true"}
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert "nodeAffinity" in spec["affinity"]
    assert spec["priorityClassName"] == "tenki-critical"
    assert container["readinessProbe"] == {
        "grpc": {"port": 50051, "service": "tenki.weather.v1.WeatherService"},
        "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3,
    }
    assert container["resources"]["requests"] == {"cpu": "200m", "memory": "192Mi"}
    frontend = named(objects, "Deployment", f"{RELEASE}-frontend")["spec"]["template"]["spec"]
    assert "envFrom" not in frontend["containers"][0] and "nodeSelector" not in frontend


def test_every_extra_volume_mount_names_a_volume(objects: list[dict[str, Any]]) -> None:
    for name, spec, _ in pod_specs(objects):
        volumes = {v["name"] for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, f"{name}: mount {mount['name']} has no volume"


@pytest.mark.parametrize("component", COMPONENTS)
def test_pod_labels_never_override_the_selector(component: str) -> None:
    objects = render("--set", f"{component}.podLabels.app\\.kubernetes\\.io/component=hijacked",
                     "--set", f"{component}.podLabels.team=web")
    deployment = named(objects, "Deployment", f"{RELEASE}-{component}")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["team"] == "web" and labels["app.kubernetes.io/component"] == component
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)


@pytest.mark.parametrize("component", COMPONENTS)
def test_probe_timings_come_from_values_and_the_handlers_stay(component: str) -> None:
    objects = render("--set", f"{component}.livenessProbe.periodSeconds=17",
                     "--set", f"{component}.livenessProbe.initialDelaySeconds=4")
    probe = component_container(objects, component)["livenessProbe"]
    assert probe["periodSeconds"] == 17 and probe["initialDelaySeconds"] == 4
    assert ("grpc" if component == "weather" else "httpGet") in probe
    # The handler is the chart's contract with the service: not a value.
    proc = helm("template", RELEASE, str(CHART), "--set", f"{component}.livenessProbe.tcpSocket.port=1",
                check=False)
    assert proc.returncode != 0 and "additional properties" in proc.stderr


# -- topology spread -------------------------------------------------------------------------------


def spread(objects: list[dict[str, Any]], component: str) -> list[dict[str, Any]]:
    spec = named(objects, "Deployment", f"{RELEASE}-{component}")["spec"]["template"]["spec"]
    return list(spec.get("topologySpreadConstraints", []))


def test_by_default_each_deployment_spreads_its_own_pods_across_nodes(objects: list[dict[str, Any]]) -> None:
    deployments = {c: named(objects, "Deployment", f"{RELEASE}-{c}") for c in COMPONENTS}
    pods = {name: labels for name, _, labels in pod_specs(objects)}
    for component, deployment in deployments.items():
        constraints = spread(objects, component)
        assert constraints, f"{component}: no topology spread"
        assert any(c["topologyKey"] == "kubernetes.io/hostname" for c in constraints)
        own = deployment["spec"]["template"]["metadata"]["labels"]
        for constraint in constraints:
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector == deployment["spec"]["selector"]["matchLabels"]
            assert selects(selector, own)
            # It counts this Deployment's pods only: not the other workload's, not a test pod's.
            others = [n for n, labels in pods.items()
                      if n != deployment["metadata"]["name"] and selects(selector, labels)]
            assert not others, f"{component}'s spread constraint also counts {others}"


def test_the_default_spread_prefers_but_does_not_require(default_objects: list[dict[str, Any]]) -> None:
    for component in COMPONENTS:
        (constraint,) = spread(default_objects, component)
        assert {k: v for k, v in constraint.items() if k != "labelSelector"} == {
            "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
        }


def test_spread_constraints_are_values() -> None:
    zone = {"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"tier": "web"}}}
    objects = render("--set-json", "weather.topologySpreadConstraints=[]",
                     "--set-json", f"frontend.topologySpreadConstraints={json.dumps([zone])}")
    assert spread(objects, "weather") == []
    (constraint,) = spread(objects, "frontend")
    # A labelSelector given in the values is kept as it is.
    assert constraint["labelSelector"] == {"matchLabels": {"tier": "web"}} and constraint["maxSkew"] == 2


# -- ServiceMonitors -------------------------------------------------------------------------------


def container_port(objects: list[dict[str, Any]], component: str, name: str) -> int:
    ports = component_container(objects, component)["ports"]
    return next(p["containerPort"] for p in ports if p["name"] == name)


def test_service_monitors_are_off_by_default(default_objects: list[dict[str, Any]]) -> None:
    assert not of_kind(default_objects, "ServiceMonitor")


@pytest.mark.parametrize("args", [["--set", "serviceMonitor.enabled=true"], ["-f", str(OPERATOR_VALUES)]])
def test_each_service_monitor_selects_its_service_and_the_metrics_port(args: list[str]) -> None:
    objects = render(*args)
    monitors = {m["metadata"]["name"]: m for m in of_kind(objects, "ServiceMonitor")}
    assert set(monitors) == {f"{RELEASE}-weather", f"{RELEASE}-frontend"}
    # The port that serves /metrics in each container, by the services' own settings.
    env = {c: {e["name"]: e.get("value") for e in component_container(objects, c)["env"]} for c in COMPONENTS}
    metrics_port = {"weather": int(env["weather"]["METRICS_PORT"]),
                    "frontend": int(env["frontend"]["FRONTEND_METRICS_PORT"])}
    for component in COMPONENTS:
        monitor = monitors[f"{RELEASE}-{component}"]
        selected = [s for s in of_kind(objects, "Service")
                    if selects(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])]
        assert [s["metadata"]["name"] for s in selected] == [f"{RELEASE}-{component}"]
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [selected[0]["metadata"]["namespace"]]}
        (endpoint,) = monitor["spec"]["endpoints"]
        ports = {p["name"]: p for p in selected[0]["spec"]["ports"]}
        assert endpoint["port"] in ports, f"{component}: no Service port named {endpoint['port']}"
        target = ports[endpoint["port"]]["targetPort"]
        assert container_port(objects, component, target) == metrics_port[component]
        assert endpoint["path"] == "/metrics"
    assert monitors[f"{RELEASE}-weather"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitors[f"{RELEASE}-frontend"]["spec"]["endpoints"][0]["port"] == "metrics"


def test_service_monitor_interval_labels_and_port_are_values() -> None:
    objects = render("-f", str(OPERATOR_VALUES), "--set", "frontend.metrics.portName=web-metrics")
    for monitor in of_kind(objects, "ServiceMonitor"):
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["interval"] == "15s" and endpoint["scrapeTimeout"] == "10s"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    frontend = named(objects, "ServiceMonitor", f"{RELEASE}-frontend")
    assert frontend["spec"]["endpoints"][0]["port"] == "web-metrics"
