"""What one RPC learned along the way, shared between the interceptor and the servicer.

The interceptor runs the servicer in the same thread, so a ContextVar carries the record without
threading it through every signature.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass
class RpcInfo:
    method: str = ""
    request_id: str = ""
    cache: str = ""  # "hit", "miss", "stale" or empty (no lookup: invalid input, an error)
    error_kind: str = ""
    postal_code: str = ""
    country_code: str = ""


_current: contextvars.ContextVar[RpcInfo | None] = contextvars.ContextVar("tenki_rpc", default=None)


def current_rpc() -> RpcInfo:
    """The record of the RPC being served, or a throwaway one outside an intercepted call."""
    info = _current.get()
    return info if info is not None else RpcInfo()


def begin_rpc(info: RpcInfo) -> contextvars.Token[RpcInfo | None]:
    return _current.set(info)


def end_rpc(token: contextvars.Token[RpcInfo | None]) -> None:
    _current.reset(token)
