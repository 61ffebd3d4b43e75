"""Data and definitions in a real browser: loads, follows the URL, downloads what it says,
works from the keyboard, and passes axe."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from data.local import parse as local_parse
from data.local import store as local_store
from metrics import registry
from tests.e2e.helpers import (
    axe_violations,
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


@pytest.fixture(scope="module")
def data_page(demo_root):
    from app import get_app

    get_app()
    return sys.modules["pages.downloads"]



def _settled_top(browser, element_id: str, timeout: float = 10) -> float:
    """The element's distance from the top of the viewport once scrolling has stopped."""
    script = "return document.getElementById(arguments[0]).getBoundingClientRect().top"
    deadline = time.time() + timeout
    last = browser.execute_script(script, element_id)
    while time.time() < deadline:
        time.sleep(0.3)
        now = browser.execute_script(script, element_id)
        if now == last:
            return now
        last = now
    return last



def _downloaded(browser, pattern: str, timeout: float = 30) -> Path:
    """The file matching ``pattern`` once Chromium has finished writing it."""
    folder = Path(browser.download_dir)
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [f for f in folder.glob(pattern) if not f.name.endswith(".crdownload")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} downloaded")


def _clear(browser, pattern: str) -> None:
    for old in Path(browser.download_dir).glob(pattern):
        old.unlink()


def _rows(text: str) -> list[list[str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.reader(io.StringIO(body)))


def test_page_loads_with_every_metric_defined(browser, server):
    open_page(browser, f"{server}/data")
    main = browser.find_element(By.TAG_NAME, "main")
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "Data and definitions"
    details = main.find_elements(By.CSS_SELECTOR, "details.definition")
    assert len(details) == len(registry.METRICS)
    summary_rows = main.find_elements(By.CSS_SELECTOR, "#data-summary-table tbody tr")
    assert len(summary_rows) == len(registry.METRICS)
    # A definition opens to show its fields.
    summary = details[0].find_element(By.TAG_NAME, "summary")
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", summary)
    summary.click()
    assert "Confidence interval" in details[0].text
    assert console_errors(browser) == []


def test_choosing_a_metric_updates_the_url_and_sizes(browser, server):
    open_page(browser, f"{server}/data")
    choose_option(browser, "data-metric", "Stillbirth rate")
    deadline = time.time() + 20
    while time.time() < deadline and current_query(browser).get("metric") != "stillbirth":
        time.sleep(0.2)
    assert current_query(browser)["metric"] == "stillbirth"
    wait_idle(browser)
    assert "stillbirth rate" in browser.find_element(By.ID, "downloads").find_element(
        By.XPATH, "..").text.lower()
    assert console_errors(browser) == []


def test_counts_download_matches_the_published_file(browser, server, data_page):
    open_page(browser, f"{server}/data?metric=stillbirth")
    stated = browser.find_element(By.XPATH, "//h3[.='Counts as published']/..").text
    _clear(browser, "equalities-counts-*")
    click(browser, "data-counts-button")
    file = _downloaded(browser, "equalities-counts-stillbirth.csv")
    text = file.read_text(encoding="utf-8")
    assert text == data_page.counts_csv("stillbirth")
    rows = _rows(text)
    assert f"{len(rows) - 1:,} rows" in stated
    header = rows[0]
    suppressed = [r for r in rows[1:] if r[header.index("suppressed")] == "true"]
    assert suppressed and all(r[header.index("numerator")] in ("*", "-") for r in suppressed)
    assert console_errors(browser) == []


def test_definitions_download_matches_the_table(browser, server):
    open_page(browser, f"{server}/data")
    table = browser.find_element(By.ID, "data-summary-table")
    heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    shown = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
             for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    _clear(browser, "equalities-metric-definitions*")
    click(browser, "data-definitions-button")
    rows = _rows(_downloaded(browser, "equalities-metric-definitions.csv").read_text())
    columns = [rows[0].index(h) for h in heads]
    assert [[r[i] for i in columns] for r in rows[1:]] == shown


def test_downloads_work_from_the_keyboard(browser, server):
    open_page(browser, f"{server}/data?metric=stillbirth")
    values = browser.find_element(By.ID, "data-values-button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: "
                           "'instant'}); arguments[0].focus();", values)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    active = browser.switch_to.active_element
    assert active.get_attribute("id") == "data-orgs-button"
    _clear(browser, "equalities-organisations*")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    rows = _rows(_downloaded(browser, "equalities-organisations.csv").read_text())
    assert rows[0][:2] == ["org_code", "name"] and rows[1][0] == "ENG"


def test_skip_link_and_section_links(browser, server):
    open_page(browser, f"{server}/data")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to main content"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    wait_idle(browser)  # the sections above Methods drawn (a busy machine draws them late)
    browser.find_element(By.LINK_TEXT, "Methods").click()
    # Scrolling lands on whole device pixels, so the heading may sit a fraction above 0.
    assert -1 < _settled_top(browser, "methods") < 200, "the Methods link scrolls to it"
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "Data and definitions"
    assert console_errors(browser) == []


def test_accessibility(browser, server):
    open_page(browser, f"{server}/data")
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert axe_violations(browser) == []
    assert _target_size_violations(browser) == []


def _target_size_violations(browser) -> list:
    """WCAG 2.2 target size (2.5.8), which axe-core leaves off by default."""
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['target-size']}).then(r => done(JSON.stringify("
        "r.violations))).catch(e => done(JSON.stringify([String(e)])));")
    return json.loads(result)


# -- your local data ------------------------------------------------------------------------


def _upload(browser, path: Path) -> None:
    """Choose ``path`` in the upload's file input, as a person picking a file does."""
    field = browser.find_element(By.CSS_SELECTOR, "#data-local-upload input[type=file]")
    field.send_keys(str(path))


def test_uploading_the_template_shows_local_figures_beside_england(browser, server):
    open_page(browser, f"{server}/data")
    # The upload is reached from the keyboard (Tab from the template button) and named.
    template = browser.find_element(By.ID, "data-local-template-button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: "
                           "'instant'}); arguments[0].focus();", template)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    active = browser.switch_to.active_element
    assert active.get_attribute("type") == "file"
    assert active.get_attribute("aria-label") == "Choose a local data CSV file to upload"
    _upload(browser, local_parse.TEMPLATE)
    assert wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                                  "#data-local-result .local-comparison"))
    wait_idle(browser)
    result = browser.find_element(By.ID, "data-local-result")
    badges = result.find_elements(By.CSS_SELECTOR, ".local-badge")
    assert len(badges) == 3 and {b.text for b in badges} == {"Local"}
    assert charts_drawn(browser, 1)
    legend = " ".join(t.text for t in result.find_elements(By.CSS_SELECTOR, ".legendtext"))
    assert "Local: Example LMNS" in legend and "England (national)" in legend
    rows = table_rows(browser, "data-local-result .local-comparison table")
    assert rows[0][:3] == ["White", "5,230", "7,415"] and rows[1][:3] == ["Black", "412", "731"]
    indicators = table_rows(browser, "data-local-indicators")
    assert indicators[0][1] == "Perinatal mental health referrals seen within 28 days"
    # The comparison table downloads as CSV, every row flagged Local.
    _clear(browser, "equalities-local-*")
    click(browser, "data-local-download-button")
    rows = _rows(_downloaded(browser, "equalities-local-template.csv").read_text())
    header = rows[0]
    assert [r[header.index("Flag")] for r in rows[1:]] == ["Local"] * 3
    assert console_errors(browser) == []
    assert axe_violations(browser) == []


def test_a_bad_file_lists_its_problems(browser, server, tmp_path):
    path = tmp_path / "audit.csv"
    path.write_text("organisation,metric,period,group,dimension,numerator,denominator,source\n"
                    "RX1,pph_1500,2023-24,Black,ethnicity,50,40,trust\n", encoding="utf-8")
    open_page(browser, f"{server}/data")
    _upload(browser, path)
    assert wait_for(lambda: browser.find_elements(By.ID, "data-local-problems"))
    assert table_rows(browser, "data-local-problems") == [
        ["audit.csv", "2", "numerator", "50", "larger than the denominator 40"]]
    assert "Nothing was kept" in browser.find_element(By.ID, "data-local-result").text
    assert console_errors(browser) == []


def test_a_file_over_the_upload_limit_is_turned_away(browser, server, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_bytes(b"#" * (local_parse.UPLOAD_MAX_BYTES + 1))
    open_page(browser, f"{server}/data")
    _upload(browser, path)
    notice = browser.find_element(By.ID, "data-local-notice")
    assert wait_for(lambda: "limited to 1.4 MB" in notice.text), notice.text
    assert browser.find_element(By.ID, "data-local-result").text == ""
    assert console_errors(browser) == []



@pytest.fixture
def kept_file(demo_root, tmp_path):
    """The template kept on the server as a local file (removed afterwards)."""
    path = tmp_path / "North LMNS audit.csv"
    path.write_bytes(local_parse.TEMPLATE.read_bytes())
    saved = local_store.ingest(path, demo_root)
    yield saved.path.stem
    saved.path.unlink()
    if not any(saved.path.parent.iterdir()):
        saved.path.parent.rmdir()


def test_a_kept_file_is_listed_chosen_and_shown_beside_england(browser, server, kept_file):
    open_page(browser, f"{server}/data")
    assert table_rows(browser, "data-kept-table")[0][:5] == ["Local", kept_file, "3", "1",
                                                               "2"]
    browser.execute_script("document.getElementById('data-kept-file').scrollIntoView("
                           "{block: 'center', behavior: 'instant'})")
    choose_option(browser, "data-kept-file", kept_file)
    assert wait_for(lambda: current_query(browser).get("local") == kept_file)
    assert wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                                  "#data-kept-result .local-comparison"))
    wait_idle(browser)
    result = browser.find_element(By.ID, "data-kept-result")
    assert len(result.find_elements(By.CSS_SELECTOR, ".local-badge")) == 3
    assert "Read 3 row(s) from North-LMNS-audit" in result.text
    assert charts_drawn(browser, 1)
    rows = table_rows(browser, "data-kept-result .local-comparison table")
    assert rows[0][:3] == ["White", "5,230", "7,415"] and rows[1][:3] == ["Black", "412", "731"]
    _clear(browser, "equalities-local-*")
    click(browser, "data-kept-download-button")
    rows = _rows(_downloaded(browser, f"equalities-local-{kept_file}.csv").read_text())
    assert [r[rows[0].index("Flag")] for r in rows[1:]] == ["Local"] * 3
    assert console_errors(browser) == []
    assert axe_violations(browser) == []
