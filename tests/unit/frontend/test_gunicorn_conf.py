"""The packaged gunicorn config: everything from FrontendSettings, metrics directory handling, hooks."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from prometheus_client.metrics import MetricWrapperBase

from tenki_frontend import draining, metrics

MODULE = "tenki_frontend.gunicorn_conf"


def load_conf(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ModuleType:
    for name in ("FRONTEND_HOST", "FRONTEND_PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS",
                 "GUNICORN_GRACEFUL_TIMEOUT", "LOG_LEVEL", "PROMETHEUS_MULTIPROC_DIR",
                 "WEATHER_DEADLINE_SECONDS", "SHUTDOWN_DRAIN_SECONDS", "FRONTEND_METRICS_PORT"):
        # setenv first, so that monkeypatch restores the variable's absence even after the module sets it.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    # No metrics listener unless a test asks for one (unit tests bind no ports).
    for name, value in {"FRONTEND_METRICS_PORT": "0", **env}.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop(MODULE, None)
    return importlib.import_module(MODULE)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load_conf(
        monkeypatch,
        {"FRONTEND_HOST": "127.0.0.1", "FRONTEND_PORT": "8181", "GUNICORN_WORKERS": "3",
         "GUNICORN_THREADS": "6", "GUNICORN_GRACEFUL_TIMEOUT": "15", "LOG_LEVEL": "warning",
         "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
    )
    assert conf.bind == ["127.0.0.1:8181"]
    assert (conf.workers, conf.threads, conf.worker_class) == (3, 6, "gthread")
    assert conf.graceful_timeout == 15
    assert conf.timeout >= 30
    assert conf.loglevel == "warning"
    assert conf.accesslog is None and conf.errorlog == "-"
    assert conf.preload_app is False, "each worker must build its gRPC channel after the fork"
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_a_metrics_directory_is_made_when_unset_and_removed_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch, {})
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert directory.is_dir()
    (directory / "counter_123.db").write_bytes(b"old")
    conf.on_starting(None)
    assert list(directory.iterdir()) == [], "an earlier run's samples are wiped"
    conf.on_exit(None)
    assert not directory.exists()


def test_a_given_metrics_directory_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load_conf(monkeypatch, {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")})
    conf.on_starting(None)
    conf.on_exit(None)
    assert (tmp_path / "m").is_dir()


def test_readiness_is_logged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load_conf(monkeypatch, {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    logged: list[str] = []
    server = SimpleNamespace(
        log=SimpleNamespace(info=lambda msg, *a: logged.append(msg % a)), handle_term=lambda: None
    )
    conf.when_ready(server)
    assert logged and "ready" in logged[0]


def test_a_budget_that_cannot_work_is_warned_about_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "WEATHER_DEADLINE_SECONDS": "1"}
    conf = load_conf(monkeypatch, env)
    warned: list[str] = []
    server = SimpleNamespace(
        log=SimpleNamespace(info=lambda *a: None, warning=lambda msg, *a: warned.append(msg % a)),
        handle_term=lambda: None,
    )
    conf.when_ready(server)
    (warning,) = warned
    assert "WEATHER_DEADLINE_SECONDS (1)" in warning


def test_no_metric_needs_bookkeeping_when_a_worker_dies() -> None:
    # prometheus-client's mark_process_dead (a child_exit hook) only removes a dead worker's live gauges;
    # counters and histograms are meant to keep its samples. The frontend has no gauge, so its gunicorn
    # config has no such hook: a gauge added to metrics.py needs one.
    kinds = {type(value).__name__ for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)}
    assert kinds == {"Counter", "Histogram"}


class FakeArbiter:
    """The two things the hook touches on gunicorn's Arbiter: its log and its SIGTERM handler."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.log = SimpleNamespace(info=lambda *args: None)

    def handle_term(self) -> None:
        self.events.append(f"graceful stop (draining={draining.active()})")


@pytest.mark.usefixtures("shutdown_flag")
def test_sigterm_drains_with_readyz_503_before_gunicorns_graceful_stop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_conf(
        monkeypatch, {"SHUTDOWN_DRAIN_SECONDS": "2.5", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    )
    events: list[str] = []
    monkeypatch.setattr(conf.time, "sleep", lambda seconds: events.append(f"drain {seconds}s"))
    arbiter = FakeArbiter(events)
    conf.when_ready(arbiter)
    arbiter.handle_term()
    assert events == ["drain 2.5s", "graceful stop (draining=True)"]
    arbiter.handle_term()  # a second SIGTERM does not drain again
    assert events[2:] == ["graceful stop (draining=True)"]


@pytest.mark.usefixtures("shutdown_flag")
def test_a_zero_drain_stops_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = load_conf(monkeypatch, {"SHUTDOWN_DRAIN_SECONDS": "0", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    events: list[str] = []
    monkeypatch.setattr(conf.time, "sleep", lambda seconds: events.append(f"drain {seconds}s"))
    arbiter = FakeArbiter(events)
    conf.when_ready(arbiter)
    arbiter.handle_term()
    assert events == ["graceful stop (draining=False)"]
