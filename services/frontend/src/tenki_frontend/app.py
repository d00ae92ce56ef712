"""The application factory (Flask's tutorial style): settings, the weather client, blueprints, handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

import grpc
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from tenki.weather.v1 import weather_pb2

from . import errors, limiting, metrics, presenters, proxies, request_id, security
from . import logging as json_logging
from .config import FrontendSettings
from .errors import METHOD_NOT_ALLOWED, NOT_FOUND_PAGE, UNEXPECTED, FrontendError
from .validation import FormValues, Parsed
from .weather_client import WeatherClient

log = logging.getLogger("tenki_frontend")
access_log = logging.getLogger(json_logging.ACCESS_LOGGER)

CLIENT_KEY = "tenki_weather_client"
CLOCK_KEY = "tenki_clock"
API_PREFIX = "/api/"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(
    settings: FrontendSettings | None = None,
    weather_client: WeatherClient | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Flask:
    """A configured app; `weather_client` defaults to one for settings.weather_addr (lazy, per process)."""
    settings = settings or FrontendSettings.from_env()
    json_logging.configure(settings.log_level)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    # Pages are small; compact JSON with non-ASCII as is (°C) reads better in a terminal.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[CLIENT_KEY] = weather_client or WeatherClient(
        settings.weather_addr, settings.weather_deadline_seconds
    )
    app.extensions[CLOCK_KEY] = clock
    app.jinja_env.globals["country_options"] = presenters.country_options

    request_id.init_app(app)
    security.init_app(app)
    proxies.init_app(app, settings.trusted_proxy_hops)
    limiting.init_app(app, settings)
    _init_access_log(app)
    _init_error_handlers(app)

    from . import api, health, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    return app


def weather_client() -> WeatherClient:
    client: WeatherClient = current_app.extensions[CLIENT_KEY]
    return client


def fetch_weather(parsed: Parsed) -> weather_pb2.GetCurrentWeatherResponse:
    """The weather for a parsed question; FrontendError for bad input or the service's error status."""
    if parsed.query is None:
        raise errors.invalid_input(parsed.errors)
    question = parsed.query.to_request()

    def ask(cache_only: bool) -> weather_pb2.GetCurrentWeatherResponse:
        question.cache_only = cache_only
        return weather_client().get_current_weather(question, request_id.current())

    try:
        # The client's limit on lookups that miss the cache (limiting.py) wraps the call.
        return limiting.upstream_limited(ask)
    except grpc.RpcError as exc:
        raise errors.from_rpc_error(exc) from None


def now() -> datetime:
    return current_app.extensions[CLOCK_KEY]()  # type: ignore[no-any-return]


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def render_error(error: FrontendError, values: FormValues | None = None) -> Response:
    """The error as JSON (API) or as a page with the form, filled in, and messages next to fields."""
    if wants_json():
        response = jsonify({"error": {"code": error.code, "message": error.message}})
    else:
        response = Response(
            render_template(
                "error.html", error=error, values=values or FormValues(), errors=error.field_errors
            )
        )
    response.status_code = error.status
    response.headers.update(error.headers())
    return response


def _init_error_handlers(app: Flask) -> None:
    @app.errorhandler(FrontendError)
    def frontend_error(error: FrontendError) -> Response:
        return render_error(error, g.get("form_values"))

    @app.errorhandler(NotFound)
    def not_found(_: NotFound) -> Response:
        return render_error(NOT_FOUND_PAGE)

    @app.errorhandler(MethodNotAllowed)
    def method_not_allowed(error: MethodNotAllowed) -> Response:
        response = render_error(METHOD_NOT_ALLOWED)
        response.headers["Allow"] = ", ".join(error.valid_methods or ())
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Werkzeug's other client errors (414, 431...): its status, our page, no stack.
        status = error.code or 400
        return render_error(
            FrontendError(
                status, (error.name or "error").lower().replace(" ", "_"), error.name, error.description or ""
            )
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The detail goes to the log only; the person gets a plain page, never a traceback.
        log.exception("unexpected error", extra={"request_id": request_id.current()})
        return render_error(UNEXPECTED)


def _init_access_log(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.start = time.perf_counter()

    @app.after_request
    def log_access(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("start", time.perf_counter())
        # The URL rule, not the path: unknown paths must not blow up the metrics' label set.
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        metrics.observe_http(route, request.method, response.status_code, seconds)
        access_log.info(
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
