"""From `helm template` output to `docker run`: each container as the chart describes it, on 127.0.0.1.

Nothing here restates the chart: the workload of an image is found by the image's name; user and group,
read-only root, capabilities, privilege escalation, emptyDir mounts, env, probes, limits and the
termination grace are read from the rendered pod spec. What must change to run on one machine without a
cluster changes generically: every containerPort moves to a free 127.0.0.1 port (through the *_PORT
variable that sets it), listen addresses 0.0.0.0/:: become 127.0.0.1, and `<service>[.<ns>...]:<port>`
in an env value (a Service address) becomes 127.0.0.1 and the free port of the container behind it.
The containers of one pod share its network: a `*_PORT` value that no container declares (gunicorn's
loopback port behind the proxy) gets a free port too, shared by the pod's containers (probes name pod
ports), and a mounted ConfigMap is written to a directory, its `listen N` and `127.0.0.1:N` moved the same
way, and bind-mounted read-only.
"""

from __future__ import annotations

import base64
import re
import socket
import tempfile
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import yaml

LOOPBACK = "127.0.0.1"
ANY_ADDRESS = {"0.0.0.0", "::", "[::]"}
QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_bytes(value: str | int) -> int:
    match = QUANTITY.match(str(value))
    assert match, f"not a memory quantity: {value!r}"
    return int(float(match.group(1)) * UNITS[match.group(2)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def parse(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def image_name(image: str) -> str:
    """registry.example.org/team/tenki-weather:0.1.0@sha256:... -> tenki-weather"""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


@dataclass
class Workload:
    """One Deployment's pod, reduced to its one container of the image asked for."""

    deployment: dict[str, Any]
    container: dict[str, Any]
    ports: dict[int, int] = field(default_factory=dict)  # containerPort -> free 127.0.0.1 port
    pod_ports: dict[int, int] = field(default_factory=dict)  # every port of the pod (shared network)

    @property
    def pod(self) -> dict[str, Any]:
        return dict(self.deployment["spec"]["template"]["spec"])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.deployment["spec"]["template"]["metadata"].get("labels") or {})

    def security(self, key: str) -> Any:
        """A securityContext field as the kubelet applies it: the container's, else the pod's."""
        container = self.container.get("securityContext") or {}
        if key in container:
            return container[key]
        return (self.pod.get("securityContext") or {}).get(key)

    def port(self, ref: int | str) -> int:
        """The containerPort a probe names (by number or by name)."""
        for port in self.container.get("ports", []):
            if ref in (port["containerPort"], port.get("name")):
                return int(port["containerPort"])
        if isinstance(ref, int):
            return ref
        raise AssertionError(f"{self.container['name']}: no port named {ref!r}")

    def host_port(self, ref: int | str) -> int:
        """The free port behind a probe's or Service's port: the container's own, else the pod's."""
        port = self.port(ref)
        return self.ports[port] if port in self.ports else self.pod_ports[port]

    def internal_ports(self) -> set[int]:
        """Ports its env sets (`*_PORT`) that no container of the pod declares: loopback inside the pod."""
        declared = {int(p["containerPort"]) for c in self.pod["containers"] for p in c.get("ports", [])}
        return {
            int(e["value"]) for e in self.container.get("env") or []
            if (e["name"] == "PORT" or e["name"].endswith("_PORT")) and str(e.get("value", "")).isdigit()
            and int(e["value"]) not in declared and int(e["value"]) != 0
        }

    def named_port(self, name: str) -> int | None:
        ports = self.container.get("ports", [])
        return next((int(p["containerPort"]) for p in ports if p.get("name") == name), None)

    @property
    def grace_seconds(self) -> int:
        return int(self.pod.get("terminationGracePeriodSeconds", 30))

    @property
    def prestop_sleep_seconds(self) -> int:
        return int(((self.container.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {})
                   .get("seconds", 0))


def workload_of(objects: list[dict[str, Any]], image: str) -> Workload:
    found = [
        Workload(obj, container)
        for obj in objects
        if obj["kind"] == "Deployment"
        for container in obj["spec"]["template"]["spec"]["containers"]
        if image_name(container["image"]) == image
    ]
    assert len(found) == 1, f"expected one Deployment container running {image}, found {len(found)}"
    return found[0]


def assign_ports(workloads: list[Workload]) -> None:
    pods: dict[str, dict[int, int]] = {}
    for workload in workloads:
        shared = pods.setdefault(workload.deployment["metadata"]["name"], {})
        own = [int(p["containerPort"]) for p in workload.container.get("ports", [])]
        own += sorted(workload.internal_ports())
        workload.ports = {port: shared.setdefault(port, free_port()) for port in own}
        workload.pod_ports = shared


def service_target(
    objects: list[dict[str, Any]], workloads: list[Workload], host: str, port: int
) -> int | None:
    """The free port behind `host:port` when host names a rendered Service (any of its DNS forms)."""
    for svc in (o for o in objects if o["kind"] == "Service"):
        name, namespace = svc["metadata"]["name"], svc["metadata"].get("namespace", "default")
        forms = {name, f"{name}.{namespace}", f"{name}.{namespace}.svc"}
        forms.add(f"{name}.{namespace}.svc.cluster.local")
        if host not in forms:
            continue
        spec_port = next((p for p in svc["spec"].get("ports", []) if int(p["port"]) == port), None)
        assert spec_port, f"Service {name} has no port {port}"
        selector = svc["spec"].get("selector") or {}
        target = spec_port.get("targetPort", port)
        backends = [
            w for w in workloads if selector and all(w.labels.get(k) == v for k, v in selector.items())
            and (w.named_port(target) if isinstance(target, str) else target in w.ports)
        ]
        assert len(backends) == 1, f"Service {name} selects {len(backends)} of the workloads run here"
        return backends[0].host_port(target)
    return None


LISTEN = re.compile(r"\b(listen\s+)(?:(?:127\.0\.0\.1|0\.0\.0\.0):)?(\d+)\b")
CONFIG_PORT = re.compile(
    r"\b(?:(?P<listen>listen\s+)(?:(?:127\.0\.0\.1|0\.0\.0\.0):)?(?P<port>\d+)"
    r"|127\.0\.0\.1:(?P<loopback>\d+))\b"
)


def translate_config(text: str, workload: Workload) -> str:
    """A mounted config on loopback: `listen N` -> `listen 127.0.0.1:<free>`; `127.0.0.1:N` likewise."""
    def moved(match: re.Match[str]) -> str:
        if match.group("listen"):
            return f"{match.group('listen')}{LOOPBACK}:{workload.pod_ports[int(match.group('port'))]}"
        return f"{LOOPBACK}:{workload.pod_ports[int(match.group('loopback'))]}"

    return CONFIG_PORT.sub(moved, text)  # one pass: a moved port is never moved again


def config_maps(objects: list[dict[str, Any]], workload: Workload) -> dict[str, dict[str, str]]:
    """mountPath -> {file: text} of each ConfigMap volume the container mounts."""
    volumes = {v["name"]: v for v in workload.pod.get("volumes") or []}
    mounted: dict[str, dict[str, str]] = {}
    for mount in workload.container.get("volumeMounts") or []:
        ref = volumes[mount["name"]].get("configMap")
        if ref is not None:
            mounted[mount["mountPath"]] = _referenced_data(objects, {"configMapRef": ref}, None)
    return mounted


def config_ports(objects: list[dict[str, Any]], workload: Workload) -> set[int]:
    """The ports the container's mounted configs listen on (set there, not by a *_PORT variable)."""
    return {
        int(m.group(2))
        for files in config_maps(objects, workload).values()
        for text in files.values()
        for m in LISTEN.finditer(text)
    }


def env_of(objects: list[dict[str, Any]], workloads: list[Workload], workload: Workload,
           forced: dict[str, str]) -> dict[str, str]:
    """The container's env as rendered, moved onto 127.0.0.1 and the free ports; `forced` set on top."""
    env: dict[str, str] = {}
    for source in workload.container.get("envFrom") or []:
        env.update(_referenced_data(objects, source, None))
    for entry in workload.container.get("env") or []:
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        elif "valueFrom" in entry:
            value = _value_from(objects, workload, entry["valueFrom"])
            if value is not None:
                env[entry["name"]] = value
    unmapped = set(workload.ports) - config_ports(objects, workload)
    for name, value in list(env.items()):
        if value in ANY_ADDRESS:
            env[name] = LOOPBACK
        elif (name == "PORT" or name.endswith("_PORT")) and value.isdigit() and int(value) in workload.ports:
            env[name] = str(workload.ports[int(value)])
            unmapped.discard(int(value))
        else:
            env[name] = re.sub(r"(?<![\w.-])([a-z0-9][a-z0-9.-]*):(\d+)\b",
                               lambda m: _service_address(objects, workloads, m), value)
    assert not unmapped, (
        f"{workload.container['name']}: containerPort(s) {sorted(unmapped)} are set by no *_PORT variable, "
        "so they cannot be moved to a free port"
    )
    env.update(forced)
    return env


def _service_address(objects: list[dict[str, Any]], workloads: list[Workload], match: re.Match[str]) -> str:
    target = service_target(objects, workloads, match.group(1), int(match.group(2)))
    return match.group(0) if target is None else f"{LOOPBACK}:{target}"


def _value_from(objects: list[dict[str, Any]], workload: Workload, source: dict[str, Any]) -> str | None:
    if "fieldRef" in source:
        path = source["fieldRef"]["fieldPath"]
        known = {"metadata.name": workload.deployment["metadata"]["name"] + "-0",
                 "metadata.namespace": workload.deployment["metadata"].get("namespace", "default"),
                 "status.podIP": LOOPBACK, "status.hostIP": LOOPBACK, "spec.nodeName": "localhost",
                 "spec.serviceAccountName": workload.pod.get("serviceAccountName", "default")}
        assert path in known, f"fieldRef {path} is not emulated here"
        return known[path]
    if "resourceFieldRef" in source:
        return None  # the limits themselves are applied (--memory, --cpus)
    for kind in ("secretKeyRef", "configMapKeyRef"):
        if kind in source:
            ref = source[kind]
            data = _referenced_data(objects, {kind.replace("KeyRef", "Ref"): ref}, ref["key"])
            if ref["key"] in data:
                return data[ref["key"]]
            assert ref.get("optional"), f"{kind} {ref} is not rendered by the chart and not optional"
            return None
    raise AssertionError(f"unsupported valueFrom {source}")


def _referenced_data(
    objects: list[dict[str, Any]], source: dict[str, Any], key: str | None
) -> dict[str, str]:
    for kind, ref_key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
        ref = source.get(ref_key)
        if ref is None:
            continue
        obj = next((o for o in objects if o["kind"] == kind and o["metadata"]["name"] == ref["name"]), None)
        if obj is None:
            assert ref.get("optional") or key is not None, f"{kind} {ref['name']} is not rendered"
            return {}
        data = {k: str(v) for k, v in (obj.get("stringData") or {}).items()}
        for k, v in (obj.get("data") or {}).items():
            data[k] = base64.b64decode(v).decode() if kind == "Secret" else str(v)
        return data
    raise AssertionError(f"unsupported envFrom {source}")


def run_args(objects: list[dict[str, Any]], workloads: list[Workload], workload: Workload,
             forced_env: dict[str, str], labels: dict[str, str]) -> list[str]:
    """`docker run` arguments (without the image) for the container as the kubelet would start it."""
    c = workload.container
    args = ["--detach", "--network", "host", "--name", f"{c['name']}-{labels.get('tenki.images-run', 'x')}"]
    for key, value in labels.items():
        args += ["--label", f"{key}={value}"]
    user, group = workload.security("runAsUser"), workload.security("runAsGroup")
    if user is not None:
        args += ["--user", f"{user}:{group}" if group is not None else str(user)]
    pod_security = workload.pod.get("securityContext") or {}
    for extra in [pod_security.get("fsGroup"), *(pod_security.get("supplementalGroups") or [])]:
        if extra is not None:
            args += ["--group-add", str(extra)]
    if workload.security("readOnlyRootFilesystem"):
        args.append("--read-only")
    if workload.security("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    assert not workload.security("privileged"), "a privileged container is not run here"
    seccomp = (workload.security("seccompProfile") or {}).get("type", "RuntimeDefault")
    assert seccomp == "RuntimeDefault", f"seccomp profile {seccomp} is not emulated (Docker's default is)"
    caps = c.get("securityContext", {}).get("capabilities") or {}
    args += [f"--cap-drop={cap}" for cap in caps.get("drop") or []]
    args += [f"--cap-add={cap}" for cap in caps.get("add") or []]
    volumes = {v["name"]: v for v in workload.pod.get("volumes") or []}
    for path, files in config_maps(objects, workload).items():
        directory = Path(tempfile.mkdtemp(prefix="tenki-configmap-"))
        directory.chmod(0o755)
        for name, text in files.items():
            (directory / name).write_text(translate_config(text, workload))
            (directory / name).chmod(0o644)
        args += ["--volume", f"{directory}:{path}:ro"]
    for mount in c.get("volumeMounts") or []:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            continue
        assert "emptyDir" in volume, f"volume {mount['name']}: only emptyDir and configMap are emulated"
        size = (volume["emptyDir"] or {}).get("sizeLimit")
        options = "rw,nosuid,nodev,mode=1777" + (f",size={quantity_bytes(size)}" if size else "")
        args += ["--tmpfs", f"{mount['mountPath']}:{options}"]
    limits = (c.get("resources") or {}).get("limits") or {}
    if "memory" in limits:
        args += ["--memory", str(quantity_bytes(limits["memory"]))]
    if "cpu" in limits:
        cpu = str(limits["cpu"])
        args += ["--cpus", str(int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu))]
    for name, value in env_of(objects, workloads, workload, forced_env).items():
        args += ["--env", f"{name}={value}"]
    # The kubelet gives SIGKILL after the grace; `docker stop` gets the same bound from the test.
    args += ["--stop-timeout", str(workload.grace_seconds)]
    if c.get("command"):
        args += ["--entrypoint", c["command"][0]]
    return args


def command_args(workload: Workload) -> list[str]:
    """What follows the image in `docker run`: command[1:] + args, as Kubernetes combines them."""
    c = workload.container
    return [*(c.get("command") or [])[1:], *(c.get("args") or [])]
