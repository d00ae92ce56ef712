"""The two `helm test` hooks, each run here exactly as rendered against a real local stack.

- `<release>-test` (frontend image) asks the frontend's Service for /readyz and one weather page.
- `<release>-test-grpc` (weather image) calls GetCurrentWeather on the weather Service with `tenki weather`.

Each must pass when the service answers and fail when it does not (the demo provider's unknown postal code).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import RELEASE, named, of_kind, render
from tenki_stack import LocalStack

WEB_HOOK = f"{RELEASE}-test"
GRPC_HOOK = f"{RELEASE}-test-grpc"


def hook_pod(objects: list[dict[str, Any]], name: str = WEB_HOOK) -> dict[str, Any]:
    pod = named(objects, "Pod", name)
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    return pod


def test_the_hooks_are_exactly_the_two_helm_test_pods(default_objects: list[dict[str, Any]]) -> None:
    assert {p["metadata"]["name"] for p in of_kind(default_objects, "Pod")} == {WEB_HOOK, GRPC_HOOK}
    for name in (WEB_HOOK, GRPC_HOOK):
        pod = hook_pod(default_objects, name)
        assert pod["spec"]["restartPolicy"] == "Never"
        assert "hook-succeeded" in pod["metadata"]["annotations"]["helm.sh/hook-delete-policy"]


def run_hook(pod: dict[str, Any], url: str) -> subprocess.CompletedProcess[str]:
    """The web hook's container command, with its env, except TENKI_URL = `url` (the Service's stand-in)."""
    (container,) = pod["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    env["TENKI_URL"] = url
    command = [sys.executable if part == "python" else part for part in container["command"]]
    return subprocess.run([*command, *container["args"]], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_hook_is_a_helm_test_pod_aimed_at_the_frontend_service(
    default_objects: list[dict[str, Any]],
) -> None:
    pod = hook_pod(default_objects)
    (container,) = pod["spec"]["containers"]
    assert container["command"][0] == "python"  # the frontend image's interpreter: nothing else is pulled
    assert container["image"] == named(default_objects, "Deployment", f"{RELEASE}-frontend")[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    env = {e["name"]: e["value"] for e in container["env"]}
    frontend = named(default_objects, "Service", f"{RELEASE}-frontend")
    assert env["TENKI_URL"] == f"http://{frontend['metadata']['name']}:{frontend['spec']['ports'][0]['port']}"


def test_the_hook_passes_against_a_working_site(
    default_objects: list[dict[str, Any]], local_stack: LocalStack
) -> None:
    proc = run_hook(hook_pod(default_objects), local_stack.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/readyz -> 200" in proc.stdout and "ok: the frontend is ready" in proc.stdout


def test_the_hook_fails_when_the_page_shows_no_weather(local_stack: LocalStack) -> None:
    # 00000 is the demo provider's unknown postal code: the site answers, but with "not found".
    pod = hook_pod(render("--set", "tests.postalCode=00000"))
    proc = run_hook(pod, local_stack.url)
    assert proc.returncode != 0
    assert "the weather page shows no temperature" in proc.stderr


# -- the gRPC hook ---------------------------------------------------------------------------------


def grpc_command(pod: dict[str, Any]) -> list[str]:
    (container,) = pod["spec"]["containers"]
    assert "args" not in container, "the command is the whole invocation"
    return list(container["command"])


def test_the_grpc_hook_calls_the_weather_service_by_its_service_name_and_port(
    default_objects: list[dict[str, Any]],
) -> None:
    pod = hook_pod(default_objects, GRPC_HOOK)
    (container,) = pod["spec"]["containers"]
    weather = named(default_objects, "Deployment", f"{RELEASE}-weather")["spec"]["template"]["spec"]
    # The weather image's own CLI: nothing else is pulled.
    assert container["image"] == weather["containers"][0]["image"]
    service = named(default_objects, "Service", f"{RELEASE}-weather")
    grpc = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    command = grpc_command(pod)
    assert command[:3] == ["tenki", "weather", "94040"]
    options = dict(zip(command[3::2], command[4::2]))
    assert options == {"--country": "us", "--addr": f"{service['metadata']['name']}:{grpc['port']}",
                       "--timeout": "10"}
    # The restricted securityContext of every pod of the chart, as the web hook has it.
    web = hook_pod(default_objects)
    assert pod["spec"]["securityContext"] == web["spec"]["securityContext"]
    assert container["securityContext"] == web["spec"]["containers"][0]["securityContext"]


def test_the_grpc_hook_follows_the_port_and_postal_code_values() -> None:
    objects = render("--set", "weather.grpcPort=50099", "--set-string", "tests.postalCode=10001")
    pod = hook_pod(objects, GRPC_HOOK)
    command = grpc_command(pod)
    assert command[2] == "10001" and f"{RELEASE}-weather:50099" in command


def run_grpc_hook(pod: dict[str, Any], addr: str) -> subprocess.CompletedProcess[str]:
    """The gRPC hook's command, with --addr = `addr` (the Service's stand-in) and the venv's `tenki`."""
    command = grpc_command(pod)
    command[command.index("--addr") + 1] = addr
    tenki = shutil.which("tenki", path=str(Path(sys.executable).parent)) or shutil.which("tenki")
    if tenki is None:
        pytest.fail("no `tenki` console script next to this interpreter: run `make install`")
    return subprocess.run([tenki, *command[1:]], capture_output=True, text=True, timeout=120)


def test_the_grpc_hook_passes_against_a_working_service(
    default_objects: list[dict[str, Any]], local_stack: LocalStack
) -> None:
    proc = run_grpc_hook(hook_pod(default_objects, GRPC_HOOK), local_stack.weather_addr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(94040)" in proc.stdout and "Temperature" in proc.stdout


def test_the_grpc_hook_fails_on_a_status_instead_of_an_answer(local_stack: LocalStack) -> None:
    # 00000 is the demo provider's unknown postal code: the service answers NOT_FOUND, not weather.
    pod = hook_pod(render("--set", "tests.postalCode=00000"), GRPC_HOOK)
    proc = run_grpc_hook(pod, local_stack.weather_addr)
    assert proc.returncode != 0
    assert proc.stderr.startswith("NOT_FOUND"), proc.stderr


def test_the_grpc_hook_fails_when_nothing_answers(default_objects: list[dict[str, Any]]) -> None:
    proc = run_grpc_hook(hook_pod(default_objects, GRPC_HOOK), "127.0.0.1:9")
    assert proc.returncode != 0 and "UNAVAILABLE" in proc.stderr, proc.stderr
