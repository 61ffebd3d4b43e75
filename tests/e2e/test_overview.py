"""Overview in a real browser: cards render, choosing an organisation updates the URL, a card's
link opens the explorer with that view, the headline gaps draw as a forest plot whose table
and CSV download agree, "Start here" carries the organisation, and a phone can read it."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import (
    axe_violations,
    charts_drawn,
    choose_option,
    click,
    console_errors,
    current_query,
    open_page,
    table_rows,
    wait_for,
    wait_idle,
)

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


def _points(browser) -> int:
    """Markers the forest plot draws (one per comparison with a ratio)."""
    return browser.execute_script(
        "return document.querySelectorAll('#overview-gaps-graph .scatterlayer .point').length")


def test_headline_gaps_chart_table_and_download_agree(browser, server):
    open_page(browser, server + "/?org=Y56")
    assert charts_drawn(browser, 1)
    assert "metrics show a significant gap" in browser.find_element(
        By.ID, "overview-gaps-summary").text
    click(browser, browser.find_element(By.CSS_SELECTOR, "#overview-gaps details:last-of-type "
                                                          "summary"))
    on_screen = table_rows(browser, "overview-gaps-table")
    drawn = [row for row in on_screen if row[9] not in ("*", ":")]
    assert drawn and wait_for(lambda: _points(browser) == len(drawn))
    folder = Path(browser.download_dir)
    for old in folder.glob("overview-gaps-Y56*.csv"):
        old.unlink()
    click(browser, "overview-gaps-download-button")
    files = []
    wait_for(lambda: files.extend(folder.glob("overview-gaps-Y56*.csv")) or files)
    assert files, "no file downloaded"
    lines = [line for line in files[0].read_text().splitlines() if not line.startswith("#")]
    downloaded = list(csv.reader(io.StringIO("\n".join(lines))))
    assert downloaded[0][:3] == ["Section", "Metric", "Breakdown"]
    assert downloaded[1:] == on_screen
    assert console_errors(browser) == []


def test_start_here_carries_the_trust(browser, server):
    open_page(browser, server + "/?org=SYN030")
    start = browser.find_element(By.ID, "overview-start")
    assert "How does my trust compare?" in start.text
    click(browser, start.find_element(By.LINK_TEXT, "Benchmark it against all trusts"))
    assert wait_for(lambda: "/benchmark" in browser.current_url)
    wait_idle(browser)
    assert current_query(browser).get("trusts") == "SYN030"
    assert console_errors(browser) == []


def test_phone_width_keeps_the_page_narrow(browser, server):
    """At 390 px the forest plot scrolls sideways in its own box; the page does not."""
    browser.set_window_size(390, 900)
    try:
        open_page(browser, server + "/?org=SYN030")
        assert charts_drawn(browser, 1)
        widths = browser.execute_script(
            "const box = document.getElementById('overview-gaps-graph').parentElement;"
            "return [document.documentElement.scrollWidth, window.innerWidth,"
            " box.scrollWidth, box.clientWidth];")
        page_width, window_width, box_width, box_shown = widths
        assert page_width <= window_width
        assert box_width > box_shown  # the chart keeps its width inside its box
        time.sleep(1)  # the charts are wrapped again for the width after they are drawn
        clipped = browser.execute_script("""
            return Array.from(document.querySelectorAll(
                '#overview-gaps-graph .gtitle, #overview-gaps-graph .annotation'))
              .filter(t => { const r = t.getBoundingClientRect(),
                                   p = t.closest('.js-plotly-plot').getBoundingClientRect();
                             return r.left < p.left - 1 || r.right > p.right + 1; }).length;""")
        assert clipped == 0
    finally:
        browser.set_window_size(1400, 1000)


def test_accessibility(browser, server):
    open_page(browser, server + "/?org=SYN030")
    assert axe_violations(browser) == []
