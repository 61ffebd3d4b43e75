"""Map in a real browser: the regions and trusts draw from local data, the URL restores and
follows the controls, suppressed regions say so, the download matches the table, and the
page is accessible."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.components.hovers import hover_lines
from tests.e2e.helpers import (
    axe_violations,
    charts_drawn,
    choose_option,
    click,
    console_errors,
    current_query,
    main_text,
    open_page,
    table_rows,
    wait_for,
    wait_idle,
)
from tests.e2e.hovering import drawn_hover, traces

pytestmark = pytest.mark.e2e

REGIONS = {"London", "South East", "South West", "East of England", "Midlands",
           "North East and Yorkshire", "North West"}


def _traces(browser) -> list[dict]:
    """The traces Plotly drew in the map (name, fill, hover mode, number of points)."""
    return browser.execute_script(
        "const g = document.getElementById('map-graph').querySelector('.js-plotly-plot');"
        "return g.data.map(t => ({name: t.name, fill: t.fill || null,"
        " hoveron: t.hoveron || null, points: (t.x || []).length,"
        " pattern: (t.fillpattern || {}).shape || null}));")


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/map?metric=neonatal_death&period=2024&dim=ethnicity"
                       "&group=Black")
    assert charts_drawn(browser, 1)
    regions = [t for t in _traces(browser) if t["hoveron"] == "fills"]
    assert {t["name"] for t in regions} == REGIONS
    # Every region is drawn in the browser: an SVG fill path for each.
    fills = browser.execute_script(
        "return document.querySelectorAll('#map-graph .scatterlayer .js-fill').length")
    assert fills >= len(REGIONS)
    main = main_text(browser)
    assert "Neonatal mortality rate: Black compared with White" in main
    rows = {r[0]: r for r in table_rows(browser, "map-region-table")}
    assert set(rows) == REGIONS
    hatched = {t["name"] for t in regions if t["pattern"] == "/"}
    assert hatched, "some regions' Black neonatal deaths are suppressed in the demo store"
    for name in hatched:
        assert rows[name][1] == "*" and rows[name][-1] == "Suppressed (small numbers)"
    assert console_errors(browser) == []


def test_trust_hovers_read_as_the_figure_says_and_withhold_suppressed_figures(browser,
                                                                              server):
    """Over a trust of each kind, Plotly draws the hover its data give: name, region, the
    group's figure and CI, the comparison, births; a suppressed trust's shows no figure."""
    open_page(browser, f"{server}/map?metric=pph_1500&dim=ethnicity&group=Black"
                       "&points=group")
    assert charts_drawn(browser, 1)
    drawn = traces(browser, "map-graph")
    trusts = {t["name"]: i for i, t in enumerate(drawn) if t["hovertemplate"]}
    assert len(trusts) >= 3 and "Suppressed or no figure" in trusts
    for i in trusts.values():
        assert drawn_hover(browser, "map-graph", i, 0) == hover_lines(drawn[i], 0)
    withheld = drawn[trusts["Suppressed or no figure"]]
    said = [hover_lines(withheld, point) for point in range(len(withheld["x"]))]
    assert "Black women: suppressed (small numbers)" in [lines[2] for lines in said]
    assert {lines[2] for lines in said} <= {"Black women: suppressed (small numbers)",
                                            "Black women: no data"}
    assert not [line for lines in said for line in lines if "CI" in line or "limit" in line]
    assert console_errors(browser) == []


def test_no_map_tiles_or_other_requests_leave_the_server(browser, server):
    open_page(browser, f"{server}/map")
    assert charts_drawn(browser, 1)
    hosts = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => new URL(r.name).host)")
    assert set(hosts) <= {server.removeprefix("http://")}


def test_choosing_a_group_updates_the_map_and_url(browser, server):
    open_page(browser, f"{server}/map?metric=pph_1500&dim=ethnicity")
    assert charts_drawn(browser, 1)
    choose_option(browser, "map-group", "Asian")
    assert wait_for(lambda: current_query(browser).get("group") == "Asian")
    wait_idle(browser)
    assert wait_for(lambda: "Asian women had" in browser.find_element(
        By.ID, "map-summary").text)
    click(browser, browser.find_element(By.CSS_SELECTOR, "#map-trusts input[value='group']"))
    assert wait_for(lambda: current_query(browser).get("points") == "group")
    wait_idle(browser)
    assert wait_for(lambda: "Trust points show Asian women" in main_text(browser))
    assert charts_drawn(browser, 1)
    assert console_errors(browser) == []


def test_region_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/map?metric=neonatal_death&period=2024"
                       "&dim=deprivation_quintile")
    assert charts_drawn(browser, 1)
    folder = Path(browser.download_dir)
    pattern = "map-neonatal_death-regions*.csv"
    for old in folder.glob(pattern):
        old.unlink()
    on_screen = table_rows(browser, "map-region-table")
    click(browser, "map-region-download-button")
    assert wait_for(lambda: list(folder.glob(pattern))), "no file downloaded"
    text = next(folder.glob(pattern)).read_text(encoding="utf-8")
    assert "Contains OS data © Crown copyright and database right 2022" in text
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_trust_table_sorts(browser, server):
    from tests.e2e.test_benchmark import numbers_then_symbols, sort_by, sorted_rows

    open_page(browser, f"{server}/map?metric=pph_1500&dim=ethnicity&group=Black&points=group")
    click(browser, browser.find_element(By.CSS_SELECTOR, "details:last-of-type summary"))
    table = "map-trust-table"
    served = sorted_rows(browser, table)
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th")]
    value = headers.index("Value (per 1,000)")
    assert "*" in [r[value] for r in served], "Black women's PPH suppressed at some trusts"
    assert sort_by(browser, table, "Value (per 1,000)") == "ascending"
    numbers = numbers_then_symbols([r[value] for r in sorted_rows(browser, table)])
    assert numbers and numbers == sorted(numbers)
    assert sort_by(browser, table, "Value (per 1,000)") == "descending"
    numbers = numbers_then_symbols([r[value] for r in sorted_rows(browser, table)])
    assert numbers == sorted(numbers, reverse=True)
    assert console_errors(browser) == []


def test_accessibility(browser, server):
    open_page(browser, f"{server}/map?metric=neonatal_death&period=2024&dim=ethnicity"
                       "&group=Black")
    assert charts_drawn(browser, 1)
    # Open the trust table too, so that it is checked.
    click(browser, browser.find_element(By.CSS_SELECTOR, "details:last-of-type summary"))
    assert axe_violations(browser) == []
