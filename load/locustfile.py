"""Load tests for tenki: people on the website, programs on the JSON API, and gRPC clients.

Pick the kinds of users by class name on the command line (`locust -f load/locustfile.py
WebsiteUser ApiUser`) or by tag (`--tags web api grpc`). `make load` runs them headless and
fails when the service-level objective (slo.py) is missed; see the README's Performance section.

Extra options (also read from the environment, as `make load` sets them):
  --grpc-addr           host:port of the weather service's gRPC API   (LOAD_GRPC_ADDR)
  --slo-p95-ms          the bound of the 95th percentile, in ms        (LOAD_P95_MS, 1000)
  --slo-max-fail-ratio  the highest acceptable share of failures       (LOAD_MAX_FAIL_RATIO, 0.01)

Each simulated user is its own client, as real people are: HTTP users send the address a proxy would
write for them (X-Forwarded-For; the local stack of `make load` trusts one hop, TRUSTED_PROXY_HOPS=1, as
the chart does behind its Gateway) and gRPC users name themselves (x-client-id), so the per-client
limits (README "Fairness") count each user alone. Through a real Gateway the proxy's own entry wins, so
every user is the one load machine: raise the limits for such a run. `AbusiveUser` (not in the default
mix; `make load-abuse`) is a script asking for a new code twice a second: its 429s are its right answer,
and the others must keep their SLO.

Deliberately invalid inputs are part of the mix; their correct answer is 400 (INVALID_ARGUMENT
over gRPC), so such an answer counts as a success and anything else as a failure.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import time
from typing import Any
from urllib.parse import urlencode

# gRPC must use gevent's event loop instead of real threads before any channel exists, or its
# calls would block every simulated user of this process (Locust's documented gRPC pattern).
import grpc.experimental.gevent as grpc_gevent  # isort: skip

grpc_gevent.init_gevent()

import grpc  # noqa: E402
from locust import User, between, events, tag, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpUser  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import LocustError  # noqa: E402
from locust.runners import WorkerRunner  # noqa: E402

from postal_codes import Lookup, draw  # noqa: E402
from slo import Slo, judge  # noqa: E402
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc  # noqa: E402

log = logging.getLogger("tenki.load")

# What a correct answer looks like for each kind of lookup.
HTTP_OK: dict[str, frozenset[int]] = {
    "known": frozenset({200}),
    # A code nobody asked for may not exist upstream: "not found" is then the right answer.
    "new": frozenset({200, 404}),
    "invalid": frozenset({400}),
}
GRPC_OK: dict[str, frozenset[grpc.StatusCode]] = {
    "known": frozenset({grpc.StatusCode.OK}),
    "new": frozenset({grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}),
    "invalid": frozenset({grpc.StatusCode.INVALID_ARGUMENT}),
}
GRPC_UNITS = {
    "metric": weather_pb2.UNITS_METRIC,
    "imperial": weather_pb2.UNITS_IMPERIAL,
}
# One simulated client address per user, from the benchmarking range 198.18.0.0/15 (RFC 2544).
_client_numbers = itertools.count(1)


def client_address() -> str:
    number = next(_client_numbers)
    return f"198.18.{number // 250 % 256}.{number % 250 + 1}"


# Same-origin assets a browser fetches for a page (stylesheets, icons, scripts).
ASSET = re.compile(r"""(?:href|src)="(/static/[^"?#]+)""")


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    parser.add_argument(
        "--grpc-addr",
        env_var="LOAD_GRPC_ADDR",
        default="",
        help="host:port of tenki's gRPC API (for GrpcUser)",
    )
    parser.add_argument(
        "--slo-p95-ms",
        env_var="LOAD_P95_MS",
        type=float,
        default=Slo.p95_ms,
        help="fail the run when the 95th percentile response time exceeds this (ms)",
    )
    parser.add_argument(
        "--slo-max-fail-ratio",
        env_var="LOAD_MAX_FAIL_RATIO",
        type=float,
        default=Slo.max_fail_ratio,
        help="fail the run when a larger share of requests failed",
    )


@events.quitting.add_listener
def _enforce_slo(environment: Environment, **_kwargs: Any) -> None:
    """Set the exit code from Locust's own aggregated statistics (on the master, or alone)."""
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    options = environment.parsed_options
    total = environment.stats.total
    verdict = judge(
        Slo(p95_ms=options.slo_p95_ms, max_fail_ratio=options.slo_max_fail_ratio),
        requests=total.num_requests,
        failures=total.num_failures,
        p95_ms=total.get_response_time_percentile(0.95) if total.num_requests else float("nan"),
    )
    for line in verdict.lines:
        log.log(logging.ERROR if line.startswith("SLO FAILED") else logging.INFO, line)
    environment.process_exit_code = 0 if verdict.passed else 1


def _check_http(response: Any, lookup: Lookup, expect_json: bool) -> None:
    """Mark one caught response as success or failure by what the lookup's right answer is."""
    status = response.status_code
    if status not in HTTP_OK[lookup.kind]:
        response.failure(f"{lookup.kind} code {lookup.postal_code!r}/{lookup.country}: HTTP {status}")
        return
    if expect_json:
        try:
            body = response.json()
        except ValueError:
            response.failure(f"HTTP {status} without a JSON body")
            return
        if status != 200 and not (isinstance(body, dict) and "message" in body.get("error", {})):
            response.failure(f"HTTP {status} without an error message: {body!r:.200}")
            return
    elif "<html" not in response.text[:500].lower():
        response.failure(f"HTTP {status} is not an HTML page")
        return
    response.success()


class ClientUser(FastHttpUser):
    """An HTTP user that is a client of its own: the address a proxy would write for it, in every request."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        # FastHttpUser builds its session from default_headers.
        self.default_headers = {"X-Forwarded-For": client_address()}
        super().__init__(environment)


class WebsiteUser(ClientUser):
    """A person in a browser: opens the home page, looks up a place, sometimes switches units."""

    weight = 3
    # People read the page before they click again.
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.assets_seen: set[str] = set()
        self.lookup = draw(self.rng)
        self.units = self.lookup.units
        self.home()

    def _fetch_assets(self, html: str) -> None:
        # A browser fetches each stylesheet and icon once, then serves it from its cache.
        for path in sorted(set(ASSET.findall(html)) - self.assets_seen):
            self.assets_seen.add(path)
            self.client.get(path, name="/static/[asset]")

    @tag("web")
    @task(1)
    def home(self) -> None:
        with self.client.get("/", name="/", catch_response=True) as response:
            if response.status_code == 200 and "<form" in response.text:
                response.success()
                self._fetch_assets(response.text)
            else:
                response.failure(f"home page: HTTP {response.status_code}")

    def _weather_page(self) -> None:
        query = urlencode(
            {"zip": self.lookup.postal_code, "country": self.lookup.country, "units": self.units}
        )
        name = f"/weather [{self.lookup.kind}]"
        with self.client.get(f"/weather?{query}", name=name, catch_response=True) as response:
            _check_http(response, self.lookup, expect_json=False)
            if response.status_code == 200:
                self._fetch_assets(response.text)

    @tag("web")
    @task(6)
    def look_up(self) -> None:
        """Type a postal code into the form and submit it."""
        self.lookup = draw(self.rng)
        self.units = self.lookup.units
        self._weather_page()

    @tag("web")
    @task(2)
    def switch_units(self) -> None:
        """Flip °C/°F for the place on screen (a cache hit for the service)."""
        self.units = "metric" if self.units == "imperial" else "imperial"
        self._weather_page()


class ApiUser(ClientUser):
    """A program (a widget, a home dashboard) polling the JSON API."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random()

    @tag("api")
    @task
    def current_weather(self) -> None:
        lookup = draw(self.rng)
        # The original tenki API called the parameter `postalcode`; old clients still do.
        key = "postalcode" if self.rng.random() < 0.2 else "zip"
        query = urlencode({key: lookup.postal_code, "country": lookup.country, "units": lookup.units})
        with self.client.get(
            f"/api/v1/weather?{query}", name=f"/api/v1/weather [{lookup.kind}]", catch_response=True
        ) as response:
            _check_http(response, lookup, expect_json=True)

    @tag("api")
    @task
    def forecast(self) -> None:
        # Dashboards show what is coming too: the forecast, same parameters and statuses.
        lookup = draw(self.rng)
        query = urlencode({"zip": lookup.postal_code, "country": lookup.country, "units": lookup.units})
        with self.client.get(
            f"/api/v1/forecast?{query}", name=f"/api/v1/forecast [{lookup.kind}]", catch_response=True
        ) as response:
            _check_http(response, lookup, expect_json=True)


class GrpcUser(User):
    """Another service calling WeatherService.GetCurrentWeather directly over gRPC."""

    weight = 1
    wait_time = between(0.5, 2)
    # Locust requires a host; gRPC users take theirs from --grpc-addr instead.
    host = "grpc"

    def on_start(self) -> None:
        addr = self.environment.parsed_options.grpc_addr if self.environment.parsed_options else ""
        if not addr:
            raise LocustError("GrpcUser needs the weather service's address: --grpc-addr / LOAD_GRPC_ADDR")
        self.rng = random.Random()
        # A caller of its own for the weather service's per-caller limits (GRPC_RATE_LIMIT_UPSTREAM).
        self.metadata = (("x-client-id", f"load-{next(_client_numbers)}"),)
        self.channel = grpc.insecure_channel(addr)
        self.stub = weather_pb2_grpc.WeatherServiceStub(self.channel)

    def on_stop(self) -> None:
        self.channel.close()

    @tag("grpc")
    @task
    def get_current_weather(self) -> None:
        lookup = draw(self.rng)
        request = weather_pb2.GetCurrentWeatherRequest(
            postal_code=lookup.postal_code, country_code=lookup.country, units=GRPC_UNITS[lookup.units]
        )
        exception: Exception | None = None
        length = 0
        started = time.perf_counter()
        try:
            reply = self.stub.GetCurrentWeather(request, timeout=5, metadata=self.metadata)
            code = grpc.StatusCode.OK
            length = reply.ByteSize()
        except grpc.RpcError as error:
            code = error.code()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if code not in GRPC_OK[lookup.kind]:
            exception = RuntimeError(
                f"{lookup.kind} code {lookup.postal_code!r}/{lookup.country}: {code.name}"
            )
        self.environment.events.request.fire(
            request_type="grpc",
            name=f"GetCurrentWeather [{lookup.kind}]",
            response_time=elapsed_ms,
            response_length=length,
            exception=exception,
            context={},
        )


class AbusiveUser(ClientUser):
    """A script asking the JSON API for a never-asked code twice a second, from one address.

    Its right answer is 200 (or 404) until its upstream limit, then 429 with Retry-After; anything else
    (a 5xx above all) is a failure. One of them per run (`fixed_count`), in `make load-abuse`.
    """

    fixed_count = 1
    wait_time = between(0.4, 0.6)

    def on_start(self) -> None:
        self.codes = itertools.count(10000)

    @tag("abuse")
    @task
    def new_code(self) -> None:
        code = f"{next(self.codes) % 90000 + 10000:05d}"
        with self.client.get(
            f"/api/v1/weather?zip={code}&country=us", name="/api/v1/weather [abuse]", catch_response=True
        ) as response:
            if response.status_code == 429 and response.headers.get("Retry-After"):
                response.success()
            elif response.status_code in (200, 404):
                response.success()
            else:
                response.failure(f"abusive client: HTTP {response.status_code}")
