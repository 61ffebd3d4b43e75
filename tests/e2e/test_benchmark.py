"""Benchmark in a real browser: small multiples, the funnel with the planted outlier, the
sortable rank table, URL state both ways, the CSV download, the scope choice, ICBs compared
and the limits adjusted for over-dispersion."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.components.hovers import hover_lines
from tests.e2e.helpers import (
    axe_violations,
    choose_option,
    click,
    console_errors,
    current_query,
    drawn_charts,
    open_page,
    wait_for,
    wait_idle,
)
from tests.e2e.hovering import drawn_hover, traces

pytestmark = pytest.mark.e2e




def _wait_for_query(browser, key: str, predicate, timeout: float = 20) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate(current_query(browser).get(key)):
        time.sleep(0.2)
    wait_idle(browser)
    return current_query(browser)


def _figure(browser, graph_id: str) -> list[dict]:
    """The traces Plotly drew in the graph ``graph_id`` (names, x, y, hover data)."""
    return traces(browser, graph_id)


def _rank_rows(browser) -> list[list[str]]:
    """The rank table's body rows in the order shown (cell texts)."""
    return sorted_rows(browser, "benchmark-rank-table")


def sorted_rows(browser, table_id: str) -> list[list[str]]:
    """A table's body rows in the order shown (cell texts; one script, not a call a cell)."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' > tbody > tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent.trim()));", table_id)


def sort_by(browser, table_id: str, column: str) -> str | None:
    """Click the sort button of ``column`` and return its heading's aria-sort."""
    heading = browser.find_element(
        By.XPATH, f"//table[@id='{table_id}']/thead//th[normalize-space(.)='{column}']")
    click(browser, heading.find_element(By.CSS_SELECTOR, "button.sort-button"))
    return heading.get_attribute("aria-sort")


def numbers_then_symbols(values: list[str]) -> list[float]:
    """The numbers of a sorted column, checking that every symbol comes after them."""
    symbols = [i for i, v in enumerate(values) if v in ("*", ":", "-", "")]
    numbers = [float(v.replace(",", "")) for v in values if v not in ("*", ":", "-", "")]
    assert not symbols or min(symbols) == len(numbers), f"symbols last: {values}"
    return numbers


def test_shared_url_restores_the_view(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&trusts=SYN010,SYN020,SYN030"
                       "&dim=ethnicity")
    assert drawn_charts(browser) >= 2
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Chosen trusts side by side" in main and "All trusts: funnel plot" in main
    panels = [t for t in _figure(browser, "benchmark-multiples")
              if t["y"] and t["name"] != "England"]
    assert len(panels) == 3 and "Black" in panels[0]["y"]
    ticks = [t for t in _figure(browser, "benchmark-multiples") if t["name"] == "England"]
    assert len(ticks) == 3 and "Black" in ticks[0]["y"]
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
    drawn = _figure(browser, "benchmark-funnel")
    chosen = [t for t in drawn if t["name"] == "Chosen trusts"][0]
    assert hover_lines(chosen, 0)[-1] == "Above the 99.8% limit (worse)"
    # The label Plotly draws over each kind of point reads as its hover data says.
    for trace in (chosen, next(t for t in drawn if t["name"] == "Trusts")):
        assert drawn_hover(browser, "benchmark-funnel", drawn.index(trace), 0) == \
            hover_lines(trace, 0)
    # It sits above the upper 99.8% limit drawn at its own denominator.
    upper = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "99.8% limits"]
    x, y = chosen["x"][0], chosen["y"][0]
    limit_at_x = max(ly for t in upper for lx, ly in zip(t["x"], t["y"], strict=True)
                     if abs(lx - x) / x < 0.1)
    assert y > limit_at_x
    summary = browser.find_element(By.ID, "benchmark-funnel-summary").text
    assert "above the 99.8% limit" in summary


def _picker_labels(browser, text: str) -> list[str]:
    """The trust picker's options matching ``text`` (the picker opened and closed again)."""
    click(browser, "benchmark-trusts")
    search = browser.find_element(By.CSS_SELECTOR,
                                  ".dash-dropdown-content input.dash-dropdown-search")
    search.send_keys(text)
    assert wait_for(lambda: browser.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-content [role=option]"), 10)
    labels = [o.text for o in browser.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-content [role=option]")]
    search.send_keys(Keys.ESCAPE)
    return labels


def test_the_picker_is_filled_from_the_menus_file_and_keeps_the_chosen_trusts(browser,
                                                                              server):
    """The layout sends the chosen trusts only; the browser fills in every trust (labels
    without "(Trust)") and the choice survives each redraw of the page."""
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25&trusts=SYN010")
    wait_idle(browser)
    assert "Netherbury" in browser.find_element(By.ID, "benchmark-trusts").text
    assert wait_for(lambda: _picker_labels(browser, "Ashbury"), 10)
    assert [label for label in _picker_labels(browser, "Trust") if "(Trust)" in label] == []
    for name, codes in (("Ashbury", "SYN010,SYN020"), ("Oakdale", "SYN010,SYN020,SYN011")):
        choose_option(browser, "benchmark-trusts", name)
        query = _wait_for_query(browser, "trusts", lambda v, codes=codes: v == codes)
        assert query["trusts"] == codes
        picker = browser.find_element(By.ID, "benchmark-trusts").text
        assert "Netherbury" in picker and "Ashbury" in picker
    shown = browser.find_element(By.ID, "benchmark-trusts").get_attribute("textContent")
    assert "Oakdale" in shown and "(Trust)" not in shown  # the third may be cut off on screen
    assert "Trusts to compare (3 of up to 8 chosen)" in browser.find_element(
        By.TAG_NAME, "main").text
    assert console_errors(browser) == []


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
    table = "benchmark-rank-table"
    served = sorted_rows(browser, table)
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th")]
    assert browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th button.sort-button")
    column = headers.index("Value (per 1,000)")
    # Black women's PPH in one year: some trusts suppressed, so symbols to sort last.
    assert "*" in [r[column] for r in served]

    assert sort_by(browser, table, "Value (per 1,000)") == "ascending"
    values = [r[column] for r in sorted_rows(browser, table)]
    numbers = numbers_then_symbols(values)
    assert len(numbers) > 10 and numbers == sorted(numbers)

    assert sort_by(browser, table, "Value (per 1,000)") == "descending"
    values = [r[column] for r in sorted_rows(browser, table)]
    numbers = numbers_then_symbols(values)
    assert numbers == sorted(numbers, reverse=True)
    assert sorted(map(tuple, sorted_rows(browser, table))) == sorted(map(tuple, served)), \
        "sorting only reorders the rows"

    # Counts with thousands separators sort as numbers ("1,295" after "300", not before).
    denominator = headers.index("Denominator")
    assert sort_by(browser, table, "Denominator") == "ascending"
    counts = numbers_then_symbols([r[denominator] for r in sorted_rows(browser, table)])
    assert counts == sorted(counts) and counts[-1] >= 1000
    others = browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th[aria-sort]")
    assert [th.text for th in others] == ["Denominator"], "one column sorted at a time"
    # Text columns sort alphabetically.
    trust = headers.index("Trust")
    assert sort_by(browser, table, "Trust") == "ascending"
    names = [r[trust] for r in sorted_rows(browser, table)]
    assert names == sorted(names, key=str.lower)
    assert console_errors(browser) == []


def test_redrawn_table_drops_the_sort(browser, server):
    """When the view changes the table is drawn anew: its rows show in the server's order
    (the download's), not scrambled by the earlier sort, and sort again."""
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25")
    table = "benchmark-rank-table"
    assert sort_by(browser, table, "Trust") == "ascending"
    peer = browser.execute_script(
        "return Array.from(document.querySelectorAll('#benchmark-rank-table > tbody > tr'))"
        ".map(r => r.cells[4].textContent).find(p => p !== ':');")
    # The scope's menu is in the controls at the top, far above the sorted table.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: "
                           "'instant'});", browser.find_element(By.ID, "benchmark-peer"))
    choose_option(browser, "benchmark-peer", peer)
    _wait_for_query(browser, "within", lambda v: v == peer)
    assert wait_for(lambda: {r[4] for r in sorted_rows(browser, table)} == {peer})
    folder = Path(browser.download_dir)
    for old in folder.glob("benchmark-pph_1500-ranks*.csv"):
        old.unlink()
    click(browser, "benchmark-rank-download-button")
    assert wait_for(lambda: list(folder.glob("benchmark-pph_1500-ranks*.csv")))
    lines = [line for line in next(folder.glob("benchmark-pph_1500-ranks*.csv"))
             .read_text().splitlines() if not line.startswith("#")]
    assert sorted_rows(browser, table) == list(csv.reader(io.StringIO("\n".join(lines))))[1:]
    assert not browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th[aria-sort]")
    # And it still sorts.
    assert sort_by(browser, table, "Trust") == "ascending"
    assert console_errors(browser) == []


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
    # Sorted too: the headings' buttons and aria-sort.
    assert sort_by(browser, "benchmark-rank-table", "Rank in peer group") == "ascending"
    assert axe_violations(browser) == []


def _radio(browser, radio_id: str, label: str) -> None:
    """Click the option ``label`` of the radio buttons ``radio_id``."""
    click(browser, browser.find_element(
        By.XPATH, f"//div[@id='{radio_id}']//label[normalize-space(.)='{label}']"))


def _funnel_points(browser) -> list[tuple]:
    return sorted((x, y) for t in _figure(browser, "benchmark-funnel")
                  if t["name"] in ("Trusts", "Chosen trusts", "ICBs", "Chosen ICBs")
                  for x, y in zip(t["x"], t["y"], strict=True))


def test_scope_choice_filters_the_funnel_and_the_rank_table(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25&trusts=SYN010")
    everyone = _funnel_points(browser)
    choose_option(browser, "benchmark-peer", "Region: London")
    query = _wait_for_query(browser, "within", lambda v: v == "Y56")
    assert query["trusts"] == "SYN010"
    assert wait_for(lambda: "London: funnel plot" in
                    browser.find_element(By.TAG_NAME, "main").text)
    shown = _funnel_points(browser)
    assert 0 < len(shown) < len(everyone) and set(shown) <= set(everyone)
    rows = _rank_rows(browser)
    headers = [th.text for th in browser.find_elements(
        By.CSS_SELECTOR, "#benchmark-rank-table thead th")]
    assert rows and {r[headers.index("Region")] for r in rows} == {"London"}
    values = {r[headers.index("Value (per 1,000)")] for r in rows}
    assert len([v for v in values if v not in ("*", ":")]) <= len(shown)
    summary = browser.find_element(By.ID, "benchmark-funnel-summary").text
    assert f"in each of {len(shown)} trusts" in summary
    assert console_errors(browser) == []


def test_icbs_compared_and_limits_adjusted_for_over_dispersion(browser, server):
    open_page(browser, f"{server}/benchmark?metric=pph_1500&period=2024-25")
    standard = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "99.8% limits"]
    said = browser.find_element(By.ID, "benchmark-dispersion").text
    assert said.startswith("phi = ") and "choose limits adjusted" in said
    _radio(browser, "benchmark-limits", "Adjusted for over-dispersion (phi)")
    _wait_for_query(browser, "od", lambda v: v == "phi")
    assert wait_for(lambda: "limits widened" in
                    browser.find_element(By.ID, "benchmark-dispersion").text)
    widened = [t for t in _figure(browser, "benchmark-funnel") if t["name"] == "99.8% limits"]
    top = max(y for t in widened for y in t["y"])
    assert [t["y"] for t in widened] != [t["y"] for t in standard]
    assert top > min(y for t in standard for y in t["y"])
    _radio(browser, "benchmark-level", "ICBs")
    query = _wait_for_query(browser, "compare", lambda v: v == "icb")
    assert query["od"] == "phi"
    assert wait_for(lambda: "All ICBs: funnel plot" in
                    browser.find_element(By.TAG_NAME, "main").text)
    names = {t["name"] for t in _figure(browser, "benchmark-funnel")}
    assert "ICBs" in names and "Trusts" not in names
    assert browser.find_element(By.ID, "benchmark-dispersion").text.startswith("phi = ")
    assert "ICBs vary" in browser.find_element(By.ID, "benchmark-dispersion").text
    headers = [th.text for th in browser.find_elements(
        By.CSS_SELECTOR, "#benchmark-rank-table thead th")]
    assert headers[:2] == ["Code", "ICB"]
    assert "Some of the link could not be used" not in \
        browser.find_element(By.TAG_NAME, "main").text
    assert console_errors(browser) == []
