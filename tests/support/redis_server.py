"""A real redis-server for the tests: Debian's binary (`make redis` installs it), on a free 127.0.0.1 port.

Each server has its own temporary directory and no persistence (`--save '' --appendonly no`); it is
stopped by its pid (SIGTERM, then SIGKILL after a bounded wait), and can be stopped and started again
on the same port, which is how the drills take Redis away from running services and give it back.

    with RedisServer(tmp_path) as server:
        server.url          # redis://127.0.0.1:PORT/0
        server.stop(); server.start()
        server.pid          # to pause it (SIGSTOP) as a hung server
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tenki_stack import LOCALHOST, free_port

REDIS_SERVER = "redis-server"
START_TIMEOUT = 10.0


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        binary = shutil.which(REDIS_SERVER) or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed: run `make redis`")
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def password(self) -> str | None:
        args = list(self.extra_args)
        return args[args.index("--requirepass") + 1] if "--requirepass" in args else None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def client(self, password: str | None = None) -> redis.Redis:
        return redis.Redis(host=LOCALHOST, port=self.port, password=password, socket_timeout=2)

    def start(self) -> RedisServer:
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", LOCALHOST,
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if self.client(self.password).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT} s: {self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A fresh, empty redis-server for one test."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
