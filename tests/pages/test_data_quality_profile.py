"""Data quality page, "Who is booked": the population profile of an organisation beside
England, as bars with CIs, a table and a CSV download; never offered as an outcome."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from dash import dcc

from components.viewstate import query_of
from data import queries
from metrics import registry
from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE
from tests.pages.conftest import by_id, find, table_of, text_of
from tests.pages.viewurl import written_search

PROFILE = "booking_population"


@pytest.fixture(scope="module")
def dq(page):
    return page("data_quality")


@pytest.fixture(scope="module")
def trust(demo):
    """The largest open trust: its groups are big enough to be shown."""
    orgs = demo.organisations.filter((pl.col("org_level") == "trust")
                                     & pl.col("closed").is_null())
    return orgs.sort("annual_births", descending=True)["org_code"][0]


@pytest.fixture(scope="module")
def small_trust(demo):
    return [c for c, s in demo.manifest["stories"].items() if "very_small_unit" in s][0]


def _profile_graphs(tree) -> list[dcc.Graph]:
    return find(tree, lambda c: isinstance(c, dcc.Graph) and isinstance(c.id, dict)
                and c.id.get("type") == "data-quality-profile-graph")


def test_england_profile_renders_with_no_arguments(dq):
    tree = dq.layout()
    section = by_id(tree, dq.DATA_QUALITY_PROFILE)
    assert "Who is booked" in text_of(section)
    graphs = _profile_graphs(tree)
    assert [g.id["dimension"] for g in graphs] == [ETHNICITY, QUINTILE]
    for graph in graphs:
        bars = graph.figure.data[0]
        assert bars.type == "bar" and bars.error_x.array is not None
        assert len(graph.figure.data) == 1  # England: no comparator marks beside itself
    rows = table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).records()
    groups = [r["Group"] for r in rows]
    assert groups == list(DIMENSIONS[ETHNICITY].all_groups + DIMENSIONS[QUINTILE].all_groups)
    assert list(rows[0]) == ["Breakdown", "Group", "Women in the group", "Women booked",
                             "Share (%)", "95% CI"]  # no second England beside England


def test_trust_profile_beside_england_matches_the_store(dq, trust):
    view, _ = dq.DataQualityView.parse({"org": trust})
    period = dq.model(view).profile.period
    tree = dq.layout(org=trust)
    name = queries.org_name(trust)
    assert name in table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).caption
    rows = {(r["Breakdown"], r["Group"]): r
            for r in table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).records()}
    own = queries.breakdown(PROFILE, trust, period, ETHNICITY, "none")
    england = queries.breakdown(PROFILE, "ENG", period, ETHNICITY, "none")
    for group in ("White", "Asian", "Black"):
        mine = own.filter(pl.col("group") == group).row(0, named=True)
        eng = england.filter(pl.col("group") == group).row(0, named=True)
        row = rows[("Ethnicity", group)]
        assert row["Share (%)"] == f"{mine['value']:,.1f}"
        assert row["95% CI"] == f"{mine['lower95']:,.1f} to {mine['upper95']:,.1f}"
        assert row["Women in the group"] == f"{mine['numerator']:,}"
        assert row["England: share (%)"] == f"{eng['value']:,.1f}"
        # a share: counts over everyone booked, the not known groups included
        assert mine["denominator"] == own["denominator"].drop_nulls()[0]
    graph = _profile_graphs(tree)[0]
    assert [t.name for t in graph.figure.data][1] == "England"  # England's share marked
    assert name in graph.figure.layout.title.text.replace("<br>", " ")


def test_deciles_on_request_and_the_view_round_trips(dq, trust):
    tree = dq.layout(org=trust, pdim=DECILE)
    assert [g.id["dimension"] for g in _profile_graphs(tree)] == [ETHNICITY, DECILE]
    rows = table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).records()
    assert {r["Breakdown"] for r in rows} == {"Ethnicity", "Deprivation decile"}
    view, _ = dq.DataQualityView.parse({"org": trust, "pdim": DECILE, "region": "Y56"})
    assert dq.DataQualityView.parse(query_of(view.search()))[0] == view
    assert dq.DataQualityView.parse({})[0].search() == dq.DataQualityView.parse(
        query_of(dq.DataQualityView.parse({})[0].search()))[0].search()


def test_suppressed_groups_are_shown_as_suppressed_never_zero(dq, small_trust):
    tree = dq.layout(org=small_trust, pdim=DECILE)
    rows = table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).records()
    withheld = [r for r in rows if r["Share (%)"] == "*"]
    assert withheld, "a very small unit has groups too small to show"
    for row in withheld:
        assert row["Women in the group"] == "*" and row["95% CI"] == "*"
        assert row["England: share (%)"] not in ("*", ":")  # England's is never withheld
    labels = [a.text for g in _profile_graphs(tree) for a in g.figure.layout.annotations]
    assert any("suppressed" in (t or "") for t in labels)


def test_profile_download_is_the_table(dq, trust):
    search = f"?org={trust}&pdim={DECILE}"
    out = dq.download_profile_csv(search)
    assert out["filename"] == f"who-is-booked-{trust}.csv"
    lines = [line for line in out["content"].splitlines() if not line.startswith("#")]
    downloaded = list(csv.DictReader(io.StringIO("\n".join(lines))))
    shown = table_of(dq.layout(**query_of(search)), dq.DATA_QUALITY_PROFILE_TABLE).records()
    assert downloaded == shown
    assert "not an outcome" in out["content"]


def test_profile_says_it_is_not_an_outcome_and_offers_no_gaps(dq, trust):
    section = text_of(by_id(dq.layout(org=trust), dq.DATA_QUALITY_PROFILE))
    assert "not an outcome" in section
    for word in ("ratio to", "times that of", "reference)", "significant", "excess"):
        assert word not in section.lower()


@pytest.mark.parametrize("query, message", [({"org": "NOPE"}, "Unknown organisation"),
                                            ({"pdim": "ethnicity"},
                                             "Unknown deprivation breakdown")])
def test_bad_profile_parameters_fall_back_with_a_notice(dq, query, message):
    view, notices = dq.DataQualityView.parse(query)
    assert any(message in n for n in notices)
    assert (view.org, view.deprivation) == ("ENG", QUINTILE)


def test_url_callbacks_keep_each_others_parameters(dq, trust):
    current = f"?org={trust}&pdim={DECILE}"
    search = written_search(dq.FOLLOWED, {"metric": "deprivation_known", "period": None,
                                          "region": "all", "sort": "name"}, current)
    view = dq.DataQualityView.parse(query_of(search))[0]
    assert (view.metric, view.sort, view.org, view.deprivation) == (
        "deprivation_known", "name", trust, DECILE)
    profile = written_search(dq.PROFILE_FOLLOWED, {"org": "ENG", "pdim": QUINTILE}, search)
    again = dq.DataQualityView.parse(query_of(profile))[0]
    assert (again.metric, again.sort, again.org, again.deprivation) == (
        "deprivation_known", "name", "ENG", QUINTILE)


# -- the profile is not an outcome: no other page offers it ------------------------------------


@pytest.mark.parametrize("name", ["explore", "trends", "intersections"])
def test_outcome_pages_refuse_the_profile(page, name):
    view, notices = getattr(page(name), [a for a in dir(page(name))
                                         if a.endswith("View")][0]).parse({"metric": PROFILE})
    assert view.metric != PROFILE and any("Unknown metric" in n for n in notices)


def test_menus_and_lists_leave_the_profile_out(page, demo):
    from components import controls

    assert PROFILE not in {o["value"] for o in controls.metric_options()}
    assert PROFILE not in page("benchmark").trust_metrics()
    assert PROFILE not in page("map").map_metrics()
    assert PROFILE not in {m.id for m in page("boardpack").pack_metrics("trust")}
    text = text_of(page("overview").layout())
    assert registry.get(PROFILE).title not in text
