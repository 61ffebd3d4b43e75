"""Nothing leaves the building, in a real browser: no chart's mode bar offers to share the
chart, upload it or edit it in Chart Studio, and no link on a chart goes off-site, while
"Download plot as a png" stays; names in an uploaded file are drawn as text, not links."""

from __future__ import annotations

import re

import dash
import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import charts_drawn, console_errors, open_page, wait_for, wait_idle
from tests.pages.test_nothing_leaves import FILE, HOSTILE_FILE, LINK

pytestmark = pytest.mark.e2e

# Each page's view and the charts it draws at least (interactive ones have a mode bar).
PAGES = {
    "/": 0, "/explore": 1, "/benchmark": 1, "/map": 1, "/trends": 2, "/intersections": 1,
    "/scorecard": 1, "/mortality": 1, "/experience": 1, "/data-quality": 2, "/data": 0,
    "/about": 0, "/board-pack": 10, "/returns": 0,
}
STATIC_PAGES = {"/board-pack"}  # printed pictures: no mode bar at all
OPENED = {"/board-pack": "/board-pack?full=1"}  # the full pack: a chart or more a metric
DOWNLOAD = "download plot as a png"  # plotly.js 4 writes "PNG"
OFFSITE_WORDS = re.compile(r"cloud|chart ?studio|share|plotly|upload", re.IGNORECASE)
# What each chart offers: its mode bar's buttons and every link in it (HTML or SVG).
CHARTS = """
const xlink = 'http://www.w3.org/1999/xlink';
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
  const bar = plot.querySelector('.modebar');
  return {
    buttons: bar ? Array.from(bar.querySelectorAll('.modebar-btn, a, button')).map(b => ({
      title: b.getAttribute('data-title') || '', attr: b.getAttribute('data-attr') || '',
      val: b.getAttribute('data-val') || '', cls: b.getAttribute('class') || ''})) : null,
    links: Array.from(plot.querySelectorAll('a')).map(
      a => a.getAttribute('href') || a.getAttributeNS(xlink, 'href') || ''),
  };
});
"""


def plotted(browser) -> int:
    """Charts Plotly has finished drawing (heatmaps have no points for ``drawn_charts``)."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot')).filter("
        "g => g._fullLayout && g.querySelector('.main-svg')).length")


def offsite_links(links: list[str], origin: str) -> list[str]:
    return [href for href in links if href and not href.startswith(
        (origin + "/", "#", "javascript:")) and href != origin]


def test_every_page_is_listed(demo_root):
    from app import get_app

    get_app()
    assert set(PAGES) == {p["path"] for p in dash.page_registry.values()}


@pytest.mark.parametrize("path", list(PAGES))
def test_no_chart_offers_to_send_itself_off_site(browser, server, path):
    open_page(browser, server + OPENED.get(path, path))
    expected = PAGES[path]
    if expected:
        assert wait_for(lambda: plotted(browser) >= expected), path
        wait_idle(browser)
    charts = browser.execute_script(CHARTS)
    assert len(charts) >= expected
    for chart in charts:
        assert offsite_links(chart["links"], server) == [], (path, chart["links"])
        if path in STATIC_PAGES:
            assert chart["buttons"] is None, path
            continue
        buttons = chart["buttons"]
        assert buttons, f"{path}: a chart has no mode bar"
        assert [b for b in buttons if OFFSITE_WORDS.search(" ".join(b.values()))] == [], path
        assert DOWNLOAD in [b["title"].lower() for b in buttons], (path, buttons)
    assert console_errors(browser) == []


def test_an_uploaded_files_names_are_text_on_the_chart_not_links(browser, server, tmp_path):
    path = tmp_path / FILE
    path.write_text(HOSTILE_FILE, encoding="utf-8")
    open_page(browser, f"{server}/data")
    browser.find_element(By.CSS_SELECTOR, "#data-local-upload input[type=file]").send_keys(
        str(path))
    assert wait_for(lambda: len(browser.find_elements(
        By.CSS_SELECTOR, "#data-local-result .local-comparison")) == 2)
    wait_idle(browser)
    assert charts_drawn(browser, 2)
    result = browser.find_element(By.ID, "data-local-result")
    # Not one link in the result: not in a chart's SVG, not in a table.
    hrefs = browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('a')).map(a => a.getAttribute('href')"
        " || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '')", result)
    assert [h for h in hrefs if "evil" in h] == []
    assert not result.find_elements(By.CSS_SELECTOR, "table a, table b")
    # The names are shown as written: in the chart's title and legend, and in the tables.
    # (A title's two lines are one text here, without the space between them.)
    titles = [t.get_attribute("textContent") for t in
              result.find_elements(By.CSS_SELECTOR, ".gtitle")]
    assert any('href="http://evil.example">x</a>' in t for t in titles), titles
    assert any("<b>bold</b> & Co, <b>bold</b> 2023" in t for t in titles), titles
    legend = [t.get_attribute("textContent") for t in
              result.find_elements(By.CSS_SELECTOR, ".legendtext")]
    assert f"Local: {LINK} LMNS" in legend
    cells = " ".join(td.get_attribute("textContent") for td in
                     result.find_elements(By.CSS_SELECTOR, "table td"))
    assert LINK in cells and f"{LINK} <b>bold</b> indicator" in cells
    assert console_errors(browser) == []
