"""Fault injection for drills: an added delay, an error rate with a chosen status, health NOT_SERVING.

Every knob is off by default (config.py: FAULT_*). Part of the gRPC layer, never of the domain:
- FAULT_TARGET=rpc (default): `FaultInterceptor` delays the weather API's calls and fails the chosen share
  with FAULT_ERROR_CODE, as if the weather service itself were slow or broken;
- FAULT_TARGET=upstream: `FaultyProvider` wraps the provider, so the calls to OWM are delayed or fail
  (with the domain error of that status code), as if OWM were: the cache answers hits, and stale entries
  where it has them.
Health checks are never delayed or failed unless FAULT_INCLUDE_HEALTH is set; FAULT_HEALTH_NOT_SERVING
makes health say NOT_SERVING for tenki.weather.v1.WeatherService (what readiness asks), while the
server's own status ("", what liveness asks) stays SERVING, so a drill drains a pod without restarting it.
While any fault is on, the service says so at WARNING when it starts and every minute (`Reminder`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from . import errors
from .config import WeatherSettings
from .interceptor import SERVICE_PREFIX, CallLog
from .model import Forecast, Observation, Place
from .provider import Provider
from .status import STATUS_CODES

log = logging.getLogger(__name__)

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
REMINDER_SECONDS = 60.0


@dataclass(frozen=True)
class FaultPlan:
    delay_seconds: float = 0.0
    jitter_seconds: float = 0.0
    error_rate: float = 0.0
    error_code: str = "UNAVAILABLE"
    target: str = "rpc"
    health_not_serving: bool = False
    include_health: bool = False

    @classmethod
    def from_settings(cls, settings: WeatherSettings) -> FaultPlan:
        return cls(
            settings.fault_delay_seconds, settings.fault_delay_jitter_seconds, settings.fault_error_rate,
            settings.fault_error_code, settings.fault_target, settings.fault_health_not_serving,
            settings.fault_include_health,
        )

    @property
    def on(self) -> bool:
        return bool(self.delaying or self.error_rate or self.health_not_serving)

    @property
    def delaying(self) -> bool:
        return bool(self.delay_seconds or self.jitter_seconds)

    def describe(self) -> str:
        """The faults in force, in words ("" when none)."""
        parts = []
        where = "calls to OpenWeatherMap" if self.target == "upstream" else "weather API calls"
        if self.delaying:
            parts.append(
                f"{where} delayed by {self.delay_seconds:g} s"
                + (f" + 0..{self.jitter_seconds:g} s at random" if self.jitter_seconds else "")
            )
        if self.error_rate:
            parts.append(f"{self.error_rate:.0%} of {where} fail with {self.error_code}")
        if (self.delaying or self.error_rate) and self.include_health:
            parts.append("health checks included")
        if self.health_not_serving:
            parts.append("health says NOT_SERVING for tenki.weather.v1.WeatherService")
        return "; ".join(parts)

    def draw_delay(self, rng: random.Random) -> float:
        return self.delay_seconds + (rng.uniform(0, self.jitter_seconds) if self.jitter_seconds else 0.0)

    def draw_error(self, rng: random.Random) -> bool:
        return bool(self.error_rate) and rng.random() < self.error_rate


def message(plan: FaultPlan) -> str:
    return f"injected fault (FAULT_ERROR_RATE={plan.error_rate:g}): {plan.error_code}"


class FaultInterceptor(grpc.ServerInterceptor):
    """FAULT_TARGET=rpc: the weather API's unary calls (and health checks if asked) delayed or failed.

    It runs inside the ObservabilityInterceptor (`call_log` is its), so an injected fault is logged and
    counted like any other outcome, with "fault" in the log line.
    """

    def __init__(
        self,
        plan: FaultPlan,
        call_log: Callable[[grpc.ServicerContext], CallLog],
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.plan = plan
        self._call_log = call_log
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._sleep = sleep

    def applies_to(self, method: str) -> bool:
        return method.startswith(SERVICE_PREFIX) or (self.plan.include_health and method == HEALTH_CHECK)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not self.applies_to(handler_call_details.method):
            return handler
        inner = handler.unary_unary
        plan = self.plan

        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:  # random.Random is not safe to share between threads unlocked
                delay = plan.draw_delay(self._rng)
                fail = plan.draw_error(self._rng)
            call = self._call_log(context)
            if delay:
                call.fields["fault_delay_ms"] = str(round(delay * 1000, 3))
                self._sleep(delay)
            if fail:
                call.fields["fault"] = "error"
                context.abort(grpc.StatusCode[plan.error_code], message(plan))
            return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def domain_error(code: str, text: str) -> errors.WeatherError:
    """The domain error the status layer turns into `code` (INTERNAL for codes no domain error has)."""
    for kind, status in STATUS_CODES:
        if status.name == code and kind not in (errors.InvalidInput, errors.WeatherError):
            return kind(text)
    return errors.InternalError(text)


class FaultyProvider:
    """FAULT_TARGET=upstream: the provider's calls delayed, and the chosen share failed."""

    def __init__(
        self,
        inner: Provider,
        plan: FaultPlan,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.plan = plan
        self.source = inner.source
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._sleep = sleep

    def _inject(self) -> None:
        """One upstream request's fault: the delay drawn, then the chosen share failed."""
        with self._lock:
            delay = self.plan.draw_delay(self._rng)
            fail = self.plan.draw_error(self._rng)
        if delay:
            self._sleep(delay)
        if fail:
            log.info("injected upstream fault", extra={"fault": "error", "code": self.plan.error_code})
            raise domain_error(self.plan.error_code, message(self.plan))

    # Every upstream request (geocoding, then the weather or the forecast at the place) is faulted alike.
    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        self._inject()
        return self.inner.geocode(lookup_code, country_code)

    def weather_at(self, place: Place) -> Observation:
        self._inject()
        return self.inner.weather_at(place)

    def forecast_at(self, place: Place) -> Forecast:
        self._inject()
        return self.inner.forecast_at(place)


class Reminder:
    """WARNING now and every `interval` seconds while faults are on, until stop()."""

    def __init__(self, plan: FaultPlan, interval: float = REMINDER_SECONDS) -> None:
        self.plan = plan
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-reminder", daemon=True)

    def warn(self) -> None:
        log.warning(f"FAULT INJECTION ON: {self.plan.describe()}", extra={"faults": self.plan.describe()})

    def start(self) -> None:
        self.warn()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.warn()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
