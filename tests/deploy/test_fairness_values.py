"""Fairness values: the limits and the trusted proxy hops reach the services, as they read them."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import VALUE_SETS, component_container, helm, render
from tenki_frontend.config import FrontendSettings
from tenki_weather.config import WeatherSettings

from test_notes import notes

NO_WAY_IN = ["--set", "httpRoute.enabled=false", "--set", "gateway.create=false"]
NO_PROXY = ["--set", "frontend.proxy.enabled=false"]


def env(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    entries = component_container(objects, component)["env"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in entries}


@pytest.mark.parametrize(
    ("args", "hops"),
    [
        # The pod's own proxy is one hop more (frontend.proxy.enabled, the default).
        ([], "2"),
        (VALUE_SETS["ingress"], "2"),
        (NO_WAY_IN, "1"),
        ([*NO_WAY_IN, "--set", "frontend.rateLimit.trustedProxyHops=2"], "3"),
        (["--set", "frontend.rateLimit.trustedProxyHops=0"], "1"),
        ([*NO_WAY_IN, *NO_PROXY], "0"),
        ([*NO_PROXY], "1"),
    ],
)
def test_one_trusted_hop_behind_the_gateway_or_ingress_unless_set(args: list[str], hops: str) -> None:
    assert env(render(*args), "frontend")["TRUSTED_PROXY_HOPS"] == hops


def test_the_limits_reach_the_services_and_parse() -> None:
    objects = render(
        "--set", "frontend.rateLimit.upstream=10/minute;100/hour",
        "--set", "weather.rateLimit.upstream=5/second",
    )  # fmt: skip
    frontend, weather = env(objects, "frontend"), env(objects, "weather")
    assert FrontendSettings.from_env(frontend).rate_limit_upstream == "10/minute;100/hour"
    assert FrontendSettings.from_env(frontend).rate_limit_default == "120/minute"
    assert WeatherSettings.from_env(weather).grpc_rate_limit_upstream == "5/second"
    assert weather["GRPC_RATE_LIMIT_EXEMPT"] == "tenki-frontend"
    assert "REDIS_URL" not in frontend and "REDIS_PASSWORD" not in frontend


def test_redis_comes_as_a_url_and_a_password_from_a_secret() -> None:
    objects = render(
        "--set", "frontend.rateLimit.redisUrl=redis://redis.tenki.svc:6379/0",
        "--set", "frontend.rateLimit.redisPasswordSecret=tenki-redis",
    )  # fmt: skip
    frontend = env(objects, "frontend")
    assert frontend["REDIS_URL"] == "redis://redis.tenki.svc:6379/0"
    assert frontend["REDIS_PASSWORD"] == {"secretKeyRef": {"name": "tenki-redis", "key": "REDIS_PASSWORD"}}


@pytest.mark.parametrize(
    "bad",
    [
        "frontend.rateLimit.upstream=lots",
        "frontend.rateLimit.redisUrl=http://x",
        "weather.rateLimit.upstream=",
    ],
)
def test_a_bad_limit_fails_the_install(bad: str) -> None:
    result = helm("template", "t", "charts/tenki", "--set", bad, check=False)
    assert result.returncode != 0


def test_the_notes_say_what_a_user_over_the_limit_sees() -> None:
    text = notes()
    assert "Too many requests" in text and "429" in text and "Retry-After" in text
    assert "TRUSTED_PROXY_HOPS=2" in text
    assert "per process" in text
    shared = notes("--set", "frontend.rateLimit.redisUrl=redis://redis:6379/0", *NO_WAY_IN, *NO_PROXY)
    assert "per process" not in shared and "X-Forwarded-For is ignored" in shared
