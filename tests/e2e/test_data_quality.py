"""Data quality in a real browser: the funnel draws, the planted poor recorder is flagged,
controls write the URL (region, measure, sort), the download matches the table, and the page
is accessible."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.components.hovers import hover_lines
from tests.e2e.helpers import (
    axe_violations,
    choose_option,
    click,
    console_errors,
    current_query,
    drawn_charts,
    open_page,
    retry_stale,
    wait_for,
    wait_idle,
)
from tests.e2e.hovering import drawn_hover, traces

pytestmark = pytest.mark.e2e
POOR = "Wrendale and Driftgate NHS Trust"  # manifest story "poor_ethnicity_recording"






def _rows(browser) -> list[list[str]]:
    def read():
        rows = browser.find_elements(By.CSS_SELECTOR, "#data-quality-table tbody tr")
        return [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]

    return retry_stale(read)


def _text(browser, element_id: str) -> str:
    return retry_stale(lambda: browser.find_element(By.ID, element_id).text)


def test_planted_poor_recorder_is_flagged(browser, server, demo):
    assert demo.organisations.filter(
        demo.organisations["org_code"] == next(c for c, s in demo.manifest["stories"].items()
                                               if "poor_ethnicity_recording" in s)
    )["name"][0] == POOR
    open_page(browser, f"{server}/data-quality")
    assert drawn_charts(browser) >= 1
    first = _rows(browser)[0]
    assert first[0] == POOR and first[-1] == "Below 90%"
    headline = _text(browser, "data-quality-headline")
    assert "below the 90% threshold" in headline and f"Lowest: {POOR}" in headline
    assert console_errors(browser) == []


def test_hovers_read_as_the_figure_says(browser, server):
    """Over each kind of trust (the poor recorder among them), Plotly draws the hover its
    data give: name, value and 95% CI, women recorded of women booked."""
    open_page(browser, f"{server}/data-quality")
    assert drawn_charts(browser) >= 1
    drawn = traces(browser, "data-quality-graph")
    points = [(i, p) for i, t in enumerate(drawn) if t["hovertemplate"]
              for p in range(len(t["x"]))]
    lines = [hover_lines(drawn[i], p) for i, p in points]
    assert [POOR] in [line[:1] for line in lines]
    for i, p in points[:3] + [next(points[k] for k, line in enumerate(lines)
                                   if line[0] == POOR)]:
        assert drawn_hover(browser, "data-quality-graph", i, p) == hover_lines(drawn[i], p)
    assert all(line[2].endswith(" women booked") and "95% CI" in line[1] for line in lines)


def test_region_and_measure_controls_write_the_url(browser, server):
    open_page(browser, f"{server}/data-quality")
    choose_option(browser, "data-quality-region", "London")
    assert wait_for(lambda: current_query(browser).get("region") == "Y56")
    wait_idle(browser)
    assert wait_for(lambda: {r[1] for r in _rows(browser)} == {"London"})
    assert "trusts in London" in _text(browser, "data-quality-headline")
    radio = browser.find_element(By.XPATH, "//label[contains(., 'Deprivation identifiable')]")
    click(browser, radio)
    assert wait_for(lambda: current_query(browser).get("metric") == "deprivation_known")
    wait_idle(browser)
    assert current_query(browser).get("region") == "Y56"  # the filter survives the change
    assert wait_for(lambda: "95% threshold" in _text(browser, "data-quality-headline"))
    assert drawn_charts(browser) >= 1
    assert console_errors(browser) == []


def test_shared_url_restores_sorted_view(browser, server):
    open_page(browser, f"{server}/data-quality?metric=ethnicity_recorded&region=Y60&sort=name")
    names = [r[0] for r in _rows(browser)]
    assert names == sorted(names) and len(names) > 5
    assert {r[1] for r in _rows(browser)} == {"Midlands"}
    assert drawn_charts(browser) >= 1


def test_csv_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/data-quality?region=Y61&sort=size")
    assert drawn_charts(browser) >= 1
    on_screen = _rows(browser)
    folder = Path(browser.download_dir)
    for old in folder.glob("data-quality-ethnicity_recorded*.csv"):
        old.unlink()
    click(browser, "data-quality-download-button")
    assert wait_for(lambda: list(folder.glob("data-quality-ethnicity_recorded*.csv")))
    text = next(folder.glob("data-quality-ethnicity_recorded*.csv")).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/data-quality?region=Y63")
    assert drawn_charts(browser) >= 1
    assert axe_violations(browser) == []
