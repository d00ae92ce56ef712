"""The JSON API: GET /api/v1/weather?zip=94040&country=us&units=metric (`postalcode` is an alias of zip),
and GET /api/v1/forecast with the same parameters (3-hour slots and a summary per local day).

Same data and status codes as the weather page; errors are {"error": {"code": "...", "message": "..."}}.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .presenters import forecast_json, weather_json
from .validation import parse
from .weather import fetch_forecast, fetch_weather

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/weather")
def weather() -> Response:
    # `postalcode` was the original tenki API's parameter name.
    reply = fetch_weather(parse(request.args, zip_aliases=("postalcode",)))
    response = jsonify(weather_json(reply))
    # Weather changes slowly, but not that slowly: a client may reuse an answer for a minute.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/forecast")
def forecast() -> Response:
    reply = fetch_forecast(parse(request.args, zip_aliases=("postalcode",)))
    response = jsonify(forecast_json(reply))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
