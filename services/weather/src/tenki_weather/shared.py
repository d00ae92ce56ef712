"""State the fleet shares through Redis (or Valkey): observations, forecasts, geocoded places,
remembered failures, fetch locks.

Redis is an optimisation, never a dependency: every command here is bounded (REDIS_TIMEOUT_SECONDS, no
client-side retries) and every failure is absorbed. A method that cannot reach Redis answers "nothing
there" (a miss, no lock to wait for), counts the error by kind, and the first failure logs one WARNING
that the service is degraded; for the next second no command is tried at all (so an outage costs one
timeout a second, not one per call), then the client reconnects by itself and an INFO line says so.

Values are JSON: the domain's dataclasses as pydantic dumps them (new fields flow through with no code
here), under keys that carry the schema version and a fingerprint of the stored shapes,
`tenki:v1-<fingerprint>:obs:US:94040`. A release that changes a shape reads the old entries as misses;
a value that does not decode under a current key is a miss too, logged, never a crash.

Each cached kind is a Shelf with its own key words: the current weather (`obs`, its remembered failures
`neg`, its fetch lock `lock`) and the forecast (`fc`, `fcneg`, `fclock`), each entry kept for its fresh
plus its stale window; geocoded places (`geo`: the place, or `null` for a code the geocoder does not
know) are kept for GEOCODE_TTL_SECONDS, an unknown code for NEGATIVE_CACHE_NOT_FOUND_SECONDS; a failed
geocoding (`geoneg`) is remembered for both kinds of lookup.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import redis
from pydantic import TypeAdapter, ValidationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from .geocoding import Geocoded
from .metrics import Metrics
from .model import Forecast, Observation, Place

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# After a failure, how long no command is tried (the client then reconnects on the next one).
RETRY_AFTER_SECONDS = 1.0
# Followers poll the leader's answer this often (one MGET each time).
POLL_SECONDS = 0.05

_OBSERVATION = TypeAdapter(Observation)
_FORECAST = TypeAdapter(Forecast)
_PLACE = TypeAdapter(Place | None)
T = TypeVar("T")
V = TypeVar("V")
Clock = Callable[[], float]

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def schema_tag() -> str:
    """`v1-<8 hex>`: the version, and a fingerprint of the stored shapes (the JSON schemas of Observation,
    Forecast and Place)."""
    schemas = [adapter.json_schema() for adapter in (_OBSERVATION, _FORECAST, _PLACE)]
    shape = json.dumps(schemas, sort_keys=True).encode()
    return f"v{SCHEMA_VERSION}-{hashlib.sha256(shape).hexdigest()[:8]}"


KEY_PREFIX = f"tenki:{schema_tag()}:"


def place_suffix(key: Hashable) -> str:
    if isinstance(key, tuple):
        postal_code, country_code = key
        return f"{country_code}:{postal_code}"
    return str(key)


def connect(
    url: str, password: str = "", timeout: float = 0.25, client_name: str = "tenki-weather"
) -> redis.Redis:
    """A client for REDIS_URL: every command and connect bounded by `timeout`, no retries of its own.

    The password in the URL wins; REDIS_PASSWORD fills in when the URL has none.
    """
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        "client_name": client_name,
    }
    if password:
        options["password"] = password
    return redis.Redis.from_url(url, **options)


def error_kind(exc: BaseException) -> str:
    """The metric label of a Redis failure."""
    if isinstance(exc, redis.AuthenticationError) or (
        isinstance(exc, redis.ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS"))
    ):
        return "auth"
    if isinstance(exc, redis.TimeoutError):
        return "timeout"
    if isinstance(exc, redis.ConnectionError):
        return "connection"
    if isinstance(exc, redis.ResponseError):
        return "response"
    return "other"


@dataclass(frozen=True)
class SharedEntry(Generic[V]):
    value: V
    age: float  # seconds since upstream produced it


@dataclass(frozen=True)
class Remembered:
    """A failure remembered for a place: the domain error's kind and its client-safe message."""

    kind: str
    message: str


class LockState(enum.Enum):
    ACQUIRED = "acquired"
    BUSY = "busy"  # another replica is fetching
    UNAVAILABLE = "unavailable"  # Redis failed: fetch without the fleet's lock


@dataclass(frozen=True)
class Poll(Generic[V]):
    entry: SharedEntry[V] | None
    remembered: Remembered | None
    locked: bool
    reachable: bool


# redis-py's annotations cover its asyncio client too (every answer "Awaitable | Any"); the sync client's
# answers are checked here, so a surprise is a clear error instead of a wrong value.
def _optional_bytes(answer: object) -> bytes | None:
    if answer is None or isinstance(answer, bytes):
        return answer
    raise redis.ResponseError(f"unexpected answer type {type(answer).__name__}")


def _answer_list(answer: object) -> list[object]:
    if isinstance(answer, list):
        return answer
    raise redis.ResponseError(f"unexpected answer type {type(answer).__name__}")


class _Failed(Exception):
    """Redis did not answer (already counted and logged)."""


class SharedState:
    """The fleet's caches, remembered failures and fetch locks in Redis; absorbs every Redis failure.

    `observations` and `forecasts` are the two shelves of lookups (each with its remembered failures and
    fetch locks); `get`, `put`, `remembered`, `remember`, `try_lock`, `unlock` and `poll` are the current
    weather's (`observations`); `get_place` and `put_place` the geocoder's answers.
    """

    def __init__(
        self,
        client: redis.Redis,
        metrics: Metrics,
        *,
        entry_seconds: float,
        lock_seconds: float,
        forecast_seconds: float | None = None,
        place_seconds: float = 30 * 86400.0,
        unknown_place_seconds: float = 3600.0,
        wall_clock: Clock = time.time,
        clock: Clock = time.monotonic,
    ) -> None:
        """`entry_seconds` (`forecast_seconds`, default the same): how long Redis keeps an observation (a
        forecast): its fresh + stale window, then Redis drops it. `place_seconds`: a geocoded place
        (GEOCODE_TTL_SECONDS); `unknown_place_seconds`: a code the geocoder does not know
        (NEGATIVE_CACHE_NOT_FOUND_SECONDS; 0: not shared)."""
        self.client = client
        self.metrics = metrics
        self.lock_seconds = lock_seconds
        self.place_seconds = place_seconds
        self.unknown_place_seconds = unknown_place_seconds
        self._wall = wall_clock
        self._clock = clock
        self._unlock = client.register_script(_UNLOCK)
        self._state_lock = threading.Lock()
        self._degraded = False
        self._retry_at = 0.0
        self.observations: Shelf[Observation] = Shelf(
            self, ("obs", "neg", "lock"), "observation", _OBSERVATION, entry_seconds
        )
        self.geocoding_failures = Failures(self, "geoneg")
        self.forecasts: Shelf[Forecast] = Shelf(
            self,
            ("fc", "fcneg", "fclock"),
            "forecast",
            _FORECAST,
            entry_seconds if forecast_seconds is None else forecast_seconds,
        )

    # -- keys and values ---------------------------------------------------------------------------

    @staticmethod
    def key(kind: str, place: Hashable) -> str:
        return f"{KEY_PREFIX}{kind}:{place_suffix(place)}"

    def _decode_remembered(self, key: str, raw: bytes | None) -> Remembered | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Remembered(str(data["kind"]), str(data["message"]))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning(
                "shared cache: a remembered failure does not decode; ignored",
                extra={"key": key, "error": type(exc).__name__},
            )
            return None

    def _undecodable(self, key: str, exc: Exception) -> None:
        self.metrics.shared_cache.labels("undecodable").inc()
        log.warning(
            "shared cache: a value does not decode; read as a miss",
            extra={"key": key, "error": type(exc).__name__},
        )

    def wall(self) -> float:
        return self._wall()

    # -- failure handling --------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        return self._degraded

    def _run(self, command: Callable[[], T]) -> T:
        """Run one bounded Redis command; on failure count it, mark degraded and raise _Failed."""
        if self._degraded and self._clock() < self._retry_at:
            raise _Failed()
        try:
            answer = command()
        except redis.RedisError as exc:
            kind = error_kind(exc)
            self.metrics.redis_errors.labels(kind).inc()
            with self._state_lock:
                first = not self._degraded
                self._degraded = True
                self._retry_at = self._clock() + RETRY_AFTER_SECONDS
            self.metrics.redis_degraded.set(1)
            if first:
                log.warning(
                    "redis unavailable: degraded to the near cache and upstream (answers continue)",
                    extra={"redis_error": kind, "error": f"{type(exc).__name__}: {exc}"},
                )
            raise _Failed() from None
        if self._degraded:
            with self._state_lock:
                recovered, self._degraded = self._degraded, False
            if recovered:
                self.metrics.redis_degraded.set(0)
                log.info("redis reachable again: the fleet's cache is shared again")
        return answer

    def _get(self, key: str) -> bytes | None:
        """The raw value under `key`; raises _Failed when Redis did not answer."""
        return self._run(lambda: _optional_bytes(self.client.get(key)))

    def _set(self, key: str, value: str, seconds: float) -> None:
        """Store `value` for `seconds` (nothing when 0); a failure is absorbed (counted and logged)."""
        if seconds <= 0:
            return
        try:
            self._run(lambda: self.client.set(key, value, px=max(1, int(seconds * 1000))))
        except _Failed:
            pass

    # -- geocoded places ---------------------------------------------------------------------------

    def get_place(self, place: Hashable) -> Geocoded | None:
        """The geocoder's answer another replica stored (`Geocoded(None)`: a code it does not know), or
        None: not stored, undecodable, or Redis failed (a miss either way; the caller geocodes)."""
        key = self.key("geo", place)
        try:
            raw = self._get(key)
        except _Failed:
            return None
        if raw is None:
            return None
        try:
            return Geocoded(_PLACE.validate_python(json.loads(raw)["place"]))
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            self._undecodable(key, exc)
            return None

    def put_place(self, place: Hashable, geocoded: Geocoded) -> None:
        """Share the geocoder's answer: a place for `place_seconds`, an unknown code for
        `unknown_place_seconds`."""
        seconds = self.place_seconds if geocoded.place is not None else self.unknown_place_seconds
        value = json.dumps({"place": _PLACE.dump_python(geocoded.place, mode="json")}, separators=(",", ":"))
        self._set(self.key("geo", place), value, seconds)


class FailureStore(Protocol):
    """Where remembered failures are kept for the fleet: a Shelf's own, or geocoding's (Failures)."""

    def remembered(self, place: Hashable) -> Remembered | None: ...

    def remember(self, place: Hashable, failure: Remembered, seconds: float) -> None: ...


class Failures:
    """Remembered failures under one key word: a Shelf's (`neg`, `fcneg`), or a failed geocoding's
    (`geoneg`), which both kinds of lookup read, so a page's second lookup does not ask again."""

    def __init__(self, state: SharedState, word: str) -> None:
        self.state = state
        self.word = word

    def remembered(self, place: Hashable) -> Remembered | None:
        key = self.state.key(self.word, place)
        try:
            raw = self.state._get(key)
        except _Failed:
            return None
        return self.state._decode_remembered(key, raw)

    def remember(self, place: Hashable, failure: Remembered, seconds: float) -> None:
        value = json.dumps({"kind": failure.kind, "message": failure.message})
        self.state._set(self.state.key(self.word, place), value, seconds)


class Shelf(Generic[V]):
    """One kind of lookup in Redis: its entries (with their age), remembered failures and fetch locks."""

    def __init__(
        self,
        state: SharedState,
        words: tuple[str, str, str],
        field: str,
        adapter: TypeAdapter[V],
        entry_seconds: float,
    ) -> None:
        """`words`: the key words of the entries, remembered failures and locks (`obs`, `neg`, `lock`);
        `field`: the value's name in the stored JSON; `entry_seconds`: how long Redis keeps an entry."""
        self.state = state
        self.entry_word, self.negative_word, self.lock_word = words
        self.failures = Failures(state, self.negative_word)
        self.field = field
        self.adapter = adapter
        self.entry_seconds = entry_seconds

    @property
    def lock_seconds(self) -> float:
        return self.state.lock_seconds

    @property
    def degraded(self) -> bool:
        return self.state.degraded

    def _decode_entry(self, key: str, raw: bytes | None) -> SharedEntry[V] | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            value = self.adapter.validate_python(data[self.field])
            age = max(0.0, self.state.wall() - float(data["fetched_at"]))
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            self.state._undecodable(key, exc)
            return None
        return SharedEntry(value, age)

    # -- the cache ---------------------------------------------------------------------------------

    def get(self, place: Hashable) -> SharedEntry[V] | None:
        key = self.state.key(self.entry_word, place)
        try:
            raw = self.state._get(key)
        except _Failed:
            self.state.metrics.shared_cache.labels("error").inc()
            return None
        return self._decode_entry(key, raw)

    def put(self, place: Hashable, value: V) -> None:
        if self.entry_seconds <= 0:
            return
        text = json.dumps(
            {"fetched_at": self.state.wall(), self.field: self.adapter.dump_python(value, mode="json")},
            separators=(",", ":"),
        )
        self.state._set(self.state.key(self.entry_word, place), text, self.entry_seconds)

    # -- remembered failures -----------------------------------------------------------------------

    def remembered(self, place: Hashable) -> Remembered | None:
        return self.failures.remembered(place)

    def remember(self, place: Hashable, failure: Remembered, seconds: float) -> None:
        self.failures.remember(place, failure, seconds)

    # -- single flight across replicas -------------------------------------------------------------

    def try_lock(self, place: Hashable) -> tuple[LockState, str]:
        """Take the place's fetch lock (SET NX PX lock_seconds); the state and the token to release it."""
        token = uuid.uuid4().hex
        key = self.state.key(self.lock_word, place)
        client = self.state.client
        try:
            taken = self.state._run(
                lambda: client.set(key, token, nx=True, px=int(self.lock_seconds * 1000))
            )
        except _Failed:
            return LockState.UNAVAILABLE, ""
        return (LockState.ACQUIRED if taken else LockState.BUSY), token

    def unlock(self, place: Hashable, token: str) -> None:
        """Release the lock if it is still ours (compare-and-delete); an expired lock is left alone."""
        key = self.state.key(self.lock_word, place)
        try:
            self.state._run(lambda: self.state._unlock(keys=[key], args=[token]))
        except _Failed:
            pass

    def poll(self, place: Hashable) -> Poll[V]:
        """One round trip: the entry, a remembered failure, and whether a replica still holds the lock."""
        words = (self.entry_word, self.negative_word, self.lock_word)
        keys = [self.state.key(word, place) for word in words]
        client = self.state.client
        try:
            raw_entry, raw_failure, lock = self.state._run(
                lambda: [_optional_bytes(item) for item in _answer_list(client.mget(keys))]
            )
        except _Failed:
            return Poll(None, None, False, False)
        return Poll(
            self._decode_entry(keys[0], raw_entry),
            self.state._decode_remembered(keys[1], raw_failure),
            lock is not None,
            True,
        )


@dataclass(frozen=True)
class RedisVerdict:
    """What `tenki check` says about REDIS_URL: ok, and one line of text (never the password)."""

    ok: bool
    text: str


def check_redis(client: redis.Redis, min_major: int = 7) -> RedisVerdict:
    """Reachable, authenticated, version: one verdict."""
    try:
        client.ping()
        info = client.info("server")
        if not isinstance(info, dict):
            raise redis.ResponseError("INFO did not answer a mapping")
    except redis.RedisError as exc:
        kind = error_kind(exc)
        if kind == "auth":
            return RedisVerdict(False, f"reachable but refused the password ({type(exc).__name__})")
        return RedisVerdict(False, f"unreachable: {kind} ({type(exc).__name__}: {exc})")
    name = "valkey" if "valkey_version" in info else "redis"
    version = str(info.get("valkey_version") or info.get("redis_version") or "?")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    if major < min_major:
        return RedisVerdict(False, f"{name} {version}: tenki needs Redis or Valkey {min_major} or newer")
    return RedisVerdict(True, f"{name} {version}, reachable and authenticated")
