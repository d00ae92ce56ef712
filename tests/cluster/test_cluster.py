"""tenki in a real cluster: the release is up, the way in serves pages, and the web suite passes in a
browser that runs inside the cluster (the selenium pod), driven from here through a port-forward.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cluster_support import Cluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def base_url(cluster: Cluster) -> str:
    """The cluster's way in: the Gateway's address (cloud-provider-kind), else the Ingress's."""
    address = cluster.gateway_address() or cluster.ingress_address()
    if not address:
        pytest.fail("neither the Gateway nor the Ingress has an address: is cloud-provider-kind running?")
    return f"http://{address}"


def test_every_workload_of_the_release_is_available(cluster: Cluster) -> None:
    names = {d.metadata.name for d in cluster.deployments()}
    assert {cluster.name("weather"), cluster.name("frontend")} <= names
    for name in sorted(names):
        deployment = cluster.wait_for_deployment(name)
        assert (deployment.status.ready_replicas or 0) >= 1


def test_no_container_of_the_release_restarted(cluster: Cluster) -> None:
    for component in ("weather", "frontend"):
        service = cluster.service(component)
        assert service is not None, f"no Service for {component}"
        pods = cluster.pods_behind(service)
        assert pods, f"no running {component} pod"
        for pod in pods:
            for status in pod.status.container_statuses or []:
                assert status.ready, f"{pod.metadata.name}/{status.name} is not ready"
                assert status.restart_count == 0, f"{pod.metadata.name}/{status.name} restarted"


def test_the_way_in_serves_the_frontend(base_url: str) -> None:
    ready = requests.get(f"{base_url}/readyz", timeout=10)
    assert ready.status_code == 200, f"{base_url}/readyz answered {ready.status_code}"
    page = requests.get(f"{base_url}/weather", params={"zip": "94040", "country": "us"}, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    bad = requests.get(f"{base_url}/weather", params={"zip": "not a zip!", "country": "us"}, timeout=10)
    assert bad.status_code == 400


def test_the_web_suite_passes_in_the_in_cluster_browser(selenium_url: str, base_url: str) -> None:
    # The browser runs in the selenium pod and reaches the site through the same Gateway users take.
    env = {**os.environ, "SELENIUM_REMOTE_URL": selenium_url, "BASE_URL": base_url, "SE_OFFLINE": "true"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "tests" / "web"), "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1100,
    )
    assert proc.returncode == 0, (
        f"tests/web failed against {base_url}:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    )
