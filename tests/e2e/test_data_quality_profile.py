"""Data quality, "Who is booked", in a real browser: choosing an organisation and deciles
writes the URL and redraws both profile charts; the download matches the table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import (
    charts_drawn,
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


def _largest_trust(demo) -> tuple[str, str]:
    trusts = demo.organisations.filter(demo.organisations["org_level"] == "trust")
    row = trusts.sort("annual_births", descending=True).row(0, named=True)
    return row["org_code"], row["name"]


def test_profile_controls_write_the_url_and_redraw(browser, server, demo):
    code, name = _largest_trust(demo)
    open_page(browser, f"{server}/data-quality?region=Y63")
    assert charts_drawn(browser, 3)  # the funnel and two profile charts
    browser.execute_script(  # the profile sits below the trust table
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
        browser.find_element(By.ID, "data-quality-profile-org"))
    choose_option(browser, "data-quality-profile-org", name)
    assert wait_for(lambda: current_query(browser).get("org") == code)
    wait_idle(browser)
    assert current_query(browser).get("region") == "Y63"  # the other choices survive
    radio = browser.find_element(By.XPATH, "//label[contains(., 'Deciles')]")
    click(browser, radio)
    assert wait_for(lambda: current_query(browser).get("pdim") == "deprivation_decile")
    wait_idle(browser)
    assert wait_for(lambda: any("Deprivation decile" in r[0] for r in
                                table_rows(browser, "data-quality-profile-table")))
    assert charts_drawn(browser, 3)
    assert console_errors(browser) == []


def test_profile_download_matches_the_table(browser, server, demo):
    code, _name = _largest_trust(demo)
    open_page(browser, f"{server}/data-quality?region=Y63&org={code}")
    assert charts_drawn(browser, 3)
    on_screen = table_rows(browser, "data-quality-profile-table")
    folder = Path(browser.download_dir)
    for old in folder.glob(f"who-is-booked-{code}*.csv"):
        old.unlink()
    click(browser, "data-quality-profile-download-button")
    assert wait_for(lambda: list(folder.glob(f"who-is-booked-{code}*.csv")))
    text = next(folder.glob(f"who-is-booked-{code}*.csv")).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert list(csv.reader(io.StringIO("\n".join(lines))))[1:] == on_screen
