"""Waiting for Dash pages to draw, reading console errors, running axe-core."""

from __future__ import annotations

import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import AXE


def open_page(browser, url: str, *, wait_for: str = "main h1", timeout: float = 30) -> None:
    """Load ``url`` and wait until Dash has rendered ``wait_for`` and finished loading."""
    browser.get(url)
    wait = WebDriverWait(browser, timeout)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, wait_for)))
    wait_idle(browser, timeout)


def wait_idle(browser, timeout: float = 30) -> None:
    """Until no Dash callback is pending (no ``_dash-loading`` marker)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = browser.execute_script(
            "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length")
        if not busy:
            time.sleep(0.3)
            if not browser.execute_script(
                    "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"):
                return
        time.sleep(0.2)


def drawn_charts(browser, timeout: float = 30) -> int:
    """Number of Plotly charts that have drawn at least one data point."""
    script = ("return Array.from(document.querySelectorAll('.js-plotly-plot')).filter("
              "g => g.querySelectorAll('.point, .trace path, .scatterlayer .trace').length > 0"
              ").length")
    deadline = time.time() + timeout
    count = 0
    while time.time() < deadline:
        count = browser.execute_script(script)
        if count:
            return count
        time.sleep(0.3)
    return count


def console_errors(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def axe_violations(browser, impacts=("serious", "critical")) -> list[dict]:
    """axe-core violations of the given impacts on the current page."""
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r)))"
        ".catch(e => done(JSON.stringify({error: String(e)})));")
    data = json.loads(result)
    assert "error" not in data, data
    return [v for v in data["violations"] if v["impact"] in impacts]


def choose_option(browser, dropdown_id: str, text: str, timeout: float = 10) -> None:
    """Open a Dash dropdown, search for ``text`` and click the first matching option."""
    browser.find_element(By.ID, dropdown_id).click()
    wait = WebDriverWait(browser, timeout)
    search = wait.until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, ".dash-dropdown-content input.dash-dropdown-search")))
    search.send_keys(text)
    option = wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//div[contains(@class,'dash-dropdown-content')]//label[@role='option']"
                   f"[contains(., {json.dumps(text)})]")))
    option.click()


def click(browser, element) -> None:
    """Scroll an element (or the element with that id) into view at once and click it.

    The scroll is instant because Bootstrap makes scrolling smooth, and a long smooth scroll
    is still moving when a click lands.
    """
    if isinstance(element, str):
        element = browser.find_element(By.ID, element)
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def current_query(browser) -> dict[str, str]:
    """The current URL's query parameters (first value of each)."""
    from urllib.parse import parse_qs, urlparse

    return {k: v[0] for k, v in parse_qs(urlparse(browser.current_url).query).items()}


def wait_for(predicate, timeout: float = 20) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def retry_stale(read, attempts: int = 20):
    """``read()``, retried while Dash re-renders the page under it (stale elements)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(attempts - 1):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.25)
    return read()


def charts_drawn(browser, expected: int) -> bool:
    """Wait until at least ``expected`` charts have drawn data."""
    return wait_for(lambda: drawn_charts(browser, timeout=1) >= expected)


def table_rows(browser, table_id: str) -> list[list[str]]:
    """Body rows of an HTML table as shown (cell texts)."""
    def read():
        rows = browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
        return [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]

    return retry_stale(read)


def main_text(browser) -> str:
    return retry_stale(lambda: browser.find_element(By.TAG_NAME, "main").text)
