"""The images, built and run with the container settings `helm template` renders, checked as a kubelet would.

The tests run in file order against one set of containers (the `stack` fixture: weather, and the
frontend pod's two, gunicorn and its nginx proxy); the SIGTERM test stops them, so it and the log test
come last. Each test also stands alone (the fixtures build and start what
it needs).
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.parse
from pathlib import Path
from typing import Any

import chart_run
import probes
import pytest
from image_support import VERSION, Running, docker, record

pytestmark = pytest.mark.images
SERVICES = ("weather", "frontend", "proxy")
# A US postal code the demo provider answers for (no OWM key: demo data).
POSTAL_CODE = "94040"


@pytest.mark.timeout(1500)  # the first build: debootstrap, PyPI downloads
def test_both_images_build_labelled_with_the_version_and_a_numeric_user(built: dict[str, Any]) -> None:
    for service in SERVICES:
        (info,) = json.loads(docker("image", "inspect", built["images"][service]["tag"]).stdout)
        labels = info["Config"]["Labels"]
        assert labels["org.opencontainers.image.version"] == VERSION
        assert labels["org.opencontainers.image.title"] == f"tenki-{service}"
        assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", info["Config"]["User"]), info["Config"]["User"]


def test_the_docker_run_arguments_are_the_rendered_pod_spec_on_loopback(
    chart_objects: list[dict[str, Any]],
) -> None:
    """The translation itself, on the default render: what the kubelet would apply, moved to 127.0.0.1."""
    workloads = {s: chart_run.workload_of(chart_objects, f"tenki-{s}") for s in SERVICES}
    chart_run.assign_ports(list(workloads.values()))
    weather, frontend = workloads["weather"], workloads["frontend"]
    args = chart_run.run_args(chart_objects, list(workloads.values()), frontend, {}, {"k": "v"})
    pod_security = frontend.pod["securityContext"]
    assert f"{pod_security['runAsUser']}:{pod_security['runAsGroup']}" in args
    assert {"--read-only", "--cap-drop=ALL", "no-new-privileges", "host"} <= set(args)
    (tmpfs,) = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    assert tmpfs.startswith("/tmp:") and f"size={64 * 2**20}" in tmpfs, tmpfs
    env = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "--env")
    # The Service address became the weather container's free gRPC port; no port is the chart's own.
    # The chart renders a dns:/// target (headless Service, round_robin); on loopback it keeps its scheme.
    grpc_port = weather.host_port("grpc")
    assert env["WEATHER_ADDR"] == f"dns:///127.0.0.1:{grpc_port}"
    # gunicorn's loopback port behind the proxy (no containerPort: the pod's own) moved to a free one too.
    (internal,) = frontend.internal_ports()
    assert env["FRONTEND_PORT"] == str(frontend.host_port(internal)) != str(internal)
    assert env["FRONTEND_HOST"] == "127.0.0.1"
    # The proxy's mounted config listens on its containerPort's free port and reaches that gunicorn port.
    proxy = workloads["proxy"]
    proxy_args = chart_run.run_args(chart_objects, list(workloads.values()), proxy, {}, {"k": "v"})
    (volume,) = [proxy_args[i + 1] for i, a in enumerate(proxy_args) if a == "--volume"]
    directory, mount, mode = volume.split(":")
    assert (mount, mode) == ("/etc/tenki-proxy", "ro")
    config = (Path(directory) / "nginx.conf").read_text()
    shutil.rmtree(directory)
    assert f"listen 127.0.0.1:{proxy.host_port('http')};" in config
    assert f"server 127.0.0.1:{env['FRONTEND_PORT']};" in config


def test_quantities_and_every_dns_form_of_a_service_address_translate(
    chart_objects: list[dict[str, Any]],
) -> None:
    assert chart_run.quantity_bytes("64Mi") == 64 * 2**20 and chart_run.quantity_bytes("1G") == 10**9
    workloads = [chart_run.workload_of(chart_objects, f"tenki-{s}") for s in SERVICES]
    chart_run.assign_ports(workloads)
    svc = next(o for o in chart_objects if o["kind"] == "Service" and "weather" in o["metadata"]["name"])
    name, namespace = svc["metadata"]["name"], svc["metadata"]["namespace"]
    port = svc["spec"]["ports"][0]["port"]
    expected = workloads[0].host_port(svc["spec"]["ports"][0].get("targetPort", port))
    forms = [name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"]
    for host in forms:
        assert chart_run.service_target(chart_objects, workloads, host, port) == expected, host
    assert chart_run.service_target(chart_objects, workloads, "example.org", port) is None


@pytest.mark.parametrize("service", SERVICES)
def test_the_process_runs_with_the_charts_security_context(stack: dict[str, Running], service: str) -> None:
    running = stack[service]
    w = running.workload
    host = running.inspect()["HostConfig"]
    assert host["ReadonlyRootfs"] is bool(w.security("readOnlyRootFilesystem")) is True
    assert "no-new-privileges" in (host["SecurityOpt"] or [])
    assert w.security("allowPrivilegeEscalation") is False
    # What the kernel says of PID 1 (seen from the host): ids, groups, capabilities, no_new_privs.
    proc_status = Path(f"/proc/{running.inspect()['State']['Pid']}/status").read_text()
    status = dict(line.split(":\t", 1) for line in proc_status.splitlines() if ":\t" in line)
    # Unset in the chart (as OpenShift-style values do), the image's numeric USER applies.
    (image,) = json.loads(docker("image", "inspect", running.inspect()["Image"]).stdout)
    image_uid, _, image_gid = image["Config"]["User"].partition(":")
    uid = w.security("runAsUser") if w.security("runAsUser") is not None else image_uid
    gid = w.security("runAsGroup") if w.security("runAsGroup") is not None else (image_gid or uid)
    assert status["Uid"].split()[:2] == [str(uid)] * 2
    assert status["Gid"].split()[:2] == [str(gid)] * 2
    fs_group = (w.pod.get("securityContext") or {}).get("fsGroup")
    if fs_group is not None:
        assert str(fs_group) in status["Groups"].split()
    if "ALL" in (w.container["securityContext"].get("capabilities") or {}).get("drop", []):
        for caps in ("CapEff", "CapPrm", "CapBnd"):
            assert int(status[caps], 16) == 0, f"{caps}: {status[caps]}"
    assert status["NoNewPrivs"].strip() == "1"
    assert w.security("runAsNonRoot") is True and int(status["Uid"].split()[0]) != 0


@pytest.mark.parametrize("service", SERVICES)
def test_the_root_filesystem_is_read_only_and_the_emptydir_mounts_are_writable(
    stack: dict[str, Running], service: str
) -> None:
    running = stack[service]
    volumes = {v["name"]: v for v in running.workload.pod.get("volumes") or []}
    mounts = [
        m["mountPath"] for m in running.workload.container.get("volumeMounts") or []
        if "emptyDir" in volumes[m["name"]]
    ]
    assert mounts, "the chart mounts no emptyDir"
    # All three images have Python (the proxy's base is the same): /usr/local is the base's own.
    script = (
        "import sys\n"
        "try:\n    open('/usr/local/written', 'w')\nexcept OSError as e:\n    print('ro', e.errno)\n"
        "else:\n    sys.exit('the root filesystem is writable')\n"
        "for path in sys.argv[1:]:\n    open(path + '/written', 'w').write('x')\n"
    )
    proc = docker("exec", running.container_id, "python3", "-c", script, *mounts, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ro 30", proc.stdout  # EROFS


@pytest.mark.parametrize("service", SERVICES)
def test_every_probe_passes_on_its_port(stack: dict[str, Running], service: str) -> None:
    """weather: gRPC health SERVING (the server and the service named); frontend: /healthz and /readyz
    (through the proxy's port); proxy: nginx's own /proxy-healthz."""
    w = stack[service].workload
    kinds = [k for k in ("startupProbe", "livenessProbe", "readinessProbe") if k in w.container]
    assert {"livenessProbe", "readinessProbe"} <= set(kinds), kinds
    for kind in kinds:
        probe = w.container[kind]
        assert probes.probe_ok(w, probe), f"{service} {kind} {probe} fails"
    if service == "weather":
        for kind in kinds:
            grpc = w.container[kind]["grpc"]
            assert probes.grpc_health(w.host_port(grpc["port"]), grpc.get("service", "")) == "SERVING"
    elif service == "frontend":
        paths = {w.container[kind]["httpGet"]["path"] for kind in kinds}
        assert {"/healthz", "/readyz"} <= paths, paths
    else:
        assert {w.container[kind]["httpGet"]["path"] for kind in kinds} == {"/proxy-healthz"}


def rpc_count(stack: dict[str, Running], method: str) -> float:
    weather = stack["weather"]
    _, text = probes.http_get(weather.workload.host_port("metrics"), "/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("tenki_weather_rpcs_total{") and re.search(f'method="[^"]*{method}"', line)
    )


def test_a_weather_page_through_the_frontend_is_served_by_the_weather_container(
    stack: dict[str, Running],
) -> None:
    assert "OWM_API_KEY" not in stack["weather"].env, "the default render has no key: demo data"
    grpc_port = stack["weather"].workload.host_port("grpc")
    assert stack["frontend"].env["WEATHER_ADDR"] == f"dns:///127.0.0.1:{grpc_port}"
    before = rpc_count(stack, "GetCurrentWeather")
    query = urllib.parse.urlencode({"zip": POSTAL_CODE, "country": "us", "units": "metric"})
    # The pod's http port is the proxy's (the Service's target): the page goes nginx -> gunicorn -> weather.
    proxy_port = stack["proxy"].workload.host_port("http")
    status, page = probes.http_get(proxy_port, f"/weather?{query}", timeout=10)
    assert status == 200, page[:500]
    assert 'id="temperature"' in page and "°C" in page, page[:500]
    after = rpc_count(stack, "GetCurrentWeather")
    assert after == before + 1, "the weather container did not answer the page's RPC"


def test_healthz_answers_through_the_proxy_and_the_proxy_logs_json_with_the_request_id(
    stack: dict[str, Running],
) -> None:
    proxy_port = stack["proxy"].workload.host_port("http")
    assert probes.http_get(proxy_port, "/healthz")[0] == 200
    assert probes.http_get(proxy_port, "/proxy-healthz") == (200, "ok\n")
    out, _ = stack["proxy"].logs()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    healthz = [r for r in lines if r.get("path") == "/healthz" and r.get("status") == 200]
    assert healthz and all(r["logger"] == "tenki.proxy" and r["request_id"] for r in healthz), lines[-5:]


def test_both_metrics_ports_serve_prometheus_text(stack: dict[str, Running]) -> None:
    for service, family in (("weather", "tenki_weather_rpcs"), ("frontend", "tenki_frontend")):
        w = stack[service].workload
        # The container port named "metrics" (both services serve /metrics on a port of its own).
        port = w.named_port("metrics")
        assert port, f"{service}: no metrics port"
        status, text = probes.http_get(w.ports[port], "/metrics")
        assert status == 200, f"{service} /metrics: {status}"
        assert "# TYPE" in text and family in text, f"{service} /metrics: no {family} family"


@pytest.mark.parametrize("service", SERVICES)
def test_nothing_listens_beyond_loopback(stack: dict[str, Running], service: str) -> None:
    running = stack[service]
    found = probes.listening(running.pids())
    assert found, f"{service}: no listening socket found"
    assert all(addr.rsplit(":", 1)[0] == "127.0.0.1" for addr in found), found
    assert {int(a.rsplit(":", 1)[1]) for a in found} <= set(running.workload.ports.values()), found


@pytest.mark.timeout(180)
@pytest.mark.parametrize("service", SERVICES)
def test_sigterm_ends_the_container_with_exit_0_inside_its_termination_grace(
    stack: dict[str, Running], service: str
) -> None:
    running = stack[service]
    w = running.workload
    grace = w.grace_seconds
    started = time.monotonic()
    docker("stop", "--time", str(grace), running.container_id, timeout=grace + 30)
    took = time.monotonic() - started
    record(service, sigterm_seconds=round(took, 1))
    state = running.inspect()["State"]
    assert state["ExitCode"] == 0, f"{service} exited {state['ExitCode']} after SIGTERM: {state}"
    # The kubelet runs the preStop hook first; SIGTERM's shutdown must fit in what is left of the grace.
    assert took + w.prestop_sleep_seconds < grace, f"{service}: {took:.1f} s + preStop > grace {grace} s"


@pytest.mark.parametrize("service", SERVICES)
def test_every_log_line_on_stdout_is_json(stack: dict[str, Running], service: str) -> None:
    out, err = stack[service].logs()
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, f"{service} wrote nothing to stdout"
    for line in lines:
        record = json.loads(line)
        assert isinstance(record, dict), line
    if service == "proxy":
        # nginx's error log (stderr, plain text: nginx has no JSON for it) may only hold the refused
        # connections of the frontend's startup probes, sent through nginx before gunicorn listened.
        starting = re.compile(
            r"\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream"
        )
        others = [line for line in err.splitlines() if line.strip() and not starting.search(line)]
        assert not others, f"proxy wrote to stderr: {others[:5]}"
        return
    assert not err.strip(), f"{service} wrote to stderr: {err[:1000]}"
