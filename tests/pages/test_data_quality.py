"""Data quality page: completeness per trust, thresholds in words, funnel, sorting, filters."""

from __future__ import annotations

import csv
import io

import dash
import polars as pl
import pytest
from dash import dcc

from components import figures
from components.viewstate import query_of
from data import queries
from metrics.breakdown import COMPLETENESS_THRESHOLD
from tests.components.hovers import hover_texts
from tests.pages.conftest import find, table_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def dq(page):
    return page("data_quality")


@pytest.fixture(scope="module")
def poor_trust(demo):
    return [c for c, s in demo.manifest["stories"].items() if "poor_ethnicity_recording" in s][0]


def test_layout_renders_with_no_arguments(dq):
    tree = dq.layout()
    text = text_of(tree)
    assert "Data quality" in text and "Some of the link could not be used" not in text
    graph = find(tree, lambda c: isinstance(c, dcc.Graph))[0]
    assert graph.figure.data
    view, _ = dq.DataQualityView.parse({})
    assert len(table_of(tree, dq.DATA_QUALITY_TABLE).records()) == \
        queries.benchmark(view.metric, view.period).height


def test_planted_poor_recorder_is_flagged_first_and_named(dq, poor_trust):
    tree = dq.layout(metric="ethnicity_recorded")
    rows = table_of(tree, dq.DATA_QUALITY_TABLE).records()
    name = queries.org_name(poor_trust)
    first = rows[0]
    assert first["Trust"] == name
    assert first["Threshold (90%)"] == "Below 90%"
    assert first["Against England (funnel)"].startswith("Below the 99.8% limit")
    headline = find(tree, lambda c: getattr(c, "id", None) == "data-quality-headline")[0]
    assert f"Lowest: {name}" in text_of(headline)
    funnel = find(tree, lambda c: isinstance(c, dcc.Graph))[0].figure
    flagged = [t for t in funnel.data if t.name == "Below 90% threshold"][0]
    assert any(h.startswith(f"<b>{figures.plain(name)}</b><br>") for h in hover_texts(flagged))


def test_headline_counts_trusts_below_the_threshold(dq):
    view, _ = dq.DataQualityView.parse({})
    frame = queries.benchmark(view.metric, view.period)
    below = frame.filter(pl.col("value") < COMPLETENESS_THRESHOLD[view.metric]).height
    shown = frame.filter(pl.col("value").is_not_null()).height
    assert below > 0
    text = text_of(dq.layout())
    assert f"{below} of {shown} trusts are below the 90% threshold" in text
    flagged = [r for r in table_of(dq.layout(), dq.DATA_QUALITY_TABLE).records()
               if r["Threshold (90%)"] == "Below 90%"]
    assert len(flagged) == below


def test_deprivation_uses_its_own_threshold(dq):
    rows = table_of(dq.layout(metric="deprivation_known"), dq.DATA_QUALITY_TABLE).records()
    assert "Threshold (95%)" in rows[0]
    for row in rows:
        value = row["Deprivation known (%)"]
        if value not in ("*", ":"):
            assert (row["Threshold (95%)"] == "Below 95%") == (float(value) < 95)


def test_region_filter_and_sorting(dq):
    london = queries.org_name("Y56")
    rows = table_of(dq.layout(region="Y56", sort="name"), dq.DATA_QUALITY_TABLE).records()
    assert rows and {r["Region"] for r in rows} == {london}
    names = [r["Trust"] for r in rows]
    assert names == sorted(names)
    assert f"trusts in {london}" in text_of(dq.layout(region="Y56"))
    sizes = [int(r["Women booked"].replace(",", ""))
             for r in table_of(dq.layout(sort="size"), dq.DATA_QUALITY_TABLE).records()
             if r["Women booked"] not in ("*", ":")]
    assert sizes == sorted(sizes, reverse=True)
    values = [float(r["Ethnicity recorded (%)"])
              for r in table_of(dq.layout(sort="highest"), dq.DATA_QUALITY_TABLE).records()
              if r["Ethnicity recorded (%)"] not in ("*", ":")]
    assert values == sorted(values, reverse=True)


def test_funnel_focuses_the_region_and_draws_the_threshold(dq):
    figure = find(dq.layout(region="Y63"), lambda c: isinstance(c, dcc.Graph))[0].figure
    names = {t.name for t in figure.data}
    assert "Other regions' trusts" in names
    assert any(s.y0 == 90 and s.y1 == 90 for s in figure.layout.shapes)
    assert any("90% threshold" in (a.text or "") for a in figure.layout.annotations)


@pytest.mark.parametrize("query, message", [
    ({"metric": "pph_1500"}, "Unknown measure"),
    ({"region": "Atlantis"}, "Unknown region"),
    ({"sort": "random"}, "Unknown sort order"),
    ({"period": "2099-00"}, "Unknown period"),
])
def test_invalid_parameters_fall_back_with_a_notice(dq, query, message):
    _, notices = dq.DataQualityView.parse(query)
    assert any(message in n for n in notices), notices
    tree = dq.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_view_round_trips_through_the_url(dq):
    view, _ = dq.DataQualityView.parse({"metric": "deprivation_known", "region": "Y58",
                                        "sort": "region", "period": "2023-24"})
    assert dq.DataQualityView.parse(query_of(view.search()))[0] == view


def test_download_matches_the_table(dq):
    payload = dq.download_csv("?region=Y61&sort=name")
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]
    on_screen = table_of(dq.layout(region="Y61", sort="name"), dq.DATA_QUALITY_TABLE).records()
    assert rows[0] == list(on_screen[0])
    assert rows[1:] == [list(r.values()) for r in on_screen]


def test_long_table_lists_the_first_trusts_in_the_chosen_order(dq, monkeypatch):
    """A store of many trusts lists the first ``TABLE_MAX`` in the page's order and says so;
    the download keeps every trust."""
    whole = table_of(dq.layout(sort="lowest"), dq.DATA_QUALITY_TABLE).records()
    monkeypatch.setattr(dq, "TABLE_MAX", 25)
    tree = dq.layout(sort="lowest")
    shown = table_of(tree, dq.DATA_QUALITY_TABLE).records()
    assert shown == whole[:25]
    assert f"Showing the first 25 of {len(whole):,} trusts in this order" in text_of(tree)
    payload = dq.download_csv("?sort=lowest")
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]
    assert len(rows) - 1 == len(whole)


def test_url_callback_writes_only_real_changes(dq):
    view = dq.DataQualityView.parse({})[0]
    shown = {"metric": view.metric, "period": view.period, "region": "all", "sort": "lowest"}
    current = written_search(dq.FOLLOWED, shown, "")
    assert written_search(dq.FOLLOWED, shown, current) is dash.no_update
    changed = written_search(dq.FOLLOWED, shown | {"region": "Y56"}, current)
    assert "region=Y56" in changed
    assert dq.DataQualityView.parse(dq.viewstate.query_of(changed))[0].region == "Y56"
