"""Prometheus metrics of the frontend: HTTP requests by route and status, and gRPC call outcomes.

Under gunicorn every worker is its own process, so prometheus-client runs in multiprocess mode: each
worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (gunicorn_conf sets it to a fresh temp dir
when unset, before any worker imports this module) and /metrics aggregates them. Without the variable
(tests, the Flask dev server) the process's default registry is served.

They are served on a port of their own (FRONTEND_METRICS_PORT, 9091), never the public one: `serve` runs
prometheus-client's HTTP server in the gunicorn master (gunicorn_conf's when_ready), which aggregates
every worker's files; the app itself has no /metrics route, so the Gateway cannot expose it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import cast

from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client leaves MultiProcessCollector's __init__ unannotated (it registers itself on the
# registry it is given); this is its one use, typed as what it is to us.
_collect_workers_into = cast(Callable[[CollectorRegistry], object], multiprocess.MultiProcessCollector)

# Requests are fast (a cache hit is milliseconds) but the deadline is seconds; buckets cover both.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "tenki_frontend_http_requests_total",
    "HTTP requests answered, by route (the URL rule, not the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "tenki_frontend_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method.",
    ["route", "method"],
    buckets=BUCKETS,
)
GRPC_CALLS = Counter(
    "tenki_frontend_grpc_calls_total",
    "Calls to the weather service, by gRPC method and status code (OK, NOT_FOUND, UNAVAILABLE...).",
    ["method", "code"],
)
GRPC_LATENCY = Histogram(
    "tenki_frontend_grpc_call_duration_seconds",
    "Duration of calls to the weather service (retries included), by gRPC method.",
    ["method"],
    buckets=BUCKETS,
)


def observe_http(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(seconds)


def observe_grpc(method: str, code: str, seconds: float) -> None:
    GRPC_CALLS.labels(method, code).inc()
    GRPC_LATENCY.labels(method).observe(seconds)


def registry() -> CollectorRegistry:
    """Every worker's samples (multiprocess mode), or this process's default registry."""
    if os.environ.get(MULTIPROC_ENV):
        workers = CollectorRegistry()
        _collect_workers_into(workers)
        return workers
    return REGISTRY


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multiprocess mode) or of this process, and its content type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def serve(port: int, host: str) -> tuple[WSGIServer, Thread]:
    """Serve /metrics on `host`:`port` from a daemon thread; the server (its bound port) and thread."""
    return start_http_server(port, host, registry=registry())
