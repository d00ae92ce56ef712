"""A headless Chromium, driven by selenium, against a running tenki.

Where the site is: BASE_URL when set (e.g. a cluster's Gateway; then no local stack is started), else
the `local_stack` fixture (the weather service on demo data plus the frontend, on free ports).
Where the browser is: SELENIUM_REMOTE_URL when set (a selenium server, e.g. the chart's selenium pod),
else Debian's /usr/bin/chromium through /usr/bin/chromedriver, passed explicitly so that Selenium
Manager never looks for (or downloads) a browser.

A failing test leaves a screenshot and the page source in build/web/ (under the checkout).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_console import PAGE_LOAD_SECONDS, console_log
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# The brief's flags: no sandbox (root in a container), no /dev/shm reliance, and nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--window-size=1280,900",
)
SCREENSHOT_DIR = "build/web"


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """The site under test, without a trailing slash."""
    configured = os.environ.get("BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    return str(request.getfixturevalue("local_stack").url)


def chromium_options() -> Options:
    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    # The browser's console, readable through the log endpoint (see console_errors).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture(scope="session")
def driver() -> Iterator[WebDriver]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download anything
    remote = os.environ.get("SELENIUM_REMOTE_URL", "").strip()
    options = chromium_options()
    if remote:
        browser: WebDriver = webdriver.Remote(command_executor=remote, options=options)
    else:
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                pytest.fail(f"{path} is missing: run `make chromium` (Debian's chromium and chromium-driver)")
        options.binary_location = CHROMIUM
        browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(PAGE_LOAD_SECONDS)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def browser(driver: WebDriver) -> WebDriver:
    """The session's browser, on a blank page with an empty console log, at desktop size."""
    driver.get("about:blank")
    driver.set_window_size(1280, 900)
    console_log(driver)  # reading the log empties it: each test sees only its own messages
    return driver


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and call.when in ("setup", "call"):
        browser = getattr(item, "funcargs", {}).get("browser")
        if browser is not None:
            report.sections.append(("screenshot", save_evidence(item, browser)))
    return report


def save_evidence(item: pytest.Item, browser: WebDriver) -> str:
    """A screenshot and the page source of a failed test, named after the test."""
    directory = Path(item.config.rootpath) / SCREENSHOT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])[:150]
    try:
        browser.save_screenshot(str(directory / f"{stem}.png"))
        (directory / f"{stem}.html").write_text(browser.page_source, encoding="utf-8")
    except Exception as exc:  # a dead browser must not hide the test's own failure
        return f"no screenshot: {exc!r}"
    return f"saved {directory / stem}.png"
