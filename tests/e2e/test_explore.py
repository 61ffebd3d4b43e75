"""Explore in a real browser: draws, follows the URL both ways, downloads what it shows."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import (
    axe_violations,
    choose_option,
    click,
    console_errors,
    current_query,
    drawn_charts,
    open_page,
    wait_idle,
)

pytestmark = pytest.mark.e2e



def test_shared_url_restores_the_view(browser, server):
    url = f"{server}/explore?org=SYN010&metric=booked_by_10_weeks&dim=deprivation_quintile&vs=peer"
    open_page(browser, url)
    assert drawn_charts(browser) >= 1
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Booked for antenatal care by 10 weeks" in text
    assert "by deprivation quintile" in text
    assert "Peer group" in text
    assert console_errors(browser) == []


def test_choosing_a_metric_updates_chart_and_url(browser, server):
    open_page(browser, f"{server}/explore?org=ENG&metric=pph_1500&dim=ethnicity")
    choose_option(browser, "explore-metric", "Preterm")
    deadline = time.time() + 20
    while time.time() < deadline and current_query(browser).get("metric") != "preterm":
        time.sleep(0.2)
    assert current_query(browser)["metric"] == "preterm"
    wait_idle(browser)
    assert "Preterm birth" in browser.find_element(By.TAG_NAME, "main").text
    assert drawn_charts(browser) >= 1
    assert console_errors(browser) == []


def test_bad_url_shows_a_notice_not_an_error(browser, server):
    open_page(browser, f"{server}/explore?org=NOPE&metric=../../etc/passwd&dim=zzz")
    notice = browser.find_element(By.ID, "page-notice").text
    assert "Unknown organisation" in notice and "Unknown metric" in notice
    assert drawn_charts(browser) >= 1


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/explore?org=SYN020&metric=pph_1500&dim=ethnicity")
    rows = browser.find_elements(By.CSS_SELECTOR, "#explore-table tbody tr")
    on_screen = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    click(browser, "explore-download-button")
    folder = Path(browser.download_dir)
    deadline = time.time() + 20
    files = []
    while time.time() < deadline:
        files = [f for f in folder.glob("explore-*.csv")]
        if files:
            break
        time.sleep(0.2)
    assert files, "no file downloaded"
    lines = [line for line in files[0].read_text().splitlines() if not line.startswith("#")]
    downloaded = list(csv.reader(io.StringIO("\n".join(lines))))[1:]
    assert downloaded == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/explore?org=SYN020&metric=pph_1500&dim=ethnicity")
    assert axe_violations(browser) == []
