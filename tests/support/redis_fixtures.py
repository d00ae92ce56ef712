"""The `redis_server` fixture: a real redis-server (tenki_stack.redis_server) on a free 127.0.0.1 port.

No skip when redis-server is missing: the make targets that run these tests install it (`make redis`),
so its absence is a failure with the one line that fixes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenki_stack.redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
