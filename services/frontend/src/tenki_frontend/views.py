"""The pages: the form at / and the weather page at /weather (plain HTML forms; no JavaScript needed)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from .presenters import forecast_view, weather_view
from .validation import FormValues, parse
from .weather import fetch_weather_and_forecast, now

bp = Blueprint("views", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html", values=FormValues(), errors={})


@bp.get("/weather")
def weather() -> str:
    parsed = parse(request.args)
    # The error handler re-renders the form with these values when the lookup fails.
    g.form_values = parsed.values
    # Both calls in flight together; a failed forecast leaves the current weather on the page.
    reply, forecast = fetch_weather_and_forecast(parsed)
    moment = now()
    return render_template(
        "weather.html",
        values=parsed.values,
        errors={},
        weather=weather_view(reply, moment),
        forecast=None if forecast is None else forecast_view(forecast, moment),
    )
