"""`tenki-frontend`: the web frontend under gunicorn, with the packaged config (gunicorn_conf.py).

Settings come from the environment (FRONTEND_HOST, FRONTEND_PORT, WEATHER_ADDR, ...); a bad value stops
it at once with one line naming the variable, before gunicorn starts any worker.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

from .config import ConfigError, FrontendSettings, env_var_names

CONFIG = "python:tenki_frontend.gunicorn_conf"
APP = "tenki_frontend.app:create_app()"


def parser() -> argparse.ArgumentParser:
    names = ", ".join(sorted(env_var_names()))
    return argparse.ArgumentParser(
        prog="tenki-frontend",
        description="Serve tenki's web pages and JSON API under gunicorn (Ctrl-C or SIGTERM stops it).",
        epilog=f"Settings are environment variables: {names}. GUNICORN_CMD_ARGS adds gunicorn options.",
    )


def main(argv: list[str] | None = None) -> int:
    args = parser()
    args.add_argument("--version", action="version", version=version())
    args.parse_args(argv)
    try:
        FrontendSettings.from_env()
    except ConfigError as exc:
        print(f"tenki-frontend: {exc}", file=sys.stderr)
        return 2
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = ["tenki-frontend", "--config", CONFIG, APP]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0  # gunicorn exits the process itself; this is for the type checker


def version() -> str:
    try:
        return f"tenki-frontend {metadata.version('tenki-frontend')}"
    except metadata.PackageNotFoundError:  # a source checkout without an install
        return "tenki-frontend (not installed)"
