"""The view follows you: the navigation and "see also" links carry the selection, and a
control change costs one request to the server."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import (
    choose_option,
    click,
    current_query,
    main_text,
    open_page,
    wait_for,
    wait_idle,
)

pytestmark = pytest.mark.e2e

UPDATES = ("return performance.getEntriesByType('resource')"
           ".filter(e => e.name.includes('_dash-update-component')).length")


def test_the_navigation_carries_the_trust_and_metric(browser, server):
    open_page(browser, f"{server}/explore?org=SYN020&metric=booked_by_10_weeks&dim=ethnicity")
    wait_idle(browser)
    click(browser, "nav-trends")
    assert wait_for(lambda: browser.execute_script("return location.pathname") == "/trends")
    assert wait_for(lambda: current_query(browser).get("org") == "SYN020")
    assert current_query(browser)["metric"] == "booked_by_10_weeks"
    wait_idle(browser)
    nav = browser.find_element(By.ID, "nav-trends")
    assert "active" in nav.get_attribute("class")
    assert "active" not in browser.find_element(By.ID, "nav-explore").get_attribute("class")


def test_see_also_opens_the_trusts_scorecard(browser, server):
    open_page(browser, f"{server}/explore?org=SYN020&metric=pph_1500&dim=ethnicity")
    wait_idle(browser)
    link = browser.find_element(By.LINK_TEXT, "This trust's scorecard")
    click(browser, link)
    assert wait_for(lambda: browser.execute_script("return location.pathname") == "/scorecard")
    assert wait_for(lambda: current_query(browser).get("org") == "SYN020")


def test_a_control_change_is_one_request(browser, server):
    open_page(browser, f"{server}/explore?org=ENG&metric=pph_1500&dim=ethnicity")
    wait_idle(browser)
    before = browser.execute_script(UPDATES)
    choose_option(browser, "explore-metric", "Preterm")
    assert wait_for(lambda: current_query(browser).get("metric") == "preterm")
    wait_idle(browser)
    assert wait_for(lambda: "Preterm" in main_text(browser))
    assert browser.execute_script(UPDATES) - before == 1
