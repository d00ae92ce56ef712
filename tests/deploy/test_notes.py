"""NOTES.txt, what `helm install` prints: how to reach the app, with the names the release really has."""

from __future__ import annotations

from deploy_support import CANARY_KEY, CHART, NAMESPACE, RELEASE, VALUE_SETS, helm, named, render


def notes(*args: str) -> str:
    out = helm("install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client", *args).stdout
    assert "NOTES:" in out, out[-2000:]
    return out.split("NOTES:", 1)[1]


def test_the_notes_name_the_gateway_and_the_frontend_service_that_are_rendered() -> None:
    text = notes()
    objects = render()
    gateway = named(objects, "Gateway", RELEASE)
    frontend = named(objects, "Service", f"{RELEASE}-frontend")
    assert f"kubectl -n {NAMESPACE} get gateway {gateway['metadata']['name']} " in text
    port = frontend["spec"]["ports"][0]["port"]
    assert f"port-forward svc/{frontend['metadata']['name']} 8080:{port}" in text
    assert f"helm test {RELEASE} -n {NAMESPACE}" in text


def test_the_notes_say_demo_mode_only_without_a_key() -> None:
    assert "serves DEMO data" in notes()
    assert "serves DEMO data" not in notes(*VALUE_SETS["existing-secret"])
    with_key = notes(*VALUE_SETS["api-key"])
    assert "serves DEMO data" not in with_key
    assert CANARY_KEY not in with_key


def test_with_an_ingress_the_notes_give_its_host_and_no_gateway() -> None:
    text = notes(*VALUE_SETS["ingress"])
    assert "http://tenki.example.org/" in text
    assert "get gateway" not in text


def test_a_grpc_route_behind_the_network_policy_comes_with_a_warning() -> None:
    assert "networkPolicy.extraGrpcPeers" in notes(*VALUE_SETS["grpc-route"])
    peer = "networkPolicy.extraGrpcPeers[0].ipBlock.cidr=172.18.0.0/16"
    admitted = notes(*VALUE_SETS["grpc-route"], "--set", peer)
    assert "networkPolicy.extraGrpcPeers" not in admitted
    assert "networkPolicy.extraGrpcPeers" not in notes()


def test_the_notes_name_both_helm_test_pods_that_are_rendered() -> None:
    text = notes()
    for pod in (p for p in render() if p["kind"] == "Pod"):
        assert pod["metadata"]["name"] + ":" in text


def test_the_test_only_selenium_is_called_out_when_on() -> None:
    assert "TEST-ONLY" not in notes()
    assert "TEST-ONLY" in notes(*VALUE_SETS["selenium"])


def test_with_service_monitors_the_notes_name_them_and_their_ports() -> None:
    assert "ServiceMonitors" not in notes()
    text = notes(*VALUE_SETS["service-monitor"])
    assert f"{RELEASE}-weather (port metrics, /metrics)" in text
    assert f"{RELEASE}-frontend (port metrics, /metrics)" in text


def test_the_notes_say_the_frontend_is_behind_its_proxy_or_warn_without_it() -> None:
    assert "nginx sidecar" in notes() and "127.0.0.1:8081" in notes()
    bare = notes("--set", "frontend.proxy.enabled=false")
    assert "nginx sidecar" not in bare and "slowly" in bare
