"""Probes and metrics: /healthz (the process answers), /readyz (the weather service is SERVING), /metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import draining, metrics, request_id
from .app import weather_client

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    # Liveness only: a weather outage must not make Kubernetes restart a healthy frontend.
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    if draining.active():
        # Shutting down: still serving, but no new traffic please (see draining.py).
        ready, body = False, {"status": "draining"}
    else:
        status = weather_client().serving_status(request_id.current())
        ready = status == "SERVING"
        body = {"status": "ready" if ready else "not ready", "weather_service": status}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
