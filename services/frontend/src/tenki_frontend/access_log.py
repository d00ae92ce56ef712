"""The access log: one JSON line per request (request id, route, status, duration), and its metrics.

The app writes these lines itself, not gunicorn, because only the app knows the request id and the URL
rule; gunicorn's own access log is off (see logging.py).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from . import metrics, request_id

ACCESS_LOGGER = "tenki_frontend.access"
log = logging.getLogger(ACCESS_LOGGER)


def init_app(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.start = time.perf_counter()

    @app.after_request
    def log_access(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("start", time.perf_counter())
        # The URL rule, not the path: unknown paths must not blow up the metrics' label set.
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        metrics.observe_http(route, request.method, response.status_code, seconds)
        log.info(
            "request",
            extra={
                "request_id": request_id.current(),
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1")[:200],
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "remote_addr": request.remote_addr,
                "user_agent": request.user_agent.string[:200],
            },
        )
        return response
