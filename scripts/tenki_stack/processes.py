"""Processes on 127.0.0.1: free ports, a service process with its captured output, readiness probes.

`ServiceProcess` runs one command in its own session (a Ctrl-C in the terminal reaches only its runner),
with its stdout and stderr in a log file (or inherited), and stops it gracefully (SIGTERM, then SIGKILL
after a bound) or kills its whole process group. The probes (`grpc_serving`, `grpc_reachable`, `http_ok`)
answer True or False and never raise, so `ServiceProcess.wait_ready` can poll them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

LOCALHOST = "127.0.0.1"
DEFAULT_TIMEOUT = 90.0  # a loaded CI machine imports grpc and Flask slowly; bounded all the same


class StackError(RuntimeError):
    """A service did not start (exited, or not ready in time); the message ends with its last output."""


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = LOCALHOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def console_script(name: str) -> str:
    """The installed console script `name`: beside this interpreter (the venv/tox env), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"the command {name!r} is not installed: run `make install`")
    return found


def json_records(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of `text` (a service's captured output); other lines are skipped."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class ServiceProcess:
    """A running service: its process, address and captured output (a file, unless inherited)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        *,
        host: str,
        port: int,
        url: str,
        metrics_port: int | None = None,
        inherit_output: bool = False,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.host, self.port, self.metrics_port = host, port, metrics_port
        self.addr = f"{host}:{port}"
        self.url = url
        self.log_path: Path | None = None
        stream: IO[bytes] | None = None
        if not inherit_output:
            if log_path is None:
                fd, raw = tempfile.mkstemp(prefix=f"tenki-{name}-", suffix=".log")
                os.close(fd)
                log_path = Path(raw)
            self.log_path = log_path
            stream = open(log_path, "ab")  # noqa: SIM115 -- closed in _close_log
        self._log = stream
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT if stream is not None else None,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the service wrote to stdout and stderr so far ("" when its output is inherited)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the service wrote so far, as dicts (other lines are skipped)."""
        return json_records(self.output())

    def wait_for_log(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        """The first JSON log line that `match`es, waiting (bounded) for the service to write it."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.log_records():
                if match(entry):
                    return entry
            if time.monotonic() > deadline:
                raise StackError(
                    f"no matching log line from {self.name} within {timeout:.0f} s:\n{self.tail(20)}"
                )
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send `sig` (default SIGTERM: a graceful shutdown) and wait; SIGKILL after `timeout` seconds."""
        if self.running():
            try:
                self.process.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def kill(self) -> int | None:
        """SIGKILL the service's process group at once (gunicorn's workers too): a crash, not a shutdown."""
        if self.running():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                self._close_log()
                raise StackError(
                    f"{self.name} exited with code {self.returncode} while starting\n{self.tail()}".rstrip()
                )
            if probe():
                return
            time.sleep(0.1)
        self.kill()
        raise StackError(f"{self.name} was not ready within {timeout:.0f} s\n{self.tail()}".rstrip())

    def __repr__(self) -> str:
        return f"<ServiceProcess {self.name} pid={self.pid} addr={self.addr}>"


def grpc_serving(addr: str, timeout: float = 1.0) -> bool:
    """True when the gRPC health service at `addr` answers SERVING for the whole server ("")."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        try:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def grpc_reachable(addr: str, timeout: float = 1.0) -> bool:
    """True when a gRPC channel to `addr` gets ready (any gRPC server, health service or not)."""
    import grpc

    with grpc.insecure_channel(addr) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return False
    return True


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 -- our own 127.0.0.1 URL
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
