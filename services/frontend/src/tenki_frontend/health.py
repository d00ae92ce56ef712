"""The probes: /healthz (the process answers) and /readyz (the weather service is SERVING)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import draining, request_id
from .weather import get_client

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
        status = get_client().serving_status(request_id.current())
        ready = status == "SERVING"
        body = {"status": "ready" if ready else "not ready", "weather_service": status}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
