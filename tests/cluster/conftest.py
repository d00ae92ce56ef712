"""Fixtures of the cluster tests: a reachable kube context, the release's workloads, a port-forward.

`make cluster-test` runs these against the kind cluster of kind-config.yaml after `make deploy`. The kube
context is tried once, at collection: without a reachable cluster every test here is skipped with one reason
(one line in `pytest -rs`), unless TENKI_REQUIRE_CLUSTER=1 (set by make cluster-test), where an unreachable
cluster fails every test instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import Cluster, PortForward, connect

HERE = Path(__file__).parent
CLUSTER = pytest.StashKey[Cluster]()
UNREACHABLE = pytest.StashKey[str]()
# Rollouts on a cold node and the whole web suite in the in-cluster browser take minutes, not seconds.
TIMEOUT_SECONDS = 1500


def _ours(item: pytest.Item) -> bool:
    return HERE in Path(item.path).parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if _ours(item)]
    if not ours:
        return
    for item in ours:
        item.add_marker(pytest.mark.timeout(TIMEOUT_SECONDS))
    context = os.environ.get("TENKI_KUBE_CONTEXT", "kind-tenki")
    try:
        config.stash[CLUSTER] = connect(
            context, os.environ.get("TENKI_NAMESPACE", "tenki"), os.environ.get("TENKI_RELEASE", "tenki")
        )
        return
    except Exception as exc:  # no kubeconfig, no such context, API server down: all mean "no cluster here"
        reason = f"no Kubernetes cluster reachable through kube context {context!r} ({type(exc).__name__})"
    if os.environ.get("TENKI_REQUIRE_CLUSTER") == "1":
        config.stash[UNREACHABLE] = reason  # the `cluster` fixture fails each test with it
        return
    skip = pytest.mark.skip(reason=f"{reason}: run `make cluster-up deploy` first")
    for item in ours:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def cluster(pytestconfig: pytest.Config) -> Cluster:
    if UNREACHABLE in pytestconfig.stash:
        pytest.fail(pytestconfig.stash[UNREACHABLE] + " (TENKI_REQUIRE_CLUSTER=1)")
    return pytestconfig.stash[CLUSTER]


@pytest.fixture(scope="session")
def selenium_url(cluster: Cluster) -> Iterator[str]:
    """A local URL of the selenium pod's WebDriver port, port-forwarded through the API server."""
    service = cluster.service("selenium")
    if service is None:
        pytest.fail(f"no selenium Service in {cluster.namespace}: install with selenium.enabled=true "
                    "(make cluster-test does; skaffold run -p webtest too)")
    cluster.wait_for_deployment(service.metadata.name)
    pod = cluster.pod_behind(service)
    port = next(p.target_port for p in service.spec.ports if p.name == "webdriver")
    container_port = cluster.container_port(pod, port)
    with PortForward(cluster, pod.metadata.name, container_port) as forward:
        yield f"http://127.0.0.1:{forward.local_port}"
