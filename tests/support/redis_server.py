"""Pytest fixtures over `tenki_stack.redis_server` (the one redis-server helper; see its docstring).

`redis_server` is module-wide (it skips the test when redis-server is not installed); `fresh_redis_server`
is one empty server per test, for tests whose counts start from nothing (it fails, naming `make redis`,
when redis-server is missing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from tenki_stack.redis_server import RedisServer

__all__ = ["RedisServer", "fresh_redis_server", "redis_server"]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def fresh_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """An empty redis-server for one test (the fleet budget's tests count from an empty window)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
