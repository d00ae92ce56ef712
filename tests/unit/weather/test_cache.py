"""The cache: TTL, LRU bound, single flight and stale-if-error, driven by a hand-moved clock."""

from __future__ import annotations

import sys
import threading
from types import FrameType

import pytest

from tenki_weather.cache import Loaded, ObservationCache
from tenki_weather.errors import Unavailable
from tenki_weather.model import CacheResult


class CountingFetch:
    def __init__(self, value: str = "v") -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> str:
        self.calls += 1
        return f"{self.value}{self.calls}"


def failing() -> str:
    raise Unavailable("upstream down")


def test_fresh_entries_are_hits_until_the_ttl(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    fetch = CountingFetch()
    assert cache.get("k", fetch) == ("v1", CacheResult.MISS)
    clock.advance(599)
    assert cache.get("k", fetch) == ("v1", CacheResult.HIT)
    clock.advance(1)
    assert cache.get("k", fetch) == ("v2", CacheResult.MISS)
    assert fetch.calls == 2


def test_keys_are_independent(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    fetch = CountingFetch()
    cache.get(("94040", "US"), fetch)
    cache.get(("10115", "DE"), fetch)
    assert fetch.calls == 2
    assert cache.get(("94040", "US"), fetch) == ("v1", CacheResult.HIT)
    assert cache.get(("10115", "DE"), fetch) == ("v2", CacheResult.HIT)


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 2, 3600, clock=clock)
    fetch = CountingFetch()
    cache.get("a", fetch)
    cache.get("b", fetch)
    cache.get("a", fetch)  # a is now the most recently used
    cache.get("c", fetch)  # evicts b
    assert cache.get("a", fetch)[1] is CacheResult.HIT
    assert cache.get("b", fetch)[1] is CacheResult.MISS


def test_a_ttl_of_zero_disables_caching(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(0, 10, 3600, clock=clock)
    fetch = CountingFetch()
    cache.get("k", fetch)
    cache.get("k", fetch)
    assert fetch.calls == 2


def test_upstream_errors_serve_an_entry_within_the_stale_window(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    cache.get("k", CountingFetch())
    clock.advance(3600)
    assert cache.get("k", failing) == ("v1", CacheResult.STALE)


def test_entries_older_than_the_stale_window_are_not_served(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    cache.get("k", CountingFetch())
    clock.advance(3601)
    with pytest.raises(Unavailable):
        cache.get("k", failing)


def test_an_error_without_any_entry_is_raised(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    with pytest.raises(Unavailable):
        cache.get("k", failing)
    # A failure is not cached: the next call tries upstream again.
    assert cache.get("k", CountingFetch()) == ("v1", CacheResult.MISS)


def test_a_stale_answer_does_not_refresh_the_entry(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 1000, clock=clock)
    cache.get("k", CountingFetch())
    clock.advance(900)
    assert cache.get("k", failing)[1] is CacheResult.STALE
    clock.advance(200)  # 1100 s after the real fetch: past the stale window
    with pytest.raises(Unavailable):
        cache.get("k", failing)


def test_concurrent_cold_requests_make_one_upstream_call(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_fetch() -> str:
        calls.append(1)
        started.set()
        assert release.wait(30)
        return "value"

    results: list[tuple[str, CacheResult]] = []
    leader = threading.Thread(target=lambda: results.append(cache.get("k", slow_fetch)))
    leader.start()
    assert started.wait(30)
    # The followers arrive while the leader's fetch is in flight.
    followers = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow_fetch))) for _ in range(19)
    ]
    for thread in followers:
        thread.start()
    _wait_until_waiting(followers)
    release.set()
    for thread in [leader, *followers]:
        thread.join(30)
    assert len(calls) == 1
    assert len(results) == 20
    assert {value for value, _ in results} == {"value"}
    assert sorted(r.value for _, r in results).count("miss") == 1


def test_followers_share_the_leaders_error(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    started, release = threading.Event(), threading.Event()

    def failing_slowly() -> str:
        started.set()
        assert release.wait(30)
        raise Unavailable("down")

    errors: list[BaseException] = []

    def call() -> None:
        try:
            cache.get("k", failing_slowly)
        except Unavailable as exc:
            errors.append(exc)

    leader = threading.Thread(target=call)
    leader.start()
    assert started.wait(30)
    follower = threading.Thread(target=call)
    follower.start()
    _wait_until_waiting([follower])
    release.set()
    leader.join(30)
    follower.join(30)
    assert len(errors) == 2


def test_followers_share_a_stale_answer(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    cache.get("k", CountingFetch())
    clock.advance(700)
    started, release = threading.Event(), threading.Event()

    def failing_slowly() -> str:
        started.set()
        assert release.wait(30)
        raise Unavailable("down")

    results: list[tuple[str, CacheResult]] = []
    leader = threading.Thread(target=lambda: results.append(cache.get("k", failing_slowly)))
    leader.start()
    assert started.wait(30)
    follower = threading.Thread(target=lambda: results.append(cache.get("k", failing_slowly)))
    follower.start()
    _wait_until_waiting([follower])
    release.set()
    leader.join(30)
    follower.join(30)
    assert results == [("v1", CacheResult.STALE)] * 2


def _wait_until_waiting(threads: list[threading.Thread]) -> None:
    """Block until every thread waits on a threading primitive: a follower waiting for the leader's flight.

    While the leader's fetch is held, a caller of the same key can block nowhere else, so this proves it
    joined the flight (bounded polling of the threads' stacks, no fixed sleep).
    """
    pause = threading.Event()
    for _ in range(3000):
        frames = sys._current_frames()
        if all(_in_threading_wait(frames.get(thread.ident or 0)) for thread in threads):
            return
        pause.wait(0.01)
    raise AssertionError("not every follower waited on the flight")


def _in_threading_wait(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "wait" and frame.f_code.co_filename == threading.__file__:
            return True
        frame = frame.f_back
    return False


def test_a_follower_waits_no_longer_than_its_own_deadline(clock) -> None:
    cache: ObservationCache[str] = ObservationCache(600, 10, 3600, clock=clock)
    cache.get("old", CountingFetch("o"))
    clock.advance(601)
    release = threading.Event()
    started = {key: threading.Event() for key in ("old", "cold")}

    def blocked(key: str) -> str:
        started[key].set()
        release.wait(10)
        return "new"

    leaders = [threading.Thread(target=cache.get, args=(key, lambda k=key: blocked(k))) for key in started]
    for thread in leaders:
        thread.start()
    try:
        assert all(event.wait(10) for event in started.values())
        # The leaders are blocked upstream; a follower with 10 ms left is not held beyond them.
        stale = cache.lookup("old", Loaded, wait_seconds=0.01, timed_out=lambda: Unavailable("busy"))
        assert (stale.value, stale.result) == ("o1", CacheResult.STALE)
        with pytest.raises(Unavailable, match="busy"):
            cache.lookup("cold", Loaded, wait_seconds=0.01, timed_out=lambda: Unavailable("busy"))
    finally:
        release.set()
        for thread in leaders:
            thread.join(10)
