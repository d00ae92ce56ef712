"""The one gRPC load generator of the benchmark: a bounded number of concurrent calls, timed.

grpc.aio drives `concurrency` calls at a time over one channel (one HTTP/2 connection, as a
real client would hold) from a single thread, which costs the load generator far less CPU than
one Python thread per call would on this 2-core machine. Each call is timed with
time.perf_counter(). Calls made during the warm-up are not counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc import aio

from .stats import RowResult

# A call factory gets the channel and returns a coroutine function that makes one call.
CallFactory = Callable[[aio.Channel], Callable[[], Awaitable[Any]]]

CALL_TIMEOUT_SECONDS = 10.0
# For a target of several addresses (ipv4:A,B): spread the calls over all of them.
ROUND_ROBIN = (("grpc.lb_policy_name", "round_robin"),)


async def _steady(
    addr: str, factory: CallFactory, concurrency: int, warmup: float, duration: float
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    async with aio.insecure_channel(addr, options=ROUND_ROBIN) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=CALL_TIMEOUT_SECONDS)
        call = factory(channel)
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def worker() -> None:
            nonlocal errors
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                failed = False
                try:
                    await call()
                except grpc.RpcError:
                    failed = True
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop_at:
                    latencies.append((ended - began) * 1000)
                    errors += failed

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, duration


def steady_row(
    row: int,
    name: str,
    addr: str,
    factory: CallFactory,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
) -> RowResult:
    """Keep `concurrency` calls in flight for warmup + duration seconds; count the last `duration`."""
    latencies, errors, seconds = asyncio.run(_steady(addr, factory, concurrency, warmup, duration))
    return RowResult.from_samples(row, name, f"grpc.aio x{concurrency}", latencies, errors, seconds)


async def _burst(
    addr: str, calls: Sequence[Callable[[aio.Channel], Awaitable[Any]]]
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    outcomes: list[str] = []
    async with aio.insecure_channel(addr, options=ROUND_ROBIN) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=CALL_TIMEOUT_SECONDS)

        async def one(make: Callable[[aio.Channel], Awaitable[Any]]) -> None:
            began = time.perf_counter()
            try:
                await make(channel)
                outcomes.append("OK")
            except grpc.RpcError as exc:
                outcomes.append(exc.code().name if isinstance(exc, aio.AioRpcError) else "ERROR")
            latencies.append((time.perf_counter() - began) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(one(make) for make in calls))
        seconds = time.perf_counter() - start
    return latencies, outcomes, seconds


def burst_row(
    row: int, name: str, addr: str, calls: Sequence[Callable[[aio.Channel], Awaitable[Any]]]
) -> tuple[RowResult, list[str]]:
    """Start every call at once and wait for all; the result and each call's status code name."""
    latencies, outcomes, seconds = asyncio.run(_burst(addr, calls))
    errors = sum(1 for outcome in outcomes if outcome != "OK")
    result = RowResult.from_samples(
        row, name, f"grpc.aio x{len(calls)} at once", latencies, errors, seconds
    )
    return result, outcomes
