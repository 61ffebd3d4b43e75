"""Explore page: view parsing, layout with and without arguments, callbacks as functions."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import dash
import pytest
from dash import dcc

from tests.pages.conftest import find, table_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def explore(page):
    return page("explore")


def test_layout_renders_with_no_arguments(explore):
    tree = explore.layout()
    text = text_of(tree)
    assert "Explore" in text
    graphs = find(tree, lambda c: isinstance(c, dcc.Graph))
    assert graphs and graphs[0].figure.data, "the default view draws a chart"
    assert "Some of the link could not be used" not in text


def test_view_round_trips_through_the_url(explore):
    view, notices = explore.ExploreView.parse(
        {"org": "SYN010", "metric": "booked_by_10_weeks", "dim": "deprivation_quintile",
         "vs": "peer"})
    assert notices == []
    again, _ = explore.ExploreView.parse(dict(
        p.split("=", 1) for p in view.search().lstrip("?").replace("+", " ").split("&")))
    assert again == view


@pytest.mark.parametrize("query", [
    {"org": "NOPE"}, {"metric": "drop table"}, {"dim": "x"}, {"period": "1999"},
    {"vs": "mars"}, {"org": "SYN001", "metric": "maternal_death"},
])
def test_invalid_parameters_fall_back_with_a_notice(explore, query):
    view, notices = explore.ExploreView.parse(query)
    assert notices
    tree = explore.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_suppressed_groups_are_labelled_not_zero(explore, demo):
    tree = explore.layout(org="SYN050", metric="pph_1500", dim="ethnicity")
    text = table_of(tree, "explore-table").text
    assert "*" in text
    figure = find(tree, lambda c: isinstance(c, dcc.Graph))[0].figure
    labels = [a.text for a in figure.layout.annotations]
    assert any("suppressed" in (t or "") for t in labels)


def test_gap_statements_only_when_significant(explore):
    frame_text = text_of(explore.layout(org="ENG", metric="booked_by_10_weeks", dim="ethnicity"))
    assert "times (95% CI" in frame_text
    assert "Black women" in frame_text


def test_data_quality_warning_for_poor_recording(explore, demo):
    poor = [c for c, s in demo.manifest["stories"].items() if "poor_ethnicity_recording" in s][0]
    text = text_of(explore.layout(org=poor, metric="pph_1500", dim="ethnicity",
                                  period="2023-24"))
    assert "Data quality warning" in text


def test_sii_shown_for_deprivation(explore):
    text = text_of(explore.layout(org="ENG", metric="neonatal_death",
                                  dim="deprivation_quintile", period="2023"))
    assert "Slope index of inequality" in text


def test_url_callback_writes_only_real_changes(explore):
    view = explore.ExploreView.parse({"org": "ENG"})[0]
    shown = {"org": "ENG", "metric": view.metric, "period": view.period, "dim": view.dimension,
             "vs": view.comparator}
    current = "?" + urlencode(shown)
    assert written_search(explore.FOLLOWED, shown, current) is dash.no_update
    changed = written_search(explore.FOLLOWED, shown | {"metric": "preterm"}, current)
    assert "metric=preterm" in changed
    # The page reads the written link as the view the controls describe.
    parsed = explore.ExploreView.parse(explore.viewstate.query_of(changed))[0]
    assert (parsed.metric, parsed.org, parsed.dimension) == ("preterm", "ENG", view.dimension)


def test_download_matches_the_table(explore):
    search = "?org=SYN020&metric=pph_1500&dim=ethnicity"
    payload = explore.download_csv(search)
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]
    assert rows[0][0] == "Group"
    tree = explore.layout(org="SYN020", metric="pph_1500", dim="ethnicity")
    assert rows[1:] == table_of(tree, "explore-table").rows
    for row in rows[1:]:
        for cell in row[1:3]:
            assert cell in ("*", ":", "-") or int(cell.replace(",", "")) >= 8


def test_excess_in_words_and_in_the_table(explore, demo):
    import polars as pl

    tree = explore.layout(org="ENG", metric="booked_by_10_weeks", dim="ethnicity",
                          period="2024-25")
    said = text_of(find(tree, lambda c: getattr(c, "id", None) == "explore-excess")[0])
    assert "fewer women (95% CI" in said and "were booked by 10 weeks than if" in said
    assert "if every ethnic group had had the same rate as White women" in said
    table = table_of(tree, "explore-table")
    rows = {r["Group"]: r for r in table.records()}
    assert table.header[-1] == "Excess women (95% CI)"
    assert rows["White (reference)"]["Excess women (95% CI)"] == "0"
    # By hand from the store: Black excess = O - D x O_White / D_White (England counts are
    # not rounded), fewer booked than at the White rate, so negative.
    cells = demo.counts.filter((pl.col("metric") == "booked_by_10_weeks")
                               & (pl.col("org_code") == "ENG")
                               & (pl.col("period_label") == "2024-25")
                               & (pl.col("dimension") == "ethnicity"))
    count = {g: (n, d) for g, n, d in cells.select("group", "numerator", "denominator")
             .iter_rows()}
    expected = count["Black"][0] - count["Black"][1] * count["White"][0] / count["White"][1]
    shown = rows["Black"]["Excess women (95% CI)"].split(" ")[0]
    assert shown.startswith("\u2212") and expected < 0
    assert abs(float(shown[1:].replace(",", "")) + expected) <= max(10, abs(expected) / 200)


def test_excess_never_from_suppressed_cells(explore):
    # Kestley (the PPH story trust): two ethnic groups are suppressed in the latest year.
    tree = explore.layout(org="SYN008", metric="pph_1500", dim="ethnicity")
    rows = {r["Group"]: r for r in table_of(tree, "explore-table").records()}
    for group, row in rows.items():
        if row["Numerator"] == "*":
            assert row["Excess women (95% CI)"] == "*", group
    assert "Total: not worked out" in text_of(tree)
    # Its least deprived quintile (the reference) is suppressed: no group has an excess.
    tree = explore.layout(org="SYN008", metric="pph_1500", dim="deprivation_quintile")
    rows = table_of(tree, "explore-table").records()
    assert {r["Excess women (95% CI)"] for r in rows} == {"*"}
    assert "reference group, Q5 (least deprived), are suppressed" in text_of(tree)


def test_no_excess_for_mode_of_birth_or_the_total(explore):
    tree = explore.layout(org="ENG", metric="spontaneous_vaginal", dim="ethnicity")
    assert not any(h.startswith("Excess") for h in table_of(tree, "explore-table").header)
    tree = explore.layout(org="ENG", metric="pph_1500", dim="total")
    assert not any(h.startswith("Excess") for h in table_of(tree, "explore-table").header)


def test_download_has_the_excess_column(explore):
    payload = explore.download_csv("?org=ENG&metric=pph_1500&dim=ethnicity")
    lines = payload["content"].splitlines()
    assert any(line.startswith("# Excess:") for line in lines)
    header = next(line for line in lines if line.startswith("Group"))
    assert header.endswith("Excess women (95% CI)")
