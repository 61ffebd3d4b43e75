"""CSV injection through organisation names: every page download, header lines included,
opens in a spreadsheet with no cell that would run as a formula.

A small store is built by the real pipeline with hostile organisation names (a comma then a
formula, a quoted cell, a line break) and the pages' download functions, the ones their
callbacks call, are run against it; each file is read back with Python's ``csv`` module as
a spreadsheet would split it.
"""

from __future__ import annotations

import csv
import io
import itertools

import polars as pl
import pytest

from components import pagekit
from tests.security import stores
from tests.security.conftest import data_dir

HOSTILE = {
    "SYN001": 'A TRUST,=HYPERLINK("http://evil.example/","x")',
    "SYN002": "B TRUST\n=1+2,+cmd|' /C calc'!A0",
    "SYN003": 'C TRUST,"=cmd|\' /C calc\'!A0",@SUM(A1:A9)',
    "SYN004": "D TRUST,\t=1,\r=2,-2+3",
    "SYNQ00": 'ICB,"x,=1+1"',
    "Y56": "=REGION(),-1",
}
SHAPE = stores.Shape(regions=((2, 1), (1,)), months=15, density=0.5, seed=7)
METRICS = ("booked_by_10_weeks", "pph_1500")


@pytest.fixture(scope="module")
def hostile_store(page, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-store")
    stores.build(SHAPE, root, HOSTILE)
    with data_dir(root):
        yield root


def unsafe_cells(text: str) -> list[str]:
    """Cells a spreadsheet would read as a formula (the zero symbol "-" alone is text)."""
    return [cell for row in csv.reader(io.StringIO(text, newline=""))
            for cell in row if cell.startswith(pagekit.FORMULA_PREFIXES) and cell != "-"]


def header_rows_stand_alone(text: str) -> bool:
    """Whether each ``#`` line above the table is a row of its own (no quote runs on)."""
    header = list(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return bool(header) and rows[:len(header)] == [next(csv.reader([h])) for h in header]


def downloads(page) -> dict[str, str]:
    """Name -> CSV text of each page download that names an organisation, for every
    hostile organisation and metric."""
    out = {}
    for code in ("SYN001", "SYN002", "SYN003", "SYN004", "SYNQ00", "Y56"):
        for metric in METRICS:
            search = f"?org={code}&metric={metric}&dim=ethnicity"
            out[f"explore {search}"] = page("explore").download_csv(search)["content"]
            out[f"trends {search}"] = page("trends").series_csv(search)["content"]
            out[f"trends spc {search}"] = page("trends").spc_csv(search)["content"]
            out[f"trends gap {search}"] = page("trends").gap_csv(search)["content"]
            out[f"intersections {search}"] = \
                page("intersections").download_csv(search)["content"]
    trusts = "?metric=booked_by_10_weeks&trusts=SYN001,SYN002,SYN003,SYN004"
    out["benchmark rank"] = page("benchmark").rank_csv(trusts)["content"]
    out["benchmark multiples"] = page("benchmark").multiples_csv(trusts)["content"]
    for code in ("SYN001", "SYN002"):
        out[f"scorecard {code}"] = page("scorecard").download_csv(f"?org={code}")["content"]
    out["organisations"] = page("downloads").organisations_download()["content"]
    return out


def test_hostile_names_reach_the_header_lines(hostile_store, page):
    """The names are kept as written, so the test below is not vacuous."""
    text = page("explore").download_csv("?org=SYN001&metric=booked_by_10_weeks")["content"]
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("A TRUST," in line and "HYPERLINK" in line for line in header), header


def test_no_download_has_a_formula_cell(hostile_store, page):
    files = downloads(page)
    assert len(files) > 40
    for name, text in files.items():
        assert not unsafe_cells(text), (name, unsafe_cells(text)[:5])
        assert header_rows_stand_alone(text), name


def test_header_lines_stay_one_line_of_readable_text():
    lines = ["Mother's ethnicity, A TRUST,=HYPERLINK(\"http://evil.example/\",\"x\"), 2023-24",
             "x\r\n=1+2", "a\u2028@b", "Symbols: * suppressed (small numbers), : not available, - "
             "zero"]
    text = pagekit.csv_text(pl.DataFrame({"a": [1]}), lines)
    assert text.splitlines()[:4] == [
        "# Mother's ethnicity, A TRUST,'=HYPERLINK(\"http://evil.example/\",'\"x\"), 2023-24",
        "# x =1+2", "# a @b",
        "# Symbols: * suppressed (small numbers), : not available, - zero"]
    assert not unsafe_cells(text) and header_rows_stand_alone(text)
