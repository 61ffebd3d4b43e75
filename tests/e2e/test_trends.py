"""Trends in a real browser: the series and SPC charts draw, the planted intervention shows as
special-cause improvement, controls follow the URL both ways, the CSV matches the table."""

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




def _wait_for_query(browser, key: str, wanted: str, timeout: float = 20) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline and current_query(browser).get(key) != wanted:
        time.sleep(0.2)
    wait_idle(browser)
    return current_query(browser)


def _traces(browser, graph_id: str) -> list[dict]:
    return browser.execute_script(
        "const g = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return g.data.map(t => ({name: t.name, x: t.x, y: t.y, visible: t.visible}));",
        graph_id)


def _table(browser, table_id: str) -> list[list[str]]:
    """Cells of a table, read even while its <details> is folded (textContent)."""
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    return [[td.get_attribute("textContent") for td in r.find_elements(By.TAG_NAME, "td")]
            for r in rows]


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/trends?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter"
                       "&group=Black")
    assert drawn_charts(browser) >= 2
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Statistical process control for Black women" in main
    series = {t["name"] for t in _traces(browser, "trends-series-graph")}
    assert {"White", "Asian", "Black", "White 95% CI"} <= series
    spc = {t["name"] for t in _traces(browser, "trends-spc-graph")}
    assert {"Black", "Mean", "Process limits"} <= spc
    summary = _table(browser, "trends-summary-table")
    assert [r[0] for r in summary][:5] == ["White", "Mixed", "Asian", "Black", "Other"]
    assert console_errors(browser) == []


def test_intervention_shows_as_special_cause_improvement(browser, server, stories):
    org = stories["pph_gap_closes"]
    open_page(browser, f"{server}/trends?org={org}&metric=pph_1500&dim=total&kind=quarter")
    traces = _traces(browser, "trends-spc-graph")
    improved = [t for t in traces if t["name"] == "Special cause: improvement"]
    assert improved and len(improved[0]["x"]) >= 7
    # The improvement is the run at the end of the series, after the intervention.
    periods = [t for t in traces if t["name"] == "All"][0]["x"]
    assert improved[0]["x"][-1] == periods[-1]
    statement = browser.find_element(By.ID, "trends-spc-statement").text
    assert "improvement (lower is better)" in statement
    assert _table(browser, "trends-summary-table")[0][2] == "Blue with L: improvement, low"


def test_gap_closes_on_rolling_periods_without_spc_limits(browser, server, stories):
    org = stories["pph_gap_closes"]
    open_page(browser, f"{server}/trends?org={org}&metric=pph_1500&dim=ethnicity"
                       "&kind=rolling_12_months&group=Black")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "SPC limits are not valid on overlapping periods" in main
    assert not browser.find_elements(By.ID, "trends-spc-graph")
    traces = {t["name"]: t for t in _traces(browser, "trends-series-graph")}
    black, white = traces["Black"]["y"], traces["White"]["y"]
    assert black[0] - white[0] > 15, "Black women's PPH rate starts far above White women's"
    assert abs(black[-1] - white[-1]) < 8, "and the gap has closed by the end"


def test_changing_controls_updates_charts_and_url(browser, server):
    open_page(browser, f"{server}/trends?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter"
                       "&group=Black")
    choose_option(browser, "trends-group", "Asian")
    assert _wait_for_query(browser, "group", "Asian")["group"] == "Asian"
    assert "Statistical process control for Asian women" in \
        browser.find_element(By.TAG_NAME, "main").text
    assert "Asian" in {t["name"] for t in _traces(browser, "trends-spc-graph")}
    choose_option(browser, "trends-kind", "Financial year")
    query = _wait_for_query(browser, "kind", "financial_year")
    assert query["kind"] == "financial_year" and query["group"] == "Asian"
    assert "SPC needs at least 12 points" in browser.find_element(By.TAG_NAME, "main").text
    assert drawn_charts(browser) >= 1
    assert console_errors(browser) == []


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/trends?org=Y56&metric=pph_1500&dim=ethnicity&kind=quarter"
                       "&group=Black")
    on_screen = _table(browser, "trends-series-table")
    assert len(on_screen) > 100
    folder = Path(browser.download_dir)
    for old in folder.glob("trends-pph_1500-Y56*.csv"):
        old.unlink()
    # DOM clicks: Selenium's own click can land on the page while the charts settle.
    summary = browser.find_element(By.CSS_SELECTOR, "details:has(#trends-series-table) summary")
    browser.execute_script("arguments[0].click();", summary)
    button = browser.find_element(By.ID, "trends-series-download-button")
    assert button.is_displayed(), "the table and its download open from the summary"
    browser.execute_script("arguments[0].click();", button)
    deadline = time.time() + 20
    files = []
    while time.time() < deadline and not files:
        files = list(folder.glob("trends-pph_1500-Y56*.csv"))
        time.sleep(0.2)
    assert files, "no file downloaded"
    lines = [line for line in files[0].read_text().splitlines() if not line.startswith("#")]
    downloaded = list(csv.reader(io.StringIO("\n".join(lines))))
    assert downloaded[0] == ["Group", "Period", "Numerator", "Denominator",
                             "Value (per 1,000)", "95% CI", "Row type"]
    assert [r[:-1] for r in downloaded[1:] if r[-1] == "Data"] == on_screen
    # The projection follows, flagged, with the rows of its own table.
    ahead = [r for r in downloaded[1:] if r[-1] != "Data"]
    assert ahead and all(r[-1].startswith("Projection (not data)") for r in ahead)
    assert [[r[0], r[1], r[4], r[5]] for r in ahead] == \
        [r[:4] for r in _table(browser, "trends-projection-table")]


def test_projection_draws_and_turns_off(browser, server):
    open_page(browser, f"{server}/trends?org=ENG&metric=booked_by_10_weeks&dim=ethnicity"
                       "&kind=quarter&group=Asian")
    traces = {t["name"]: t for t in _traces(browser, "trends-series-graph")}
    assert "Projection (not data)" in traces
    asian = traces["Asian projection"]
    assert len(asian["x"]) == 4 and asian["x"][0] == traces["Asian"]["x"][-1]
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Projection (not data)" in main
    assert "Asian women compared with White women: closing at this pace" in main
    label = browser.find_element(By.XPATH, "//label[contains(., 'Show the projection')]")
    browser.execute_script("arguments[0].click();", label)
    assert _wait_for_query(browser, "proj", "0")["proj"] == "0"
    names = {t["name"] for t in _traces(browser, "trends-series-graph")}
    assert "Asian projection" not in names and "Asian" in names
    assert "Projection (not data)" not in browser.find_element(By.TAG_NAME, "main").text
    assert console_errors(browser) == []


def test_accessibility(browser, server):
    open_page(browser, f"{server}/trends?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter"
                       "&group=Black")
    assert axe_violations(browser) == []


def test_gap_over_time_draws_with_its_verdicts(browser, server, stories):
    org = stories["pph_gap_closes"]
    open_page(browser, f"{server}/trends?org={org}&metric=pph_1500&dim=ethnicity"
                       "&kind=financial_year&group=Black")
    traces = {t["name"]: t for t in _traces(browser, "trends-gap-graph")}
    assert traces["Black"]["visible"] in (None, True)
    assert traces["Asian"]["visible"] == "legendonly"
    axis = browser.execute_script(
        "return document.querySelector('#trends-gap-graph .js-plotly-plot')"
        ".layout.yaxis.type;")
    assert axis == "log"
    verdicts = browser.find_element(By.ID, "trends-gap-verdicts").text
    assert "The gap between Black and White women is narrowing" in verdicts
    assert len(_table(browser, "trends-gap-table")) == 4 * 5  # known groups x years
    advice = browser.find_element(By.ID, "trends-spc-advice").text
    assert "financial year" not in advice and "quarters under “Periods”" in advice
    assert console_errors(browser) == []
