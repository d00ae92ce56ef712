"""A stand-in for OpenWeatherMap's current-weather endpoint: a real HTTP server on 127.0.0.1.

The weather service reaches it through PyOWM's own HTTP client (OWM_BASE_URL = `.base_url`), so every
test that uses it exercises the real upstream path: URL building, timeouts, status handling, parsing.

    standin = OwmStandIn()            # listens on a free port at once
    standin.base_url                  # "http://127.0.0.1:PORT/data/2.5" -> OWM_BASE_URL
    standin.set_fault("429")          # every request now answers HTTP 429
    standin.request_count             # upstream calls seen so far
    standin.stop()

Behaviour of GET /data/2.5/weather?zip=CODE,CC&appid=KEY[&units=metric|imperial]:
- no fault: 200 with realistic OWM JSON, deterministic per (zip, country); temperatures in kelvin unless
  `units` asks otherwise (PyOWM never sends `units`, it converts itself);
- zip "00000" (any country) is unknown: HTTP 404 {"cod": "404", "message": "city not found"}, as OWM does;
- a missing appid, or one other than `api_key` when the stand-in was given one: HTTP 401;
- faults (set_fault): "401", "404" (HTTP 404), "404-in-body" (HTTP 200 with {"cod": "404", ...}),
  "429", "500", "502", "503" (that HTTP status with OWM's JSON error body), "slow" (sleep
  `slow_seconds`, default 3 s, then answer normally), "malformed" (200, a broken JSON text),
  "empty" (200, no body). "refused" needs no server: use `refused_base_url()`.
- any other path: HTTP 404 {"cod": "404", "message": "Internal error"}.
Every request to any path is counted and its query parameters recorded (`.requests`, a list of dicts).

Runnable on its own: `python scripts/tenki_stack/owm_standin.py --port 8099 --latency-ms 200`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WEATHER_PATH = "/data/2.5/weather"
UNKNOWN_ZIP = "00000"
FAULTS = ("401", "404", "404-in-body", "429", "500", "502", "503", "slow", "malformed", "empty")

# OWM's own error messages, so a client sees what it would see in production.
_ERROR_MESSAGES = {
    401: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
    404: "city not found",
    429: "Your account is temporary blocked due to exceeding of requests limitation of your subscription "
    "type. Please choose the proper subscription https://openweathermap.org/price",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}

# A handful of real conditions: (id, main, description, icon stem).
_CONDITIONS = (
    (800, "Clear", "clear sky", "01"),
    (801, "Clouds", "few clouds", "02"),
    (803, "Clouds", "broken clouds", "04"),
    (500, "Rain", "light rain", "10"),
    (701, "Mist", "mist", "50"),
    (600, "Snow", "light snow", "13"),
)

# Known places for a few codes; others get a name derived from the code.
_PLACES = {
    ("94040", "US"): ("Mountain View", 37.3861, -122.0839, -28800),
    ("10001", "US"): ("New York", 40.7484, -73.9967, -18000),
    ("SW1A 1AA", "GB"): ("London", 51.5010, -0.1416, 0),
    ("10115", "DE"): ("Berlin", 52.5323, 13.3846, 3600),
    ("100-0001", "JP"): ("Chiyoda", 35.6850, 139.7514, 32400),
}


def refused_base_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The socket is closed again, so the port is free and a connect gets RST (refused).
    return f"http://127.0.0.1:{port}/data/2.5"


def observation_json(zip_code: str, country: str, units: str = "standard", now: int | None = None) -> dict:
    """Realistic OWM current-weather JSON for a place, deterministic per (zip_code, country)."""
    key = (zip_code.upper(), country.upper())
    seed = hashlib.sha256(f"{key[0]},{key[1]}".encode()).digest()
    name, lat, lon, offset = _PLACES.get(
        key,
        (
            f"Place {key[0]}",
            round(-60 + seed[0] / 255 * 120, 4),
            round(-180 + seed[1] / 255 * 360, 4),
            (seed[2] % 25 - 12) * 3600,
        ),
    )
    kelvin = 273.15 + (seed[3] % 35) - 5 + seed[4] / 255
    cond_id, main, description, icon = _CONDITIONS[seed[5] % len(_CONDITIONS)]
    now = int(time.time()) if now is None else now
    day_start = now - now % 86400
    speed = round(seed[6] / 255 * 12, 2)

    def temp(value: float) -> float:
        if units == "metric":
            return round(value - 273.15, 2)
        if units == "imperial":
            return round((value - 273.15) * 9 / 5 + 32, 2)
        return round(value, 2)

    def wind(value: float) -> float:
        return round(value * 2.2369362920544, 2) if units == "imperial" else value

    return {
        "coord": {"lon": lon, "lat": lat},
        "weather": [{"id": cond_id, "main": main, "description": description, "icon": icon + "d"}],
        "base": "stations",
        "main": {
            "temp": temp(kelvin),
            "feels_like": temp(kelvin - 1.3),
            "temp_min": temp(kelvin - 2.1),
            "temp_max": temp(kelvin + 1.8),
            "pressure": 1000 + seed[7] % 30,
            "humidity": 30 + seed[8] % 65,
            "sea_level": 1000 + seed[7] % 30,
            "grnd_level": 990 + seed[7] % 30,
        },
        "visibility": 10000 if main != "Mist" else 3000,
        "wind": {"speed": wind(speed), "deg": seed[9] * 360 // 256, "gust": wind(round(speed * 1.6, 2))},
        "clouds": {"all": seed[10] % 101},
        "dt": now - 120,
        "sys": {
            "type": 2,
            "id": 2000000 + seed[11],
            "country": key[1],
            "sunrise": day_start + 6 * 3600 - offset,
            "sunset": day_start + 18 * 3600 - offset,
        },
        "timezone": offset,
        "id": 0,
        "name": name,
        "cod": 200,
    }


class OwmStandIn:
    """OWM's current-weather API on 127.0.0.1 (a free port unless `port` is given), with fault injection."""

    def __init__(
        self,
        port: int = 0,
        *,
        api_key: str | None = None,
        latency: float = 0.0,
        slow_seconds: float = 3.0,
    ) -> None:
        self.api_key = api_key
        self.slow_seconds = slow_seconds
        self._latency = latency
        self._fault: str | None = None
        self._lock = threading.Lock()
        self._requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/data/2.5"
        self._thread = threading.Thread(target=self._server.serve_forever, name="owm-standin", daemon=True)
        self._thread.start()

    # -- the test's controls -------------------------------------------------------------------
    def set_fault(self, kind: str) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULTS)}")
        with self._lock:
            self._fault = kind

    def clear_fault(self) -> None:
        with self._lock:
            self._fault = None

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by `seconds` (the cold path of a benchmark, single-flight tests)."""
        with self._lock:
            self._latency = seconds

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def requests(self) -> list[dict[str, str]]:
        """The query parameters of every request so far, oldest first (a copy)."""
        with self._lock:
            return [dict(params) for params in self._requests]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> OwmStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the handler asks ----------------------------------------------------------------
    def _record(self, params: dict[str, str]) -> tuple[str | None, float]:
        with self._lock:
            self._requests.append(params)
            return self._fault, self._latency


def _handler_for(standin: OwmStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "owm-standin/1"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            fault, latency = standin._record(params)
            if latency:
                time.sleep(latency)
            if url.path.rstrip("/") != WEATHER_PATH:
                self._send_json(404, {"cod": "404", "message": "Internal error"})
                return
            # PyOWM sends APPID; OWM accepts the parameter in any case.
            key = next((v for k, v in params.items() if k.lower() == "appid"), "")
            if fault == "slow":
                time.sleep(standin.slow_seconds)
            elif fault == "malformed":
                self._send_raw(200, b'{"coord": {"lon": -122.08, "lat": 37.39}, "weather": [{"id": 8')
                return
            elif fault == "empty":
                self._send_raw(200, b"")
                return
            elif fault == "404-in-body":
                self._send_json(200, {"cod": "404", "message": _ERROR_MESSAGES[404]})
                return
            elif fault is not None:
                self._send_error(int(fault))
                return
            if not key or (standin.api_key is not None and key != standin.api_key):
                self._send_error(401)
                return
            zip_code, _, country = params.get("zip", "").partition(",")
            if not zip_code.strip() or zip_code.strip() == UNKNOWN_ZIP:
                self._send_error(404)
                return
            units = params.get("units", "standard")
            self._send_json(200, observation_json(zip_code.strip(), (country or "us").strip(), units))

        def _send_error(self, status: int) -> None:
            # OWM's error bodies carry cod as a string for 404 and as a number otherwise.
            cod: int | str = "404" if status == 404 else status
            self._send_json(status, {"cod": cod, "message": _ERROR_MESSAGES.get(status, "error")})

        def _send_json(self, status: int, body: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(body).encode())

        def _send_raw(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status, HTTPStatus(status).phrase)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout); nothing to answer.
                pass

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: tests read the recorded requests, not the stderr of the stand-in.
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the OpenWeatherMap stand-in on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every answer by this much")
    parser.add_argument("--api-key", default=None, help="the only key accepted (default: any)")
    args = parser.parse_args(argv)
    standin = OwmStandIn(args.port, api_key=args.api_key, latency=args.latency_ms / 1000)
    print(f"OWM stand-in listening; OWM_BASE_URL={standin.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
