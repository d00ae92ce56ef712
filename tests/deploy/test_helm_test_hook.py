"""The `helm test` hook: a pod that asks the frontend's Service for /readyz and one weather page.

Its script is run here exactly as rendered, with the pod's command and environment, against a real local
stack (the frontend in front of the weather service): it must pass when the site works and fail when the
weather page shows no weather.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from deploy_support import RELEASE, named, of_kind, render
from tenki_stack import LocalStack


def hook_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (pod,) = of_kind(objects, "Pod")
    return pod


def run_hook(pod: dict[str, Any], url: str) -> subprocess.CompletedProcess[str]:
    """The hook's container command, with its env, except TENKI_URL = `url` (the Service's stand-in)."""
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
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
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
