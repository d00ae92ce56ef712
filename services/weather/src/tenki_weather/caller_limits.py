"""Per-caller limits on lookups that miss the cache: one gRPC caller cannot spend everyone's OWM budget.

Every lookup the cache cannot answer costs an upstream call from the one shared budget
(OWM_RATE_LIMIT_PER_MINUTE). So each caller may make at most GRPC_RATE_LIMIT_UPSTREAM of them (the
`limits` library's notation, e.g. "30/minute", or several: "30/minute;300/hour"), counted in a moving
window in this process (each weather pod counts alone). Cache hits are never counted or refused.

Who the caller is: the `x-client-id` metadata value when present (a short printable name), else the peer
address without its port. Ids listed in GRPC_RATE_LIMIT_EXEMPT (default: tenki-frontend, which enforces
its own per-person limits) are not counted. The id is self-declared: what stops an outsider from claiming
"tenki-frontend" (or from rotating ids) is the chart's NetworkPolicy, which admits only the frontend and
the Gateway to the gRPC port; the shared upstream budget still caps everyone together.

Plain Python, no gRPC: the servicer turns metadata and the peer into a Caller and passes it in; the domain
checks it at the one place where a miss is known, just before the upstream call.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from .errors import RateLimited

CLIENT_ID_HEADER = "x-client-id"
FRONTEND_CLIENT_ID = "tenki-frontend"
NAMESPACE = "grpc-upstream"
# A client id ends up in logs and limiter keys: short and printable, or it is ignored.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@/+-]{1,64}$")
# "ipv4:10.0.0.7:51234", "ipv6:[::1]:51234", "unix:/path" (grpc's peer strings).
_PEER = re.compile(r"^(?:ipv4:(?P<v4>[^:]+)|ipv6:\[(?P<v6>[^\]]+)\])(?::\d+)?$")


@dataclass(frozen=True)
class Caller:
    """Who asks, as the domain sees it. An empty id (in-process use, tests) is never limited."""

    id: str = ""
    # Answer from the cache or refuse: never call upstream for this lookup.
    cache_only: bool = False


ANONYMOUS = Caller()


class CallerLimited(RateLimited):
    """This caller's own limit (RESOURCE_EXHAUSTED), not the service's shared upstream budget."""

    kind = "caller_rate_limited"


def peer_address(peer: str) -> str:
    """The address of a gRPC peer string without the port (ports change per connection)."""
    match = _PEER.match(peer)
    if match is None:
        return peer
    return match.group("v4") or match.group("v6")


def caller_from(
    metadata: Iterable[tuple[str, str | bytes]] | None, peer: str, cache_only: bool = False
) -> Caller:
    """The caller of an RPC: its `x-client-id` when present and well-formed, else its peer address."""
    for key, value in metadata or ():
        if key == CLIENT_ID_HEADER and isinstance(value, str) and _CLIENT_ID.match(value):
            return Caller(value, cache_only)
    return Caller(peer_address(peer), cache_only)


def cache_only_refusal() -> CallerLimited:
    return CallerLimited(
        "this lookup is not in the cache and the caller asked for cached answers only (cache_only)"
    )


class CallerLimits:
    """Counts each caller's lookups that miss the cache against `limit`; exempt ids are not counted."""

    def __init__(
        self, limit: str, exempt: Iterable[str] = (FRONTEND_CLIENT_ID,), storage: Storage | None = None
    ) -> None:
        self.limit = limit
        self.items: list[RateLimitItem] = parse_many(limit)
        self.exempt = frozenset(name.strip() for name in exempt if name.strip())
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def spend(self, caller: Caller) -> None:
        """Count one upstream-costing lookup of `caller`; CallerLimited when it is over its limit."""
        if not caller.id or caller.id in self.exempt:
            return
        # Test every window first, so a refused lookup does not use up the wider windows.
        for item in self.items:
            if not self._limiter.test(item, NAMESPACE, caller.id):
                raise self._refusal(caller, item)
        for item in self.items:
            if not self._limiter.hit(item, NAMESPACE, caller.id):
                raise self._refusal(caller, item)

    def _refusal(self, caller: Caller, item: RateLimitItem) -> CallerLimited:
        reset = self._limiter.get_window_stats(item, NAMESPACE, caller.id).reset_time
        seconds = max(1, math.ceil(reset - time.time()))
        return CallerLimited(
            f"caller {caller.id!r} is over its own limit of lookups that miss the cache ({item}, "
            f"GRPC_RATE_LIMIT_UPSTREAM): this caller's limit, not the service's upstream budget; cached "
            f"places still answer, new ones again in {seconds} s"
        )
