"""`make run` (scripts/stack.py as a program): the README's first command, as a newcomer uses it.

It starts both services and nginx in front of the frontend, prints the URL (nginx's port), serves demo
pages through the proxy, and stops all three on Ctrl-C (SIGINT to the terminal's process group); ports
follow the environment, and a busy port is refused with a hint.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tenki_stack import free_port, port_in_use

RUNNER = Path(__file__).resolve().parents[3] / "scripts" / "stack.py"
START_SECONDS = 120  # bounded; generous for a loaded 2-core machine
URL_LINE = re.compile(r"tenki is running: (http://127\.0\.0\.1:\d+)")


class Terminal:
    """The runner in its own process group, as in a terminal; its output read line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(RUNNER)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        try:
            while True:
                line = self.lines.get(timeout=timeout)
                self.seen.append(line)
                found = pattern.search(line)
                if found:
                    return found
        except queue.Empty:
            raise AssertionError(f"no {pattern.pattern!r} within {timeout} s:\n{''.join(self.seen[-40:])}")

    def ctrl_c(self) -> int:
        """Ctrl-C in the terminal: SIGINT to the whole process group; the exit status."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return code

    def output(self) -> str:
        return "".join(self.seen)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def ports() -> dict[str, str]:
    names = ("WEATHER_PORT", "METRICS_PORT", "FRONTEND_PORT", "FRONTEND_APP_PORT")
    return {name: str(free_port()) for name in names}


@pytest.fixture
def runner_env(ports: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OWM_API_KEY", "WEATHER_PROVIDER")}
    return {**env, **ports}


@pytest.fixture
def terminal(runner_env: dict[str, str]) -> Iterator[Terminal]:
    term = Terminal(runner_env)
    yield term
    term.kill()


def test_make_run_serves_demo_weather_and_stops_both_services_on_ctrl_c(
    terminal: Terminal, ports: dict[str, str]
) -> None:
    url = terminal.wait_for(URL_LINE, START_SECONDS).group(1)
    assert url == f"http://127.0.0.1:{ports['FRONTEND_PORT']}", "the URL follows FRONTEND_PORT"

    page = requests.get(f"{url}/weather", params={"zip": "94040", "country": "us"}, timeout=30)
    assert page.status_code == 200
    assert "Mountain View" in page.text and "demo data" in page.text.lower()
    assert port_in_use(int(ports["WEATHER_PORT"])), "the weather service listens on WEATHER_PORT"
    # nginx answers on the public port (its own path), gunicorn behind it on FRONTEND_APP_PORT.
    assert requests.get(f"{url}/proxy-healthz", timeout=10).text == "ok\n"
    assert port_in_use(int(ports["FRONTEND_APP_PORT"])), "gunicorn listens on FRONTEND_APP_PORT"
    assert page.headers["X-Request-ID"], "the proxy passes the frontend's request id back"

    assert terminal.ctrl_c() == 0, terminal.output()[-3000:]
    assert "tenki stopped." in terminal.output()
    for name in ("WEATHER_PORT", "FRONTEND_PORT", "FRONTEND_APP_PORT"):
        assert not port_in_use(int(ports[name])), f"{name} is still taken after Ctrl-C"


def test_a_busy_port_is_refused_with_a_hint(runner_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = {**runner_env, "FRONTEND_PORT": str(busy.getsockname()[1])}
        done = subprocess.run(
            [sys.executable, str(RUNNER)], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert "is in use" in done.stderr and "FRONTEND_PORT=" in done.stderr
