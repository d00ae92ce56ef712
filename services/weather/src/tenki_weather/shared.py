"""State the fleet shares through Redis (or Valkey): observations, remembered failures, fetch locks.

Redis is an optimisation, never a dependency: every command here is bounded (REDIS_TIMEOUT_SECONDS, no
client-side retries) and every failure is absorbed. A method that cannot reach Redis answers "nothing
there" (a miss, no lock to wait for), counts the error by kind, and the first failure logs one WARNING
that the service is degraded; for the next second no command is tried at all (so an outage costs one
timeout a second, not one per call), then the client reconnects by itself and an INFO line says so.

Values are JSON: the domain's dataclasses as pydantic dumps them (new fields flow through with no code
here), under keys that carry the schema version and a fingerprint of the stored shape,
`tenki:v1-<fingerprint>:obs:US:94040`. A release that changes the shape reads the old entries as misses;
a value that does not decode under a current key is a miss too, logged, never a crash.
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
from typing import Any, TypeVar

import redis
from pydantic import TypeAdapter, ValidationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from .metrics import Metrics
from .model import Observation

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# After a failure, how long no command is tried (the client then reconnects on the next one).
RETRY_AFTER_SECONDS = 1.0
# Followers poll the leader's answer this often (one MGET each time).
POLL_SECONDS = 0.05

_OBSERVATION = TypeAdapter(Observation)
T = TypeVar("T")
Clock = Callable[[], float]

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def schema_tag() -> str:
    """`v1-<8 hex>`: the version, and a fingerprint of the stored shape (the JSON schema of Observation)."""
    shape = json.dumps(_OBSERVATION.json_schema(), sort_keys=True).encode()
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
class SharedEntry:
    observation: Observation
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
class Poll:
    entry: SharedEntry | None
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
    """The fleet's cache, remembered failures and fetch locks in Redis; absorbs every Redis failure."""

    def __init__(
        self,
        client: redis.Redis,
        metrics: Metrics,
        *,
        entry_seconds: float,
        lock_seconds: float,
        wall_clock: Clock = time.time,
        clock: Clock = time.monotonic,
    ) -> None:
        """`entry_seconds`: how long Redis keeps an observation (fresh + stale window) before it drops it."""
        self.client = client
        self.metrics = metrics
        self.entry_seconds = entry_seconds
        self.lock_seconds = lock_seconds
        self._wall = wall_clock
        self._clock = clock
        self._unlock = client.register_script(_UNLOCK)
        self._state_lock = threading.Lock()
        self._degraded = False
        self._retry_at = 0.0

    # -- keys and values ---------------------------------------------------------------------------

    @staticmethod
    def key(kind: str, place: Hashable) -> str:
        return f"{KEY_PREFIX}{kind}:{place_suffix(place)}"

    def _decode_entry(self, key: str, raw: bytes | None) -> SharedEntry | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            observation = _OBSERVATION.validate_python(data["observation"])
            age = max(0.0, self._wall() - float(data["fetched_at"]))
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            self.metrics.shared_cache.labels("undecodable").inc()
            log.warning(
                "shared cache: a value does not decode; read as a miss",
                extra={"key": key, "error": type(exc).__name__},
            )
            return None
        return SharedEntry(observation, age)

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

    # -- the cache ---------------------------------------------------------------------------------

    def get(self, place: Hashable) -> SharedEntry | None:
        key = self.key("obs", place)
        try:
            raw = self._run(lambda: _optional_bytes(self.client.get(key)))
        except _Failed:
            self.metrics.shared_cache.labels("error").inc()
            return None
        return self._decode_entry(key, raw)

    def put(self, place: Hashable, observation: Observation) -> None:
        if self.entry_seconds <= 0:
            return
        value = json.dumps(
            {"fetched_at": self._wall(), "observation": _OBSERVATION.dump_python(observation, mode="json")},
            separators=(",", ":"),
        )
        key = self.key("obs", place)
        try:
            self._run(lambda: self.client.set(key, value, px=max(1, int(self.entry_seconds * 1000))))
        except _Failed:
            pass

    # -- remembered failures -----------------------------------------------------------------------

    def remembered(self, place: Hashable) -> Remembered | None:
        key = self.key("neg", place)
        try:
            raw = self._run(lambda: _optional_bytes(self.client.get(key)))
        except _Failed:
            return None
        return self._decode_remembered(key, raw)

    def remember(self, place: Hashable, failure: Remembered, seconds: float) -> None:
        if seconds <= 0:
            return
        value = json.dumps({"kind": failure.kind, "message": failure.message})
        key = self.key("neg", place)
        try:
            self._run(lambda: self.client.set(key, value, px=max(1, int(seconds * 1000))))
        except _Failed:
            pass

    # -- single flight across replicas -------------------------------------------------------------

    def try_lock(self, place: Hashable) -> tuple[LockState, str]:
        """Take the place's fetch lock (SET NX PX lock_seconds); the state and the token to release it."""
        token = uuid.uuid4().hex
        key = self.key("lock", place)
        try:
            taken = self._run(lambda: self.client.set(key, token, nx=True, px=int(self.lock_seconds * 1000)))
        except _Failed:
            return LockState.UNAVAILABLE, ""
        return (LockState.ACQUIRED if taken else LockState.BUSY), token

    def unlock(self, place: Hashable, token: str) -> None:
        """Release the lock if it is still ours (compare-and-delete); an expired lock is left alone."""
        key = self.key("lock", place)
        try:
            self._run(lambda: self._unlock(keys=[key], args=[token]))
        except _Failed:
            pass

    def poll(self, place: Hashable) -> Poll:
        """One round trip: the entry, a remembered failure, and whether a replica still holds the lock."""
        keys = [self.key("obs", place), self.key("neg", place), self.key("lock", place)]
        try:
            raw_entry, raw_failure, lock = self._run(
                lambda: [_optional_bytes(item) for item in _answer_list(self.client.mget(keys))]
            )
        except _Failed:
            return Poll(None, None, False, False)
        return Poll(
            self._decode_entry(keys[0], raw_entry),
            self._decode_remembered(keys[1], raw_failure),
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
