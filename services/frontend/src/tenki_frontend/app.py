"""The application factory (Flask's tutorial style): settings, logging, extensions, blueprints.

Only the factory lives here. Each part registers itself through its module's `init_app` or `bp`, and
no part imports this module (only the package's lazy `create_app` does), so the blueprints never reach
back into the factory: they ask weather.py for the client, as flaskr's views ask db.py.
"""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from . import access_log, api, errors, health, limiting, presenters, proxies, request_id
from . import security, views, weather
from . import logging as json_logging
from .config import FrontendSettings
from .weather_client import WeatherClient


class JSONProvider(DefaultJSONProvider):
    # Pages are small; compact JSON with non-ASCII as is (°C) reads better in a terminal.
    ensure_ascii = False


def create_app(
    settings: FrontendSettings | None = None,
    weather_client: WeatherClient | None = None,
    *,
    clock: weather.Clock = weather.utc_now,
) -> Flask:
    """A configured app; `weather_client` defaults to one for settings.weather_addr (lazy, per process)."""
    settings = settings or FrontendSettings.from_env()
    json_logging.configure(settings.log_level)
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.jinja_env.globals["country_options"] = presenters.country_options
    weather.init_app(app, settings, weather_client, clock)

    # Order matters: request_id's before_request runs first, so every later hook and log line has the id.
    request_id.init_app(app)
    security.init_app(app)
    proxies.init_app(app, settings.trusted_proxy_hops)
    limiting.init_app(app, settings)
    access_log.init_app(app)
    errors.init_app(app)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    # No /metrics here: the gunicorn master serves them on FRONTEND_METRICS_PORT (metrics.serve).
    return app
