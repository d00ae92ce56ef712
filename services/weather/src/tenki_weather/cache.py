"""The observation cache: fresh for a TTL, bounded (LRU), single flight, stale-if-error.

OWM asks for no more than one call per location per 10 minutes, so entries are keyed by place
(postal code, country) only; units are converted on the way out. The cache is a plain LRUCache with
our own freshness check instead of cachetools' TTLCache, because TTLCache drops expired entries and
stale-if-error needs exactly those: an entry past its TTL is still served when upstream fails, as long
as it is at most `stale_seconds` old.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cachetools import LRUCache

from .errors import Unavailable
from .model import CacheResult

V = TypeVar("V")
Clock = Callable[[], float]


@dataclass
class _Entry(Generic[V]):
    value: V
    stored_at: float


@dataclass
class _Flight(Generic[V]):
    """One upstream fetch in progress; followers wait on `done` and share its outcome."""

    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    result: CacheResult = CacheResult.MISS
    error: BaseException | None = None


class ObservationCache(Generic[V]):
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        stale_seconds: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.stale_seconds = stale_seconds
        self._clock = clock
        self._entries: LRUCache[Hashable, _Entry[V]] = LRUCache(maxsize=max_entries)
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, fetch: Callable[[], V], wait_seconds: float | None = None
    ) -> tuple[V, CacheResult]:
        """The value for `key` and how it was served; `fetch` runs at most once per cold key at a time.

        A fresh entry is a HIT. Otherwise the first caller (the leader) runs `fetch`; callers arriving
        meanwhile wait for it and share its outcome instead of calling upstream themselves. When `fetch`
        raises and an entry at most `stale_seconds` old exists, that entry is served as STALE; otherwise
        the error is raised to the leader and every follower. A follower waits at most `wait_seconds`
        (its caller's budget) and then raises Unavailable.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry.stored_at < self.ttl_seconds:
                return entry.value, CacheResult.HIT
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            # The leader always finishes its flight (finally below), and its fetch has a timeout.
            if not flight.done.wait(wait_seconds):
                raise Unavailable("the weather for this place is still being fetched; try again shortly")
            if flight.error is not None:
                raise flight.error
            assert flight.value is not None
            # A follower caused no upstream call: it shares a fresh answer as a hit.
            result = CacheResult.HIT if flight.result is CacheResult.MISS else flight.result
            return flight.value, result
        try:
            flight.value, flight.result = self._fetch(key, fetch)
            return flight.value, flight.result
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _fetch(self, key: Hashable, fetch: Callable[[], V]) -> tuple[V, CacheResult]:
        try:
            value = fetch()
        except Exception:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and self._clock() - entry.stored_at <= self.stale_seconds:
                    return entry.value, CacheResult.STALE
            raise
        with self._lock:
            self._entries[key] = _Entry(value, self._clock())
        return value, CacheResult.MISS
