"""Keyboard, screen readers and phones: focus stays on the control that changed the view,
menus open from the keyboard, a chart's mode bar is one tab stop, and at 390 px nothing is
clipped and tables scroll inside themselves."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.helpers import current_query, drawn_charts, open_page, wait_for, wait_idle

pytestmark = pytest.mark.e2e

FOCUSED_ID = """
const el = document.activeElement;
const owner = el && el.closest('[id]');
return owner ? owner.id : null;"""


def _focused_control(browser) -> str | None:
    return browser.execute_script(FOCUSED_ID)


def _open_with(browser, control_id: str, key: str) -> None:
    trigger = browser.find_element(By.ID, control_id)  # the menu's trigger button
    browser.execute_script("arguments[0].focus()", trigger)
    ActionChains(browser).send_keys(key).perform()


@pytest.mark.parametrize("key", [Keys.ENTER, Keys.SPACE])
def test_a_closed_menu_opens_from_the_keyboard_with_its_search_focused(browser, server, key):
    open_page(browser, f"{server}/explore?org=ENG&metric=pph_1500")
    wait_idle(browser)
    _open_with(browser, "explore-metric", key)
    assert wait_for(lambda: browser.execute_script(
        "return document.activeElement.classList.contains('dash-dropdown-search')"), 5)


def test_focus_stays_on_the_control_after_a_change(browser, server):
    open_page(browser, f"{server}/explore?org=ENG&metric=pph_1500&dim=ethnicity")
    wait_idle(browser)
    _open_with(browser, "explore-metric", Keys.ENTER)
    ActionChains(browser).send_keys("Preterm").perform()
    time.sleep(0.3)
    ActionChains(browser).send_keys(Keys.ARROW_DOWN, Keys.ENTER).perform()
    assert wait_for(lambda: current_query(browser).get("metric") == "preterm")
    wait_idle(browser)
    assert wait_for(lambda: _focused_control(browser) == "explore-metric", 5), \
        _focused_control(browser)


def test_the_mode_bar_is_one_tab_stop(browser, server):
    open_page(browser, f"{server}/explore?org=ENG&metric=pph_1500&dim=ethnicity")
    assert drawn_charts(browser) >= 1
    stops = browser.execute_script("""
        const bar = document.querySelector('.js-plotly-plot .modebar');
        return Array.from(bar.querySelectorAll('a, button, [tabindex]'))
            .filter(el => el.tabIndex >= 0).length;""")
    assert stops == 1


@pytest.mark.parametrize("path", ["/scorecard?org=SYN020", "/trends?org=SYN020", "/benchmark",
                                  "/explore?org=SYN020&metric=pph_1500&dim=ethnicity"])
def test_at_phone_width_nothing_runs_off_the_page(browser, server, path):
    browser.set_window_size(390, 844)
    try:
        open_page(browser, server + path)
        wait_idle(browser)
        drawn_charts(browser)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than the screen"
        time.sleep(1)  # the charts are wrapped again for the width after they are drawn
        clipped = browser.execute_script("""
            return Array.from(document.querySelectorAll(
                '.js-plotly-plot .gtitle, .js-plotly-plot .annotation'))
              .filter(t => { const r = t.getBoundingClientRect(),
                                   p = t.closest('.js-plotly-plot').getBoundingClientRect();
                             return r.left < p.left - 1 || r.right > p.right + 1; }).length;""")
        assert clipped == 0
    finally:
        browser.set_window_size(1400, 1000)
