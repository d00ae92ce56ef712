"""The observation cache: fresh for a TTL, bounded (LRU), single flight, stale-if-error.

OWM asks for no more than one call per location per 10 minutes, so entries are keyed by place
(postal code, country) only; units are converted on the way out. The cache is a plain LRUCache with
our own freshness check instead of cachetools' TTLCache, because TTLCache drops expired entries and
stale-if-error needs exactly those: an entry past its TTL is still served when upstream fails, as long
as it is at most `stale_seconds` old.

With a shared cache (shared.py) this is the near cache in front of it: `ttl_seconds` is then
CACHE_LOCAL_TTL_SECONDS, and the loader says how old the data it brings already is (`Loaded.age`), so
the stale window is counted from the upstream fetch, not from the copy into this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cachetools import LRUCache

from .model import CacheResult

V = TypeVar("V")
Clock = Callable[[], float]


def any_error(_error: BaseException) -> bool:
    return True


@dataclass(frozen=True)
class Loaded(Generic[V]):
    """What a loader brought: the value, how it was served, its age, and the error a STALE answer covers."""

    value: V
    result: CacheResult = CacheResult.MISS
    age: float = 0.0
    cause: BaseException | None = None


@dataclass
class _Entry(Generic[V]):
    value: V
    stored_at: float  # when this process stored it (the near cache's freshness)
    fetched_at: float  # when upstream produced it, on this process's clock (TTL and stale window)


@dataclass
class _Flight(Generic[V]):
    """One load in progress; followers wait on `done` and share its outcome."""

    done: threading.Event = field(default_factory=threading.Event)
    loaded: Loaded[V] | None = None
    error: BaseException | None = None


class ObservationCache(Generic[V]):
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        stale_seconds: float,
        clock: Clock = time.monotonic,
        data_ttl_seconds: float | None = None,
    ) -> None:
        """`ttl_seconds`: how long a stored entry is fresh here; `data_ttl_seconds` (default the same):
        how old the data itself may be and still be fresh (CACHE_TTL_SECONDS, for a near cache)."""
        self.ttl_seconds = ttl_seconds
        self.data_ttl_seconds = ttl_seconds if data_ttl_seconds is None else data_ttl_seconds
        self.stale_seconds = stale_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: LRUCache[Hashable, _Entry[V]] = LRUCache(maxsize=max_entries)
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        fetch: Callable[[], V],
        stale_on: Callable[[BaseException], bool] = any_error,
    ) -> tuple[V, CacheResult]:
        """The value for `key` and how it was served; `fetch` runs at most once per cold key at a time.

        A fresh entry is a HIT. Otherwise the first caller (the leader) runs `fetch`; callers arriving
        meanwhile wait for it and share its outcome instead of calling upstream themselves. When `fetch`
        raises an error `stale_on` accepts and an entry at most `stale_seconds` old exists, that entry is
        served as STALE; otherwise the error is raised to the leader and every follower.
        """
        loaded = self.lookup(key, lambda: Loaded(fetch()), stale_on)
        return loaded.value, loaded.result

    def lookup(
        self,
        key: Hashable,
        load: Callable[[], Loaded[V]],
        stale_on: Callable[[BaseException], bool] = any_error,
        wait_seconds: float | None = None,
        timed_out: Callable[[], Exception] = TimeoutError,
    ) -> Loaded[V]:
        """As get(), with a loader that says how it answered (a shared cache's hit, or its stale entry).

        A follower waits for the leader at most `wait_seconds` (its own deadline); then it is served
        an entry within the stale window as STALE, else `timed_out()` is raised.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry):
                return Loaded(entry.value, CacheResult.HIT, self._clock() - entry.fetched_at)
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            # The leader always finishes its flight (finally below), and its load is bounded in time.
            if not flight.done.wait(wait_seconds):
                return self._stale_or_raise(key, timed_out())
            if flight.error is not None:
                raise flight.error
            assert flight.loaded is not None
            loaded = flight.loaded
            # A follower caused no upstream call: it shares a fresh answer as a hit.
            if loaded.result is CacheResult.MISS:
                return Loaded(loaded.value, CacheResult.HIT, loaded.age)
            return loaded
        try:
            flight.loaded = self._load(key, load, stale_on)
            return flight.loaded
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _fresh(self, entry: _Entry[V]) -> bool:
        now = self._clock()
        return now - entry.stored_at < self.ttl_seconds and now - entry.fetched_at < self.data_ttl_seconds

    def _load(
        self, key: Hashable, load: Callable[[], Loaded[V]], stale_on: Callable[[BaseException], bool]
    ) -> Loaded[V]:
        try:
            loaded = load()
        except Exception as exc:
            if stale_on(exc):
                return self._stale_or_raise(key, exc)
            raise
        if loaded.result is not CacheResult.STALE:
            now = self._clock()
            with self._lock:
                self._entries[key] = _Entry(loaded.value, now, now - loaded.age)
        return loaded

    def _stale_or_raise(self, key: Hashable, error: Exception) -> Loaded[V]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                age = self._clock() - entry.fetched_at
                if age <= self.stale_seconds:
                    return Loaded(entry.value, CacheResult.STALE, age, error)
        raise error
