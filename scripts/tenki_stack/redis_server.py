"""A real redis-server (Debian's; `make redis` installs it) on a free 127.0.0.1 port, stopped by its pid.

    server = RedisServer(tmp_dir)            # started: its own directory, no persistence, loopback only
    server.url                               # redis://127.0.0.1:PORT/0 -> REDIS_URL
    server.stop(); server.start()            # an outage and a recovery, on the same port
    server.freeze(); server.thaw()           # a hung server (SIGSTOP / SIGCONT)
    RedisServer(tmp_dir, password="s3cret")  # requirepass, for the wrong-password checks

Shared by the integration tests, the reliability drills and the benchmark.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tenki_stack.processes import LOCALHOST, StackError, free_port

START_TIMEOUT = 20.0


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None, password: str = "") -> None:
        self.directory = directory
        self.port = port or free_port()
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise StackError("redis-server is not installed: run `make redis`")
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            binary, "--bind", LOCALHOST, "--port", str(self.port), "--dir", str(self.directory),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.password:
            argv += ["--requirepass", self.password]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise StackError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def ping(self) -> bool:
        """True when the server answers (PONG, or NOAUTH when it wants a password)."""
        try:
            with socket.create_connection((LOCALHOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    @property
    def pid(self) -> int:
        if self.process is None:
            raise StackError("redis-server is not running")
        return self.process.pid

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its connections but answers nothing (a slow, hung Redis)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop this server by its own pid (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
