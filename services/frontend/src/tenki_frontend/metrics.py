"""Prometheus metrics of the frontend: HTTP requests by route and status, and gRPC call outcomes.

Under gunicorn every worker is its own process, so prometheus-client runs in multiprocess mode: each
worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (gunicorn_conf sets it to a fresh temp dir
when unset, before any worker imports this module) and /metrics aggregates them. Without the variable
(tests, the Flask dev server) the process's default registry is served.

`bp` serves them at /metrics on the app's own port for now; the route lives here, beside what it serves,
so moving it to a port of its own changes this module only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import cast

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client leaves MultiProcessCollector's __init__ unannotated (it registers itself on the
# registry it is given); this is its one use, typed as what it is to us.
_collect_workers_into = cast(Callable[[CollectorRegistry], object], multiprocess.MultiProcessCollector)

bp = Blueprint("metrics", __name__)
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


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multiprocess mode) or of this process, and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _collect_workers_into(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = exposition()
    return Response(body, content_type=content_type)
