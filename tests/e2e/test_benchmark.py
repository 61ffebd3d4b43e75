"""Benchmark in a real browser: small multiples, the funnel with the planted outlier, the
sortable rank table, URL state both ways and the CSV download."""

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
    console_errors,
    current_query,
    drawn_charts,
    open_page,
    wait_idle,
)

pytestmark = pytest.mark.e2e




def _wait_for_query(browser, key: str, predicate, timeout: float = 20) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate(current_query(browser).get(key)):
        time.sleep(0.2)
    wait_idle(browser)
    return current_query(browser)


def _figure(browser, graph_id: str) -> list[dict]:
    """The traces Plotly drew in the graph ``graph_id`` (names, x, y, customdata)."""
    return browser.execute_script(
        "const g = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return g.data.map(t => ({name: t.name, x: t.x, y: t.y, customdata: t.customdata,"
        " text: t.text}));", graph_id)


def _rank_rows(browser) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#benchmark-rank-table tr")
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    return [c for c in cells if c]


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&trusts=SYN010,SYN020,SYN030"
                       "&dim=ethnicity")
    assert drawn_charts(browser) >= 2
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Chosen trusts side by side" in main and "All trusts: funnel plot" in main
    panels = [t for t in _figure(browser, "benchmark-multiples") if t["y"]]
    assert len(panels) == 3 and "Black" in panels[0]["y"]
    chosen = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "Chosen trusts"]
    assert len(chosen[0]["x"]) == 3
    picker = browser.find_element(By.ID, "benchmark-trusts").text
    assert "Netherbury" in picker and "Ashbury" in picker
    assert "Trusts to compare (3 of up to 8 chosen)" in main
    assert console_errors(browser) == []


def test_planted_outlier_is_beyond_the_998_limit(browser, server, stories):
    outlier = stories["pph_outlier"]
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25&dim=total"
                       f"&trusts={outlier}")
    chosen = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "Chosen trusts"][0]
    assert chosen["customdata"][0][5] == "Above the 99.8% limit (worse)"
    # It sits above the upper 99.8% limit drawn at its own denominator.
    upper = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "99.8% limits"]
    x, y = chosen["x"][0], chosen["y"][0]
    limit_at_x = max(ly for t in upper for lx, ly in zip(t["x"], t["y"], strict=True)
                     if abs(lx - x) / x < 0.1)
    assert y > limit_at_x
    summary = browser.find_element(By.ID, "benchmark-funnel-summary").text
    assert "above the 99.8% limit" in summary


def test_choosing_trusts_and_group_updates_charts_and_url(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25")
    assert "Choose up to 8 trusts" in browser.find_element(By.TAG_NAME, "main").text
    choose_option(browser, "benchmark-trusts", "Netherbury")
    query = _wait_for_query(browser, "trusts", lambda v: bool(v))
    assert query["trusts"] == "SYN010"
    assert drawn_charts(browser) >= 2
    assert [t for t in _figure(browser, "benchmark-multiples") if t["y"]]
    choose_option(browser, "benchmark-group", "Black")
    query = _wait_for_query(browser, "group", lambda v: v == "Black")
    assert query["group"] == "Black" and query["trusts"] == "SYN010"
    summary = browser.find_element(By.ID, "benchmark-funnel-summary").text
    assert "Black women" in summary
    assert console_errors(browser) == []


def test_rank_table_sorts_numbers_as_numbers(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25&dim=ethnicity"
                       "&group=Black")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR,
                                                         "#benchmark-rank-table th")]
    column = headers.index("Value (per 1,000)")
    sort = browser.find_elements(By.CSS_SELECTOR, "#benchmark-rank-table th")[column] \
        .find_element(By.CSS_SELECTOR, ".column-header--sort")
    values = []
    for _ in range(2):  # first click: ascending, second: descending
        browser.execute_script("arguments[0].click();", sort)
        time.sleep(0.5)
        values = [r[column] for r in _rank_rows(browser)]
        numbers = [float(v.replace(",", "")) for v in values if v not in ("*", ":")]
        assert numbers, values
    assert numbers == sorted(numbers, reverse=True)
    assert values[0] not in ("*", ":"), "symbols sort after every number"


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25&trusts=SYN010")
    on_screen = _rank_rows(browser)
    folder = Path(browser.download_dir)
    for old in folder.glob("benchmark-pph_1500-ranks*.csv"):
        old.unlink()
    # Selenium's click can land on the page while the long table settles; a DOM click cannot.
    browser.execute_script("arguments[0].click();",
                           browser.find_element(By.ID, "benchmark-rank-download-button"))
    deadline = time.time() + 20
    files = []
    while time.time() < deadline and not files:
        files = list(folder.glob("benchmark-pph_1500-ranks*.csv"))
        time.sleep(0.2)
    assert files, "no file downloaded"
    lines = [line for line in files[0].read_text().splitlines() if not line.startswith("#")]
    downloaded = list(csv.reader(io.StringIO("\n".join(lines))))
    assert downloaded[0][:2] == ["Code", "Trust"]
    assert downloaded[1:len(on_screen) + 1] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&trusts=SYN010,SYN020"
                       "&dim=ethnicity")
    assert axe_violations(browser) == []
