"""Mortality in a real browser: both charts draw, the URL restores and follows the controls,
downloads match the tables, and the page is accessible."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.e2e.helpers import (
    axe_violations,
    choose_option,
    console_errors,
    drawn_charts,
    open_page,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _query(browser) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(browser.current_url).query).items()}


def _wait_for(predicate, timeout: float = 20) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _read(read, attempts: int = 20):
    """``read()``, retried while Dash re-renders the page under it (stale elements)."""
    for _ in range(attempts - 1):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.25)
    return read()


def _all_charts_drawn(browser, expected: int) -> bool:
    return _wait_for(lambda: drawn_charts(browser, timeout=1) >= expected)


def click_now(browser, element_id: str) -> None:
    """Scroll instantly (Bootstrap makes scrolling smooth) and click."""
    element = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                           element)
    element.click()


def _rows(browser, table_id: str) -> list[list[str]]:
    def read():
        rows = browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
        return [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]

    return _read(read)


def _main_text(browser) -> str:
    return _read(lambda: browser.find_element(By.TAG_NAME, "main").text)


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/mortality?metric=neonatal_death&org=Y56"
                       "&dim=deprivation_quintile&period=2023")
    assert _all_charts_drawn(browser, 2)
    main = _main_text(browser)
    assert "Neonatal mortality rate: London, 2023, by deprivation quintile" in main
    assert "Context: the national rate over time" in main
    groups = [r[0] for r in _rows(browser, "mortality-table")]
    assert groups[0].startswith("Q1") and len(groups) == 6
    assert console_errors(browser) == []


def test_choosing_a_metric_updates_charts_and_url(browser, server):
    open_page(browser, f"{server}/mortality")
    choose_option(browser, "mortality-metric", "Maternal mortality")
    assert _wait_for(lambda: _query(browser).get("metric") == "maternal_death")
    wait_idle(browser)
    # The period follows the metric: maternal deaths are 3-year rolling periods.
    assert "–" in _query(browser)["period"]
    assert _wait_for(lambda: "Maternal mortality rate: England" in _main_text(browser))
    assert _all_charts_drawn(browser, 2)
    assert console_errors(browser) == []


def test_trust_shows_the_published_level_note(browser, server):
    open_page(browser, f"{server}/mortality?org=SYN118&dim=ethnicity")
    main = _main_text(browser)
    assert "trust figures are totals" in main
    assert "Some of the link could not be used" in main
    assert _all_charts_drawn(browser, 2)


def test_csv_downloads_match_the_tables(browser, server):
    open_page(browser, f"{server}/mortality?metric=stillbirth&org=Y62&dim=ethnicity")
    assert _all_charts_drawn(browser, 2)
    folder = Path(browser.download_dir)
    for button, table, pattern in (
            ("mortality-download-button", "mortality-table", "mortality-stillbirth-Y62*.csv"),
            ("mortality-trend-download-button", "mortality-trend-table",
             "mortality-stillbirth-over-time*.csv")):
        for old in folder.glob(pattern):
            old.unlink()
        on_screen = _rows(browser, table)
        click_now(browser, button)
        assert _wait_for(lambda p=pattern: list(folder.glob(p))), f"no {pattern} downloaded"
        text = next(folder.glob(pattern)).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/mortality?metric=stillbirth&org=Y56&dim=ethnicity")
    assert _all_charts_drawn(browser, 2)
    assert axe_violations(browser) == []
