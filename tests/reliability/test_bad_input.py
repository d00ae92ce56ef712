"""Bad input: hypothesis throws arbitrary and hostile input at the page, the JSON API and the gRPC API.

Arbitrary unicode, control characters, very long strings, injection and XSS payloads, broken percent
encoding, missing, repeated and unknown parameters, odd request ids. Whatever arrives, the answer is never a
5xx (nor INTERNAL / UNKNOWN over gRPC), never the input reflected unescaped into HTML, never a traceback,
and always within ANSWER_BOUND_SECONDS.

Each surface gets 1,000 examples in process -- the Flask app (test client) in front of a real weather
server on a free port, and that gRPC server called over a real channel -- which is fast and independent of
the machine's load. Then a smaller pass goes through the real processes (`tenki serve` and gunicorn), where
gunicorn's own limits answer first for over-long request lines (414) and headers (431).
Examples are derandomized (drills.FUZZ_PROFILE): CI sees the same inputs on every run.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import grpc
import pytest
import requests
from flask.testing import FlaskClient
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import given, settings
from hypothesis import strategies as st
from tenki.weather.v1 import weather_pb2, weather_pb2_grpc

import drills
from drills import FUZZ_PROFILE, Stack
from tenki_frontend.app import create_app
from tenki_frontend.config import FrontendSettings
from tenki_frontend.validation import ZIP_ECHO_LENGTH
from tenki_weather.config import WeatherSettings
from tenki_weather.server import WeatherServer

IN_PROCESS_EXAMPLES = 1000
PROCESS_EXAMPLES = 200
# Every answer comes within this bound (generous: the machine is shared and loaded; a hang is what we catch).
ANSWER_BOUND_SECONDS = 5.0

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "javascript:alert(1)",
    "' OR '1'='1",
    "1; DROP TABLE weather;--",
    "{{7*7}}",
    "{% raw %}{{ config }}",
    "${jndi:ldap://127.0.0.1/x}",
    "%00",
    "../../../../etc/passwd",
    "\x00\x01\x1b[31m\r\nX-Injected: 1",
    "94040\r\nSet-Cookie: evil=1",
    "\u202e\u200b\ufeff94040",
    "９４０４０",  # full-width digits
    "9" * 5000,
    "<" * 300,
]
# Realistic values mixed in, so that valid and nearly valid requests are fuzzed too.
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.sampled_from(PAYLOADS),
    st.sampled_from(["94040", "94040-1234", "SW1A 1AA", "10115", "00000", "us", "gb", "de", "xx", "metric",
                     "imperial", "standard", ""]),
    st.builds(lambda p, v: v + p, st.sampled_from(PAYLOADS), st.sampled_from(["94040", "us", "metric"])),
)
KEYS = st.sampled_from(
    ["zip", "postalcode", "country", "units", "zip", "country", "q", "ZIP", "zip[]", "", "\u00e9"]
)
# Query tails no encoder would produce: broken percent escapes, invalid UTF-8, bare keys, odd separators.
RAW_TAILS = st.sampled_from(
    ["", "", "zip=%ff%fe", "zip=%", "zip=%zz", "&&&", "=94040", "zip", "zip=94040;country=us",
     "zip=%00", "zip=%E2%80%AE94040", "units[]=x", "country=%C0%AF", "zip=94040&zip=10001"]
)
# Request ids as a real client can send them (any visible ASCII): only sane ones may be echoed or logged.
VISIBLE_ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
REQUEST_IDS = st.one_of(st.none(), st.text(VISIBLE_ASCII, max_size=200))
HTML_SPECIALS = set("<>\"'")
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Query:
    """One generated request: (key, value) pairs (missing, repeated, unknown keys), a raw tail, an id."""

    pairs: list[tuple[str, str]]
    tail: str
    request_id: str | None

    def query_string(self) -> str:
        return "&".join(part for part in (urlencode(self.pairs), self.tail) if part)

    def headers(self) -> dict[str, str]:
        return {"X-Request-ID": self.request_id} if self.request_id else {}


QUERIES = st.builds(Query, st.lists(st.tuples(KEYS, VALUES), max_size=6), RAW_TAILS, REQUEST_IDS)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    elapsed: float


Get = Callable[[str, Query], Answer]


def fuzz(examples: int) -> settings:
    return settings(settings.get_profile(FUZZ_PROFILE), max_examples=examples)


class Examples:
    """Counts the inputs a hypothesis test saw, to prove the run had as many as the issue asks for."""

    def __init__(self, wanted: int) -> None:
        self.wanted, self.seen = wanted, 0

    def __call__(self) -> None:
        self.seen += 1

    def check(self) -> None:
        assert self.seen >= self.wanted, f"only {self.seen} of {self.wanted} examples ran"


# --- the surfaces: in process, and the real processes ---------------------------------------------------


@pytest.fixture(scope="module")
def weather_server() -> Iterator[WeatherServer]:
    """A real weather server (demo provider) in this process, on a free port, no metrics listener."""
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_HOST": "127.0.0.1", "WEATHER_PORT": "0", "METRICS_PORT": "0"}
    server = WeatherServer(WeatherSettings.from_env({**drills.UNLIMITED, **env}))
    server.start()
    yield server
    server.stop(grace=2)


@pytest.fixture(scope="module")
def flask_client(weather_server: WeatherServer) -> Iterator[FlaskClient]:
    """The frontend app, configured as gunicorn would, talking over a real channel to the server above."""
    env = {"WEATHER_ADDR": weather_server.address, "WEATHER_DEADLINE_SECONDS": "5", "LOG_LEVEL": "WARNING"}
    app = create_app(FrontendSettings.from_env({**drills.UNLIMITED, **env}))
    with app.test_client() as client:
        yield client


@pytest.fixture(scope="module")
def in_process_get(flask_client: FlaskClient) -> Get:
    def get(path: str, query: Query) -> Answer:
        start = time.monotonic()
        reply = flask_client.get(path, query_string=query.query_string(), headers=query.headers())
        elapsed = time.monotonic() - start
        return Answer(reply.status_code, dict(reply.headers), reply.get_data(as_text=True), elapsed)

    return get


@pytest.fixture(scope="module")
def gunicorn_get(demo_stack: Stack) -> Iterator[Get]:
    with requests.Session() as http:

        def get(path: str, query: Query) -> Answer:
            start = time.monotonic()
            reply = http.get(f"{demo_stack.url}{path}?{query.query_string()}", headers=query.headers(),
                             timeout=ANSWER_BOUND_SECONDS * 3)
            elapsed = time.monotonic() - start
            return Answer(reply.status_code, dict(reply.headers), reply.text, elapsed)

        yield get


def baseline(get: Get) -> str:
    """A 400 page for a neutral bad value: the markup every error page has anyway."""
    answer = get("/weather", Query([("zip", "Q"), ("country", "us")], "", None))
    assert answer.status == 400
    return answer.text


# --- what every answer must be ---------------------------------------------------------------------------


def check_http(answer: Answer, query: Query, allowed: set[int]) -> None:
    assert answer.status < 500, f"{answer.status} for {query!r}: {answer.text[:300]}"
    assert answer.status in allowed, f"{answer.status} for {query!r}: {answer.text[:300]}"
    assert answer.elapsed < ANSWER_BOUND_SECONDS, f"{answer.elapsed:.1f}s for {query!r}"
    assert "Traceback" not in answer.text
    if answer.status in (414, 431):
        return  # gunicorn refused the request itself, before the app saw it
    echoed = answer.headers.get("X-Request-ID", "")
    assert SAFE_REQUEST_ID.fullmatch(echoed), f"unsafe X-Request-ID echoed: {echoed!r}"
    if query.request_id and SAFE_REQUEST_ID.fullmatch(query.request_id):
        assert echoed == query.request_id, "a sane client request id is kept"


def reflected_unescaped(html: str, baseline_html: str, value: str) -> list[str]:
    """The forms of `value` (as sent, trimmed, upper-cased, cut to the echo length) found verbatim in `html`
    although they hold HTML's special characters. A form that the page's own markup holds anyway (e.g. a
    lone quote) proves nothing and is ignored."""
    forms = {value, value.strip(), value.strip().upper()}
    forms |= {form[:ZIP_ECHO_LENGTH] for form in forms}
    return [f for f in forms if HTML_SPECIALS & set(f) and f not in baseline_html and f in html]


def check_page(answer: Answer, query: Query, baseline_html: str, allowed: set[int]) -> None:
    check_http(answer, query, allowed)
    if answer.status in (414, 431):
        return
    assert answer.headers["Content-Type"].startswith("text/html"), answer.headers["Content-Type"]
    assert "<form" in answer.text, "the form stays on the page"
    for _, value in query.pairs:
        leaks = reflected_unescaped(answer.text, baseline_html, value)
        assert not leaks, f"input reflected unescaped: {leaks!r}"


def check_api(answer: Answer, query: Query, allowed: set[int]) -> None:
    check_http(answer, query, allowed)
    if answer.status in (414, 431):
        return
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers["Content-Type"]
    body = json.loads(answer.text)
    if answer.status == 200:
        assert body["source"] == "demo" and body["location"]["name"], body
    else:
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body


IN_PROCESS_STATUSES = {200, 400, 404}
# gunicorn answers over-long request lines (414) and header fields (431) itself.
GUNICORN_STATUSES = IN_PROCESS_STATUSES | {414, 431}


def run_http_fuzz(examples: int, check: Callable[[Query], None]) -> None:
    """Check `examples` generated queries (and prove that many ran)."""
    seen = Examples(examples)

    @fuzz(examples)
    @given(query=QUERIES)
    def run(query: Query) -> None:
        seen()
        check(query)

    run()
    seen.check()


def test_page_in_process(in_process_get: Get) -> None:
    baseline_html = baseline(in_process_get)
    run_http_fuzz(IN_PROCESS_EXAMPLES, lambda query: check_page(
        in_process_get("/weather", query), query, baseline_html, IN_PROCESS_STATUSES))


def test_json_api_in_process(in_process_get: Get) -> None:
    run_http_fuzz(IN_PROCESS_EXAMPLES, lambda query: check_api(
        in_process_get("/api/v1/weather", query), query, IN_PROCESS_STATUSES))


@pytest.mark.timeout(300)
def test_page_through_gunicorn(gunicorn_get: Get) -> None:
    baseline_html = baseline(gunicorn_get)
    run_http_fuzz(PROCESS_EXAMPLES, lambda query: check_page(
        gunicorn_get("/weather", query), query, baseline_html, GUNICORN_STATUSES))


@pytest.mark.timeout(300)
def test_json_api_through_gunicorn(gunicorn_get: Get) -> None:
    run_http_fuzz(PROCESS_EXAMPLES, lambda query: check_api(
        gunicorn_get("/api/v1/weather", query), query, GUNICORN_STATUSES))


# --- gRPC ------------------------------------------------------------------------------------------------

GRPC_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(min_size=200, max_size=20000),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.sampled_from(PAYLOADS),
    st.sampled_from(["94040", "94040-1234", "SW1A 1AA", "10115", "00000", " 94040 ", "us", "GB", ""]),
)
UNITS = st.one_of(st.sampled_from(list(weather_pb2.Units.values())), st.integers(-(2**31), 2**31 - 1))
# gRPC metadata values are visible ASCII; the service must cope with any of them as a request id.
METADATA_IDS = st.one_of(st.none(), st.text(VISIBLE_ASCII, max_size=300))
REQUEST_FIELDS = {"postal_code", "country_code", "units"}


def check_grpc(stub: weather_pb2_grpc.WeatherServiceStub, postal_code: str, country: str, units: int,
               request_id: str | None) -> None:
    start = time.monotonic()
    code, reply = drills.get_weather(
        stub, postal_code, country, units, timeout=ANSWER_BOUND_SECONDS * 3, request_id=request_id
    )
    elapsed = time.monotonic() - start
    asked = f"{postal_code!r}/{country!r}/{units}"
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), (
        f"{code} for {asked}: {getattr(reply, 'details', lambda: '')()}"
    )
    assert elapsed < ANSWER_BOUND_SECONDS, f"{elapsed:.1f}s for {asked}"
    if code == grpc.StatusCode.OK:
        assert reply.source == "demo" and reply.location.name
        return
    assert reply.details() and "Traceback" not in reply.details()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        # The client learns which field is wrong: google.rpc.BadRequest field violations.
        status = rpc_status.from_call(reply)
        assert status is not None, f"INVALID_ARGUMENT without details for {asked}"
        fields: set[str] = set()
        for detail in status.details:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                fields |= {v.field for v in bad_request.field_violations}
        assert fields and fields <= REQUEST_FIELDS, f"field violations {fields} for {asked}"


def run_grpc_fuzz(addr: str, examples: int) -> None:
    channel, stub = drills.weather_stub(addr)
    seen = Examples(examples)
    with channel:

        @fuzz(examples)
        @given(postal_code=GRPC_TEXT, country=GRPC_TEXT, units=UNITS, request_id=METADATA_IDS)
        def call(postal_code: str, country: str, units: int, request_id: str | None) -> None:
            seen()
            check_grpc(stub, postal_code, country, units, request_id)

        call()
    seen.check()


def test_grpc_in_process(weather_server: WeatherServer) -> None:
    run_grpc_fuzz(weather_server.address, IN_PROCESS_EXAMPLES)


@pytest.mark.timeout(300)
def test_grpc_through_tenki_serve(demo_stack: Stack) -> None:
    run_grpc_fuzz(demo_stack.weather_addr, PROCESS_EXAMPLES)


def test_fuzzing_is_not_vacuous(in_process_get: Get, weather_server: WeatherServer) -> None:
    """The checks above can fail: a good request succeeds and a payload is shown escaped, as text."""
    good = in_process_get("/weather", Query([("zip", "94040"), ("country", "us")], "", None))
    assert good.status == 200 and "<form" in good.text
    payload = "<script>alert(1)</script>"
    bad = in_process_get("/weather", Query([("zip", payload), ("country", "us")], "", "drill-1"))
    assert bad.status == 400 and "&lt;script&gt;" in bad.text and payload not in bad.text
    assert bad.headers["X-Request-ID"] == "drill-1"
    assert reflected_unescaped(f"<p>{payload}</p>", baseline(in_process_get), payload) == [payload]
    channel, stub = drills.weather_stub(weather_server.address)
    with channel:
        code, _ = drills.get_weather(stub, "94040")
    assert code == grpc.StatusCode.OK
