"""Every table states every symbol it uses, and only those (tracker issue 16, section 3), on
screen and in its CSV; the excess in Explore's words is the excess in its table, the same way
round.
"""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from dash import html

from components import format as fmt
from components import tables
from metrics import registry
from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE
from metrics.disclosure import (
    SYMBOL_NOT_APPLICABLE,
    SYMBOL_NOT_AVAILABLE,
    SYMBOL_SUPPRESSED,
    SYMBOL_ZERO,
)
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of
from views.explore import people

SYMBOLS = (SYMBOL_SUPPRESSED, SYMBOL_NOT_AVAILABLE, SYMBOL_NOT_APPLICABLE, SYMBOL_ZERO)
# Cells that would be symbols nobody defined (fmt.number's "–" for a missing number).
UNDEFINED = ("–", "—", "..", "x", "n/a", "N/A")
KEY = re.compile(r"Symbols: ([^.]*)\.")


def declared(text: str) -> dict[str, str]:
    """The key in a caption or CSV header: symbol -> meaning (fails on two keys)."""
    keys = KEY.findall(text)
    assert len(keys) <= 1, f"{len(keys)} keys in {text!r}"
    if not keys:
        return {}
    entries = [e.split(" ", 1) for e in keys[0].split("; ")]
    return {symbol: meaning for symbol, meaning in entries}


def check_table(cells: list[str], key_text: str, where: str) -> None:
    used = {c.strip() for c in cells if c.strip() in SYMBOLS}
    key = declared(key_text)
    assert set(key) == used, f"{where}: uses {sorted(used)}, its key states {sorted(key)}"
    assert key == {s: tables.SYMBOL_MEANINGS[s] for s in used}, where
    stray = {c for c in cells if c.strip() in UNDEFINED}
    assert not stray, f"{where}: undefined symbols {stray}"


# Views of every page, across breakdowns; SYN008 and SYN050 have small groups.
VIEWS = [
    ("explore", {}),
    ("explore", {"org": "SYN008", "metric": "pph_1500", "period": "12 months to Mar 2025",
                 "dim": DECILE}),
    ("explore", {"org": "SYN050", "metric": "pph_1500", "dim": ETHNICITY}),
    ("explore", {"org": "ENG", "metric": "booked_by_10_weeks", "dim": QUINTILE}),
    ("benchmark", {"metric": "pph_1500", "trusts": "SYN008,SYN050,SYN010", "dim": DECILE}),
    ("trends", {}),
    ("trends", {"org": "SYN008", "metric": "pph_1500", "dim": ETHNICITY, "kind": "quarter"}),
    ("intersections", {}),
    ("intersections", {"org": "SYN008", "metric": "booked_by_10_weeks"}),
    ("data_quality", {}),
    ("data_quality", {"org": "SYN115", "pdim": DECILE}),
    ("scorecard", {"org": "SYN050"}),
    ("map", {}),
    ("mortality", {"org": "SYN008", "metric": "stillbirth", "dim": QUINTILE}),
    ("experience", {}),
    ("boardpack", {"org": "SYN008"}),
    ("overview", {"org": "SYN008"}),
    ("downloads", {}),
]


@pytest.mark.parametrize(("name", "query"), VIEWS)
def test_every_table_keys_the_symbols_it_uses(page, name, query):
    module = page(name)
    tree = module.layout(**query)
    found = tables_of(tree)
    for table in found:
        if table.id == getattr(module, "DATA_SYMBOLS_TABLE", None):
            continue  # the table defining the symbols holds them as data
        cells = [c for row in table.rows for c in row]
        check_table(cells, table.caption, f"{name} {query} table {table.id}")


def test_explore_states_the_zero_it_uses(page):
    """The fault from the issue: Explore's table used "-" and never said what it was."""
    explore = page("explore")
    tree = explore.layout(org="SYN008", metric="pph_1500", period="12 months to Mar 2025",
                          dim=DECILE)
    table = table_of(tree, "explore-table")
    assert "-" in {c for row in table.rows for c in row}
    assert table.caption.endswith(
        "Symbols: * suppressed (small numbers); : not available; - zero.")


def test_local_tables_key_their_symbols(page):
    data_page = page("_local_data")
    body = ("organisation,metric,period,group,dimension,numerator,denominator,source\n"
            + "".join(f"SYN008,pph_1500,2023-24,{g},deprivation_quintile,{n},900,audit\n"
                      for g, n in zip(("Q1 (most deprived)", "Q2", "Q3", "Q4",
                                       "Q5 (least deprived)"), (30, 3, 0, 25, 12),
                                      strict=True))
            + "SYN008,Own audit,2023-24,All,total,61,88,audit\n")
    view = data_page.on_upload("data:text/csv;base64," + base64.b64encode(body.encode())
                               .decode(), "audit.csv")
    for table in tables_of(view):
        check_table([c for row in table.rows for c in row], table.caption,
                    f"local table {table.id}")


def _csv_check(download: dict, where: str) -> None:
    text = download["content"]
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    cells = [c for row in csv.reader(io.StringIO(body)) for c in row]
    check_table(cells, header, where)


@pytest.mark.parametrize(("name", "function", "query"), [
    ("explore", "download_csv", "?org=SYN008&metric=pph_1500&period=12+months+to+Mar+2025"
                                "&dim=deprivation_decile"),
    ("explore", "download_csv", "?org=ENG&metric=booked_by_10_weeks&dim=ethnicity"),
    ("benchmark", "multiples_csv", "?metric=pph_1500&trusts=SYN008,SYN050&dim=ethnicity"),
    ("benchmark", "rank_csv", "?metric=pph_1500"),
    ("data_quality", "download_csv", ""),
    ("data_quality", "download_profile_csv", "?org=SYN115&pdim=deprivation_decile"),
    ("scorecard", "download_csv", "?org=SYN050"),
    ("trends", "series_csv", "?org=SYN008&metric=pph_1500&dim=ethnicity&kind=quarter"),
    ("trends", "gap_csv", "?org=SYN008&metric=pph_1500&dim=ethnicity&kind=financial_year"),
    ("intersections", "download_csv", "?org=SYN008&metric=booked_by_10_weeks"),
    ("map", "trust_csv", ""),
    ("mortality", "download_csv", "?org=SYN008&metric=stillbirth"),
])
def test_every_csv_keys_the_symbols_it_uses(page, name, function, query):
    _csv_check(getattr(page(name), function)(query), f"{name}.{function}{query}")


def test_bulk_files_key_the_symbols_they_use(page):
    data_page = page("downloads")
    _csv_check({"content": data_page.values_csv("stillbirth")}, "values stillbirth")
    _csv_check({"content": data_page.counts_csv("pph_1500")}, "counts pph_1500")


# -- excess: the words say the table's numbers, the same way round ----------------------------


NUMBER = r"([\d,]+ (?:more|fewer)|0)"
LINE = re.compile(rf"about (?:{NUMBER}|the same number) \(95% CI {NUMBER} to {NUMBER}\)")


def _signed(words: str | None) -> int:
    if not words:
        return 0
    number, _, side = words.partition(" ")
    value = int(number.replace(",", ""))
    return -value if side == "fewer" else value


def _cell(cell: str) -> tuple[int, int, int]:
    numbers = re.findall(r"\u2212?[\d,]+", cell)
    return tuple(int(n.replace("\u2212", "-").replace(",", "")) for n in numbers)


@pytest.mark.parametrize(("org", "metric_id", "dimension"), [
    ("ENG", "pph_1500", ETHNICITY), ("ENG", "booked_by_10_weeks", ETHNICITY),
    ("ENG", "pph_1500", DECILE), ("ENG", "stillbirth", QUINTILE),
    ("ENG", "booked_by_10_weeks", DECILE), ("SYN010", "booked_by_10_weeks", QUINTILE),
])
def test_excess_words_say_the_table_the_same_way_round(page, org, metric_id, dimension):
    explore = page("explore")
    metric = registry.get(metric_id)
    tree = explore.layout(org=org, metric=metric_id, dim=dimension)
    records = table_of(tree, "explore-table").records()
    column = f"{explore.EXCESS_PREFIX}{people(metric)} (95% CI)"
    total = by_id(tree, explore.EXPLORE_EXCESS)
    lines = _excess_lines(tree, explore)
    compared = 0
    known = DIMENSIONS[dimension].groups  # the words cover known groups only
    for row in records:
        cell = row[column]
        if cell in ("0", "*", ":") or row["Group"] not in known:
            continue
        who = fmt.subject(row["Group"], dimension, metric)
        (line,) = [t for t in lines if t.startswith(f"{who[0].upper()}{who[1:]}:")]
        amount, low, high = LINE.search(line).groups()  # no amount: "the same number"
        assert (_signed(amount), _signed(low), _signed(high)) == _cell(cell), (line, cell)
        compared += 1
    assert compared, "no group's excess was worked out"
    assert "95% CI" in text_of(total)


def _excess_lines(tree, explore) -> list[str]:
    """The per-group lines in the block holding Explore's excess sentence."""
    (block,) = find(tree, lambda c: isinstance(c, html.Div) and isinstance(
        c.children, list) and any(getattr(k, "id", None) == explore.EXPLORE_EXCESS
                                  for k in c.children))
    return [text_of(li) for li in find(block, lambda c: isinstance(c, html.Li))]
