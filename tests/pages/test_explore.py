"""Explore page: view parsing, layout with and without arguments, callbacks as functions."""

from __future__ import annotations

import csv
import io

import dash
import pytest
from dash import dcc

from tests.pages.conftest import find, text_of


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
    table = find(tree, lambda c: getattr(c, "id", None) == "explore-table")[0]
    text = text_of(table)
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
    current = explore.ExploreView.parse({"org": "ENG"})[0].search()
    unchanged = explore.update_url("ENG", "pph_1500", None, "ethnicity", "england", current)
    assert unchanged is dash.no_update
    changed = explore.update_url("ENG", "preterm", None, "ethnicity", "england", current)
    assert "metric=preterm" in changed


def test_download_matches_the_table(explore):
    search = "?org=SYN020&metric=pph_1500&dim=ethnicity"
    payload = explore.download_csv(search)
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]
    assert rows[0][0] == "Group"
    tree = explore.layout(org="SYN020", metric="pph_1500", dim="ethnicity")
    table = find(tree, lambda c: getattr(c, "id", None) == "explore-table")[0]
    body = table.children[2]
    on_screen = [[td.children for td in tr.children] for tr in body.children]
    assert rows[1:] == on_screen
    for row in rows[1:]:
        for cell in row[1:3]:
            assert cell in ("*", ":", "-") or int(cell.replace(",", "")) >= 8
