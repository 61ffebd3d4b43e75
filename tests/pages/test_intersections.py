"""Intersections page: view parsing, the heat map and its table cell by cell, suppression,
the not-published notice, the download and the board pack section."""

from __future__ import annotations

import csv
import io
import math

import dash
import polars as pl
import pytest
from dash import dcc

from tests.pages.conftest import by_id, find, table_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def intersections(page):
    return page("intersections")


def _heatmap(tree, intersections):
    figure = by_id(tree, intersections.INTERSECTIONS_GRAPH).figure
    grey, main = figure.data  # suppressed / no data underneath, ratios on top
    return figure, grey, main


def _cell(trace, ethnicity: str, quintile: str, attribute: str):
    row = list(trace.y).index(ethnicity)
    column = [x.split("<br>")[0] for x in trace.x].index(quintile)
    return getattr(trace, attribute)[row][column]


def test_registered_with_path_name_and_nav(intersections):
    entry = dash.page_registry["pages.intersections"]
    assert (entry["path"], entry["name"]) == ("/intersections", "Intersections")
    from components.shell import NAV_ORDER

    assert NAV_ORDER.index("/intersections") == NAV_ORDER.index("/trends") + 1


def test_layout_renders_with_no_arguments(intersections):
    tree = intersections.layout()
    text = text_of(tree)
    assert "Intersections" in text and "Some of the link could not be used" not in text
    view, notices = intersections.IntersectionsView.parse({})
    assert notices == [] and (view.org, view.metric) == ("ENG", "pph_1500")
    _, grey, main = _heatmap(tree, intersections)
    assert list(main.y) == ["White", "Mixed", "Asian", "Black", "Other"]
    assert len(main.x) == 5
    # England has every cell: all coloured, none grey.
    assert all(v is not None for row in main.z for v in row)
    assert all(v is None for row in grey.z for v in row)
    assert main.zmid == 0  # centred at a ratio of 1 (log scale)


def test_view_round_trips_through_the_url(intersections):
    query = {"org": "Y56", "metric": "booked_by_10_weeks", "period": "2023-24"}
    view, notices = intersections.IntersectionsView.parse(query)
    assert notices == []
    again, _ = intersections.IntersectionsView.parse(
        intersections.viewstate.query_of(view.search()))
    assert again == view


@pytest.mark.parametrize(("query", "drawn"), [
    ({"org": "NOPE"}, True), ({"metric": "1; drop"}, True), ({"period": "1999-00"}, True),
    # Maternal deaths: England only, and never by ethnicity and deprivation together.
    ({"org": "SYN001", "metric": "maternal_death"}, False),
])
def test_bad_query_shows_a_notice(intersections, query, drawn):
    _, notices = intersections.IntersectionsView.parse(query)
    assert notices
    tree = intersections.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert bool(find(tree, lambda c: isinstance(c, dcc.Graph))) == drawn
    if not drawn:
        assert "does not publish" in text_of(
            by_id(tree, intersections.INTERSECTIONS_NOT_PUBLISHED))


def test_table_matches_the_heat_map_cells(intersections):
    tree = intersections.layout(org="ENG", metric="pph_1500", period="2024-25")
    table = table_of(tree, intersections.INTERSECTIONS_TABLE)
    rows = table.rows
    assert len(rows) == 25
    header = table.header
    assert header[-2:] == ["Ratio to White × Q5 (95% CI)", "Significance"]
    _, _, main = _heatmap(tree, intersections)
    for ethnicity, quintile, *_, ratio, significance in rows:
        short = quintile.split(" ")[0]
        text = _cell(main, ethnicity, short, "text")
        shown = float(ratio.split(" ")[0])
        assert f"{shown:.2f}" in text, (ethnicity, quintile)
        # Colour: the log of the ratio, so a ratio of 1 sits at the centre of the scale.
        assert _cell(main, ethnicity, short, "z") == pytest.approx(math.log(shown), abs=0.006)
        marked = "▲" in text or "▼" in text
        assert marked == significance.startswith(("Higher", "Lower")), (ethnicity, quintile)
        assert ("<b>" in text) == marked
        hover = _cell(main, ethnicity, short, "customdata")
        value, ci = rows[[r[0:2] for r in rows].index([ethnicity, quintile])][4:6]
        assert value in hover and f"95% CI {ci}" in hover


def test_ratios_in_the_table_are_hand_checkable(intersections):
    tree = intersections.layout(org="ENG", metric="booked_by_10_weeks", period="2024-25")
    rows = {(r[0], r[1]): r for r in table_of(tree, intersections.INTERSECTIONS_TABLE).rows}
    black = rows[("Black", "Q1 (most deprived)")]
    white = rows[("White", "Q5 (least deprived)")]
    count = lambda text: int(text.replace(",", ""))  # noqa: E731
    ratio = (count(black[2]) / count(black[3])) / (count(white[2]) / count(white[3]))
    assert black[6].startswith(f"{ratio:.2f}")
    assert white[6] == "1.00 (reference)" and white[7] == "Reference"


def test_suppressed_cells_are_grey_stars_never_zero(intersections):
    tree = intersections.layout(org="SYN008", metric="booked_by_10_weeks", period="2024-25")
    rows = table_of(tree, intersections.INTERSECTIONS_TABLE).rows
    hidden = [r for r in rows if r[7] == "*"]
    assert hidden, "the demo trust has suppressed cells"
    _, grey, main = _heatmap(tree, intersections)
    for ethnicity, quintile, numerator, _denominator, value, ci, ratio, _ in hidden:
        assert (numerator, value, ci, ratio) == ("*", "*", "*", "*")
        short = quintile.split(" ")[0]
        assert _cell(main, ethnicity, short, "z") is None  # not coloured, not zero
        assert _cell(grey, ethnicity, short, "z") == 1
        assert _cell(grey, ethnicity, short, "text") == "*"
        assert "Suppressed" in _cell(grey, ethnicity, short, "customdata")
    assert not any(r[4] in ("0", "0.0") for r in hidden)
    assert f"{len(hidden)} are suppressed" in text_of(
        by_id(tree, intersections.INTERSECTIONS_SUMMARY))


def test_not_published_says_so_instead_of_an_empty_chart(intersections):
    tree = intersections.layout(org="SYN008", metric="stillbirth")
    notice = text_of(by_id(tree, intersections.INTERSECTIONS_NOT_PUBLISHED))
    assert "does not publish stillbirth rate by ethnicity and deprivation together" in notice
    assert not find(tree, lambda c: isinstance(c, dcc.Graph))
    # A metric without the cross-tabulation is still offered, so the menu shows the view.
    options = by_id(tree, intersections.INTERSECTIONS_METRIC).options
    assert "stillbirth" in [o["value"] for o in options]
    held = intersections.queries.metrics_holding(intersections.CROSS)
    assert set(held) <= {o["value"] for o in options}


def test_msds_metric_not_held_names_nhs_digital(intersections):
    tree = intersections.layout(metric="ethnicity_recorded")
    assert "NHS Digital does not publish" in text_of(
        by_id(tree, intersections.INTERSECTIONS_NOT_PUBLISHED))


def test_download_matches_the_table(intersections):
    search = "?org=Y56&metric=preterm&period=2023-24"
    payload = intersections.download_csv(search)
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and
            not r[0].startswith("#")]
    tree = intersections.layout(**intersections.viewstate.query_of(search))
    assert rows[1:] == table_of(tree, intersections.INTERSECTIONS_TABLE).rows
    assert payload["filename"] == "intersections-preterm-Y56.csv"


def test_url_callback_writes_only_real_changes(intersections):
    shown = {"org": "ENG", "metric": "pph_1500", "period": "2024-25"}
    current = written_search(intersections.FOLLOWED, shown, "")
    assert intersections.IntersectionsView.parse(intersections.viewstate.query_of(current))[0] \
        == intersections.IntersectionsView.parse({})[0]
    assert written_search(intersections.FOLLOWED, shown, current) is dash.no_update
    assert "metric=preterm" in written_search(intersections.FOLLOWED,
                                              shown | {"metric": "preterm"}, current)


def test_board_pack_has_the_section(page, stories):
    boardpack = page("boardpack")
    org = stories["pph_gap_closes"]
    view, _ = boardpack.BoardPackView.parse({"org": org})
    section = boardpack.intersections_section(9, view)
    text = text_of(section)
    assert "9. Ethnicity and deprivation together" in text
    figure = find(section, lambda c: isinstance(c, dcc.Graph))[0].figure
    # The pack shows the metric with the most published cells for the trust.
    counts = {}
    for metric in boardpack.pack_metrics():
        labels = boardpack.queries.dimension_periods(metric.id, "trust", "ethnicity_by_quintile")
        if labels:
            frame = boardpack.queries.breakdown(metric.id, org, labels[-1],
                                                "ethnicity_by_quintile", "none")
            counts[metric.title] = frame.filter(pl.col("status") == "ok").height
    best = max(counts, key=counts.get)
    assert text.count(best) >= 1 and figure.data
