"""A real redis-server (Debian's, `make redis`) on a free 127.0.0.1 port, for the tests that share state.

    server = RedisServer(tmp_path)   # started: its own directory, no persistence, loopback only
    server.url                       # "redis://127.0.0.1:PORT/0" -> REDIS_URL
    server.stop(); server.start()    # an outage and a recovery, on the same port
    server.pid                       # to pause it (SIGSTOP) as a hung server
    server.stop()

    with RedisServer(tmp_path, extra_args=("--requirepass", "secret")) as server: ...

Fixtures: `redis_server` (module-wide; skips the test when redis-server is not installed) and
`fresh_redis_server` (one empty server per test, for tests whose counts start from nothing; it fails,
naming `make redis`, when redis-server is missing).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tenki_stack import free_port

START_TIMEOUT = 20.0


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def password(self) -> str | None:
        args = list(self.extra_args)
        return args[args.index("--requirepass") + 1] if "--requirepass" in args else None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def client(self, password: str | None = None) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=password, socket_timeout=2)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make redis`")
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"), *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def ping(self) -> bool:
        """The server answers (a PONG, or a refusal for want of the password: it is up either way)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self) -> None:
        """Stop this server by its own pid (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
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


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """An empty redis-server for one test (the fleet budget's tests count from an empty window)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
