"""shared.SharedState against a real redis-server: values, locks, failures absorbed and counted, recovery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tenki_stack.redis_server import RedisServer

from tenki_weather.cache import ObservationCache
from tenki_weather.demo import DemoProvider
from tenki_weather.errors import Unavailable
from tenki_weather.metrics import Metrics
from tenki_weather.geocoding import Geocoded
from tenki_weather.model import CacheResult, Observation, Place
from tenki_weather.service import WeatherLookup
from tenki_weather.shared import KEY_PREFIX, LockState, Remembered, SharedState, check_redis, connect


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of this test's own (tenki_stack.redis_server), stopped by its pid."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


def make_observation() -> Observation:
    """The demo provider's answer: a whole, real Observation (every field the stored shape has)."""
    return DemoProvider().weather_at(Place("Mountain View", "US", 37.3861, -122.0839, "94040"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state_for(url: str, clock: Clock, password: str = "") -> tuple[SharedState, Metrics]:
    metrics = Metrics()
    state = SharedState(
        connect(url, password, timeout=0.5), metrics, entry_seconds=60, lock_seconds=3, clock=clock
    )
    return state, metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_an_observation_round_trips_with_its_age(redis_server: RedisServer) -> None:
    wall = Clock()
    state = SharedState(
        connect(redis_server.url), Metrics(), entry_seconds=60, lock_seconds=3, wall_clock=wall
    )
    observation = make_observation()
    state.observations.put(("94040", "US"), observation)
    wall.now += 42
    entry = state.observations.get(("94040", "US"))
    assert entry is not None and entry.value == observation and entry.age == 42
    assert 59_000 < state.client.pttl(f"{KEY_PREFIX}obs:US:94040") <= 60_000


def test_a_forecast_round_trips_on_its_own_shelf_with_its_own_expiry(redis_server: RedisServer) -> None:
    state = SharedState(
        connect(redis_server.url), Metrics(), entry_seconds=60, forecast_seconds=90, lock_seconds=3
    )
    forecast = DemoProvider().forecast_at(Place("Mountain View", "US", 37.3861, -122.0839, "94040"))
    state.forecasts.put(("94040", "US"), forecast)
    entry = state.forecasts.get(("94040", "US"))
    assert entry is not None and entry.value == forecast
    assert state.observations.get(("94040", "US")) is None  # the current weather's shelf is another
    assert 89_000 < state.client.pttl(f"{KEY_PREFIX}fc:US:94040") <= 90_000
    assert state.forecasts.try_lock(("94040", "US"))[0] is LockState.ACQUIRED
    assert state.observations.try_lock(("94040", "US"))[0] is LockState.ACQUIRED  # locks apart too


def test_places_and_unknown_codes_round_trip_each_with_its_expiry(redis_server: RedisServer) -> None:
    metrics = Metrics()
    state = SharedState(
        connect(redis_server.url), metrics, entry_seconds=60, lock_seconds=3,
        place_seconds=86400, unknown_place_seconds=600,
    )  # fmt: skip
    place = Place("Mountain View", "US", 37.3861, -122.0839, "94040")
    state.put_place(("94040", "US"), Geocoded(place))
    state.put_place(("00000", "US"), Geocoded(None))
    assert state.get_place(("94040", "US")) == Geocoded(place)
    assert state.get_place(("00000", "US")) == Geocoded(None)
    assert state.get_place(("10001", "US")) is None
    assert 86_390_000 < state.client.pttl(f"{KEY_PREFIX}geo:US:94040") <= 86_400_000
    assert 590_000 < state.client.pttl(f"{KEY_PREFIX}geo:US:00000") <= 600_000
    # Garbage under a place key is a miss, counted.
    state.client.set(f"{KEY_PREFIX}geo:US:10001", b'{"place": {"name": 1}}')
    assert state.get_place(("10001", "US")) is None
    assert sample(metrics, "tenki_weather_shared_cache_lookups_total", result="undecodable") == 1
    # NEGATIVE_CACHE_NOT_FOUND_SECONDS=0: an unknown code is not shared.
    off = SharedState(
        connect(redis_server.url), Metrics(), entry_seconds=60, lock_seconds=3, unknown_place_seconds=0
    )
    off.put_place(("000", "US"), Geocoded(None))
    assert off.get_place(("000", "US")) is None


def test_the_lock_is_taken_once_and_released_only_by_its_holder(redis_server: RedisServer) -> None:
    clock = Clock()
    first, _ = state_for(redis_server.url, clock)
    second, _ = state_for(redis_server.url, clock)
    state, token = first.observations.try_lock(("10001", "US"))
    assert state is LockState.ACQUIRED
    assert 2_000 < first.client.pttl(f"{KEY_PREFIX}lock:US:10001") <= 3_000
    assert second.observations.try_lock(("10001", "US"))[0] is LockState.BUSY
    second.observations.unlock(("10001", "US"), "not-the-token")
    assert second.observations.poll(("10001", "US")).locked
    first.observations.unlock(("10001", "US"), token)
    assert not second.observations.poll(("10001", "US")).locked


def test_remembered_failures_are_shared(redis_server: RedisServer) -> None:
    clock = Clock()
    one, _ = state_for(redis_server.url, clock)
    other, _ = state_for(redis_server.url, clock)
    one.observations.remember(("00000", "US"), Remembered("not_found", "no weather is known"), 3600)
    assert other.observations.remembered(("00000", "US")) == Remembered("not_found", "no weather is known")
    assert other.observations.poll(("00000", "US")).remembered is not None


def test_redis_stopped_is_absorbed_counted_and_recovered_from(tmp_path: Path) -> None:
    clock = Clock()
    with RedisServer(tmp_path / "redis") as server:
        state, metrics = state_for(server.url, clock)
        state.observations.put(("94040", "US"), make_observation())
        server.stop()
        assert state.observations.get(("94040", "US")) is None  # a miss, not an exception
        state.put_place(("94040", "US"), Geocoded(None))  # absorbed
        assert state.get_place(("94040", "US")) is None
        assert state.observations.try_lock(("94040", "US"))[0] is LockState.UNAVAILABLE
        assert state.degraded and sample(metrics, "tenki_weather_redis_degraded") == 1
        assert sample(metrics, "tenki_weather_redis_errors_total", kind="connection") == 1
        # Within the next second no command is tried at all.
        assert not state.observations.poll(("94040", "US")).reachable
        assert sample(metrics, "tenki_weather_redis_errors_total", kind="connection") == 1
        server.start()
        clock.now += 1.0
        # An empty Redis (no persistence): reachable again.
        assert state.observations.get(("94040", "US")) is None
        assert not state.degraded and sample(metrics, "tenki_weather_redis_degraded") == 0
        state.observations.put(("94040", "US"), make_observation())
        assert state.observations.get(("94040", "US")) is not None


@pytest.mark.parametrize("password", ["", "wrong"])
def test_a_refused_password_is_an_auth_error_and_a_verdict(tmp_path: Path, password: str) -> None:
    with RedisServer(tmp_path / "redis", password="right-password") as server:
        state, metrics = state_for(server.url, Clock(), password)
        assert state.observations.get(("94040", "US")) is None
        assert sample(metrics, "tenki_weather_redis_errors_total", kind="auth") == 1
        verdict = check_redis(connect(server.url, password))
        assert not verdict.ok and "refused the password" in verdict.text
        assert "right-password" not in verdict.text
        assert check_redis(connect(server.url, "right-password")).ok


class CountingDemo(DemoProvider):
    """The demo provider, counting its calls: the "upstream" of these in-process replicas."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def weather_at(self, place: Place) -> Observation:
        self.calls += 1
        return super().weather_at(place)


def replica(url: str, lock_seconds: float = 3) -> tuple[WeatherLookup, CountingDemo]:
    """One replica's lookup, in this process, sharing the Redis at `url`."""
    metrics = Metrics()
    shared = SharedState(connect(url), metrics, entry_seconds=60, lock_seconds=lock_seconds)
    cache: ObservationCache[Observation] = ObservationCache(5, 100, 3600, data_ttl_seconds=600)
    provider = CountingDemo()
    return WeatherLookup(provider, cache, None, metrics, shared=shared, near_seconds=5), provider


def test_two_replicas_share_one_fetch_and_the_near_cache_answers_after(redis_server: RedisServer) -> None:
    a, a_upstream = replica(redis_server.url)
    b, b_upstream = replica(redis_server.url)
    assert a.current_weather("94040", "us").cache is CacheResult.MISS
    assert b.current_weather("94040", "us", "imperial").cache is CacheResult.HIT
    assert b.current_weather("94040", "us").cache is CacheResult.HIT
    assert (a_upstream.calls, b_upstream.calls) == (1, 0)
    assert sample(b.metrics, "tenki_weather_shared_cache_lookups_total", result="hit") == 1
    assert sample(b.metrics, "tenki_weather_near_cache_lookups_total", result="hit") == 1


def test_a_follower_gives_up_at_its_deadline_and_takes_over_an_expired_lock(
    redis_server: RedisServer,
) -> None:
    b, upstream = replica(redis_server.url, lock_seconds=0.5)
    # Another replica holds the lock and never answers (it died mid-fetch).
    dead, _ = replica(redis_server.url, lock_seconds=0.5)
    assert dead.shared is not None
    assert dead.shared.observations.try_lock(("10001", "US"))[0] is LockState.ACQUIRED
    with pytest.raises(Unavailable, match="another replica is still fetching"):
        b.current_weather("10001", "us", budget_seconds=0.2)
    assert upstream.calls == 0
    assert sample(b.metrics, "tenki_weather_shared_lock_waits_total", outcome="deadline") == 1
    # With time enough, it waits for the lock to expire (0.5 s) and fetches itself.
    assert b.current_weather("10001", "us", budget_seconds=3).cache is CacheResult.MISS
    assert upstream.calls == 1
    assert sample(b.metrics, "tenki_weather_shared_lock_waits_total", outcome="takeover") == 1
