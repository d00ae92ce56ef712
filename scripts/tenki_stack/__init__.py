"""tenki's local stack as a library: the services as real processes, and the OWM stand-in behind them.

The one home of the process helpers that `make run` (scripts/stack.py), the test suites and load/
(`make load`, `make bench`) share. It lives beside the launcher in scripts/, which each of them has on
sys.path: a script's own folder for `make run`, setup.cfg's `pythonpath` for pytest (in the source
tree and in `make acceptance`'s tox runs outside it), and load/'s entry points insert it themselves.

    weather = start_weather({"WEATHER_PROVIDER": "demo"}, port=free_port(), metrics_port=0)
    frontend = start_frontend({}, port=free_port(), weather_addr=weather.addr)
    frontend.url          # http://127.0.0.1:PORT
    frontend.output()     # what it logged so far (stdout and stderr)
    frontend.log_records()  # ... its JSON log lines as dicts
    frontend.stop(); weather.stop()

    with LocalStack(weather_env={...}) as local:   # both, on free ports
        local.url, local.weather_addr

Modules:
  processes    free ports, ServiceProcess (a command with its captured output), readiness probes
  services     start_weather, start_frontend, LocalStack
  proxy        start_proxy: Debian's nginx with the chart's config (files/nginx-frontend.conf) in front
  owm_standin  OwmStandIn: OpenWeatherMap's current-weather API on 127.0.0.1, with fault injection
"""

from tenki_stack.processes import (
    DEFAULT_TIMEOUT,
    LOCALHOST,
    ServiceProcess,
    StackError,
    console_script,
    free_port,
    grpc_reachable,
    grpc_serving,
    http_ok,
    json_records,
    port_in_use,
)
from tenki_stack.proxy import ProxyProcess, render_config, start_proxy
from tenki_stack.services import LocalStack, start_frontend, start_weather

__all__ = [
    "DEFAULT_TIMEOUT",
    "LOCALHOST",
    "LocalStack",
    "ProxyProcess",
    "ServiceProcess",
    "StackError",
    "console_script",
    "free_port",
    "grpc_reachable",
    "grpc_serving",
    "http_ok",
    "json_records",
    "port_in_use",
    "render_config",
    "start_frontend",
    "start_proxy",
    "start_weather",
]
