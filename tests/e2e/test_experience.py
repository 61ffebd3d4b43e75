"""Experience in a real browser: both charts draw, the URL restores and follows the controls,
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
    open_page(browser, f"{server}/experience?metric=considered_complaint&org=Y59"
                       "&dim=ethnicity&period=2024+survey")
    assert charts_drawn(browser, 2)
    main = main_text(browser)
    assert "Considered making a complaint: South East, 2024 survey, by ethnicity" in main
    groups = [r[0] for r in table_rows(browser, "experience-table")]
    assert groups[0] == "White (reference)"
    trend_groups = {r[0] for r in table_rows(browser, "experience-trend-table")}
    assert trend_groups == {"England", "South East"}
    assert console_errors(browser) == []


def test_choosing_an_organisation_updates_charts_and_url(browser, server):
    open_page(browser, f"{server}/experience")
    choose_option(browser, "experience-org", "North West")
    assert wait_for(lambda: current_query(browser).get("org") == "Y62")
    wait_idle(browser)
    assert wait_for(lambda: "Concerns raised during labour and birth taken seriously: "
                             "North West" in main_text(browser))
    assert charts_drawn(browser, 2)
    assert console_errors(browser) == []


def test_csv_downloads_match_the_tables(browser, server):
    open_page(browser, f"{server}/experience?org=Y58&dim=deprivation_quintile")
    assert charts_drawn(browser, 2)
    folder = Path(browser.download_dir)
    for button, table, pattern in (
            ("experience-download-button", "experience-table",
             "experience-concerns_taken_seriously-Y58*.csv"),
            ("experience-trend-download-button", "experience-trend-table",
             "experience-concerns_taken_seriously-over-time*.csv")):
        for old in folder.glob(pattern):
            old.unlink()
        on_screen = table_rows(browser, table)
        click(browser, button)
        assert wait_for(lambda p=pattern: list(folder.glob(p))), f"no {pattern} downloaded"
        text = next(folder.glob(pattern)).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen


def test_accessibility(browser, server):
    open_page(browser, f"{server}/experience?org=SYN118")
    assert charts_drawn(browser, 2)
    assert axe_violations(browser) == []
