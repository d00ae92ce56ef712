"""Per-client limits: every request, lookups that miss the cache, who the client is, what it sees."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from conftest import NOW
from fakes import FakeHealthStub, FakeRpcError, bad_request, sample_reply
from flask import Flask
from flask.testing import FlaskClient
from tenki_stack import free_port

from limits.storage import storage_from_string as limits_storage_from_string

from tenki.weather.v1 import weather_pb2
from tenki_frontend import create_app, limiting
from tenki_frontend.config import FrontendSettings
from tenki_frontend.weather_client import Stubs, WeatherClient


class CachingStub:
    """The weather service as the frontend sees it: a cache of places, `cache` in every answer.

    A place asked for before is a HIT; a new one is a MISS (an upstream call, counted in `upstream`);
    with cache_only a new place is RESOURCE_EXHAUSTED, as the real service answers. 99999 is unknown;
    letters are invalid (INVALID_ARGUMENT, before any cache).
    """

    def __init__(self) -> None:
        self.cached: set[str] = set()
        self.upstream: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def GetCurrentWeather(  # noqa: N802 -- the stub's method name
        self, request: Any, timeout: float | None = None, metadata: Any = None
    ) -> Any:
        self.calls.append({"request": request, "metadata": dict(metadata or ())})
        code = request.postal_code
        if not code.isdigit():
            raise bad_request(("postal_code", "must be 5 digits"))
        if code in self.cached:
            return sample_reply(cache=weather_pb2.CACHE_STATUS_HIT)
        if request.cache_only:
            raise FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "not cached and cache_only")
        self.upstream.append(code)
        if code == "99999":
            raise FakeRpcError(grpc.StatusCode.NOT_FOUND, "no such place")
        self.cached.add(code)
        return sample_reply(cache=weather_pb2.CACHE_STATUS_MISS)


@pytest.fixture
def stub() -> CachingStub:
    return CachingStub()


@pytest.fixture
def make_app(stub: CachingStub) -> Callable[..., Flask]:
    def make(**env: str) -> Flask:
        settings = FrontendSettings.from_env(env)
        stubs = Stubs(stub.GetCurrentWeather, FakeHealthStub().Check)
        client = WeatherClient("fake:0", 1.0, connect=lambda target: stubs)
        app = create_app(settings, client, clock=lambda: NOW)
        app.testing = True
        return app

    return make


def client_at(app: Flask, address: str) -> FlaskClient:
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = address
    return test_client


def codes(count: int, start: int = 10000) -> list[str]:
    return [f"{start + n:05d}" for n in range(count)]


def counter(limit: str) -> float:
    return float(limiting.RATE_LIMITED.labels(limit)._value.get())


def test_new_places_are_refused_after_the_upstream_limit_while_others_carry_on(
    make_app: Callable[..., Flask], stub: CachingStub, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(RATE_LIMIT_UPSTREAM="3/minute")
    script, person = client_at(app, "198.51.100.7"), client_at(app, "203.0.113.9")
    person.get("/api/v1/weather?zip=94040")  # the person's place is in the cache now
    before = counter("upstream")
    with caplog.at_level(logging.INFO, logger="tenki_frontend.limiting"):
        statuses = [script.get(f"/api/v1/weather?zip={code}").status_code for code in codes(10)]
        # The person keeps getting answers throughout: a cached place and a new one.
        assert person.get("/api/v1/weather?zip=94040").status_code == 200
        assert person.get("/weather?zip=55555").status_code == 200
    assert statuses == [200] * 3 + [429] * 7
    assert [code for code in stub.upstream if code.startswith("1")] == codes(3)
    assert counter("upstream") - before == 7
    record = next(r for r in caplog.records if r.getMessage() == "rate limited")
    assert (record.limit, record.client) == ("upstream", "198.51.100.7")


def test_the_refusal_is_429_with_retry_after_json_for_the_api_and_a_page_for_people(
    make_app: Callable[..., Flask],
) -> None:
    client = client_at(make_app(RATE_LIMIT_UPSTREAM="1/minute"), "198.51.100.7")
    client.get("/weather?zip=10000")
    api = client.get("/api/v1/weather?zip=10001")
    assert api.status_code == 429
    assert api.json["error"]["code"] == "too_many_requests"
    assert 1 <= int(api.headers["Retry-After"]) <= 60
    page = client.get("/weather?zip=10002&country=us")
    assert page.status_code == 429 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Too many requests" in html and "Places looked up recently still answer" in html
    # The form is filled in again, as for every error page.
    assert 'value="10002"' in html


def test_cached_places_are_not_limited_by_the_upstream_limit(
    make_app: Callable[..., Flask], stub: CachingStub
) -> None:
    client = client_at(make_app(RATE_LIMIT_UPSTREAM="2/minute"), "198.51.100.7")
    for code in codes(3):
        client.get(f"/api/v1/weather?zip={code}")
    assert client.get("/api/v1/weather?zip=10005").status_code == 429
    for _ in range(20):
        assert client.get("/api/v1/weather?zip=10000").status_code == 200
    # Over the limit, lookups ask the service for cached answers only: no upstream call.
    assert stub.calls[-1]["request"].cache_only is True
    assert len(stub.upstream) == 2


def test_invalid_input_costs_nothing_but_unknown_places_count(make_app: Callable[..., Flask]) -> None:
    client = client_at(make_app(RATE_LIMIT_UPSTREAM="2/minute"), "198.51.100.7")
    for _ in range(5):
        assert client.get("/api/v1/weather?zip=ABCDE").status_code == 400
    assert client.get("/api/v1/weather?zip=99999").status_code == 404
    assert client.get("/api/v1/weather?zip=10000").status_code == 200
    assert client.get("/api/v1/weather?zip=10001").status_code == 429


def test_every_request_counts_against_the_default_limit_except_probes_and_static(
    make_app: Callable[..., Flask],
) -> None:
    client = client_at(make_app(RATE_LIMIT_DEFAULT="5/minute"), "198.51.100.7")
    before = counter("default")
    assert [client.get("/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert client.get("/api/v1/weather?zip=94040").status_code == 429
    refused = client.get("/")
    assert "Too many requests" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert counter("default") - before == 3
    for path in ("/healthz", "/readyz", "/static/style.css", "/static/icons/01d.svg"):
        assert {client.get(path).status_code for _ in range(10)} == {200}, path


def test_with_no_trusted_proxy_a_forged_forwarded_for_changes_nothing(make_app: Callable[..., Flask]) -> None:
    client = client_at(make_app(RATE_LIMIT_DEFAULT="3/minute"), "198.51.100.7")
    statuses = [
        client.get("/", headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_with_one_trusted_proxy_the_last_entry_is_the_client(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(RATE_LIMIT_DEFAULT="2/minute", TRUSTED_PROXY_HOPS="1")
    proxy = client_at(app, "10.0.0.5")

    def get(forwarded: str) -> int:
        return proxy.get("/", headers={"X-Forwarded-For": forwarded}).status_code

    with caplog.at_level(logging.INFO, logger="tenki_frontend.access"):
        # The client wrote "1.1.1.1, 2.2.2.2" itself; the proxy appended the address it saw.
        assert [get(f"{n}.{n}.{n}.{n}, 203.0.113.7") for n in range(1, 4)] == [200, 200, 429]
        assert get("203.0.113.8") == 200
    assert {r.remote_addr for r in caplog.records if r.name == "tenki_frontend.access"} == {
        "203.0.113.7",
        "203.0.113.8",
    }


def test_the_frontend_names_itself_to_the_weather_service(
    make_app: Callable[..., Flask], stub: CachingStub
) -> None:
    client_at(make_app(), "198.51.100.7").get("/weather?zip=94040")
    assert stub.calls[0]["metadata"]["x-client-id"] == "tenki-frontend"


def test_an_unreachable_redis_falls_back_to_counting_in_process(make_app: Callable[..., Flask]) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(REDIS_URL=nobody, RATE_LIMIT_DEFAULT="4/minute", RATE_LIMIT_UPSTREAM="2/minute")
    client = client_at(app, "198.51.100.7")
    assert [client.get(f"/api/v1/weather?zip={code}").status_code for code in codes(3)] == [200, 200, 429]
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]


def test_redis_options_are_short_timeouts_and_the_password() -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_PASSWORD": "s3cret"}
    settings = FrontendSettings.from_env(env)
    options = limiting.storage_options(settings)
    assert options["password"] == "s3cret"
    assert options["socket_timeout"] <= 0.5 and options["socket_connect_timeout"] <= 0.5
    assert options["retry"].get_retries() == 0
    assert limiting.storage_options(FrontendSettings.from_env({})) == {}


@pytest.mark.parametrize(
    ("url", "storage"),
    [
        ("", "memory://"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://:pw@cache.example:6380/1", "rediss://:pw@cache.example:6380/1"),
        ("unix:///run/redis/redis.sock?db=0", "redis+unix:///run/redis/redis.sock?db=0"),
    ],
)
def test_every_redis_url_form_of_the_fleet_contract_is_a_storage(url: str, storage: str) -> None:
    settings = FrontendSettings.from_env({"REDIS_URL": url})
    assert limiting.storage_uri(settings) == storage
    limits_storage_from_string(storage)  # accepted by `limits` (no connection is made yet)
