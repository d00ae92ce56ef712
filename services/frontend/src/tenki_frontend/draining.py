"""The shutdown drain: after SIGTERM, /readyz says 503 while the workers still serve requests.

gunicorn closes its listener as soon as the master handles SIGTERM, so a load balancer that polls /readyz
would learn of the shutdown only from refused connections. gunicorn_conf.py makes the master raise this
flag and wait SHUTDOWN_DRAIN_SECONDS before it starts gunicorn's own graceful stop.

The flag lives in an anonymous shared memory page created at import, before gunicorn forks its workers,
so the master's write is seen by every worker (each worker's own Python objects are copies).
"""

from __future__ import annotations

import mmap

_flag = mmap.mmap(-1, 1)  # MAP_SHARED | MAP_ANONYMOUS: one byte shared with forked children


def begin() -> None:
    """Mark this process tree as shutting down (called by the gunicorn master on SIGTERM)."""
    _flag[0] = 1


def active() -> bool:
    """True once the shutdown drain has begun."""
    return _flag[0] == 1
