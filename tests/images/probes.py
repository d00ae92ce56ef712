"""What the kubelet and a scraper ask a container: gRPC health, HTTP GET; plus its listening sockets."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

HOST = "127.0.0.1"


def grpc_health(port: int, service: str, timeout: float = 3) -> str:
    """The status name the Health service gives for `service` ("" is the server as a whole)."""
    with grpc.insecure_channel(f"{HOST}:{port}") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))


def http_get(port: int, path: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as resp:
            return int(resp.status), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def probe_ok(workload: Any, probe: dict[str, Any]) -> bool:
    """One probe, as the kubelet runs it (gRPC: SERVING; HTTP: 200 <= status < 400)."""
    timeout = float(probe.get("timeoutSeconds", 1))
    if "grpc" in probe:
        port = workload.host_port(probe["grpc"]["port"])
        return grpc_health(port, probe["grpc"].get("service", ""), timeout) == "SERVING"
    if "httpGet" in probe:
        get = probe["httpGet"]
        status, _ = http_get(workload.host_port(get["port"]), get.get("path", "/"), timeout)
        return 200 <= status < 400
    raise AssertionError(f"probe kind not emulated: {sorted(probe)}")


def listening(pids: list[int]) -> set[str]:
    """host:port of every TCP socket in LISTEN held by one of `pids` (host pids; the host's network)."""
    inodes: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            found.add(f"{decode(address, width)}:{int(port, 16)}")
    return found


def decode(hex_address: str, width: int) -> str:
    import ipaddress

    raw = bytes.fromhex(hex_address)
    # /proc/net prints each 32-bit word in host (little-endian) order.
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(ordered)
    # An IPv6 socket bound to an IPv4 address (::ffff:127.0.0.1) is that IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)
