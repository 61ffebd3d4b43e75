"""Overview: "Start here" and the headline gaps (each metric's most affected group against
the reference group), their choice of group, their links and small-number suppression."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest

from components import starthere, viewstate
from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, QUINTILE
from tests.pages.conftest import by_id, find, text_of
from views.overview import GAP_DIMENSIONS, adverse, most_affected


@pytest.fixture(scope="module")
def overview(page):
    return page("overview")


def frame(rows: list[tuple[str, str, float | None, bool | None]]) -> pl.DataFrame:
    """A breakdown by ethnicity: (group, status, ratio, significant) per group; White is the
    reference, at 10.0; each group's value is ten times its ratio."""
    return pl.DataFrame(
        [{"group": g, "status": s, "is_reference": g == "White",
          "value": None if r is None else 10.0 * r, "ratio": r,
          "ratio_lower95": None if r is None else r * 0.8,
          "ratio_upper95": None if r is None else r * 1.25, "gap_significant": sig}
         for g, s, r, sig in rows],
        schema={"group": pl.String, "status": pl.String, "is_reference": pl.Boolean,
                "value": pl.Float64, "ratio": pl.Float64, "ratio_lower95": pl.Float64,
                "ratio_upper95": pl.Float64, "gap_significant": pl.Boolean})


WHITE = ("White", "ok", 1.0, None)
PPH = registry.get("pph_1500")  # lower is better
BOOKED = registry.get("booked_by_10_weeks")  # higher is better
PLANNED = registry.get("caesarean_planned")  # no judgement


def test_the_most_affected_group_is_the_worst_significant_one_first():
    groups = frame([WHITE, ("Mixed", "ok", 1.9, False), ("Asian", "ok", 1.3, True),
                    ("Black", "ok", 1.5, True), ("Other", "ok", 0.5, True)])
    # Lower is better: the highest significant ratio, though Mixed's is higher still.
    assert most_affected(groups, PPH, ETHNICITY)["group"] == "Black"
    # Higher is better: the lowest ratio.
    assert most_affected(groups, BOOKED, ETHNICITY)["group"] == "Other"
    # No judgement: the significant ratio furthest from 1 either way (0.5 is as far as 2).
    assert most_affected(groups, PLANNED, ETHNICITY)["group"] == "Other"
    found = most_affected(groups, PPH, ETHNICITY)
    assert (found["ratio"], found["value"], found["reference_value"], found["status"]) == \
        (1.5, 15.0, 10.0, "ok")
    assert found["reference"] == "White" and found["gap_significant"] is True


def test_without_a_significant_gap_the_worst_group_is_shown():
    groups = frame([WHITE, ("Mixed", "ok", 1.2, False), ("Black", "ok", 1.4, False),
                    ("Other", "ok", 0.7, True)])
    # Other's significant gap is on the better side: the worst group is still Black.
    found = most_affected(groups, PPH, ETHNICITY)
    assert (found["group"], found["gap_significant"]) == ("Black", False)


def test_withheld_unknown_and_eventless_groups_are_never_chosen():
    groups = frame([WHITE, ("Black", "suppressed", None, None),
                    ("Not stated", "ok", 3.0, True), ("Asian", "ok", 0.0, None),
                    ("Mixed", "ok", 1.1, False)])
    assert most_affected(groups, PPH, ETHNICITY)["group"] == "Mixed"
    assert most_affected(groups, BOOKED, ETHNICITY)["group"] == "Mixed"


@pytest.mark.parametrize(("rows", "status"), [
    ([WHITE, ("Black", "suppressed", None, None), ("Asian", "no data", None, None)],
     "suppressed"),
    ([("White", "suppressed", None, None), ("Black", "ok", None, None)], "suppressed"),
    ([WHITE, ("Black", "no data", None, None)], "no data"),
])
def test_no_comparison_says_why(rows, status):
    found = most_affected(frame(rows), PPH, ETHNICITY)
    assert found["status"] == status
    assert found.get("ratio") is None and found.get("group") is None


def test_adverse_follows_the_metrics_polarity():
    assert adverse(2.0, PPH) == pytest.approx(math.log(2))
    assert adverse(2.0, BOOKED) == pytest.approx(-math.log(2))
    assert adverse(0.5, PLANNED) == adverse(2.0, PLANNED) > 0


def sample_orgs(count: int, seed: int) -> list[str]:
    """England, then ``count`` organisations at random from every level."""
    orgs = queries.organisations()
    rng = random.Random(seed)
    picked = ["ENG"]
    for level in ("region", "icb", "trust"):
        codes = orgs.filter(pl.col("org_level") == level)["org_code"].sort().to_list()
        picked += rng.sample(codes, count)
    return picked


def test_start_here_links_open_their_views_with_the_organisation(overview, page, dash_app):
    views = {"/explore": page("explore").ExploreView, "/benchmark": page("benchmark").BenchmarkView,
             "/intersections": page("intersections").IntersectionsView,
             "/data-quality": page("data_quality").DataQualityView,
             "/scorecard": page("scorecard").ScorecardView,
             "/board-pack": page("boardpack").BoardPackView}
    for org in sample_orgs(3, seed=41):
        tree = overview.layout(org=org)
        card = by_id(tree, overview.OVERVIEW_START)
        text = text_of(card)
        for question in ("How does my trust compare?", "Where are the gaps in my area?",
                         "A board pack for my trust"):
            assert question in text
        m = overview.model(overview.OverviewView.parse({"org": org})[0])
        hrefs = [c.href for c in find(card, lambda c: getattr(c, "href", None))]
        assert len(hrefs) == 7
        # In order: the trust analyst's two links, the ICB lead's three, the board's two.
        carries = [m.org if m.level == "trust" else None] * 2 + \
            [m.area["icb"] or (None if org == "ENG" else org)] * 3 + \
            [m.org if m.level == "trust" else None] * 2
        carries[0] = None if org == "ENG" else org  # Explore takes any organisation
        for href, expected in zip(hrefs, carries, strict=True):
            path, _, search = href.partition("?")
            query = viewstate.query_of(search)
            view, notices = views[path].parse(query)
            assert notices == [], href  # each link opens exactly its view
            assert query.get("trusts", query.get("org")) == expected, href
        # A trust's ICB is the one its row names; an ICB's is itself.
        if m.level in ("trust", "icb"):
            row = m.organisations.filter(pl.col("org_code") == org).row(0, named=True)
            assert m.area["icb"] == (org if m.level == "icb" else row["icb_code"])
            assert "Choose your ICB" not in text
        if m.level != "trust":
            assert "Choose your trust above, then" in text


def test_paths_ask_for_a_trust_only_when_none_is_chosen():
    trust, england = (starthere.paths("SYN010", "trust", "SYNQ05", "Y56"),
                      starthere.paths("ENG", "england", None, None))
    assert [p.first for p in trust] == ["", "", ""]
    assert [p.first for p in england] == ["Choose your trust above, then",
                                          "Choose your ICB above, then",
                                          "Choose your trust above, then"]
    assert dict(trust[2].steps) == {"Scorecard against England": "/scorecard?org=SYN010",
                                    "Board pack": "/board-pack?org=SYN010"}
    assert dict(trust[1].steps)["Data quality"] == "/data-quality?org=SYNQ05&region=Y56"
    assert dict(england[0].steps) == {"Explore it by group": "/explore",
                                      "Benchmark it against all trusts": "/benchmark"}


def test_headline_gaps_only_compare_published_figures(overview):
    """Every group compared is published (not suppressed) in Explore's own breakdown, with
    the same value and ratio; a comparison is marked suppressed only where a group is."""
    seen = set()
    for org in sample_orgs(4, seed=43):
        m = overview.model(overview.OverviewView.parse({"org": org})[0])
        for row in m.gaps.iter_rows(named=True):
            assert row["dimension"] in GAP_DIMENSIONS
            source = queries.breakdown(row["metric"], org, row["period"], row["dimension"],
                                       "none")
            seen.add(row["status"])
            if row["status"] != "ok":
                assert row["value"] is None and row["ratio"] is None
                assert (row["status"] == "suppressed") == \
                    (source["status"] == "suppressed").any()
                continue
            group = source.filter(pl.col("group") == row["group"]).row(0, named=True)
            reference = source.filter(pl.col("is_reference")).row(0, named=True)
            assert group["status"] == reference["status"] == "ok"
            assert (group["value"], group["ratio"], reference["value"]) == \
                (row["value"], row["ratio"], row["reference_value"])
    assert {"ok", "suppressed"} <= seen


def test_without_breakdowns_there_is_no_chart_and_the_page_says_why(overview):
    from dataclasses import replace

    from dash import dcc

    m = overview.model(overview.OverviewView.parse({"org": "SYN010"})[0])
    section = overview.gaps_section(replace(m, gaps=m.gaps.clear()))
    assert "No metric is published by ethnicity or deprivation for " + m.org_name \
        in text_of(section)
    assert not find(section, lambda c: isinstance(c, dcc.Graph))
    # The metrics left out of the chart are named under it.
    names = [metric.short_title for metric in m.totals_only]
    assert names and all(name in text_of(overview.totals_only_note(m)) for name in names)
    assert not set(m.gaps["metric"]) & {metric.id for metric in m.totals_only}


def test_the_chart_is_a_log_forest_with_a_line_at_one(overview):
    tree = overview.layout()
    figure = by_id(tree, overview.OVERVIEW_GAPS_GRAPH).figure
    assert figure.layout.xaxis.type == "log"
    assert [(s.x0, s.x1) for s in figure.layout.shapes] == [(1, 1)]
    names = {t.name for t in figure.data}
    assert names <= {"Significant gap (95% CI excludes 1)", "Not significant"}
    symbols = {t.name: t.marker.symbol for t in figure.data}
    assert symbols.get("Significant gap (95% CI excludes 1)") == "diamond"
    # Sections head their rows, in registry order.
    ticks = list(figure.layout.yaxis.ticktext)[::-1]
    headings = [t for t in ticks if t.startswith("<b>")]
    sections = [s for s in registry.SECTIONS if f"<b>{s}</b>" in headings]
    assert headings == [f"<b>{s}</b>" for s in sections]
    assert QUINTILE in {d for d in overview.model(overview.OverviewView.parse({})[0]).gaps[
        "dimension"]}


def test_the_csv_keys_the_symbols_it_uses(overview):
    from tests.pages.test_table_keys import _csv_check

    withheld = next(org for org in sample_orgs(6, seed=47) if (overview.model(
        overview.OverviewView.parse({"org": org})[0]).gaps["status"] == "suppressed").any())
    download = overview.download_csv(f"?org={withheld}")
    assert "# Symbols: * suppressed (small numbers)" in download["content"]
    _csv_check(download, f"overview.download_csv?org={withheld}")
