"""The bare Flask app of benchmark rows 1, 2 and 12: what tenki's frontend costs at the least.

Both routes render one template of the same size and shape as tenki's weather page (a form with
the country select, a dozen readings) from constant data, served under the frontend's own
gunicorn config. `/bare` does nothing else (row 1); `/bare-grpc` first makes one unary call to
the trivial echo server (row 2), on one channel per worker process created after gunicorn forks;
`/bare-grpc-twice` makes two at once, as tenki's page asks for the weather and the forecast (row 12).
No validation, no request id, no logging, no metrics, no security headers: that is tenki's work.

Settings (environment): BENCH_ECHO_ADDR (host:port of tenki_bench.echo), BENCH_ECHO_BYTES (the
payload size, as large as a real GetCurrentWeatherResponse), BENCH_ECHO_FORECAST_BYTES (the second
call's of row 12, as large as a real GetForecastResponse) and BENCH_PAGE_BYTES (the size of tenki's
weather page: the bare page is padded with an HTML comment to exactly that many bytes).
"""

from __future__ import annotations

import os
import threading

import grpc
import pycountry
from flask import Flask, render_template

from .echo import echo_callable

# Constant data of the same shape and length as a real weather page.
COUNTRIES = sorted(((c.alpha_2.lower(), c.name) for c in pycountry.countries), key=lambda c: c[1])
PAGE = {
    "zip": "94040",
    "country": "us",
    "units": "metric",
    "countries": COUNTRIES,
    "place": "Mountain View",
    "country_name": "United States",
    "temperature": "18",
    "unit": "°C",
    "condition": "clear sky",
    "icon": "01d",
    "feels_like": "17",
    "temp_min": "15",
    "temp_max": "21",
    "humidity": 62,
    "wind_speed": "3.6 m/s",
    "wind_direction": "WNW",
    "pressure": 1015,
    "cloudiness": 0,
    "visibility": "10 km",
    "sunrise": "07:02",
    "sunset": "16:54",
    "updated": "3 minutes ago",
    "source": "demo",
}

_local = threading.local()
_channel_lock = threading.Lock()
_channel: tuple[int, grpc.Channel] | None = None


def _echo() -> grpc.UnaryUnaryMultiCallable:
    """The echo method on this process's channel (gRPC channels must not cross a fork)."""
    global _channel
    pid = os.getpid()
    with _channel_lock:
        if _channel is None or _channel[0] != pid:
            _channel = (pid, grpc.insecure_channel(os.environ["BENCH_ECHO_ADDR"]))
        return echo_callable(_channel[1])


def padding_for(app: Flask, page_bytes: int) -> str:
    """Filler that brings the rendered page to `page_bytes` (UTF-8), or "" when it is that large already."""
    unpadded = len(app.jinja_env.get_template("weather.html").render(**PAGE, padding="").encode())
    # The filler sits in an HTML comment: "<!-- " and " -->" take 9 bytes of the gap.
    return "p" * (page_bytes - unpadded - 9) if page_bytes - unpadded > 9 else ""


def create_app() -> Flask:
    app = Flask(__name__)
    payload = b"w" * int(os.environ.get("BENCH_ECHO_BYTES", "300"))
    forecast_payload = b"f" * int(os.environ.get("BENCH_ECHO_FORECAST_BYTES", "3000"))
    page = {**PAGE, "padding": padding_for(app, int(os.environ.get("BENCH_PAGE_BYTES", "0")))}

    @app.get("/bare")
    def bare() -> str:
        return render_template("weather.html", **page)

    @app.get("/bare-grpc")
    def bare_grpc() -> str:
        _echo()(payload, timeout=2)
        return render_template("weather.html", **page)

    @app.get("/bare-grpc-twice")
    def bare_grpc_twice() -> str:
        # Both calls in flight at once, as tenki's page makes its two (the weather and the forecast).
        echo = _echo()
        first, second = echo.future(payload, timeout=2), echo.future(forecast_payload, timeout=2)
        first.result(), second.result()
        return render_template("weather.html", **page)

    return app


app = create_app()
