"""The upstream budget: limits' moving window in-process, and the fleet budget's fallback.

limits' MemoryStorage takes no clock (it calls time.time() of its own module, as its Redis storage
does; limits' own tests freeze time.time). `limits_clock` points that module's time at the tests'
FakeClock, so a 60-second window runs in no time. Redis' moving window is tested against a real
redis-server in tests/integration/weather/test_fleet_budget.py.
"""

from __future__ import annotations

import types

import limits.storage.memory
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tenki_weather.ratelimit import (
    FALLBACK,
    FLEET,
    LOCAL,
    FleetBudget,
    MovingWindowBudget,
    fallback_limit,
    local_budget,
    redis_storage,
)
from tenki_stack import free_port


class WallClock:
    """A wall clock (limits reads time.time()) the test moves by hand; it starts in the far future, so a
    storage that read the real clock instead would see every entry as fresh and fail loudly."""

    def __init__(self) -> None:
        self.now = 4_000_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limits_clock(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    clock = WallClock()
    monkeypatch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=clock.time))
    return clock


def allowed(budget: MovingWindowBudget, count: int) -> int:
    return sum(budget.acquire().allowed for _ in range(count))


def test_a_minutes_budget_then_nothing_until_the_first_call_leaves_the_window(limits_clock) -> None:
    budget = local_budget(60)
    assert allowed(budget, 61) == 60
    # A token bucket would refill 30 tokens in 30 s (90 calls in that minute); the window allows none.
    limits_clock.advance(30)
    assert allowed(budget, 10) == 0
    limits_clock.advance(29.9)
    assert allowed(budget, 10) == 0
    limits_clock.advance(0.2)  # the burst's calls are now more than 60 s old
    assert allowed(budget, 61) == 60


def test_calls_leave_the_window_one_by_one(limits_clock) -> None:
    budget = local_budget(3)
    for _ in range(3):
        assert budget.acquire().allowed
        limits_clock.advance(10)
    assert not budget.acquire().allowed  # three calls in the last 60 s (at 0, 10, 20; now 30)
    limits_clock.advance(30.5)  # now 60.5: the call at 0 has left
    assert [budget.acquire().allowed for _ in range(2)] == [True, False]


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 12),
    gaps=st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=150),
)
def test_no_60_second_window_ever_holds_more_than_the_limit(limit: int, gaps: list[float]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        clock = WallClock()
        patch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=clock.time))
        budget = local_budget(limit)
        times: list[float] = []
        for gap in gaps:
            clock.advance(gap)
            decision = budget.acquire()
            # Denied only when `limit` calls were allowed in the 60 s before it: never too strict.
            recent = [t for t in times if t > clock.now - 60]
            assert decision.allowed == (len(recent) < limit), (clock.now, recent)
            if decision.allowed:
                times.append(clock.now)
        # Any limit + 1 allowed calls span more than 60 s: no window of 60 s holds more than the limit.
        assert all(later - earlier > 60 for earlier, later in zip(times, times[limit:]))


def test_decisions_name_their_scope(limits_clock) -> None:
    assert local_budget(1).acquire().scope == LOCAL
    assert local_budget(1, scope=FALLBACK).acquire().scope == FALLBACK


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        local_budget(0)


@pytest.mark.parametrize(
    ("limit", "replicas", "share"), [(60, 1, 60), (60, 2, 30), (60, 6, 10), (10, 3, 3), (2, 6, 1)]
)
def test_the_fallback_is_the_limit_divided_by_the_replicas_and_at_least_one(limit, replicas, share) -> None:
    assert fallback_limit(limit, replicas) == share


def test_an_unreachable_redis_falls_back_to_the_local_share(limits_clock, clock, caplog) -> None:
    # A closed port: connection refused, a real socket error (no server, no mock).
    dead = redis_storage(f"redis://127.0.0.1:{free_port()}/0", SecretStr(""), 0.2)
    shared = MovingWindowBudget(10, dead, scope=FLEET)
    budget = FleetBudget(shared, local_budget(2, scope=FALLBACK), clock=clock)
    decisions = [(d.allowed, d.scope) for d in (budget.acquire() for _ in range(3))]
    assert decisions == [(True, FALLBACK), (True, FALLBACK), (False, FALLBACK)]
    assert budget.degraded
    degraded = [r for r in caplog.records if "upstream budget degraded" in r.getMessage()]
    assert len(degraded) == 1 and "ConnectionError" in degraded[0].getMessage()
    assert "2 OWM calls a minute" in degraded[0].getMessage()
