"""Trends page: view parsing, layout with and without arguments, SPC sections and summaries,
downloads, called as plain functions on the demo store."""

from __future__ import annotations

import csv
import io
import math

import dash
import polars as pl
import pytest
from dash import dcc

from components import trendtables
from metrics.trend import VARIATION_MEANING
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def trends(page):
    return page("trends")




def _has(tree, component_id) -> bool:
    """A component, or a table in HTML markup, with that id is in the layout."""
    return bool(find(tree, lambda c: getattr(c, "id", None) == component_id)) or any(
        t.id == component_id for t in tables_of(tree))


def _csv_rows(payload: dict) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(payload["content"])) if r and
            not r[0].startswith("#")]


def test_registered_with_path_name_and_order(trends):
    entry = dash.page_registry["pages.trends"]
    assert (entry["path"], entry["name"], entry["order"]) == ("/trends", "Trends", 3)


def test_layout_renders_with_no_arguments(trends):
    tree = trends.layout()
    text = text_of(tree)
    assert "Trends" in text and "Some of the link could not be used" not in text
    view, _ = trends.TrendsView.parse({})
    # Defaults: England, a non-overlapping kind (SPC valid), the first known group.
    assert (view.org, view.kind, view.dimension, view.group) == ("ENG", "quarter", "ethnicity",
                                                                 "White")
    series = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    assert {"White", "Black"} <= {t.name for t in series.data}
    assert by_id(tree, trends.TRENDS_SPC_GRAPH).figure.data
    assert _has(tree, trends.TRENDS_SUMMARY_TABLE)


def test_view_round_trips_through_the_url(trends):
    query = {"org": "Y56", "metric": "booked_by_10_weeks", "dim": "deprivation_quintile",
             "kind": "financial_year", "group": "Q1 (most deprived)"}
    view, notices = trends.TrendsView.parse(query)
    assert notices == []
    again, _ = trends.TrendsView.parse(trends.viewstate.query_of(view.search()))
    assert again == view


@pytest.mark.parametrize("query", [
    {"org": "NOPE"}, {"metric": "1; drop"}, {"dim": "x"}, {"kind": "fortnight"},
    {"group": "Martians"}, {"org": "SYN001", "metric": "maternal_death"},
    {"metric": "stillbirth", "kind": "quarter"},
])
def test_invalid_parameters_fall_back_with_a_notice(trends, query):
    _, notices = trends.TrendsView.parse(query)
    assert notices
    tree = trends.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_series_has_ci_bands_for_every_group(trends):
    tree = trends.layout(org="ENG", metric="pph_1500", dim="ethnicity", kind="quarter",
                         group="Black")
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    bands = [t for t in figure.data if (t.name or "").endswith("95% CI")]
    assert {b.name.removesuffix(" 95% CI") for b in bands} >= {"White", "Mixed", "Asian",
                                                                "Black", "Other"}
    # Unknown groups are folded into the legend, line and band together, not dropped.
    hidden = {t.name for t in figure.data if t.visible == "legendonly"}
    assert "Not stated" in hidden and "Not stated 95% CI" in hidden
    assert "hidden on the chart" in text_of(tree)


def test_spc_chart_colours_special_causes_by_making_data_count(trends, stories):
    org = stories["pph_gap_closes"]
    tree = trends.layout(org=org, metric="pph_1500", dim="total", kind="quarter")
    figure = by_id(tree, trends.TRENDS_SPC_GRAPH).figure
    names = {t.name for t in figure.data}
    assert {"Mean", "Process limits"} <= names
    improvement = [t for t in figure.data if t.name == "Special cause: improvement"][0]
    assert improvement.marker.color == trends.figures.theme.SPC["special_cause_improvement"]
    statement = text_of(by_id(tree, trends.TRENDS_SPC_STATEMENT))
    assert "improvement (lower is better)" in statement and "Improving" in statement
    summary = table_of(tree, trends.TRENDS_SUMMARY_TABLE).rows
    assert summary[0][0] == "All"
    assert summary[0][2] == "Blue with L: improvement, low"
    assert int(summary[0][5]) >= 7  # improvement points after the intervention


def test_summary_table_for_every_group(trends):
    points, summaries = trends.queries.trend("pph_1500", "ENG", "quarter", "ethnicity")
    rows = trendtables.summary_rows(summaries)
    assert rows["Group"].to_list() == list(summaries)
    white = rows.filter(pl.col("Group") == "White").row(0, named=True)
    meaning = VARIATION_MEANING[summaries["White"]["variation_icon"]]
    assert white["What it means"] == meaning
    assert white["Improvement points"] == str(summaries["White"]["special_cause_improvement"])
    assert white["Limits"] == "Full"


def test_trial_limits_are_flagged(trends):
    # ICBs' quarterly PPH by ethnicity: some small group has only 12 to 19 published quarters.
    for icb in trends.queries.organisations().filter(pl.col("org_level") == "icb")["org_code"]:
        _, summaries = trends.queries.trend("pph_1500", icb, "quarter", "ethnicity")
        trial = [g for g, s in summaries.items() if s["available"] and s["trial_limits"]]
        if trial:
            break
    assert trial, "the demo has an ICB group with trial limits"
    rows = trendtables.summary_rows(summaries)
    row = rows.filter(pl.col("Group") == trial[0]).row(0, named=True)
    assert row["Limits"].startswith("Trial")


def test_too_few_points_says_spc_needs_twelve(trends):
    tree = trends.layout(org="ENG", metric="pph_1500", dim="ethnicity",
                         kind="financial_year", group="Black")
    text = text_of(tree)
    assert "SPC needs at least 12 points" in text
    assert not _has(tree, trends.TRENDS_SPC_GRAPH)
    assert by_id(tree, trends.TRENDS_SERIES_GRAPH).figure.data


def test_overlapping_periods_draw_no_limits(trends, stories):
    org = stories["pph_gap_closes"]
    tree = trends.layout(org=org, metric="pph_1500", dim="ethnicity",
                         kind="rolling_12_months", group="Black")
    text = text_of(tree)
    assert "SPC limits are not valid on overlapping periods" in text
    assert not _has(tree, trends.TRENDS_SPC_GRAPH)
    assert not _has(tree, trends.TRENDS_SUMMARY_TABLE)
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    assert not any(t.name in ("Mean", "Process limits") for t in figure.data)


def test_gap_closing_story_is_visible_in_the_series(trends, stories):
    org = stories["pph_gap_closes"]
    points, _ = trends.series(trends.TrendsView.parse(
        {"org": org, "metric": "pph_1500", "dim": "ethnicity", "kind": "financial_year"})[0])
    wide = points.filter(pl.col("group").is_in(["White", "Black"])).pivot(
        on="group", index="period", values="value").sort("period")
    gaps = (wide["Black"] - wide["White"]).to_list()
    assert gaps[0] > 15 and abs(gaps[-1]) < 8


def test_every_level_renders(trends):
    orgs = trends.queries.organisations()
    for level in ("england", "region", "icb", "trust"):
        code = orgs.filter(pl.col("org_level") == level)["org_code"][0]
        tree = trends.layout(org=code, metric="booked_by_10_weeks",
                             dim="deprivation_quintile")
        text = text_of(tree)
        assert "Some of the link could not be used" not in text, level
        assert by_id(tree, trends.TRENDS_SERIES_GRAPH).figure.data, level


def test_suppressed_periods_are_gaps_and_stars_not_zero(trends, stories):
    small = stories["very_small_unit"]
    # By ethnicity every quarter of the very small unit is suppressed: an explained empty state.
    text = text_of(trends.layout(org=small, metric="pph_1500", dim="ethnicity", kind="quarter"))
    assert "Nothing to draw" in text and "every period is suppressed" in text
    # In total one quarter is published: drawn, the rest are stars in the table, never zero.
    tree = trends.layout(org=small, metric="pph_1500", dim="total", kind="quarter")
    cells = table_of(tree, trends.TRENDS_SERIES_TABLE).rows
    values = [row[4] for row in cells]
    assert values.count("*") == len(values) - 1
    assert not any(v in ("0", "0.0") for v in values)
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    line = [t for t in figure.data if t.name == "All"][0]
    assert sum(v is not None for v in line.y) == 1
    assert "SPC needs at least 12 points" in text_of(tree)


def test_merger_is_explained(trends, stories):
    gone, successor = stories["merged_away"], stories["merger_successor"]
    assert "merged into" in text_of(trends.layout(org=gone, metric="pph_1500"))
    assert "took over" in text_of(trends.layout(org=successor, metric="pph_1500"))


def test_series_download_matches_the_table(trends):
    search = "?org=Y56&metric=pph_1500&dim=ethnicity&kind=quarter&group=Black"
    rows = _csv_rows(trends.series_csv(search))
    tree = trends.layout(**trends.viewstate.query_of(search))
    assert rows[0] == ["Group", "Period", "Numerator", "Denominator", "Value (per 1,000)",
                       "95% CI", "Row type"]
    data = [r[:-1] for r in rows[1:] if r[-1] == "Data"]
    assert data == table_of(tree, trends.TRENDS_SERIES_TABLE).rows
    # Then the projection table's rows, flagged as projection, never as data.
    ahead = [r for r in rows[1:] if r[-1] != "Data"]
    assert ahead and all(r[-1].startswith("Projection (not data)") for r in ahead)
    assert rows[1:] == [r + ["Data"] for r in data] + ahead
    table = table_of(tree, trends.TRENDS_PROJECTION_TABLE).rows
    assert [[r[0], r[1], r[4], r[5]] for r in ahead] == [r[:4] for r in table]
    assert all(r[2:4] == ["z", "z"] for r in ahead)


def test_spc_download_matches_the_table(trends):
    search = "?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter&group=Black"
    rows = _csv_rows(trends.spc_csv(search))
    tree = trends.layout(**trends.viewstate.query_of(search))
    assert rows[0][:3] == ["Period", "Value (per 1,000)", "Mean"]
    assert rows[1:] == table_of(tree, trends.TRENDS_SPC_TABLE).rows
    assert any(r[5] == "Improvement" for r in rows[1:])


def test_url_callback_writes_only_real_changes(trends):
    controls = {"org": "ENG", "metric": "pph_1500", "dim": "ethnicity", "kind": "quarter",
                "group": "White", "proj": ["1"]}
    current = written_search(trends.FOLLOWED, controls, "")
    assert written_search(trends.FOLLOWED, controls, current) is dash.no_update

    def shown(search):
        return trends.TrendsView.parse(trends.viewstate.query_of(search))[0]

    changed = written_search(trends.FOLLOWED, controls | {"group": "Black"}, current)
    assert "group=Black" in changed
    assert (shown(changed).group, shown(changed).projection) == ("Black", True)
    hidden = written_search(trends.FOLLOWED, controls | {"proj": []}, current)
    assert "proj=0" in hidden and shown(hidden).projection is False


# -- projection ------------------------------------------------------------------------------


def _projection_traces(figure) -> dict:
    return {t.name.removesuffix(" projection"): t for t in figure.data
            if (t.name or "").endswith(" projection")}


def test_projection_is_drawn_dashed_after_the_data_and_labelled(trends):
    tree = trends.layout()  # on by default
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    lines = _projection_traces(figure)
    assert set(lines) == {"White", "Mixed", "Asian", "Black", "Other"}  # known groups
    key = [t for t in figure.data if t.name == trends.figures.PROJECTION_KEY]
    assert key and key[0].line.dash == "dash" and key[0].showlegend is not False
    white = lines["White"]
    assert white.line.dash == "dash" and white.legendgroup == "White"
    data = [t for t in figure.data if t.name == "White"][0]
    # The dashed line starts at the latest figure and runs into periods after the data.
    assert white.x[0] == data.x[-1] and white.y[0] == data.y[-1]
    assert not set(white.x[1:]) & set(data.x)
    categories = list(figure.layout.xaxis.categoryarray)
    assert categories[-3:] == list(white.x[1:])
    assert all("Projection (not data)" in c for c in white.customdata[1:])
    assert [a.text for a in figure.layout.annotations if a.text == "Projected"]
    assert "Projection (not data)" in text_of(tree)


def test_projection_table_matches_the_chart(trends):
    tree = trends.layout(org="ENG", metric="pph_1500", dim="ethnicity", kind="quarter")
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    white = _projection_traces(figure)["White"]
    rows = [r for r in table_of(tree, trends.TRENDS_PROJECTION_TABLE).rows
            if r[0] == "White"]
    assert [r[1].split(" (")[0] for r in rows] == list(white.x[1:])
    assert [r[2] for r in rows] == [f"{v:,.1f}" for v in white.y[1:]]
    projected, fits, _ = trends.queries.projection("pph_1500", "ENG", "quarter", "ethnicity")
    fit = fits["White"]
    assert rows[0][5] == f"{fit['points']} periods"
    # The trend a year is the fitted slope over four quarters.
    assert rows[0][4].startswith(f"{(math.exp(4 * fit['slope']) - 1) * 100:+.1f}%")


def test_gap_sentences_say_when_each_gap_would_close(trends):
    tree = trends.layout(org="ENG", metric="booked_by_10_weeks", dim="ethnicity",
                         kind="quarter")
    items = by_id(tree, trends.TRENDS_PROJECTION_GAPS).children
    text = {text_of(li).split(" compared")[0]: text_of(li) for li in items}
    assert set(text) == {"Mixed women", "Asian women", "Black women", "Other women"}
    _, _, gaps = trends.queries.projection("booked_by_10_weeks", "ENG", "quarter", "ethnicity")
    asian = gaps["Asian"]
    assert asian["status"] == "closing"
    said = text["Asian women"]
    assert f"in about {asian['years']:.1f} years" in said
    assert asian["crossing_period"].split(" (")[0] in said
    assert "95% interval" in said and "ratio now" in said


def test_projection_can_be_turned_off(trends):
    query = {"org": "ENG", "metric": "pph_1500", "dim": "ethnicity", "kind": "quarter",
             "proj": "0"}
    view, notices = trends.TrendsView.parse(query)
    assert notices == [] and not view.projection and "proj=0" in view.search()
    tree = trends.layout(**query)
    figure = by_id(tree, trends.TRENDS_SERIES_GRAPH).figure
    assert not _projection_traces(figure)
    assert not _has(tree, trends.TRENDS_PROJECTION_TABLE)
    assert "Projection (not data)" not in text_of(tree)
    rows = _csv_rows(trends.series_csv(view.search()))
    assert {r[-1] for r in rows[1:]} == {"Data"}
    _, notices = trends.TrendsView.parse(query | {"proj": "maybe"})
    assert notices


def test_no_projection_on_overlapping_or_short_series(trends):
    text = text_of(trends.layout(org="ENG", metric="pph_1500", dim="ethnicity",
                                 kind="rolling_12_months"))
    assert "No projection for this view: the periods overlap" in text
    text = text_of(trends.layout(org="ENG", metric="pph_1500", dim="ethnicity",
                                 kind="financial_year"))
    assert "only 5 published points" in text


def test_groups_with_many_suppressed_periods_are_not_projected(trends, stories):
    # An ICB where Mixed women's quarters are often suppressed: the others are projected.
    tree = trends.layout(org="SYNQ01", metric="pph_1500", dim="ethnicity", kind="quarter")
    _, fits, gaps = trends.queries.projection("pph_1500", "SYNQ01", "quarter", "ethnicity")
    mixed = fits["Mixed"]
    assert not mixed["available"] and mixed["suppressed"] > 0.25 * 21
    assert fits["White"]["available"] and fits["Black"]["available"]
    text = text_of(tree)
    assert f"Mixed ({mixed['reason']})" in text
    assert "Mixed women compared with White women: no projection." in text
    drawn = _projection_traces(by_id(tree, trends.TRENDS_SERIES_GRAPH).figure)
    assert "Mixed" not in drawn and "Black" in drawn
    # The trust with the planted story has too few published quarters in every group.
    org = stories["pph_gap_closes"]
    text = text_of(trends.layout(org=org, metric="pph_1500", dim="ethnicity", kind="quarter"))
    assert "No projection for this view" in text and "11 of 21 periods are suppressed" in text
