"""Mortality page: MBRRACE-UK metrics by group, published levels, periods and context."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qsl

import dash
import polars as pl
import pytest
from dash import dcc

from components import format as fmt
from data import queries
from metrics import registry
from tests.pages.conftest import find, table_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def mortality(page):
    return page("mortality")


def _csv_rows(payload):
    return [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]


def test_metrics_are_the_mbrrace_ones(mortality):
    assert {m.id for m in mortality.PAGE_METRICS} == {
        m.id for m in registry.METRICS_LIST if m.source == registry.MBRRACE}
    assert {"stillbirth", "neonatal_death", "maternal_death"} <= {
        m.id for m in mortality.PAGE_METRICS}


def test_layout_renders_with_no_arguments(mortality):
    tree = mortality.layout()
    text = text_of(tree)
    assert "Mortality" in text and "Some of the link could not be used" not in text
    graphs = find(tree, lambda c: isinstance(c, dcc.Graph))
    assert len(graphs) == 2 and all(g.figure.data for g in graphs)
    # England by ethnicity: the calibrated Black-White stillbirth gap is stated.
    assert "Black women were stillborn" in text and "times (95% CI" in text


def test_gap_statements_only_for_significant_gaps(mortality):
    view, _ = mortality.MortalityView.parse({"metric": "stillbirth", "dim": "ethnicity"})
    frame = mortality.breakdown_frame(view)
    statements = fmt.gap_statements(frame, registry.get("stillbirth"), "ethnicity")
    assert len(statements) == frame["gap_significant"].fill_null(False).sum()
    assert fmt.gap_statements(frame, registry.get("stillbirth"), "total") == []


@pytest.mark.parametrize("query, message", [
    ({"metric": "pph_1500"}, "Unknown metric"),
    ({"metric": "maternal_death", "org": "Y56"}, "does not publish"),
    ({"org": "SYN118", "dim": "ethnicity"}, "This data store holds no stillbirth rate by "
                                            "ethnicity for"),
    ({"period": "1999"}, "Unknown period"),
    ({"dim": "ethnicity_by_quintile"}, "holds no stillbirth rate by ethnicity by deprivation"),
    ({"org": "../../etc"}, "Unknown organisation"),
])
def test_invalid_parameters_fall_back_with_a_notice(mortality, query, message):
    view, notices = mortality.MortalityView.parse(query)
    assert any(message in n for n in notices), notices
    tree = mortality.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_trust_shows_total_only_with_the_reason(mortality):
    view, notices = mortality.MortalityView.parse({"org": "SYN010", "metric": "stillbirth"})
    assert notices == [] and view.dimension == "total"
    text = text_of(mortality.layout(org="SYN010", metric="stillbirth"))
    assert "for England and regions only, so trust figures are totals" in text


def test_maternal_deaths_are_rolling_three_years_for_england(mortality):
    view, _ = mortality.MortalityView.parse({"metric": "maternal_death"})
    assert view.org == "ENG"
    assert view.period == queries.periods("maternal_death")[-1]
    assert "–" in view.period  # e.g. 2022–24
    assert "3 calendar years, rolling" in text_of(mortality.layout(metric="maternal_death"))


def test_region_is_compared_with_england(mortality):
    tree = mortality.layout(org="Y56", metric="neonatal_death", dim="deprivation_quintile")
    header = table_of(tree, "mortality-table").header
    assert "Compared with England" in " ".join(header)
    figure = find(tree, lambda c: isinstance(c, dcc.Graph))[0].figure
    assert any(trace.name == "England" for trace in figure.data)


def test_trend_context_holds_england_and_the_organisation(mortality):
    view, _ = mortality.MortalityView.parse({"org": "Y56", "metric": "stillbirth"})
    points = mortality.trend_points(view)
    assert set(points["group"]) == {"England", "London"}
    england = points.filter(pl.col("group") == "England")
    assert england["period"].to_list() == queries.periods("stillbirth", "calendar_year")
    latest = queries.breakdown("stillbirth", "ENG", view.period, "total", "none")
    assert england.filter(pl.col("period") == view.period)["value"][0] == \
        pytest.approx(latest["value"][0])


def test_small_trust_suppressed_years_are_symbols_not_zero(mortality, demo):
    small = [c for c, s in demo.manifest["stories"].items() if "very_small_unit" in s][0]
    rows = table_of(mortality.layout(org=small, metric="neonatal_death"),
                    "mortality-trend-table").rows
    mine = [r for r in rows if r[0] == queries.org_name(small)]
    assert mine and any(r[4] == "*" for r in mine)
    assert all(r[2] in ("*", "-") or r[2].replace(",", "").isdigit() for r in mine)


def test_downloads_match_the_tables(mortality):
    search = "?metric=stillbirth&org=Y56&dim=ethnicity"
    tree = mortality.layout(metric="stillbirth", org="Y56", dim="ethnicity")
    payload = mortality.download_csv(search)
    assert payload["filename"] == "mortality-stillbirth-Y56.csv"
    assert _csv_rows(payload)[1:] == table_of(tree, "mortality-table").rows
    trend = mortality.download_trend_csv(search)
    assert _csv_rows(trend)[1:] == table_of(tree, "mortality-trend-table").rows
    assert "MBRRACE-UK" in trend["content"]


def test_url_callback_writes_only_real_changes(mortality):
    view = mortality.MortalityView.parse({})[0]
    shown = {"metric": view.metric, "org": view.org, "period": view.period,
             "dim": view.dimension}
    current = written_search(mortality.FOLLOWED, shown, "")
    assert written_search(mortality.FOLLOWED, shown, current) is dash.no_update
    changed = written_search(mortality.FOLLOWED, shown | {"metric": "neonatal_death"}, current)
    assert "metric=neonatal_death" in changed
    # Switching to a metric with other periods shows that metric's latest period.
    switched = written_search(mortality.FOLLOWED, shown | {"metric": "maternal_death",
                                                            "period": "2024"}, current)
    parsed = mortality.MortalityView.parse(dict(parse_qsl(switched.lstrip("?"))))[0]
    assert parsed.period == queries.periods("maternal_death")[-1]
