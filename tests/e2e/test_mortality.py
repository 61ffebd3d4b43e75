"""Mortality in a real browser: both charts draw, the URL restores and follows the controls,
downloads match the tables, and the page is accessible."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

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

pytestmark = pytest.mark.e2e









def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/mortality?metric=neonatal_death&org=Y56"
                       "&dim=deprivation_quintile&period=2023")
    assert charts_drawn(browser, 2)
    main = main_text(browser)
    assert "Neonatal mortality rate: London, 2023, by deprivation quintile" in main
    assert "Context: the national rate over time" in main
    groups = [r[0] for r in table_rows(browser, "mortality-table")]
    assert groups[0].startswith("Q1") and len(groups) == 6
    assert console_errors(browser) == []


def test_choosing_a_metric_updates_charts_and_url(browser, server):
    open_page(browser, f"{server}/mortality")
    choose_option(browser, "mortality-metric", "Maternal mortality")
    assert wait_for(lambda: current_query(browser).get("metric") == "maternal_death")
    wait_idle(browser)
    # The period follows the metric: maternal deaths are 3-year rolling periods.
    assert "–" in current_query(browser)["period"]
    assert wait_for(lambda: "Maternal mortality rate: England" in main_text(browser))
    assert charts_drawn(browser, 2)
    assert console_errors(browser) == []


def test_trust_shows_the_published_level_note(browser, server):
    open_page(browser, f"{server}/mortality?org=SYN118&dim=ethnicity")
    main = main_text(browser)
    assert "trust figures are totals" in main
    assert "Some of the link could not be used" in main
    assert charts_drawn(browser, 2)


def test_csv_downloads_match_the_tables(browser, server):
    open_page(browser, f"{server}/mortality?metric=stillbirth&org=Y62&dim=ethnicity")
    assert charts_drawn(browser, 2)
    folder = Path(browser.download_dir)
    for button, table, pattern in (
            ("mortality-download-button", "mortality-table", "mortality-stillbirth-Y62*.csv"),
            ("mortality-trend-download-button", "mortality-trend-table",
             "mortality-stillbirth-over-time*.csv")):
        for old in folder.glob(pattern):
            old.unlink()
        on_screen = table_rows(browser, table)
        click(browser, button)
        assert wait_for(lambda p=pattern: list(folder.glob(p))), f"no {pattern} downloaded"
        text = next(folder.glob(pattern)).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/mortality?metric=stillbirth&org=Y56&dim=ethnicity")
    assert charts_drawn(browser, 2)
    assert axe_violations(browser) == []
