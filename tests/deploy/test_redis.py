"""Shared state in the chart: its own Valkey (redis.enabled), or a server the operator runs (redis.url).

Read off the rendered objects: the server is pinned, non-root, read-only with an emptyDir data directory,
probed, bounded and without persistence; only the weather pods reach it; the weather pods get REDIS_URL
(and the password from a Secret only) from either source, and the replica count their fallback budget is
divided by; with Redis off and several weather pods, NOTES.txt says the budget and cache are per pod and
by how much the fleet can exceed the key's limit.
"""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import (
    CHART,
    NAMESPACE,
    REDIS_SECRET,
    RELEASE,
    VALUE_SETS,
    component_container,
    helm,
    named,
    of_kind,
    render,
    selects,
)
from test_notes import notes

from tenki_weather.config import WeatherSettings
from tenki_weather.ratelimit import fallback_limit

REDIS = f"{RELEASE}-redis"


def env_of(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in component_container(objects, "weather")["env"]}


@pytest.fixture(scope="module")
def with_redis() -> list[dict[str, Any]]:
    return render(*VALUE_SETS["redis"])


def test_redis_is_off_by_default(default_objects: list[dict[str, Any]]) -> None:
    assert REDIS not in {o["metadata"]["name"] for o in default_objects}
    assert not {"REDIS_URL", "REDIS_PASSWORD"} & set(env_of(default_objects))


def test_the_chart_runs_one_pinned_valkey_without_persistence(with_redis: list[dict[str, Any]]) -> None:
    deployment = named(with_redis, "Deployment", REDIS)
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    repository, tag = container["image"].rsplit(":", 1)
    assert repository == "valkey/valkey" and tag[0].isdigit() and tag != "latest"
    args = container["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    assert args[args.index("--dir") + 1] == "/data"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    data = next(m for m in container["volumeMounts"] if m["mountPath"] == "/data")
    assert "emptyDir" in volumes[data["name"]]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert "valkey-cli" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert container["livenessProbe"]["tcpSocket"]["port"] == "redis"


def pod_labels(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    labels: dict[str, str] = named(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
    return labels


def test_only_the_weather_pods_reach_the_redis_port(with_redis: list[dict[str, Any]]) -> None:
    redis_labels = pod_labels(with_redis, REDIS)
    weather_labels = pod_labels(with_redis, f"{RELEASE}-weather")
    frontend_labels = pod_labels(with_redis, f"{RELEASE}-frontend")
    policies = of_kind(with_redis, "NetworkPolicy")
    (policy,) = [p for p in policies if selects(p["spec"]["podSelector"]["matchLabels"], redis_labels)]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "redis", "protocol": "TCP"}]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}
    assert selects(peer["podSelector"]["matchLabels"], weather_labels)
    assert not selects(peer["podSelector"]["matchLabels"], frontend_labels)


def test_the_weather_pods_get_the_charts_redis_url(with_redis: list[dict[str, Any]]) -> None:
    env = env_of(with_redis)
    service = named(with_redis, "Service", REDIS)
    (port,) = service["spec"]["ports"]
    assert env["REDIS_URL"]["value"] == f"redis://{REDIS}.{NAMESPACE}.svc:{port['port']}/0"
    assert selects(service["spec"]["selector"], pod_labels(with_redis, REDIS))
    assert "REDIS_PASSWORD" not in env  # no password unless redis.existingSecret names one
    settings = WeatherSettings.from_env({k: v["value"] for k, v in env.items() if "value" in v})
    assert settings.redis_url == env["REDIS_URL"]["value"]


def test_an_operators_redis_url_with_its_password_from_a_secret() -> None:
    objects = render(*VALUE_SETS["redis-external"])
    env = env_of(objects)
    assert env["REDIS_URL"]["value"] == "rediss://redis.cache.example.org:6380/2"
    assert env["REDIS_PASSWORD"] == {
        "name": "REDIS_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": REDIS_SECRET, "key": "REDIS_PASSWORD"}},
    }
    assert REDIS not in {o["metadata"]["name"] for o in objects}  # no server of the chart's


def test_the_charts_valkey_requires_the_secrets_password_when_one_is_named() -> None:
    objects = render(*VALUE_SETS["redis"], "--set", f"redis.existingSecret={REDIS_SECRET}")
    container = component_container(objects, "redis")
    assert container["args"][container["args"].index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    ref = {"secretKeyRef": {"name": REDIS_SECRET, "key": "REDIS_PASSWORD"}}
    assert {e["name"]: e["valueFrom"] for e in container["env"]}["REDIS_PASSWORD"] == ref
    assert env_of(objects)["REDIS_PASSWORD"]["valueFrom"] == ref


@pytest.mark.parametrize(
    ("args", "pods"),
    [([], 2), (["--set", "weather.replicaCount=4"], 4), (["--set", "weather.autoscaling.enabled=true"], 6)],
)
def test_the_fallback_budget_is_divided_by_the_most_weather_pods(args: list[str], pods: int) -> None:
    env = env_of(render(*VALUE_SETS["redis"], *args))
    assert env["OWM_RATE_LIMIT_REPLICAS"]["value"] == str(pods)
    # So the pods' fallback shares together stay within the key's limit.
    limit = int(env["OWM_RATE_LIMIT_PER_MINUTE"]["value"])
    assert pods * fallback_limit(limit, pods) <= limit


def test_redis_enabled_and_url_together_fail_the_install() -> None:
    proc = helm(
        "template", RELEASE, str(CHART), "--set", "redis.enabled=true", "--set", "redis.url=redis://x:6379/0",
        check=False,
    )
    assert proc.returncode != 0 and "not both" in proc.stderr


@pytest.mark.parametrize("bad", ["redis.enable=true", "redis.url=http://redis:6379", "redis.port=0"])
def test_the_schema_rejects_bad_redis_values(bad: str) -> None:
    proc = helm("template", RELEASE, str(CHART), "--set", bad, check=False)
    assert proc.returncode != 0, bad


def test_without_redis_the_notes_say_by_how_much_the_fleet_can_exceed_the_key() -> None:
    text = notes()
    assert "the OWM budget and the cache are PER POD" in text
    assert "2 x 60 = 120 OWM calls a minute" in text
    autoscaled = notes("--set", "weather.autoscaling.enabled=true", "--set", "owm.rateLimitPerMinute=50")
    assert "Up to 6 weather pods (the HPA's maxReplicas)" in autoscaled
    assert "6 x 50 = 300 OWM calls a minute" in autoscaled and "250 over it" in autoscaled
    assert "PER POD" not in notes("--set", "weather.replicaCount=1")
    for value_set in ("redis", "redis-external"):
        shared = notes(*VALUE_SETS[value_set])
        assert "PER POD" not in shared and "share one cache and one OWM budget of 60 calls a minute" in shared
        assert "each pod allows 30 a minute on its own" in shared
