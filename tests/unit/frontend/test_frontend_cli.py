"""`tenki-frontend`: checks the settings before gunicorn starts, and hands gunicorn the packaged config."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tenki_frontend import cli


def test_a_bad_setting_stops_it_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRONTEND_PORT", "eighty")
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tenki-frontend: invalid configuration: FRONTEND_PORT")
    assert len(err.strip().splitlines()) == 1


def test_help_names_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for name in ("FRONTEND_PORT", "WEATHER_ADDR", "GUNICORN_WORKERS", "WEATHER_DEADLINE_SECONDS"):
        assert name in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("tenki-frontend ")


def test_it_runs_gunicorn_with_the_packaged_config_and_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[Any] = []

    class FakeGunicorn:
        def __init__(self, usage: str) -> None:
            self.argv = list(sys.argv)

        def run(self) -> None:
            ran.append(self.argv)

    import gunicorn.app.wsgiapp

    monkeypatch.setattr(gunicorn.app.wsgiapp, "WSGIApplication", FakeGunicorn)
    monkeypatch.setattr(sys, "argv", ["tenki-frontend"])
    monkeypatch.delenv("FRONTEND_PORT", raising=False)
    assert cli.main([]) == 0
    assert ran == [["tenki-frontend", "--config", "python:tenki_frontend.gunicorn_conf",
                    "tenki_frontend.app:create_app()"]]
