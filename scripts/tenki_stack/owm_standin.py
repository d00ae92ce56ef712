"""A stand-in for OpenWeatherMap (current weather, 5 day / 3 hour forecast and zip geocoding): a real
HTTP server on 127.0.0.1.

The weather service reaches it through PyOWM's own HTTP client (OWM_BASE_URL = `.base_url`), so every
test that uses it exercises the real upstream path: URL building, timeouts, status handling, parsing.

    standin = OwmStandIn()            # listens on a free port at once
    standin.base_url                  # "http://127.0.0.1:PORT/data/2.5" -> OWM_BASE_URL
    standin.geo_base_url              # "http://127.0.0.1:PORT/geo/1.0" -> OWM_GEO_BASE_URL
    standin.set_fault("429")          # every request now answers HTTP 429
    standin.set_fault("400", "weather")   # ... only the weather requests (or "geo", "forecast")
    standin.request_count             # upstream calls seen so far (geocoding + weather + forecast)
    standin.geocode_count, standin.weather_count, standin.forecast_count
    standin.stop()

GET /geo/1.0/zip?zip=CODE,CC&appid=KEY: OWM's zip geocoding, with OWM's acceptance rules per country:
GB only the outward code ("SW1A"; a full postcode is "not found", as OWM's own example is E14,GB), CA
only the forward sortation area ("M5V"), NL only the 4 digits, IE only the routing key; other countries
the code as written. 200 {"zip", "name", "lat", "lon", "country"}; 404 {"cod": "404", "message": "not
found"} for a code it does not take or know (any code of only zeros).

GET /data/2.5/weather?lat=..&lon=..: the weather at a place the geocoder answered, each known place with
a body of the corpus (owm_corpus.py): London rain with three conditions, Toronto snow with nothing
unmeasured, Amsterdam with no `timezone`, Berlin with an empty name, Tromsø (NO 9010) in polar night,
Chiyoda with rain over 3 h, Mountain View every block. Other coordinates get a generated answer.

GET /data/2.5/forecast?lat=..&lon=..: OWM's 5 day / 3 hour forecast at a place, as OWM sends it: "cod"
"200" (a string), 40 slots from the next 3-hour boundary (UTC), each with `main` (kelvin), one or more
conditions, `clouds`, `wind` (with `gust`), `visibility`, `pop` (0..1), `rain.3h` / `snow.3h` only in
wet slots, `sys.pod` and `dt_txt`; and `city` with `coord`, `country`, `timezone`, `sunrise`,
`sunset`. Deterministic per place and slot (forecast_json). The faults apply as for the weather; the
"unreadable" forecast is a slot without `dt`, which PyOWM cannot parse.

Behaviour of GET /data/2.5/weather?zip=CODE,CC&appid=KEY[&units=metric|imperial]:
- no fault: 200 with realistic OWM JSON, deterministic per (zip, country); temperatures in kelvin unless
  `units` asks otherwise (PyOWM never sends `units`, it converts itself);
- zip "00000" (any country) is unknown: HTTP 404 {"cod": "404", "message": "city not found"}, as OWM does;
- a missing appid, or one other than `api_key` when the stand-in was given one: HTTP 401;
- faults (set_fault): "400" (HTTP 400 {"cod": "400", "message": "Nothing to geocode"}), "401", "404"
  (HTTP 404), "404-in-body" (HTTP 200 with {"cod": "404", ...}), "429", "500", "502", "503" (that
  HTTP status with OWM's JSON error body), "slow" (sleep `slow_seconds`, default 3 s, then answer
  normally), "malformed" (200, a broken JSON text), "empty" (200, no body), "unreadable" (200, valid
  JSON PyOWM cannot read: a sunrise without a sunset; for geocoding, no coordinates), "html" (200,
  text/html: a proxy's page of about 3 kB, echoing the URL it was asked, key and all, as proxies do).
  "refused" needs no server: use `refused_base_url()`.
- any other path: HTTP 404 {"cod": "404", "message": "Internal error"}.
Every request to any path is counted and its query parameters recorded (`.requests`, a list of dicts).

Runnable on its own: `python scripts/tenki_stack/owm_standin.py --port 8099 --latency-ms 200`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

try:  # as a module of the tenki_stack package, or run as a script from its directory
    from . import owm_corpus
except ImportError:  # pragma: no cover
    import owm_corpus  # type: ignore[no-redef]

WEATHER_PATH = "/data/2.5/weather"
FORECAST_PATH = "/data/2.5/forecast"
GEO_PATH = "/geo/1.0/zip"
UNKNOWN_ZIP = "00000"
FAULTS = (
    "400", "401", "404", "404-in-body", "429", "500", "502", "503", "slow", "malformed", "empty",
    "unreadable", "html",
)
SCOPES = ("geo", "weather", "forecast")

# The part of a code OWM's zip geocoder knows, per country (see tenki_weather/postal.py for the evidence).
GEO_ACCEPTS = {
    "GB": re.compile(r"^(?:[A-Z]{1,2}[0-9][0-9A-Z]?|GIR)$"),
    "CA": re.compile(r"^[A-Z][0-9][A-Z]$"),
    "NL": re.compile(r"^[0-9]{4}$"),
    "IE": re.compile(r"^[A-Z0-9]{3}$"),
}

# Places by the geocoder's form of their code: (name, lat, lon, UTC offset in July, corpus body).
PLACES: dict[tuple[str, str], tuple[str, float, float, int, str]] = {
    ("94040", "US"): ("Mountain View", 37.3861, -122.0839, -25200, "full"),
    ("10001", "US"): ("New York", 40.7484, -73.9967, -14400, "clear"),
    ("SW1A", "GB"): ("London", 51.5010, -0.1416, 3600, "rain-several-conditions"),
    ("E14", "GB"): ("London", 51.5079, -0.0235, 3600, "full"),
    ("M5V", "CA"): ("Toronto", 43.6426, -79.3871, -14400, "snow-unmeasured"),
    ("1011", "NL"): ("Amsterdam", 52.3731, 4.9003, 7200, "no-timezone"),
    ("100-0001", "JP"): ("Chiyoda", 35.6850, 139.7514, 32400, "rain-3h-only"),
    ("10115", "DE"): ("Berlin", 52.5323, 13.3846, 7200, "empty-name"),
    ("9010", "NO"): ("Tromsø", 69.6489, 18.9551, 3600, "polar-night"),
}

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

_KNOWN_COORDS = {(lat, lon): key for key, (_, lat, lon, _, _) in PLACES.items()}


def refused_base_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The socket is closed again, so the port is free and a connect gets RST (refused).
    return f"http://127.0.0.1:{port}/data/2.5"


def geocode_json(zip_code: str, country: str) -> dict | None:
    """OWM's zip-geocoding answer for a code, None when OWM would not know it (per-country rules)."""
    code, country = zip_code.strip().upper(), country.strip().upper()
    accepts = GEO_ACCEPTS.get(country)
    if not code.strip("0- ") or (accepts is not None and not accepts.match(code)):
        return None
    name, lat, lon, _, _ = _place(code, country)
    return {"zip": code, "name": name, "lat": lat, "lon": lon, "country": country}


def _place(code: str, country: str) -> tuple[str, float, float, int, str]:
    known = PLACES.get((code, country))
    if known is not None:
        return known
    seed = hashlib.sha256(f"{code},{country}".encode()).digest()
    lat = round(-60 + seed[0] / 255 * 120, 4)
    lon = round(-180 + seed[1] / 255 * 360, 4)
    return (f"Place {code}", lat, lon, (seed[2] % 25 - 12) * 3600, "")


def weather_at_json(
    lat: float, lon: float, place: tuple[str, str] | None, units: str = "standard", now: int | None = None
) -> dict:
    """The weather at coordinates the geocoder gave for `place` (code, country): a known place's corpus
    body, else a generated one (also for coordinates no code was geocoded to)."""
    now = int(time.time()) if now is None else now
    if place in PLACES and units == "standard":
        name, _, _, offset, kind = PLACES[place]
        return owm_corpus.body(kind, lat, lon, name, place[1], offset, now)
    if place is not None:
        return observation_json(place[0], place[1], units, now)
    return _generated(f"{lat:.4f},{lon:.4f}", "", units, now, (f"Place {lat:.2f} {lon:.2f}", lat, lon, None))


def observation_json(zip_code: str, country: str, units: str = "standard", now: int | None = None) -> dict:
    """Realistic OWM current-weather JSON for a place, deterministic per (zip_code, country)."""
    name, lat, lon, offset, _ = _place(zip_code.upper(), country.upper())
    return _generated(zip_code.upper(), country.upper(), units, now, (name, lat, lon, offset))


def _generated(
    code: str, country: str, units: str, now: int | None, place: tuple[str, float, float, int | None]
) -> dict:
    key = (code, country)
    seed = hashlib.sha256(f"{key[0]},{key[1]}".encode()).digest()
    name, lat, lon, zone = place
    offset = zone if zone is not None else int(round(lon / 15)) * 3600
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


def forecast_json(lat: float, lon: float, place: tuple[str, str] | None, now: int | None = None) -> dict:
    """OWM's /data/2.5/forecast body at a place: 40 3-hour slots, deterministic per place and slot."""
    now = int(time.time()) if now is None else now
    code, country = place or (f"{lat:.4f},{lon:.4f}", "")
    name, _, _, offset, _ = PLACES.get((code, country)) or _place(code, country)
    seed = hashlib.sha256(f"{code},{country}".encode()).digest()
    first = now - now % 10800 + 10800
    level = 273.15 + 28 - abs(lat) * 0.45 + seed[0] / 255 * 8 - 4
    day_start = now - now % 86400
    slots = []
    for i in range(40):
        dt = first + i * 10800
        slot_seed = hashlib.sha256(f"{code},{country},{dt}".encode()).digest()
        run = hashlib.sha256(f"{code},{country},run{dt // 43200}".encode()).digest()
        cond_id, main, description, icon = _CONDITIONS[run[0] % len(_CONDITIONS)]
        local_hour = (dt + offset) // 3600 % 24
        kelvin = level + 4 * math.cos(2 * math.pi * (local_hour + 1.5 - 15) / 24)
        if main == "Snow":
            kelvin = min(kelvin, 273.4)
        pod = "d" if 6 <= local_hour < 18 else "n"
        weather = [{"id": cond_id, "main": main, "description": description, "icon": icon + pod}]
        wet = main in ("Rain", "Snow")
        if main == "Rain":
            weather.append({"id": 701, "main": "Mist", "description": "mist", "icon": "50" + pod})
        pop = round(0.55 + slot_seed[0] / 255 * 0.45, 2) if wet else round(slot_seed[0] / 255 * 0.2, 2)
        speed = round(1 + slot_seed[1] / 255 * 8, 2)
        item: dict[str, Any] = {
            "dt": dt,
            "main": {
                "temp": round(kelvin, 2),
                "feels_like": round(kelvin - speed * 0.4, 2),
                "temp_min": round(kelvin - 0.3, 2),
                "temp_max": round(kelvin + 0.3, 2),
                "pressure": 1000 + seed[7] % 30,
                "sea_level": 1000 + seed[7] % 30,
                "grnd_level": 990 + seed[7] % 30,
                "humidity": 40 + slot_seed[2] % 55,
                "temp_kf": 0,
            },
            "weather": weather,
            "clouds": {"all": 0 if main == "Clear" else 20 + slot_seed[3] % 81},
            "wind": {"speed": speed, "deg": slot_seed[4] * 360 // 256, "gust": round(speed * 1.7, 2)},
            "visibility": 3000 if main == "Mist" else 10000,
            "pop": pop,
            "sys": {"pod": pod},
            "dt_txt": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(dt)),
        }
        if wet:
            item["rain" if main == "Rain" else "snow"] = {"3h": round(0.1 + slot_seed[5] / 255 * 3, 2)}
        slots.append(item)
    return {
        "cod": "200",
        "message": 0,
        "cnt": 40,
        "list": slots,
        "city": {
            "id": 0,
            "name": name,
            "coord": {"lat": lat, "lon": lon},
            "country": country,
            "population": 0,
            "timezone": offset,
            "sunrise": day_start + 6 * 3600 - offset,
            "sunset": day_start + 18 * 3600 - offset,
        },
    }


def proxy_page(asked: str) -> str:
    """What a proxy in the way answers instead of OWM (the "html" fault): an HTML page of about 3 kB that
    names the URL it was asked, query (and key) included, as captive portals and filtering proxies do."""
    rules = "".join(f"  .rule-{i} {{ margin: {i}px; padding: {i}px; }}\n" for i in range(80))
    return (
        "<!DOCTYPE html>\n<html><head><title>Access notice</title></head>\n<body>\n"
        f"<p>The page {asked} is being checked by your network's proxy.</p>\n"
        f"<style>\n{rules}</style>\n<p>Please try again later.</p>\n</body></html>\n"
    )


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
        self._fault_scope: str | None = None
        self._lock = threading.Lock()
        self._requests: list[dict[str, str]] = []
        self._paths: list[str] = []
        # (lat, lon) -> (code, country) of every place the geocoder answered.
        self._geocoded: dict[tuple[float, float], tuple[str, str]] = {}
        self._body: tuple[str, tuple[str, ...]] | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/data/2.5"
        self.geo_base_url = f"http://127.0.0.1:{self.port}/geo/1.0"
        self._thread = threading.Thread(target=self._server.serve_forever, name="owm-standin", daemon=True)
        self._thread.start()

    # -- the test's controls -------------------------------------------------------------------
    def set_fault(self, kind: str, scope: str | None = None) -> None:
        """Every request (or only those of `scope`: "geo" or "weather") answers with the fault."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULTS)}")
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
        with self._lock:
            self._fault, self._fault_scope = kind, scope

    def set_body(self, kind: str | None, drop: tuple[str, ...] = ()) -> None:
        """Answer every weather request with the corpus body `kind` (owm_corpus.BODIES) at the asked
        coordinates, without the top-level blocks in `drop`; None: the places' own bodies again."""
        if kind is not None and kind not in owm_corpus.BODIES:
            raise ValueError(f"unknown body {kind!r}; choose one of {', '.join(owm_corpus.BODIES)}")
        with self._lock:
            self._body = None if kind is None else (kind, drop)

    def clear_fault(self) -> None:
        with self._lock:
            self._fault, self._fault_scope = None, None

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by `seconds` (the cold path of a benchmark, single-flight tests)."""
        with self._lock:
            self._latency = seconds

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def geocode_count(self) -> int:
        with self._lock:
            return sum(path == GEO_PATH for path in self._paths)

    @property
    def weather_count(self) -> int:
        with self._lock:
            return sum(path == WEATHER_PATH for path in self._paths)

    @property
    def forecast_count(self) -> int:
        with self._lock:
            return sum(path == FORECAST_PATH for path in self._paths)

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
    def _record(self, path: str, params: dict[str, str]) -> tuple[str | None, float]:
        scope = {GEO_PATH: "geo", FORECAST_PATH: "forecast"}.get(path, "weather")
        with self._lock:
            self._requests.append(params)
            self._paths.append(path)
            fault = self._fault if self._fault_scope in (None, scope) else None
            return fault, self._latency

    def _remember(self, answer: dict[str, Any]) -> None:
        with self._lock:
            self._geocoded[(float(answer["lat"]), float(answer["lon"]))] = (answer["zip"], answer["country"])

    def _weather_body(self, lat: float, lon: float, units: str) -> dict[str, Any]:
        place = self._place_at(lat, lon)
        with self._lock:
            chosen = self._body
        if chosen is None:
            return weather_at_json(lat, lon, place, units)
        kind, drop = chosen
        code, country = place or ("", "US")
        name = PLACES.get((code, country), ("Mountain View",))[0]
        body = owm_corpus.body(kind, lat, lon, name, country, int(round(lon / 15)) * 3600, int(time.time()))
        return {key: value for key, value in body.items() if key not in drop}

    def _place_at(self, lat: float, lon: float) -> tuple[str, str] | None:
        with self._lock:
            place = self._geocoded.get((lat, lon))
        return place or _KNOWN_COORDS.get((lat, lon))


def _handler_for(standin: OwmStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "owm-standin/1"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            url = urlsplit(self.path)
            path = url.path.rstrip("/")
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            fault, latency = standin._record(path, params)
            if latency:
                time.sleep(latency)
            if path not in (WEATHER_PATH, GEO_PATH, FORECAST_PATH):
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
            elif fault == "html":
                self._send_raw(200, proxy_page(self.path).encode(), "text/html; charset=utf-8")
                return
            elif fault == "404-in-body":
                self._send_json(200, {"cod": "404", "message": _ERROR_MESSAGES[404]})
                return
            elif fault == "unreadable":
                if path == GEO_PATH:
                    self._send_json(200, {"zip": "94040", "name": "Mountain View", "country": "US"})
                elif path == FORECAST_PATH:
                    body = forecast_json(37.39, -122.08, ("94040", "US"))
                    del body["list"][0]["dt"]
                    self._send_json(200, body)
                else:
                    self._send_json(
                        200, owm_corpus.body("sunrise-without-sunset", 37.39, -122.08, "Mountain View", "US",
                                             -25200, int(time.time()))
                    )
                return
            elif fault is not None:
                self._send_error(int(fault))
                return
            if not key or (standin.api_key is not None and key != standin.api_key):
                self._send_error(401)
                return
            if path == GEO_PATH:
                self._geocode(params)
                return
            units = params.get("units", "standard")
            if "lat" in params or "lon" in params or path == FORECAST_PATH:
                try:
                    lat, lon = float(params["lat"]), float(params["lon"])
                except (KeyError, ValueError):
                    self._send_json(400, {"cod": "400", "message": "wrong latitude"})
                    return
                if path == FORECAST_PATH:
                    self._send_json(200, forecast_json(lat, lon, standin._place_at(lat, lon)))
                else:
                    self._send_json(200, standin._weather_body(lat, lon, units))
                return
            # The deprecated built-in geocoding of /data/2.5/weather?zip= (tenki no longer uses it).
            zip_code, _, country = params.get("zip", "").partition(",")
            if not zip_code.strip() or zip_code.strip() == UNKNOWN_ZIP:
                self._send_error(404)
                return
            self._send_json(200, observation_json(zip_code.strip(), (country or "us").strip(), units))

        def _geocode(self, params: dict[str, str]) -> None:
            zip_code, _, country = params.get("zip", "").partition(",")
            if not zip_code.strip():
                self._send_error(400)
                return
            answer = geocode_json(zip_code, country or "US")
            if answer is None:
                self._send_json(404, owm_corpus.GEO_NOT_FOUND)
                return
            standin._remember(answer)
            self._send_json(200, answer)

        def _send_error(self, status: int) -> None:
            # OWM's error bodies carry cod as a string for 400 and 404, as a number otherwise.
            self._send_json(status, owm_corpus.ERROR_BODIES.get(status, {"cod": status, "message": "error"}))

        def _send_json(self, status: int, body: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(body).encode())

        def _send_raw(
            self, status: int, payload: bytes, content_type: str = "application/json; charset=utf-8"
        ) -> None:
            try:
                self.send_response(status, HTTPStatus(status).phrase)
                self.send_header("Content-Type", content_type)
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
    print(
        f"OWM stand-in listening; OWM_BASE_URL={standin.base_url} OWM_GEO_BASE_URL={standin.geo_base_url}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
