"""Trends: is the gap closing? The gap series, its chart, table, sentences and CSV come from
one view model and agree with :func:`metrics.gap_trend.gap_trend`; the advice given when SPC
or the trend test cannot be made fits the view chosen, never naming its kind of period, and
the views it suggests do allow SPC."""

from __future__ import annotations

import csv
import io
import math
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from components import gaptrend, spcwords
from data import queries
from metrics import registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from metrics.gap_trend import (
    INDEX_GROUP,
    NARROWING,
    NO_CHANGE,
    VERDICTS,
    WIDENING,
    gap_trend,
)
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of
from views import trends as models

VIEWS = 10
BROKEN_DOWN = ("ethnicity", "deprivation_quintile", "deprivation_decile")


@pytest.fixture(scope="module")
def trends(page):
    return page("trends")


def random_views(trends, count: int, seed: int = 19) -> list:
    """Parsed views drawn from the page's own choices: organisation, metric, kind of
    period, a breakdown with a reference group and one of its groups."""
    rng = random.Random(seed)
    orgs = queries.organisations()
    views = []
    while len(views) < count:
        metric = registry.get(rng.choice(list(registry.OUTCOMES)))
        level = rng.choice([lv for lv in ("england", "region", "icb", "trust")
                            if lv in metric.levels])
        dims = [d for d in queries.dimensions_at(metric.id, level) if d in BROKEN_DOWN]
        kinds = queries.period_kinds(metric.id)
        if not dims or not kinds:
            continue
        org = rng.choice(orgs.filter(pl.col("org_level") == level)["org_code"].to_list())
        dim = rng.choice(dims)
        view, notices = trends.TrendsView.parse({
            "org": org, "metric": metric.id, "dim": dim, "kind": rng.choice(kinds),
            "group": rng.choice(DIMENSIONS[dim].groups)})
        if not notices:
            views.append(view)
    return views


def csv_rows(payload: dict) -> list[list[str]]:
    """A download's table, cells as the page shows them (the download quotes formula-like
    text such as "-0.1 to 0.4")."""
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and
            not r[0].startswith("#")]
    return [[c[1:] if c.startswith("'") else c for c in r] for r in rows]


def csv_notes(payload: dict) -> list[str]:
    return [line.removeprefix("# ") for line in payload["content"].splitlines()
            if line.startswith("#")]


def _has(tree, component_id: str) -> bool:
    """A component, or a table in HTML markup, with that id is in the layout."""
    return bool(find(tree, lambda c: getattr(c, "id", None) == component_id)) or any(
        t.id == component_id for t in tables_of(tree))


def _traces(figure) -> dict:
    return {t.name: t for t in figure.data}


@pytest.fixture(scope="module")
def views(trends):
    return random_views(trends, VIEWS)


def test_gap_series_is_gap_trends_output(trends, views):
    for view in views:
        m = trends.model(view)
        points, _ = queries.trend(view.metric, view.org, view.kind, view.dimension)
        if points.is_empty():
            assert m.gap is None, view
            continue
        expected = gap_trend(points, metric=registry.get(view.metric),
                             dimension=view.dimension)
        assert_frame_equal(m.gap.series, expected.series)
        assert_frame_equal(m.gap.tests, expected.tests)


def test_chart_table_words_and_csv_agree(trends, views):
    checked = 0
    for view in views:
        m = trends.model(view)
        tree = trends.layout(**trends.viewstate.query_of(view.search()))
        if not m.gap_groups:
            continue
        checked += 1
        series = m.gap.series
        traces = _traces(by_id(tree, trends.TRENDS_GAP_GRAPH).figure)
        for group in m.gap_groups:
            part = series.filter(pl.col("group") == group)
            trace = traces[gaptrend.group_label(group)]
            assert list(trace.y) == part["ratio"].to_list(), (view, group)
            assert list(trace.x) == trends.for_chart(part)["period"].to_list()
            upper = [None if r is None else u - r
                     for r, u in zip(part["ratio"], part["ratio_upper95"], strict=True)]
            assert list(trace.error_y.array) == upper
            assert (trace.visible is not False and trace.visible != "legendonly") == \
                (group in m.gap_groups_shown)
        table = table_of(tree, trends.TRENDS_GAP_TABLE)
        rows = gaptrend.gap_rows(series, m.points, m.metric, m.dimension)
        assert table.rows == [list(r) for r in rows.iter_rows()]
        for row, cells in zip(series.iter_rows(named=True), table.rows, strict=True):
            shown = cells[2]
            if row["ratio"] is None:
                assert shown in ("*", ":")
            else:
                assert shown == f"{row['ratio']:.2f}"
        payload = trends.gap_csv(view.search())
        assert csv_rows(payload)[1:] == table.rows
        assert csv_rows(payload)[0] == table.header
        if m.gap_testable:
            said = [text_of(li) for li in by_id(tree, trends.TRENDS_GAP_VERDICTS).children]
            assert said == gaptrend.verdict_sentences(m.gap.tests, m.dimension, m.metric)
            assert all(s in csv_notes(payload) for s in said)
        else:
            assert not _has(tree, trends.TRENDS_GAP_VERDICTS)
        if m.gap_test_made:
            tests = table_of(tree, trends.TRENDS_GAP_TESTS).rows
            assert [r[-1] for r in tests] == [gaptrend.VERDICT_WORDS[v]
                                              for v in m.gap.tests["verdict"]]
        else:
            assert not _has(tree, trends.TRENDS_GAP_TESTS)
    assert checked >= VIEWS // 2


def _test_row(group="Black", verdict=NARROWING, slope=-0.2, half=0.1, periods=5):
    return {"group": group, "group_order": 4, "periods": periods, "slope": slope,
            "slope_lower95": slope - half, "slope_upper95": slope + half,
            "ratio_change_per_year": math.exp(slope), "p_value": 0.01, "dispersion": 1.0,
            "verdict": verdict, "direction": None}


@pytest.mark.parametrize(("row", "start", "figures"), [
    (_test_row(), "The gap between Black and White women is narrowing: the ratio falls by "
     f"{(1 - math.exp(-0.2)) * 100:.1f}% a year",
     f"(95% CI {(1 - math.exp(-0.1)) * 100:.1f}% to {(1 - math.exp(-0.3)) * 100:.1f}%"),
    (_test_row(verdict=WIDENING, slope=0.2), "The gap between Black and White women is "
     f"widening: the ratio rises by {(math.exp(0.2) - 1) * 100:.1f}% a year",
     f"(95% CI {(math.exp(0.1) - 1) * 100:.1f}% to {(math.exp(0.3) - 1) * 100:.1f}%"),
    (_test_row(verdict=NO_CHANGE, slope=0.05), "No significant change in the gap between "
     f"Black and White women: the ratio changes by +{(math.exp(0.05) - 1) * 100:.1f}% a year",
     f"(95% CI {(math.exp(-0.05) - 1) * 100:+.1f}% to {(math.exp(0.15) - 1) * 100:+.1f}%"),
])
def test_verdict_sentence_says_the_test_result(row, start, figures):
    metric = registry.get("pph_1500")
    sentence = gaptrend.verdict_sentence(row, "ethnicity", metric)
    assert sentence.startswith(start)
    assert figures in sentence


def test_too_few_periods_are_said_so():
    metric = registry.get("pph_1500")
    row = _test_row(verdict=None, periods=3) | dict.fromkeys(
        ("slope", "slope_lower95", "slope_upper95", "p_value"))
    sentence = gaptrend.verdict_sentence(row, "ethnicity", metric)
    assert sentence == ("Too few periods to tell whether the gap between Black and White "
                        "women is changing: 3 periods have both figures published; the test "
                        "needs at least 4.")
    assert gaptrend.trend_test_rows(pl.DataFrame([row]))["Gap"].to_list() == \
        ["Too few periods"]


def test_every_verdict_of_random_views_is_worded_as_tested(trends, views):
    words = {NARROWING: "is narrowing:", WIDENING: "is widening:",
             NO_CHANGE: "No significant change in", None: "Too few periods"}
    seen = set()
    for view in views:
        m = trends.model(view)
        if m.gap is None:
            continue
        for test in m.gap.tests.iter_rows(named=True):
            assert test["verdict"] in (*VERDICTS, None)
            sentence = gaptrend.verdict_sentence(test, m.dimension, m.metric)
            assert words[test["verdict"]] in sentence
            assert all(w not in sentence for v, w in words.items() if v != test["verdict"])
            if test["verdict"] is not None:
                change = f"{(math.exp(test['slope']) - 1) * 100:+.1f}%"
                fall = f"{(1 - math.exp(test['slope'])) * 100:.1f}%"
                assert change in sentence or fall in sentence or change[1:] in sentence
            seen.add(test["verdict"])
    assert NO_CHANGE in seen


def test_the_planted_gap_is_narrowing_on_financial_years(trends, stories):
    org = stories["pph_gap_closes"]
    tree = trends.layout(org=org, metric="pph_1500", dim="ethnicity", kind="financial_year",
                         group="Black")
    said = text_of(by_id(tree, trends.TRENDS_GAP_VERDICTS))
    assert "The gap between Black and White women is narrowing: the ratio falls by" in said
    figure = by_id(tree, trends.TRENDS_GAP_GRAPH).figure
    assert figure.layout.yaxis.type == "log"
    assert any(s.y0 == 1 and s.y1 == 1 for s in figure.layout.shapes)
    shown = [t.name for t in figure.data if t.visible not in ("legendonly", False)]
    assert shown == ["Black"]  # the chosen group; the others one legend click away


def test_deprivation_shows_the_rii_per_period(trends):
    m = trends.model(trends.TrendsView.parse({
        "org": "ENG", "metric": "pph_1500", "dim": "deprivation_quintile",
        "kind": "financial_year"})[0])
    index = m.gap.series.filter(pl.col("group") == INDEX_GROUP)
    assert index.height == m.points["period"].n_unique()
    tree = trends.layout(**trends.viewstate.query_of(m_search(trends, m)))
    rows = [r for r in table_of(tree, trends.TRENDS_GAP_TABLE).rows
            if r[0] == gaptrend.group_label(INDEX_GROUP)]
    assert [r[2] for r in rows] == [f"{v:.2f}" for v in index["ratio"]]
    assert "the gap across the deprivation gradient as a whole (RII)" in \
        text_of(by_id(tree, trends.TRENDS_GAP_VERDICTS))


def m_search(trends, m) -> str:
    return trends.TrendsView(m.org, m.metric.id, m.dimension, m.kind, m.group,
                             m.projection).search()


def test_rolling_periods_get_the_gap_without_a_trend_test(trends, stories):
    org = stories["pph_gap_closes"]
    tree = trends.layout(org=org, metric="pph_1500", dim="ethnicity",
                         kind="rolling_12_months", group="Black")
    advice = text_of(by_id(tree, trends.TRENDS_GAP_ADVICE))
    assert "No trend test on overlapping periods" in advice
    offered = advice.split("choose ")[-1]
    assert "financial years" in offered and offered.endswith("under “Periods”.")
    assert "rolling" not in offered
    assert by_id(tree, trends.TRENDS_GAP_GRAPH).figure.data
    assert not _has(tree, trends.TRENDS_GAP_VERDICTS)


def test_the_total_points_to_the_breakdowns(trends):
    text = text_of(trends.layout(org="ENG", metric="pph_1500", dim="total", kind="quarter"))
    assert "Is the gap closing?" in text and "Choose a breakdown by ethnicity" in text


# -- advice that fits the view ---------------------------------------------------------------


def _named(trends, kind: str, text: str) -> bool:
    return spcwords.kind_words(kind) in text or spcwords.kind_noun(kind) in text


def _spc_drawn(trends, m, route) -> bool:
    """Whether the view a route suggests draws an SPC chart."""
    org, dimension, group = m.org, m.dimension, m.group
    if route.change == models.CHANGE_TOTAL:
        dimension, group = TOTAL, ALL_GROUP
    elif route.change == models.CHANGE_ORG:
        org = queries.organisations().filter(pl.col("name") == route.names[0])["org_code"][0]
    groups = route.names if route.change == models.CHANGE_GROUP else (group,)
    return all(trends.model(trends.TrendsView(org, m.metric.id, dimension, route.kind, g))
               .spc_options is None for g in groups)


def test_spc_advice_fits_the_view_and_never_names_its_kind(trends, stories):
    small, story = stories["very_small_unit"], stories["pph_gap_closes"]
    queries_ = [
        {"org": story, "metric": "pph_1500", "dim": "ethnicity", "kind": k, "group": "Black"}
        for k in ("quarter", "financial_year", "rolling_12_months")] + [
        {"org": small, "metric": "pph_1500", "dim": "ethnicity", "kind": "quarter"},
        {"org": "ENG", "metric": "pph_1500", "dim": "deprivation_quintile",
         "kind": "financial_year"},
    ]
    views = [trends.TrendsView.parse(q)[0] for q in queries_] + random_views(trends, 8, 23)
    advised = 0
    for view in views:
        m = trends.model(view)
        if m.spc_options is None:
            continue
        advised += 1
        tree = trends.layout(**trends.viewstate.query_of(view.search()))
        advice = text_of(by_id(tree, trends.TRENDS_SPC_ADVICE))
        assert advice == trends.spc_advice(m, m.spc_options)
        assert not _named(trends, view.kind, advice), (view, advice)
        for route in m.spc_options.routes:
            assert route.kind in m.kinds_held
            assert _spc_drawn(trends, m, route), (view, route)
        gap = trends.gap_advice(m) if m.gap is not None else None
        if gap:
            assert not _named(trends, view.kind, gap.split(". ", 1)[-1]), (view, gap)
    assert advised >= 5


def test_suppressed_quarters_are_counted_for_this_view(trends, stories):
    org = stories["pph_gap_closes"]
    m = trends.model(trends.TrendsView.parse(
        {"org": org, "metric": "pph_1500", "dim": "ethnicity", "kind": "quarter",
         "group": "Black"})[0])
    options = m.spc_options
    black = m.points.filter(pl.col("group") == "Black")
    assert options.suppressed == black.filter(pl.col("value").is_null()
                                              & pl.col("suppressed")).height > 0
    assert options.published == black["value"].is_not_null().sum() < 12
    reason = trends.spc_reason(m, options)
    assert f"{options.suppressed} of {black.height} quarters are suppressed" in reason
    advice = trends.spc_advice(m, options)
    assert "quarter" not in advice and "the total under “Breakdown”" in advice


def test_period_menu_offers_only_kinds_with_figures(trends):
    # pph_1500 lists monthly figures in the registry; the demo store holds none.
    m = trends.model(trends.TrendsView.parse({"org": "ENG", "metric": "pph_1500"})[0])
    menu = by_id(trends.controls_card(m), trends.TRENDS_KIND).options
    assert [o["value"] for o in menu] == list(m.metric.period_kinds)
    for option in menu:
        held = option["value"] in m.kinds_held or option["value"] == m.kind
        assert option["disabled"] is (not held)
        assert ("no figures here" in option["label"]) is (not held)
    assert [o["value"] for o in menu if o["disabled"]] == ["month"]
