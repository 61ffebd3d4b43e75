"""Scorecard in a real browser: draws, follows the URL both ways, links into Explore,
downloads exactly the table it shows, and is accessible."""

from __future__ import annotations

import csv
import io
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
    main_text,
    open_page,
    retry_stale,
    wait_for,
    wait_idle,
)

pytestmark = pytest.mark.e2e
ARROWS = "▲▼▶"






def _table_rows(browser) -> list[list[str]]:
    """Scorecard rows as shown (metric header cell and data cells, links column dropped,
    the decorative change arrow stripped)."""
    def read():
        rows = browser.find_elements(By.CSS_SELECTOR, "#scorecard-table tbody tr")
        return [[c.text.lstrip(ARROWS).strip() for c in r.find_elements(By.CSS_SELECTOR,
                                                                           "th, td")][:-1]
                for r in rows]

    return retry_stale(read)



def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN118")
    assert drawn_charts(browser) >= 1
    main = main_text(browser)
    assert "Wrendale and Driftgate NHS Trust" in main
    rows = _table_rows(browser)
    assert len(rows) == 8
    badges = browser.find_elements(By.CSS_SELECTOR, "#scorecard-table .rag")
    assert {b.text for b in badges} <= {"Green", "Amber", "Red", "Grey"}
    assert {"Red", "Green"} <= {b.text for b in badges}
    assert console_errors(browser) == []


def test_choosing_a_trust_updates_chart_and_url(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN118")
    choose_option(browser, "scorecard-org", "Ashford University")
    assert wait_for(lambda: current_query(browser).get("org") == "SYN001")
    wait_idle(browser)
    assert wait_for(lambda: "Ashford University Hospitals NHS Trust:" in main_text(browser))
    assert drawn_charts(browser) >= 1
    assert console_errors(browser) == []


def test_row_link_opens_explore_with_the_metric(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN118")
    link = browser.find_elements(By.CSS_SELECTOR, "#scorecard-table tbody tr")[1] \
        .find_element(By.PARTIAL_LINK_TEXT, "Explore")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                           "arguments[0].click();", link)
    assert wait_for(lambda: "/explore" in browser.current_url)
    wait_idle(browser)
    query = current_query(browser)
    assert query["org"] == "SYN118" and query["metric"] == "stillbirth"
    assert "Stillbirth rate" in main_text(browser)


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN030")
    assert drawn_charts(browser) >= 1  # the chart's height is final before scrolling
    on_screen = _table_rows(browser)
    folder = Path(browser.download_dir)
    for old in folder.glob("scorecard-SYN030*.csv"):
        old.unlink()
    click(browser, "scorecard-download-button")
    assert wait_for(lambda: list(folder.glob("scorecard-SYN030*.csv"))), "no file downloaded"
    text = next(folder.glob("scorecard-SYN030*.csv")).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN118")
    assert axe_violations(browser) == []
