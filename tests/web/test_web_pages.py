"""What a person does in a browser: ask for the weather, make mistakes, and try to break the page.

Only behaviour that holds in demo mode is used (a cluster runs these against its deployed site): the
demo provider knows Mountain View at 94040 and treats 00000 as an unknown code, like the OWM stand-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from browser_console import PAGE_LOAD_SECONDS, console_errors

XSS_PAYLOAD = "<script>document.title='pwned'</script>"


def search(browser: WebDriver, base_url: str, zip_code: str, country: str = "US", units: str = "") -> None:
    """Open the home page, fill in the form as a person would, and submit it."""
    browser.get(base_url + "/")
    field = browser.find_element(By.ID, "zip")
    field.clear()
    field.send_keys(zip_code)
    Select(browser.find_element(By.ID, "country")).select_by_value(country)
    if units:
        # The radio buttons are styled as a toggle: a person clicks the visible label.
        browser.find_element(By.CSS_SELECTOR, f"label[for='units-{units}']").click()
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
    WebDriverWait(browser, PAGE_LOAD_SECONDS).until(ec.staleness_of(old))


def test_submitting_the_form_shows_the_weather(browser: WebDriver, base_url: str) -> None:
    search(browser, base_url, "94040", "US", units="imperial")
    assert urlsplit(browser.current_url).path == "/weather"
    assert browser.find_element(By.ID, "place").text == "Mountain View"
    assert "United States" in browser.find_element(By.CSS_SELECTOR, ".place-sub").text
    temperature = browser.find_element(By.ID, "temperature").text
    assert temperature.lstrip("-").isdigit()
    assert browser.find_element(By.CSS_SELECTOR, ".temp-unit").text == "°F"
    assert browser.find_element(By.ID, "condition").text
    # Labels are shown in small capitals (CSS): compare what is read, not how it is cased.
    details = browser.find_element(By.CSS_SELECTOR, "dl.details").text.casefold()
    for label in ("Wind", "Humidity", "Pressure", "Sunrise", "Sunset"):
        assert label.casefold() in details
    assert browser.find_element(By.ID, "updated").text.startswith("Updated")
    # The form stays on the page, as it was submitted.
    assert browser.find_element(By.ID, "zip").get_attribute("value") == "94040"
    assert browser.find_element(By.ID, "units-imperial").is_selected()
    assert "Weather in Mountain View" in browser.title


def test_demo_data_is_labelled_as_such(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/weather?zip=94040&country=us&units=metric")
    reply = browser.execute_script(
        "const r = new XMLHttpRequest(); r.open('GET', '/api/v1/weather?zip=94040&country=us', false);"
        "r.send(); return JSON.parse(r.responseText).source;"
    )
    badges = browser.find_elements(By.ID, "demo-badge")
    if reply == "demo":
        assert badges and badges[0].is_displayed() and badges[0].text.casefold() == "demo data"
    else:
        assert not badges


def test_an_invalid_postal_code_shows_its_message_next_to_the_field(
    browser: WebDriver, base_url: str
) -> None:
    search(browser, base_url, "12", "US", units="imperial")
    zip_field = browser.find_element(By.ID, "zip")
    message = browser.find_element(By.ID, "zip-error")
    assert message.is_displayed() and "ZIP code" in message.text
    # Next to the field: in the field's own group, announced by it, right below it on screen.
    group = zip_field.find_element(By.XPATH, "..")
    assert message in group.find_elements(By.CLASS_NAME, "field-error")
    assert zip_field.get_attribute("aria-describedby") == "zip-error"
    assert zip_field.get_attribute("aria-invalid") == "true"
    assert 0 <= message.location["y"] - (zip_field.location["y"] + zip_field.size["height"]) < 40
    # The form is still filled in.
    assert zip_field.get_attribute("value") == "12"
    assert Select(browser.find_element(By.ID, "country")).first_selected_option.get_attribute("value") == "US"
    assert browser.find_element(By.ID, "units-imperial").is_selected()


def test_an_unknown_postal_code_shows_not_found(browser: WebDriver, base_url: str) -> None:
    search(browser, base_url, "00000", "US")
    assert browser.find_element(By.ID, "error-title").text == "Postal code not found"
    assert browser.find_element(By.CSS_SELECTOR, ".status-code").text.casefold() == "error 404"
    assert browser.find_element(By.ID, "error-message").is_displayed()
    assert browser.find_element(By.ID, "zip").get_attribute("value") == "00000"


def test_a_script_typed_as_the_postal_code_is_shown_as_text(browser: WebDriver, base_url: str) -> None:
    search(browser, base_url, XSS_PAYLOAD, "US")
    # The page answered (with an error) and shows the input back, as the text typed.
    assert browser.find_element(By.ID, "zip").get_attribute("value") == XSS_PAYLOAD
    assert browser.find_element(By.ID, "zip-error").is_displayed()
    # Never markup, never run: the title is the page's own, and no script element came from the input.
    assert browser.title != "pwned" and "tenki" in browser.title
    scripts = browser.find_elements(By.TAG_NAME, "script")
    assert all("pwned" not in (s.get_attribute("innerHTML") or "") for s in scripts)
    # A script the CSP had to block would be a console error.
    assert not console_errors(browser)


def test_pages_log_no_console_errors(browser: WebDriver, base_url: str) -> None:
    for path in ("/", "/weather?zip=94040&country=us&units=metric", "/weather?zip=12&country=us",
                 "/weather?zip=00000&country=us", "/no-such-page"):
        browser.get(base_url + path)
        browser.find_element(By.CSS_SELECTOR, "main")
        assert not console_errors(browser), path


def test_pages_load_nothing_from_another_origin(browser: WebDriver, base_url: str) -> None:
    for path in ("/", "/weather?zip=94040&country=us&units=metric", "/weather?zip=00000&country=us"):
        browser.get(base_url + path)
        origin = browser.execute_script("return location.origin")
        urls = browser.execute_script(
            "return performance.getEntries().filter(e => e.name.includes('://')).map(e => e.name)"
        )
        resources = [u for u in urls if u != browser.current_url]
        # The page's own stylesheet and icons are there (so this check can see anything at all) ...
        assert any(urlsplit(u).path == "/static/style.css" for u in resources), urls
        # ... and every request went to the site itself.
        foreign = [u for u in urls if not u.startswith(origin + "/")]
        assert not foreign, f"{path} loaded {foreign}"


def test_the_stylesheet_is_applied(browser: WebDriver, base_url: str) -> None:
    # A page whose CSS was blocked (CSP) or missing renders unstyled: the card would have no background.
    browser.get(base_url + "/")
    card = browser.find_element(By.CSS_SELECTOR, ".card")
    assert card.value_of_css_property("background-color") == "rgba(255, 255, 255, 1)"
    assert browser.find_element(By.ID, "zip").is_displayed()


def test_on_a_phone_the_weather_comes_first_and_nothing_overflows(browser: WebDriver, base_url: str) -> None:
    for width in (390, 1280):
        browser.set_window_size(width, 844)
        for path in ("/", "/weather?zip=94040&country=us&units=metric", "/weather?zip=12&country=us"):
            browser.get(base_url + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} at {width} px is {overflow} px too wide"
        browser.get(base_url + "/weather?zip=94040&country=us&units=metric")
        place = browser.find_element(By.ID, "place").location["y"]
        search = browser.find_element(By.ID, "zip").location["y"]
        # A phone shows the answer at the top; a wide screen has room for the search bar above it.
        assert (place < search) if width < 500 else (search < place), width


def test_rain_and_several_conditions_fit_a_phone_and_a_wide_screen(
    browser: WebDriver, base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The demo's London is wet: three conditions and the rain of the last hour and 3 hours.
    shots = tmp_path_factory.mktemp("rain-pages")
    for width in (390, 1280):
        browser.set_window_size(width, 844)
        browser.get(base_url + "/weather?zip=sw1a1aa&country=gb&units=metric")
        assert "SW1A 1AA · weather for London, district SW1A" in browser.find_element(By.ID, "place-sub").text
        assert browser.find_element(By.ID, "conditions").text.startswith("Also ")
        lines = browser.find_element(By.ID, "precipitation").text.splitlines()
        assert any(line.startswith("Rain ") and line.endswith("in the last hour") for line in lines), lines
        for element in ("conditions", "precipitation", "place-sub"):
            assert browser.find_element(By.ID, element).is_displayed()
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the rainy page at {width} px is {overflow} px too wide"
        browser.save_screenshot(str(shots / f"london-rain-{width}.png"))
    print(f"screenshots in {shots}")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_forecast_shows_hours_and_days_without_page_scroll(
    browser: WebDriver, base_url: str, width: int
) -> None:
    browser.set_window_size(width, 844)
    browser.get(base_url + "/weather?zip=94040&country=us&units=metric")
    hours = browser.find_elements(By.CSS_SELECTOR, "#hours .hour")
    days = browser.find_elements(By.CSS_SELECTOR, "#days .day")
    assert len(hours) == 8 and len(days) == 5
    first = hours[0].text.split()
    # Local time, temperature with its unit, chance of precipitation.
    assert ":" in first[0] and first[1].endswith("°C") and first[-1] == "%"
    assert days[0].text.split()[0] in ("Today", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    # Icons are the app's own SVGs, and they loaded.
    for image in browser.find_elements(By.CSS_SELECTOR, "#forecast img"):
        assert "/static/icons/" in image.get_attribute("src")
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
    # The page never scrolls sideways (the hourly strip may, inside its own box).
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    strip = browser.find_element(By.ID, "hours")
    assert browser.execute_script(
        "return arguments[0].getBoundingClientRect().right <= document.documentElement.clientWidth", strip
    )
    browser.execute_script("arguments[0].scrollIntoView()", strip)
    browser.save_screenshot(f"/tmp/p15-forecast-{width}.png")
    assert not console_errors(browser)
