"""Drills of the fleet's shared state (issue 13): Redis stopped under load, and a lock holder killed.

Two `tenki serve` processes share one real redis-server, the OWM stand-in counting behind them
(tests/support/fleet.py). Redis is an optimisation: stopping it must cost no failed call, and starting it
again must bring sharing back without restarting tenki. A replica that dies holding a place's fetch lock
must not stall the fleet past the lock's expiry, nor any caller past its own deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis
import requests
from drills import SteadyLoad, health_status, tally, wait_until

from support.fleet import Fleet
from tenki_weather.shared import KEY_PREFIX

DEADLINE = 2.0


@pytest.mark.timeout(300)
def test_redis_stopped_under_load_costs_no_failed_call_and_sharing_resumes(
    tmp_path: Path, drill_report: Callable[[str, dict[str, Any]], None]
) -> None:
    # A 1 s near cache, so both replicas meet the outage within the first second of it.
    with Fleet(tmp_path, replicas=2, LOG_LEVEL="WARNING", CACHE_LOCAL_TTL_SECONDS="1") as fleet:
        codes = [f"4{n:04d}" for n in range(40)]

        def call(worker: int, n: int) -> tuple[str, Any]:
            code, _ = fleet.call(worker % 2, codes[(worker * 7 + n) % len(codes)], timeout=DEADLINE)
            return code.name, worker % 2

        with SteadyLoad(call, workers=4, pause=0.02) as load:
            assert load.wait_for(100, timeout=60)
            t_stop = time.monotonic()
            fleet.redis.stop()
            time.sleep(2)
            # Degraded, and says so; gRPC health stays SERVING (Redis is no dependency).
            for replica, channel in zip(fleet.replicas, fleet.channels):
                assert health_status(channel) == "SERVING"
                scrape = requests.get(f"http://127.0.0.1:{replica.metrics_port}/metrics", timeout=5).text
                assert "tenki_weather_redis_degraded 1.0" in scrape
                assert fleet.redis.url not in scrape
            time.sleep(3)
            t_start = time.monotonic()
            fleet.redis.start()
            time.sleep(3)
        outcomes = load.outcomes
        during = [o for o in outcomes if t_stop <= o.start < t_start]
        assert during, "calls were made while Redis was down"
        assert tally(outcomes) == {"OK": len(outcomes)}, tally(outcomes)
        slowest = max(o.duration for o in outcomes)
        assert slowest < DEADLINE
        for replica in fleet.replicas:
            assert replica.running()
            lines = replica.log_records()
            assert any("redis unavailable: degraded" in str(r.get("message")) for r in lines)
        # Sharing is back, with the same processes: a new code fetched through one is a hit on the other.
        assert wait_until(lambda: fleet.call(0, "49901")[0] is grpc.StatusCode.OK, 10)
        assert fleet.call(1, "49901")[0] is grpc.StatusCode.OK
        assert fleet.upstream_calls("49901") == 1
        for replica in fleet.replicas:
            scrape = requests.get(f"http://127.0.0.1:{replica.metrics_port}/metrics", timeout=5).text
            assert "tenki_weather_redis_degraded 0.0" in scrape

        # A hung Redis (SIGSTOP: connections open, no answers): each command times out within
        # REDIS_TIMEOUT_SECONDS, the answers keep coming within the deadline.
        with SteadyLoad(call, workers=4, pause=0.02) as load:
            assert load.wait_for(20, timeout=60)
            fleet.redis.freeze()
            try:
                time.sleep(3)
            finally:
                fleet.redis.thaw()
            time.sleep(2)
        hung = load.outcomes
        assert tally(hung) == {"OK": len(hung)}, tally(hung)
        assert max(o.duration for o in hung) < DEADLINE
        timeouts = sum(
            float(line.split()[-1])
            for replica in fleet.replicas
            for line in requests.get(f"http://127.0.0.1:{replica.metrics_port}/metrics", timeout=5)
            .text.splitlines()
            if line.startswith('tenki_weather_redis_errors_total{kind="timeout"}')
        )
        assert timeouts >= 1
        drill_report(
            "redis stopped for 5 s under load (2 replicas)",
            {"calls": len(outcomes), "during_outage": len(during), "outcomes": tally(outcomes),
             "slowest_s": round(slowest, 3), "hung_redis_calls": len(hung), "hung_outcomes": tally(hung),
             "hung_slowest_s": round(max(o.duration for o in hung), 3), "redis_timeouts": timeouts},
        )  # fmt: skip


@pytest.mark.timeout(300)
def test_a_lock_holder_killed_mid_fetch_lets_another_replica_fetch_after_the_lock_expires(
    tmp_path: Path, drill_report: Callable[[str, dict[str, Any]], None]
) -> None:
    # Upstream answers in 3 s, its timeout is 4 s, so the lock lives 6 s (the timeout + 2).
    with Fleet(tmp_path, replicas=3, OWM_TIMEOUT_SECONDS="4") as fleet:
        fleet.owm.set_latency(3.0)
        client = redis.Redis.from_url(fleet.redis.url, socket_timeout=2)
        lock_key = f"{KEY_PREFIX}lock:US:48001"
        results: dict[str, tuple[str, float]] = {}

        def ask(name: str, replica: int, timeout: float) -> None:
            start = time.monotonic()
            code, _ = fleet.call(replica, "48001", timeout=timeout)
            results[name] = (code.name, time.monotonic() - start)

        leader = threading.Thread(target=ask, args=("leader", 0, 20.0))
        leader.start()
        assert wait_until(lambda: client.exists(lock_key) == 1, 10), "replica 0 took the lock"
        t_lock = time.monotonic()
        waiters = [
            threading.Thread(target=ask, args=("patient", 1, 15.0)),
            threading.Thread(target=ask, args=("hurried", 2, DEADLINE)),
        ]
        for thread in waiters:
            thread.start()
        time.sleep(0.5)
        fleet.replicas[0].kill()  # SIGKILL mid-fetch: the lock is never released
        for thread in (*waiters, leader):
            thread.join(30)
        t_done = time.monotonic()
        assert results["leader"][0] == "UNAVAILABLE"  # its connection died with it
        assert results["hurried"][0] == "UNAVAILABLE" and results["hurried"][1] < DEADLINE + 0.3
        code, seconds = results["patient"]
        assert code == "OK" and seconds < 15.0
        # Replica 1 fetched only after the lock expired (6 s after replica 0 took it).
        assert t_done - t_lock >= 6.0
        assert fleet.upstream_calls("48001") == 2  # the dead replica's call, and the one that took over
        assert fleet.call(2, "48001")[0] is grpc.StatusCode.OK and fleet.upstream_calls("48001") == 2
        drill_report(
            "lock holder SIGKILLed mid-fetch (3 replicas, upstream 3 s, lock 6 s)",
            {name: {"code": c, "seconds": round(s, 2)} for name, (c, s) in results.items()}
            | {"upstream_calls": fleet.upstream_calls("48001")},
        )
