"""The probes: /healthz (the process answers) and /readyz (this frontend can serve).

/readyz is about this process only: it started (it answers), its settings are valid (it would not have
started otherwise) and it is not draining. The weather service's health is in the body (and in the
gRPC call metrics) but does not decide readiness: when the weather service is down, Kubernetes keeps
the frontend pods in the Service, so users get tenki's own 503 page with Retry-After for weather pages
and the form page still works, instead of the Gateway's bare error for everything.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import draining, request_id
from .weather import get_client

bp = Blueprint("health", __name__)
# Well inside the probes' timeoutSeconds (the chart's is 2).
WEATHER_HEALTH_TIMEOUT_SECONDS = 0.5


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
        # Asked with a short timeout, so a weather outage never makes the probe itself time out.
        status = get_client().serving_status(request_id.current(), timeout=WEATHER_HEALTH_TIMEOUT_SECONDS)
        ready, body = True, {"status": "ready", "weather_service": status}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
