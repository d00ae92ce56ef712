"""What the web tests read from the browser: its console, and how long a page may take.

A module of its own (not conftest.py) so that test modules can import it by a name no other suite uses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver

PAGE_LOAD_SECONDS = 60  # generous: the machine is shared, and a cluster's first page may be slow


def console_log(driver: WebDriver) -> list[dict[str, Any]]:
    """The browser console's entries since the last call (chromedriver's and selenium grid's log API)."""
    return list(driver.execute(Command.GET_LOG, {"type": "browser"})["value"])


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """SEVERE console entries since the last read, except the page's own HTTP status.

    Chromium logs an error page's status as "<url> - Failed to load resource: ... 404": that is the
    document the test asked for, not a broken asset or script, so it does not count.
    """
    page = urlsplit(driver.current_url)
    errors = []
    for entry in console_log(driver):
        if entry.get("level") != "SEVERE":
            continue
        url = urlsplit(str(entry.get("message", "")).split(" ", 1)[0])
        if entry.get("source") == "network" and (url.netloc, url.path) == (page.netloc, page.path):
            continue
        errors.append(entry)
    return errors
