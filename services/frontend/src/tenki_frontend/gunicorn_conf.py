"""tenki-frontend's gunicorn configuration (`tenki-frontend` runs gunicorn with it).

Also usable directly: gunicorn -c python:tenki_frontend.gunicorn_conf 'tenki_frontend.app:create_app()'.
Every value comes from FrontendSettings (the environment), so the image, the chart and `make run` agree.

Worker model: gthread. A request spends nearly all its time waiting on the weather service's gRPC answer,
so a few processes with several threads each serve many concurrent requests cheaply; the app is not
preloaded, so each worker builds its own gRPC channel after the fork (channels do not survive fork()).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from tenki_frontend import draining, tracing
from tenki_frontend.config import FrontendSettings
from tenki_frontend.logging import logconfig_dict as _logconfig_dict

_settings = FrontendSettings.from_env()

# prometheus-client's multiprocess mode needs a directory shared by the workers, set before any worker
# imports prometheus_client. Ours when unset; removed again on exit. No child_exit hook: its
# mark_process_dead only clears a dead worker's live gauges, and the frontend has none (counters and
# histograms keep a dead worker's samples, as they should).
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OWN_MULTIPROC_DIR = not os.environ.get(_MULTIPROC_ENV)
if _OWN_MULTIPROC_DIR:
    os.environ[_MULTIPROC_ENV] = tempfile.mkdtemp(prefix="tenki-frontend-metrics-")

bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.gunicorn_workers
worker_class = "gthread"
threads = _settings.gunicorn_threads
# In-flight requests get this long after SIGTERM; a request waits at most the gRPC deadline, so it fits.
graceful_timeout = _settings.gunicorn_graceful_timeout
# A worker silent for this long is killed and replaced (well above any gRPC deadline).
timeout = max(30, int(_settings.weather_deadline_seconds * 4))
keepalive = 5
preload_app = False
proc_name = "tenki-frontend"
# gunicorn's control socket defaults to one fixed path per user (~/.gunicorn/gunicorn.ctl): two frontends on
# a machine would take it from each other, and a read-only container has nowhere to put it. Not needed.
control_socket_disable = True
# The app writes one JSON access line per request (with the request id); gunicorn's own is off.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
logconfig_dict = _logconfig_dict(_settings.log_level, tracing=bool(_settings.tracing_endpoint))
logger_class = "tenki_frontend.logging.GunicornLogger"
# Request line and headers are bounded (gunicorn answers 400 past these), so huge input dies early.
limit_request_line = 4094
limit_request_fields = 100


def on_starting(server: Any) -> None:
    """Start from an empty metrics directory: samples of an earlier run's dead workers must not count."""
    directory = Path(os.environ[_MULTIPROC_ENV])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def when_ready(server: Any) -> None:
    server.log.info("tenki-frontend ready on %s, weather service at %s", bind[0], _settings.weather_addr)
    for problem in _settings.budget_warnings():
        server.log.warning("time budget: %s", problem)
    _serve_metrics(server)
    _drain_before_graceful_stop(server)


def _serve_metrics(server: Any) -> None:
    """Prometheus metrics from the master, on their own port: every worker's samples, never the public port.

    The master outlives its workers (a killed worker's samples stay counted) and does not serve
    requests, so the scrape never competes with users for a worker thread.
    """
    if not _settings.metrics_port:
        return
    # Imported here, after PROMETHEUS_MULTIPROC_DIR is set: prometheus-client picks its multiprocess
    # value store when a metric is created, and the workers inherit this module as the master imported it.
    from tenki_frontend import metrics

    http, _thread = metrics.serve(_settings.metrics_port, _settings.metrics_bind_host)
    server.log.info("metrics on %s:%s/metrics", _settings.metrics_bind_host, http.server_port)


def _drain_before_graceful_stop(server: Any) -> None:
    """On SIGTERM: /readyz 503 for SHUTDOWN_DRAIN_SECONDS, requests still served, then gunicorn's stop.

    The arbiter looks its signal handlers up on the instance (getattr(self, "handle_term")), so wrapping
    the bound method here is enough; SIGINT (Ctrl-C) and SIGQUIT keep gunicorn's immediate behaviour.
    """
    graceful_stop = server.handle_term
    drain_seconds = _settings.shutdown_drain_seconds

    def handle_term() -> None:
        if drain_seconds > 0 and not draining.active():
            draining.begin()
            server.log.info("SIGTERM: draining for %ss (/readyz 503) before the graceful stop", drain_seconds)
            time.sleep(drain_seconds)
        graceful_stop()

    server.handle_term = handle_term


def post_fork(server: Any, worker: Any) -> None:
    """Tracing's SDK (its export thread and connection) starts here, in each worker, never in the master:
    neither survives a fork. A no-op when tracing is off."""
    tracing.start(_settings)


def worker_exit(server: Any, worker: Any) -> None:
    """The worker's buffered spans are exported before it exits."""
    tracing.shutdown()


def on_exit(server: Any) -> None:
    if _OWN_MULTIPROC_DIR:
        shutil.rmtree(os.environ[_MULTIPROC_ENV], ignore_errors=True)
