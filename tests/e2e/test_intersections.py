"""Intersections in a real browser: the heat map draws with grey stars for suppressed cells,
controls follow the URL both ways, the CSV matches the table, no console errors, axe."""

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
    open_page,
    table_rows,
    wait_for,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _drawn(browser) -> bool:
    """Whether the heat map has painted its cells (an image in Plotly's heat map layer)."""
    return wait_for(lambda: bool(browser.find_elements(
        By.CSS_SELECTOR, "#intersections-graph .heatmaplayer image")))


def _heatmap(browser) -> list[dict]:
    return browser.execute_script(
        "const g = document.getElementById('intersections-graph')"
        ".querySelector('.js-plotly-plot');"
        "return g.data.map(t => ({name: t.name, x: t.x, y: t.y, z: t.z, text: t.text}));")


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/intersections?org=ENG&metric=pph_1500&period=2024-25")
    assert _drawn(browser)
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "by ethnicity and deprivation quintile" in main
    grey, cells = _heatmap(browser)
    assert cells["y"] == ["White", "Mixed", "Asian", "Black", "Other"]
    assert all(v is not None for row in cells["z"] for v in row)
    assert len(table_rows(browser, "intersections-table")) == 25
    assert console_errors(browser) == []


def test_suppressed_cells_are_grey_stars(browser, server):
    open_page(browser, f"{server}/intersections?org=SYN008&metric=booked_by_10_weeks"
                       "&period=2024-25")
    assert _drawn(browser)
    grey, cells = _heatmap(browser)
    stars = [(r, c) for r, row in enumerate(grey["text"]) for c, t in enumerate(row)
             if t == "*"]
    assert stars
    for r, c in stars:
        assert cells["z"][r][c] is None and grey["z"][r][c] == 1
    rows = table_rows(browser, "intersections-table")
    assert sum(row[-1] == "*" for row in rows) == len(stars)
    # The star is printed on the chart itself, not only in the hover.
    texts = [t.text for t in browser.find_elements(By.CSS_SELECTOR,
                                                   "#intersections-graph text")]
    assert texts.count("*") >= len(stars)
    assert console_errors(browser) == []


def test_changing_the_metric_updates_chart_and_url(browser, server):
    open_page(browser, f"{server}/intersections?org=ENG&metric=pph_1500")
    choose_option(browser, "intersections-metric", "Preterm")
    assert wait_for(lambda: current_query(browser).get("metric") == "preterm")
    wait_idle(browser)
    assert wait_for(lambda: "Preterm" in browser.find_element(By.TAG_NAME, "main").text)
    assert _drawn(browser)
    assert console_errors(browser) == []


def test_not_published_and_bad_url_show_notices(browser, server):
    open_page(browser, f"{server}/intersections?org=NOPE&metric=stillbirth")
    assert "Unknown organisation" in browser.find_element(By.ID, "page-notice").text
    notice = browser.find_element(By.ID, "intersections-not-published").text
    assert "does not publish stillbirth rate by ethnicity and deprivation together" in notice
    assert not browser.find_elements(By.ID, "intersections-graph")
    assert console_errors(browser) == []


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/intersections?org=Y56&metric=preterm&period=2023-24")
    on_screen = table_rows(browser, "intersections-table")
    folder = Path(browser.download_dir)
    for old in folder.glob("intersections-preterm-Y56*.csv"):
        old.unlink()
    click(browser, "intersections-download-button")
    deadline = time.time() + 20
    files = []
    while time.time() < deadline and not files:
        files = list(folder.glob("intersections-preterm-Y56*.csv"))
        time.sleep(0.2)
    assert files, "no file downloaded"
    lines = [line for line in files[0].read_text().splitlines() if not line.startswith("#")]
    downloaded = list(csv.reader(io.StringIO("\n".join(lines))))
    assert downloaded[0][:2] == ["Ethnicity", "Deprivation quintile"]
    assert downloaded[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/intersections?org=SYN008&metric=booked_by_10_weeks")
    assert axe_violations(browser) == []
