"""Slow clients (slowloris) cannot starve the frontend: nginx in front of gunicorn reads requests whole.

The real stack (demo provider, the weather service, gunicorn with its shipped workers and threads) with
the frontend proxy in front (Debian's nginx with the chart's files/nginx-frontend.conf). 200 clients open
a connection each to the proxy, send a request line and then one header line every 2 s, never finishing.
Meanwhile, every 0.5 s, /healthz and a weather page must answer 200 within 1 s, on fresh connections, as
a kubelet probe and a person would; and nginx must close every slow connection within its
client_header_timeout (read from the config) plus a margin. The measured close times are reported.

The control proves the drill measures something: the same trickle straight at gunicorn (no proxy), with
fewer connections than the 200, starves it, and /healthz misses the 1 s bound.
"""

from __future__ import annotations

import re
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import tenki_stack
from tenki_stack.proxy import CONFIG_SOURCE

from tenki_frontend.config import FrontendSettings

import drills

SLOW_CLIENTS = 200
TRICKLE_SECONDS = 2.0
PROBE_EVERY_SECONDS = 0.5
ANSWER_BOUND_SECONDS = 1.0
# How late after client_header_timeout a slow connection may still be open (nginx's timer, a busy box).
CLOSE_MARGIN_SECONDS = 3.0
PATHS = ("/healthz", "/weather?zip=94040&country=us")
SHIPPED = FrontendSettings.from_env({})
# The control: the trickle straight at gunicorn, with the 50 connections. gthread gives each accepted
# connection a thread until its request is complete (the rest wait in the worker's queue), but the
# workers do not share the connections evenly: with 16 (twice workers x threads) one worker was starved
# and the other free, so only every other probe missed. 50 hold every thread of both.
CONTROL_CLIENTS = 50
CONTROL_SECONDS = 6.0


def header_timeout_seconds() -> float:
    """client_header_timeout of the shipped proxy config (seconds): the bound on a slow connection."""
    found = re.search(r"^\s*client_header_timeout\s+(\d+)s;", CONFIG_SOURCE.read_text(), re.MULTILINE)
    assert found, f"{CONFIG_SOURCE} sets client_header_timeout in seconds"
    return float(found.group(1))


@dataclass
class SlowClients:
    """`count` connections to 127.0.0.1:port that trickle one header line every TRICKLE_SECONDS, forever.

    One selector loop, no threads: `pump()` sends the due lines and notes each connection the server
    closed (EOF or reset) with its time since the connection was opened.
    """

    port: int
    count: int
    opened: dict[socket.socket, float] = field(default_factory=dict)
    closed_after: list[float] = field(default_factory=list)
    answered: int = 0
    lines_sent: int = 0
    _next_line: float = 0.0

    def __post_init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        for n in range(self.count):
            sock = socket.create_connection((tenki_stack.LOCALHOST, self.port), timeout=5)
            sock.sendall(f"GET {PATHS[1]} HTTP/1.1\r\nHost: tenki\r\nX-Slow: {n}\r\n".encode())
            sock.setblocking(False)
            self.opened[sock] = time.monotonic()
            self._selector.register(sock, selectors.EVENT_READ)
        self._next_line = time.monotonic() + TRICKLE_SECONDS

    @property
    def open_count(self) -> int:
        return len(self.opened)

    def _closed(self, sock: socket.socket) -> None:
        self.closed_after.append(time.monotonic() - self.opened.pop(sock))
        self._selector.unregister(sock)
        sock.close()

    def pump(self, seconds: float) -> None:
        """Keep trickling for `seconds`, noting the connections the server closes meanwhile."""
        end = time.monotonic() + seconds
        while self.opened and (now := time.monotonic()) < end:
            for key, _ in self._selector.select(timeout=max(0.0, min(end, self._next_line) - now)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    self.answered += 1  # the server answered a request that was never complete
                self._closed(sock)
            if time.monotonic() >= self._next_line:
                for sock in list(self.opened):
                    try:
                        sock.send(f"X-Trickle-{self.lines_sent}: x\r\n".encode())
                    except OSError:
                        self._closed(sock)
                self.lines_sent += 1
                self._next_line += TRICKLE_SECONDS

    def close(self) -> None:
        for sock in list(self.opened):
            sock.close()
        self.opened.clear()
        self._selector.close()


@dataclass
class Probe:
    """GET each of PATHS on a fresh connection; every answer's status and time (a 'timeout' past 3 s)."""

    url: str
    results: list[tuple[str, str, float]] = field(default_factory=list)

    def once(self) -> None:
        for path in PATHS:
            started = time.monotonic()
            try:
                status = str(requests.get(f"{self.url}{path}", timeout=3.0).status_code)
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.results.append((path, status, time.monotonic() - started))

    def misses(self) -> list[tuple[str, str, float]]:
        return [r for r in self.results if r[1] != "200" or r[2] >= ANSWER_BOUND_SECONDS]

    def slowest(self) -> float:
        return round(max(seconds for _, _, seconds in self.results), 3)


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[drills.Stack, tenki_stack.ServiceProcess]]:
    """The demo stack with the frontend's shipped worker and thread settings, and nginx in front."""
    with ExitStack() as exits:
        stack = drills.start_stack(
            {"WEATHER_PROVIDER": "demo", "LOG_LEVEL": "WARNING"}, {"TRUSTED_PROXY_HOPS": "1"}, exits=exits
        )
        proxy = tenki_stack.start_proxy(stack.frontend.addr)
        exits.callback(proxy.stop)
        yield stack, proxy


def probe_while(clients: SlowClients, probe: Probe, seconds: float) -> None:
    """Probe every PROBE_EVERY_SECONDS for `seconds`, the slow clients trickling in between."""
    end = time.monotonic() + seconds
    while (tick := time.monotonic()) < end:
        probe.once()
        clients.pump(tick + PROBE_EVERY_SECONDS - time.monotonic())
        # Once all are closed pump returns at once: the probes keep their pace all the same.
        time.sleep(max(0.0, tick + PROBE_EVERY_SECONDS - time.monotonic()))


@pytest.mark.timeout(180)
def test_200_slow_clients_do_not_starve_the_frontend_behind_the_proxy(
    proxied: tuple[drills.Stack, tenki_stack.ServiceProcess],
    drill_report: Callable[[str, dict[str, Any]], None],
) -> None:
    _stack, proxy = proxied
    bound = header_timeout_seconds() + CLOSE_MARGIN_SECONDS
    probe = Probe(proxy.url)
    clients = SlowClients(proxy.port, SLOW_CLIENTS)
    try:
        started = time.monotonic()
        # Every probe while all of them are connected and trickling (until nginx's timeout cuts them)...
        probe_while(clients, probe, header_timeout_seconds() - 1.0)
        connected_throughout = clients.open_count
        # ... and on until nginx has closed them all, or the bound has passed.
        probe_while(clients, probe, bound - (time.monotonic() - started))
        still_open = clients.open_count
    finally:
        clients.close()
    closes = sorted(clients.closed_after)
    drill_report("slow clients behind the proxy", {
        "slow_clients": SLOW_CLIENTS,
        "header_lines_sent_each": clients.lines_sent + 3,
        "connected_while_probing": connected_throughout,
        "probes": len(probe.results),
        "slowest_probe_seconds": probe.slowest(),
        "client_header_timeout_seconds": header_timeout_seconds(),
        "closed_after_seconds": {
            "min": round(closes[0], 2) if closes else None,
            "max": round(closes[-1], 2) if closes else None,
        },
        "still_open_after_bound": still_open,
        "answered_incomplete_requests": clients.answered,
    })
    assert connected_throughout == SLOW_CLIENTS, "the slow clients were all connected while probing"
    assert not probe.misses(), f"answers missed 200 within {ANSWER_BOUND_SECONDS} s: {probe.misses()}"
    assert still_open == 0, f"{still_open} slow connections still open {bound:.0f} s after connecting"
    assert closes[0] >= header_timeout_seconds() - 1.0, "closed by the header timeout, not before"
    assert clients.answered == 0, "nginx never passes an incomplete request on"


@pytest.mark.timeout(120)
def test_control_the_same_trickle_straight_at_gunicorn_starves_it(
    proxied: tuple[drills.Stack, tenki_stack.ServiceProcess],
    drill_report: Callable[[str, dict[str, Any]], None],
) -> None:
    stack, _proxy = proxied
    probe = Probe(stack.url)
    clients = SlowClients(stack.frontend.port, CONTROL_CLIENTS)
    try:
        probe_while(clients, probe, CONTROL_SECONDS)
    finally:
        clients.close()
    misses = probe.misses()
    drill_report("control: slow clients straight at gunicorn", {
        "slow_clients": CONTROL_CLIENTS,
        "gunicorn_workers_x_threads": SHIPPED.gunicorn_workers * SHIPPED.gunicorn_threads,
        "probes": len(probe.results),
        "missed_the_bound": len(misses),
        "answers": [(path, status, round(seconds, 2)) for path, status, seconds in probe.results],
    })
    assert any(path == "/healthz" for path, _, _ in misses), (
        "without the proxy the trickle holds every gunicorn thread, /healthz too (what the drill measures)"
    )
    # The frontend recovers once the slow clients are gone.
    assert drills.wait_until(lambda: tenki_stack.http_ok(f"{stack.url}/healthz", timeout=1.0), timeout=30)
