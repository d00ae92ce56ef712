"""The token bucket that caps upstream calls."""

from __future__ import annotations

import pytest

from tenki_weather.ratelimit import TokenBucket


def test_a_full_bucket_allows_a_minutes_budget_then_refuses(clock) -> None:
    bucket = TokenBucket(60, clock=clock)
    assert all(bucket.try_acquire() for _ in range(60))
    assert not bucket.try_acquire()


def test_tokens_come_back_at_the_configured_rate(clock) -> None:
    bucket = TokenBucket(60, clock=clock)  # one a second
    for _ in range(60):
        bucket.try_acquire()
    clock.advance(0.5)
    assert not bucket.try_acquire()
    clock.advance(0.5)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.advance(10)
    assert sum(bucket.try_acquire() for _ in range(20)) == 10


def test_the_bucket_never_holds_more_than_its_capacity(clock) -> None:
    bucket = TokenBucket(6, capacity=2, clock=clock)
    clock.advance(3600)
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]


def test_a_clock_going_backwards_adds_nothing(clock) -> None:
    bucket = TokenBucket(60, capacity=1, clock=clock)
    assert bucket.try_acquire()
    clock.advance(-100)
    assert not bucket.try_acquire()


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
