#!/usr/bin/env python3
"""`make run`: tenki's weather service and frontend in the foreground until Ctrl-C or SIGTERM.

Starts `tenki serve`, `tenki-frontend` (gunicorn) and nginx in front of it, as the chart's pod does (the
config is the chart's files/nginx-frontend.conf), waits until all are ready, prints the URL, and stops
them cleanly (the proxy first, then the frontend) on Ctrl-C or SIGTERM. Users open FRONTEND_PORT, where
nginx listens; gunicorn listens on FRONTEND_APP_PORT on loopback. Ports follow WEATHER_PORT, METRICS_PORT,
FRONTEND_PORT, FRONTEND_APP_PORT and FRONTEND_METRICS_PORT, so two stacks can run side by side; a busy
port is refused with a hint. Without OWM_API_KEY: demo data. The process helpers are the tenki_stack
package beside this file.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from tenki_stack import (
    LOCALHOST,
    LocalStack,
    StackError,
    free_port,
    port_in_use,
    start_frontend,
    start_proxy,
    start_weather,
)

DEFAULT_WEATHER_PORT, DEFAULT_METRICS_PORT, DEFAULT_FRONTEND_PORT = 50051, 9090, 8080
DEFAULT_FRONTEND_METRICS_PORT = 9091
# gunicorn behind the proxy: on loopback only, so every request has passed nginx's bounds.
DEFAULT_FRONTEND_APP_PORT = 8081


def _port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from None


def main() -> int:
    """`make run`: both services in the foreground until Ctrl-C or SIGTERM."""
    weather_port = _port_from_env("WEATHER_PORT", DEFAULT_WEATHER_PORT)
    metrics_port = _port_from_env("METRICS_PORT", DEFAULT_METRICS_PORT)
    frontend_port = _port_from_env("FRONTEND_PORT", DEFAULT_FRONTEND_PORT)
    frontend_metrics_port = _port_from_env("FRONTEND_METRICS_PORT", DEFAULT_FRONTEND_METRICS_PORT)
    app_port = _port_from_env("FRONTEND_APP_PORT", DEFAULT_FRONTEND_APP_PORT)
    for name, port in (("WEATHER_PORT", weather_port), ("METRICS_PORT", metrics_port),
                       ("FRONTEND_PORT", frontend_port), ("FRONTEND_APP_PORT", app_port),
                       ("FRONTEND_METRICS_PORT", frontend_metrics_port)):
        if port and port_in_use(port):
            print(f"port {port} is in use (another tenki?): set {name} to a free port, e.g. "
                  f"{name}={free_port()} make run", file=sys.stderr)
            return 1
    weather_host = os.environ.get("WEATHER_HOST") or LOCALHOST
    frontend_host = os.environ.get("FRONTEND_HOST") or LOCALHOST
    demo = not os.environ.get("OWM_API_KEY") or os.environ.get("WEATHER_PROVIDER") == "demo"

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    print(f"Starting tenki: weather service on {weather_host}:{weather_port}"
          f" ({'demo data: no OWM_API_KEY' if demo else 'OpenWeatherMap'}), frontend on port {frontend_port}",
          flush=True)
    local = LocalStack(inherit_output=True)
    try:
        local.weather = start_weather(port=weather_port, metrics_port=metrics_port, host=weather_host,
                                      inherit_output=True)
        weather_addr = f"{LOCALHOST if weather_host == '0.0.0.0' else weather_host}:{weather_port}"
        # nginx is one more hop in X-Forwarded-For: the client is the entry it appended.
        hops = {"TRUSTED_PROXY_HOPS": os.environ.get("TRUSTED_PROXY_HOPS") or "1"}
        local.frontend = start_frontend(hops, port=app_port, weather_addr=weather_addr, host=LOCALHOST,
                                        metrics_port=frontend_metrics_port, inherit_output=True)
        proxy = start_proxy(local.frontend.addr, frontend_port, host=frontend_host, inherit_output=True)
    except StackError as exc:
        print(f"tenki did not start: {exc}", file=sys.stderr)
        local.stop()
        return 1
    shown_host = LOCALHOST if frontend_host == "0.0.0.0" else frontend_host
    print(f"\ntenki is running: http://{shown_host}:{frontend_port}   (Ctrl-C stops it)\n", flush=True)
    code = 0
    while not stop.wait(0.5):
        dead = [s for s in (proxy, local.weather, local.frontend) if s is not None and not s.running()]
        if dead:
            print(f"{dead[0].name} exited with code {dead[0].returncode}; stopping tenki", file=sys.stderr)
            code = 1
            break
    print("Stopping tenki ...", flush=True)
    proxy.stop()
    local.stop()
    print("tenki stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
