"""Overview in a real browser: cards render, choosing an organisation updates the URL, a card's
link opens the explorer with that view."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import axe_violations, choose_option, console_errors, open_page, wait_idle

pytestmark = pytest.mark.e2e


def test_cards_and_organisation_choice(browser, server):
    open_page(browser, server + "/")
    cards = browser.find_elements(By.CSS_SELECTOR, ".metric-card")
    assert len(cards) >= 15
    assert "Synthetic demonstration data" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
    choose_option(browser, "overview-org", "(Region)")
    deadline = time.time() + 20
    while time.time() < deadline and "org=" not in browser.current_url:
        time.sleep(0.2)
    assert parse_qs(urlparse(browser.current_url).query)["org"][0].startswith("Y")
    wait_idle(browser)
    assert "Compared with England" in browser.find_element(By.TAG_NAME, "main").text
    assert console_errors(browser) == []


def test_card_link_opens_the_explorer(browser, server):
    open_page(browser, server + "/?org=SYN030")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Explore pph")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                           "arguments[0].click();", link)
    deadline = time.time() + 20
    while time.time() < deadline and "/explore" not in browser.current_url:
        time.sleep(0.2)
    wait_idle(browser)
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["org"] == ["SYN030"] and query["metric"] == ["pph_1500"]
    assert "Postpartum haemorrhage" in browser.find_element(By.TAG_NAME, "main").text


def test_accessibility(browser, server):
    open_page(browser, server + "/?org=SYN030")
    assert axe_violations(browser) == []
