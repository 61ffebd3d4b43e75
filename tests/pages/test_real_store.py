"""Pages on stores that hold totals only: what each page says must be true of the store.

A store built from published files holds no breakdown by ethnicity or deprivation and
MBRRACE-UK figures by trust only: ICB / LMNS and region figures summed from trusts (the
region sums suppressed), and England's as the sum of the trusts whose counts MBRRACE-UK
publishes, labelled as such. Two such stores are used: a small one made here from the demo
store's totals, without England's MBRRACE-UK figures (always run), and the real store built
from the shared published files (skipped when they are absent). On both, no page draws an
empty chart, and no message claims a breakdown or a level that the store does not hold; on
the small one pages say England has no figure, on the real one that England's is a sum.
"""

from __future__ import annotations

import base64
import csv
import os
from contextlib import contextmanager

import polars as pl
import pytest
from dash import dcc

from components import definitions as defs
from components import scorecard as card
from data import queries, store
from data.ingest import build
from metrics.categories import TOTAL
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of

REAL = build.default_realdata_dir()
MORTALITY = ("stillbirth", "neonatal_death")
ODS_FILE = "etr_test.csv"


@contextmanager
def using(root):
    """Point the app at the store in ``root`` for the duration of the block."""
    before = os.environ.get("EQUALITIES_DATA_DIR")
    os.environ["EQUALITIES_DATA_DIR"] = str(root)
    try:
        yield store.load_store(root)
    finally:
        if before is None:
            os.environ.pop("EQUALITIES_DATA_DIR", None)
        else:
            os.environ["EQUALITIES_DATA_DIR"] = before


def graphs(tree) -> list:
    return find(tree, lambda c: isinstance(c, dcc.Graph))


def assert_no_empty_chart(tree) -> None:
    for graph in graphs(tree):
        assert graph.figure.data, f"{graph.id} is drawn with no trace"


def _totals_store(demo: store.Store, root) -> None:
    """Totals only; MBRRACE-UK metrics with no England row, region rows all suppressed and
    ICB rows marked in the manifest as summed from trusts by an ODS edition."""
    counts = demo.metric_counts(*MORTALITY, "pph_1500", "booked_by_10_weeks").filter(
        pl.col("dimension") == TOTAL)
    mbrrace = pl.col("metric").is_in(MORTALITY)
    counts = counts.filter(~(mbrrace & (pl.col("org_level") == "england"))).with_columns(
        [pl.when(mbrrace & (pl.col("org_level") == "region")).then(None)
         .otherwise(pl.col(c)).alias(c) for c in ("numerator", "published_value")]
        + [(pl.col("suppressed") | (mbrrace & (pl.col("org_level") == "region")))
           .alias("suppressed")])
    labels = sorted(set(counts.filter(mbrrace)["period_label"].cast(pl.String).to_list()))
    manifest = {
        "title": "Totals only (test store made from the demo store)", "synthetic": True,
        "source": "The demo store's totals, without breakdowns or MBRRACE-UK England rows.",
        "ods_editions": [{"file": ODS_FILE, "as_at": "2024-12-31", "trusts": 3,
                          "used_for_rollups": True}],
        "rollups": [{"metric": m, "level": level, "periods": labels, "cells": 1,
                     "suppressed": 0, "lookup": {ODS_FILE: len(labels)},
                     "left_out_incomplete": []}
                    for m in MORTALITY for level in ("icb", "region")],
    }
    store.write_store(counts, demo.organisations, manifest, root)


@pytest.fixture(scope="module")
def totals_root(demo, tmp_path_factory):
    root = tmp_path_factory.mktemp("totals")
    _totals_store(demo, root)
    return root


@pytest.fixture(scope="module",
                params=["totals", pytest.param("real", marks=pytest.mark.realdata)])
def held(request, page):
    """The app pointed at a totals-only store (the small one, then the real one)."""
    root = request.getfixturevalue(f"{request.param}_root")
    with using(root) as loaded:
        yield loaded


@pytest.fixture
def no_england(page, totals_root):
    """The app pointed at the small totals-only store, which holds no MBRRACE-UK England
    figure."""
    with using(totals_root) as loaded:
        yield loaded


@pytest.fixture
def real(page, real_root):
    """The app pointed at the real store, whose MBRRACE-UK England figures are sums of
    trusts."""
    with using(real_root) as loaded:
        yield loaded


def _england_note(metric: str, period: str) -> str:
    """The manifest's note on England's figure, summed from the trust file."""
    entry = next(e for e in queries.current().manifest["rollups"]
                 if e["metric"] == metric and e["level"] == "england")
    return next(s["note"] for s in entry["sums"] if s["period"] == period)


def _trust_with(metric: str) -> str:
    """A trust with a shown (unsuppressed) total of ``metric`` in its latest period."""
    period = queries.latest_period(metric)
    counts = queries.current().metric_counts(metric).filter(
        (pl.col("org_level") == "trust") & (pl.col("period_label") == period)
        & (pl.col("dimension") == TOTAL) & ~pl.col("suppressed"))
    return counts.sort("org_code")["org_code"].cast(pl.String)[0]


def _summed(metric: str, level: str) -> tuple[str, str] | None:
    """(organisation, period) of a sum of trusts at ``level`` the store holds, if any."""
    for entry in queries.current().manifest.get("rollups") or ():
        if entry["metric"] != metric or entry["level"] != level:
            continue
        period = entry["periods"][-1]
        rows = queries.current().metric_counts(metric).filter(
            (pl.col("org_level") == level) & (pl.col("period_label") == period))
        if rows.height:
            return rows.sort("org_code")["org_code"].cast(pl.String)[0], period
    return None


# -- Explore ----------------------------------------------------------------------------------


def test_explore_england_without_a_figure_says_so_and_draws_nothing(no_england, page):
    explore = page("explore")
    period = queries.latest_period("stillbirth")
    tree = explore.layout(metric="stillbirth")
    assert not graphs(tree)
    note = text_of(by_id(tree, explore.EXPLORE_NOTHING))
    assert f"This data store holds no stillbirth rate figure for England in {period}." in note
    assert "trusts" in note and "suppressed or has no data" not in text_of(tree)
    assert not tables_of(tree), "no table of ':' for a figure the store does not hold"
    breakdowns = text_of(by_id(tree, explore.EXPLORE_BREAKDOWNS))
    assert "as totals only" in breakdowns and "for any organisation" in breakdowns


def test_explore_trust_says_the_store_holds_totals_only(held, page):
    explore = page("explore")
    for metric in ("neonatal_death", "pph_1500"):
        tree = explore.layout(metric=metric, org=_trust_with(metric))
        text = text_of(tree)
        assert_no_empty_chart(tree)
        assert graphs(tree)
        assert "does not publish" not in text and "for this level of organisation" not in text
        assert "Choose a breakdown" not in text
        assert "This data store holds totals only" in text
        assert "as totals only" in text_of(by_id(tree, explore.EXPLORE_BREAKDOWNS))


def test_explore_trust_without_england_says_it_is_not_compared(no_england, page):
    explore = page("explore")
    assert "Not compared with England: this data store holds no England figure" in text_of(
        explore.layout(metric="neonatal_death", org=_trust_with("neonatal_death")))


def test_explore_link_to_a_breakdown_not_held(held, page):
    explore = page("explore")
    trust = _trust_with("pph_1500")
    view, notices = explore.ExploreView.parse({"metric": "pph_1500", "org": trust,
                                              "dim": "ethnicity"})
    assert view.dimension == TOTAL
    assert any("This data store holds no postpartum haemorrhage of 1,500 ml or more by "
               "ethnicity" in n for n in notices), notices
    assert not any("Unknown breakdown" in n for n in notices)


def test_explore_icb_sum_names_the_ods_edition(held, page):
    explore = page("explore")
    found = _summed("stillbirth", "icb")
    assert found, "the store sums ICB stillbirths from trusts"
    icb, period = found
    tree = explore.layout(metric="stillbirth", org=icb, period=period)
    said = text_of(by_id(tree, explore.EXPLORE_SUMMED))
    assert "Summed from its trusts as ODS placed them on 31 December 2024" in said
    assert_no_empty_chart(tree)
    # A published (not summed) figure says nothing of the kind.
    assert explore.EXPLORE_SUMMED not in {getattr(c, "id", None) for c in find(
        explore.layout(metric="stillbirth", org=_trust_with("stillbirth")), lambda c: True)}


# -- Mortality --------------------------------------------------------------------------------


def test_mortality_opens_without_empty_charts(no_england, page):
    mortality = page("mortality")
    tree = mortality.layout()
    text = text_of(tree)
    assert not graphs(tree)
    assert "This data store holds no stillbirth rate figure for England" in text
    assert "Nothing to draw over time" in text
    assert "Choose England or a region" not in text


def test_mortality_trust_names_no_level_the_store_lacks(held, page):
    mortality = page("mortality")
    trust = _trust_with("stillbirth")
    tree = mortality.layout(org=trust)
    text = text_of(tree)
    assert_no_empty_chart(tree)
    assert len(graphs(tree)) == 2
    assert "Choose England or a region" not in text
    assert "for England and regions only" not in text
    assert "as totals only" in text


def test_mortality_trust_without_england_has_no_national_series(no_england, page):
    text = text_of(page("mortality").layout(org=_trust_with("stillbirth")))
    assert "Context: over time" in text
    assert "no England figures for stillbirth rate" in text
    assert "over time: England" not in text


# -- Intersections, Trends, Benchmark ---------------------------------------------------------


def test_intersections_does_not_promise_separate_breakdowns(held, page):
    intersections = page("intersections")
    tree = intersections.layout(metric="pph_1500")
    notice = text_of(by_id(tree, intersections.INTERSECTIONS_NOT_PUBLISHED))
    assert "separately" not in notice
    assert "as totals only" in notice


def test_trends_without_a_series_says_where_figures_are(no_england, page):
    trends = page("trends")
    tree = trends.layout(metric="stillbirth")
    assert_no_empty_chart(tree)
    said = text_of(by_id(tree, trends.TRENDS_NOTHING))
    assert "This data store holds no stillbirth rate figure for England" in said
    assert "are published" not in said


def test_benchmark_breakdown_not_held_is_not_unknown(held, page):
    benchmark = page("benchmark")
    _, notices = benchmark.BenchmarkView.parse({"metric": "pph_1500", "dim": "ethnicity"})
    assert any("holds no postpartum haemorrhage of 1,500 ml or more by ethnicity for trusts"
               in n for n in notices), notices


# -- Data page: definitions and local data ----------------------------------------------------


def test_definitions_say_what_the_store_holds(held, page):
    data_page = page("downloads")
    frame = defs.metric_definitions(queries.held_by_metric())
    rows = {r["Id"]: r for r in frame.iter_rows(named=True)}
    assert rows["pph_1500"]["Breakdowns in this data store"] == "Every level: total"
    england = "england" in queries.figure_levels("stillbirth")
    assert rows["stillbirth"]["Breakdowns in this data store"] == "Every level: total" \
        if england else rows["stillbirth"]["Breakdowns in this data store"].startswith(
            "England: no figures; Region: total")
    # The registry's breakdowns stay, labelled as what the source can publish.
    assert rows["pph_1500"]["Breakdowns the source can publish"].startswith(
        "Every level: total, ethnicity")
    assert "Breakdowns in this data store" in text_of(data_page.layout())


def test_local_stillbirth_row_says_the_store_has_no_england_figure(no_england, page):
    data_page = page("_local_data")
    trust = _trust_with("stillbirth")
    period = queries.latest_period("stillbirth")
    body = ("organisation,metric,period,group,dimension,numerator,denominator,source\n"
            f"{trust},stillbirth,{period},All,total,30,8000,audit\n")
    view = data_page.upload("data:text/csv;base64," + base64.b64encode(body.encode()).decode(),
                            "audit.csv")
    text = text_of(view)
    assert "does not publish" not in text
    assert "The national data hold no England figure for this metric" in text
    record = table_of(view).records()[0]
    assert record["England (national)"] == ":"
    assert record["Same organisation (national)"] not in (":", "z")


# -- England as the sum of the MBRRACE-UK file's trusts (the real store) ----------------------


def _file_sum(period: str, deaths: str, births: str) -> tuple[int, int]:
    """Deaths and births summed over the English organisations of the raw MBRRACE-UK file
    whose counts it publishes (worked out here from the file, not by the ingest)."""
    path = REAL / f"perinatal-mortality-rates-{period}-trusthealth-board.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["CountryName"] == "England"
                and r[deaths] != "-1" and r[births] != "-1"]
    return sum(int(r[deaths]) for r in rows), sum(int(r[births]) for r in rows)


MBRRACE_COUNTS = {"stillbirth": ("TotalStillbirths", "TotalBirths"),
                  "neonatal_death": ("TotalNeonatalDeaths", "TotalLiveBirths")}


@pytest.mark.realdata
def test_scorecard_rates_trusts_against_england_summed_from_the_file(real, page):
    scorecard = page("scorecard")
    england, trusts = {}, set()
    for metric, (deaths, births) in MBRRACE_COUNTS.items():
        period = queries.latest_period(metric)
        dead, born = _file_sum(period, deaths, births)
        england[metric] = (period, 1000 * dead / born)
        shown = queries.current().metric_counts(metric).filter(
            (pl.col("org_level") == "trust") & (pl.col("period_label") == period)
            & (pl.col("dimension") == TOTAL) & ~pl.col("suppressed"))
        trusts |= set(shown["org_code"].cast(pl.String).to_list())
    assert len(trusts) > 50
    rated = {metric: {} for metric in MBRRACE_COUNTS}
    for trust in sorted(trusts):
        frame = queries.scorecard(trust)
        for row in frame.filter(pl.col("metric").is_in(list(MBRRACE_COUNTS))).iter_rows(
                named=True):
            period, value = england[row["metric"]]
            assert row["england_value"] == pytest.approx(value, rel=1e-12)
            assert row["england_note"] == _england_note(row["metric"], period)
            if row["status"] == "ok":  # every shown trust is rated, none left grey
                assert row["vs_england"] in ("better", "similar", "worse"), (trust, row)
                assert row["rag"] in ("green", "amber", "red")
                rated[row["metric"]][trust] = row["rag"]
    for metric, rags in rated.items():
        assert len(rags) > 20, metric
        assert {"amber", "red"} <= set(rags.values()), (metric, rags)
    # The page and its download say what England's figure is.
    trust = next(iter(rated["stillbirth"]))
    tree = scorecard.layout(org=trust)
    body = by_id(tree, scorecard.SCORECARD_TABLE).children[2]
    row = next(tr for tr in body.children if text_of(tr.children[0]) == "Stillbirth rate")
    england_column = list(card.COLUMNS).index("England")
    assert text_of(row.children[england_column]).endswith(" (sum of trusts)")
    notes = text_of(by_id(tree, scorecard.SCORECARD_ENGLAND_NOTES))
    period = england["stillbirth"][0]
    assert f"Stillbirth rate, {period}: {_england_note('stillbirth', period)}" in notes
    download = scorecard.download_csv(f"?org={trust}")["content"]
    assert _england_note("stillbirth", period) in download
    assert "(sum of trusts)" in download


@pytest.mark.realdata
def test_pages_say_england_is_a_sum_of_trusts(real, page):
    explore, mortality, data_page = page("explore"), page("mortality"), page("downloads")
    period = queries.latest_period("stillbirth")
    note = _england_note("stillbirth", period)
    assert "English organisations in the MBRRACE-UK file" in note
    # England itself: drawn, and summed (not a published figure).
    tree = explore.layout(metric="stillbirth")
    assert graphs(tree)
    assert text_of(by_id(tree, explore.EXPLORE_SUMMED)) == note
    # A trust compared with it: the comparison says what England's figure is.
    trust = _trust_with("stillbirth")
    tree = explore.layout(metric="stillbirth", org=trust)
    assert note in text_of(by_id(tree, explore.EXPLORE_ENGLAND_SUMMED))
    assert "Not compared with England" not in text_of(tree)
    assert note in explore.download_csv(f"?metric=stillbirth&org={trust}")["content"]
    # Mortality: beside the comparison, and over time.
    text = text_of(mortality.layout(org=trust))
    assert note in text and "England's figures for 2023 and 2024 are sums of the trusts" in text
    assert "Context: the national rate over time" in text
    assert "no England figures" not in text
    # The downloads of the whole table.
    assert f"{period}: {note}" in data_page.counts_csv("stillbirth")
