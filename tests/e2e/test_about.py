"""About page in a real browser: loads, passes axe, and keeps its privacy promises (no
cookies, nothing fetched from anywhere but the dashboard's own server)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.helpers import axe_violations, console_errors, open_page

pytestmark = pytest.mark.e2e


def test_page_loads(browser, server):
    open_page(browser, f"{server}/about")
    main = browser.find_element(By.TAG_NAME, "main")
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "About this dashboard"
    for heading in ("Accessibility statement", "Privacy", "Running the dashboard"):
        assert heading in [h.text for h in main.find_elements(By.TAG_NAME, "h2")]
    commands = main.find_elements(By.CSS_SELECTOR, "#about-commands tbody tr")
    assert any("equalities serve" in row.text for row in commands)
    assert "Synthetic demonstration data." in main.text
    assert browser.title == "About · Equalities"
    assert console_errors(browser) == []


def test_story_links_open_the_organisation(browser, server):
    open_page(browser, f"{server}/about")
    link = browser.find_element(By.CSS_SELECTOR, "#about-stories a")
    code = link.text.rsplit("(", 1)[1].rstrip(")")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: "
                           "'instant'});", link)
    link.click()
    open_page(browser, browser.current_url, wait_for="main h1")
    assert browser.current_url.endswith(f"/?org={code}")
    assert console_errors(browser) == []


def test_skip_link_moves_focus_to_the_content(browser, server):
    open_page(browser, f"{server}/about")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to main content"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"


@pytest.mark.parametrize("path", ["/about", "/data", "/"])
def test_no_cookies_and_nothing_fetched_from_elsewhere(browser, server, path):
    open_page(browser, f"{server}{path}")
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources, "the page loaded its scripts"
    outside = [r for r in resources if not r.startswith(server)]
    assert outside == []
    assert browser.execute_script("return document.cookie") == ""
    assert browser.get_cookies() == []
    with urllib.request.urlopen(f"{server}{path}") as response:
        assert response.headers.get_all("Set-Cookie") is None


def test_accessibility(browser, server):
    open_page(browser, f"{server}/about")
    assert axe_violations(browser) == []
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['target-size']}).then(r => done(JSON.stringify("
        "r.violations))).catch(e => done(JSON.stringify([String(e)])));")
    assert json.loads(result) == []
