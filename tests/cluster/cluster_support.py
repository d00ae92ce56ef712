"""The cluster tests' view of a tenki release, through the `kubernetes` Python client.

Deployments are waited for with a bounded timeout; pods are found through their Service's selector, the way
the Service itself finds them; port-forwarding goes through the API server (kubernetes.stream.portforward),
so a test on the host reaches a pod without any node port or extra tool.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kubernetes import client, config
from kubernetes.stream import portforward

API_TIMEOUT = 10  # seconds per API call
ROLLOUT_TIMEOUT = 600  # seconds a Deployment may take to become available (image pulls on a cold node)


@dataclass
class Cluster:
    core: client.CoreV1Api
    apps: client.AppsV1Api
    custom: client.CustomObjectsApi
    networking: client.NetworkingV1Api
    namespace: str
    release: str

    def fullname(self) -> str:
        """The chart's tenki.fullname: the release name when it holds "tenki", else "<release>-tenki"."""
        return self.release if "tenki" in self.release else f"{self.release}-tenki"

    def name(self, component: str) -> str:
        """The chart's object name of a component (tenki.componentName)."""
        return f"{self.fullname()}-{component}"

    def deployments(self) -> list[Any]:
        return self.apps.list_namespaced_deployment(
            self.namespace, label_selector=f"app.kubernetes.io/instance={self.release}",
            _request_timeout=API_TIMEOUT).items

    def wait_for_deployment(self, name: str, timeout: float = ROLLOUT_TIMEOUT) -> Any:
        """The Deployment once it is Available with every replica of its current revision ready."""
        deadline = time.monotonic() + timeout
        while True:
            deployment = self.apps.read_namespaced_deployment(
                name, self.namespace, _request_timeout=API_TIMEOUT
            )
            status = deployment.status
            wanted = deployment.spec.replicas or 0
            available = any(c.type == "Available" and c.status == "True" for c in status.conditions or [])
            if (available and status.observed_generation == deployment.metadata.generation
                    and (status.updated_replicas or 0) == wanted and (status.ready_replicas or 0) == wanted):
                return deployment
            if time.monotonic() > deadline:
                raise TimeoutError(f"Deployment {name} is not available after {timeout:.0f} s: {status}")
            time.sleep(3)

    def service(self, component: str) -> Any | None:
        try:
            return self.core.read_namespaced_service(self.name(component), self.namespace,
                                                     _request_timeout=API_TIMEOUT)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def pods_behind(self, service: Any) -> list[Any]:
        selector = ",".join(f"{k}={v}" for k, v in service.spec.selector.items())
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=selector,
                                             _request_timeout=API_TIMEOUT).items
        return [p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]

    def pod_behind(self, service: Any) -> Any:
        pods = self.pods_behind(service)
        if not pods:
            raise LookupError(f"no running pod behind Service {service.metadata.name}")
        return pods[0]

    @staticmethod
    def container_port(pod: Any, target: int | str) -> int:
        """A Service targetPort (a number or a container port's name) as the pod's port number."""
        if isinstance(target, int) or str(target).isdigit():
            return int(target)
        for container in pod.spec.containers:
            for port in container.ports or []:
                if port.name == target:
                    return int(port.container_port)
        raise LookupError(f"pod {pod.metadata.name} has no port named {target}")

    def gateway_address(self) -> str | None:
        """The address the chart's Gateway got (cloud-provider-kind: a LoadBalancer IP), if any."""
        try:
            gateway = self.custom.get_namespaced_custom_object(
                "gateway.networking.k8s.io", "v1", self.namespace, "gateways",
                self.fullname(), _request_timeout=API_TIMEOUT)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        addresses = gateway.get("status", {}).get("addresses") or []
        return addresses[0]["value"] if addresses else None

    def ingress_address(self) -> str | None:
        try:
            ingress = self.networking.read_namespaced_ingress(self.name("frontend"), self.namespace,
                                                              _request_timeout=API_TIMEOUT)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        for entry in ingress.status.load_balancer.ingress or []:
            return entry.ip or entry.hostname
        return None


def connect(context: str, namespace: str, release: str) -> Cluster:
    """A Cluster for `context`; raises when there is no kubeconfig, no such context or no API server."""
    api = config.new_client_from_config(context=context)
    client.VersionApi(api).get_code(_request_timeout=5)
    return Cluster(client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api),
                   client.NetworkingV1Api(api), namespace, release)


class PortForward:
    """127.0.0.1:<free port> -> <pod>:<port>, through the API server, for the life of a `with` block.

    Each accepted connection gets its own port-forward stream, as `kubectl port-forward` does.
    """

    def __init__(self, cluster: Cluster, pod: str, port: int) -> None:
        self.cluster, self.pod, self.port = cluster, pod, port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.local_port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, name=f"port-forward-{pod}", daemon=True)

    def __enter__(self) -> PortForward:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(timeout=5)

    def _accept(self) -> None:
        self.listener.settimeout(0.5)
        while not self.stopped.is_set():
            try:
                local, _ = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(local,), daemon=True).start()

    def _pipe(self, local: socket.socket) -> None:
        forward = portforward(self.cluster.core.connect_get_namespaced_pod_portforward, self.pod,
                              self.cluster.namespace, ports=str(self.port))
        remote = forward.socket(self.port)
        remote.setblocking(True)
        try:
            sockets = [local, remote]
            while not self.stopped.is_set():
                readable, _, _ = select.select(sockets, [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (remote if sock is local else local).sendall(data)
        except OSError:
            return
        finally:
            local.close()
            remote.close()
            forward.close()
