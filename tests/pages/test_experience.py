"""Experience page: CQC survey metrics by group, published levels, survey years, context."""

from __future__ import annotations

import csv
import io

import dash
import polars as pl
import pytest
from dash import dcc

from data import queries
from metrics import registry
from tests.pages.conftest import find, table_of, text_of
from tests.pages.viewurl import written_search


@pytest.fixture(scope="module")
def experience(page):
    return page("experience")


def _csv_rows(payload):
    return [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]


def test_metrics_are_the_cqc_ones(experience):
    assert {m.id for m in experience.PAGE_METRICS} == {
        m.id for m in registry.METRICS_LIST if m.source == registry.CQC}
    assert {"concerns_taken_seriously", "considered_complaint"} <= {
        m.id for m in experience.PAGE_METRICS}


def test_layout_renders_with_no_arguments(experience):
    tree = experience.layout()
    text = text_of(tree)
    assert "Experience" in text and "Some of the link could not be used" not in text
    graphs = find(tree, lambda c: isinstance(c, dcc.Graph))
    assert len(graphs) == 2 and all(g.figure.data for g in graphs)
    view, _ = experience.ExperienceView.parse({})
    assert view.period.endswith("survey") and view.dimension == "ethnicity"
    assert "Survey year (women giving birth in February)" in text


def test_gaps_stated_for_england_by_ethnicity(experience):
    text = text_of(experience.layout(metric="concerns_taken_seriously", dim="ethnicity"))
    assert "said their concerns were taken seriously" in text and "times (95% CI" in text


@pytest.mark.parametrize("query, message", [
    ({"metric": "stillbirth"}, "Unknown metric"),
    ({"org": "SYNQ12"}, "does not publish"),  # CQC publishes no ICB figures
    ({"org": "SYN118", "dim": "deprivation_quintile"}, "This data store holds no concerns "
                                                       "raised during labour and birth taken "
                                                       "seriously by deprivation quintile for"),
    ({"period": "2019 survey"}, "Unknown period"),
    ({"dim": "nonsense"}, "Unknown breakdown"),
])
def test_invalid_parameters_fall_back_with_a_notice(experience, query, message):
    _, notices = experience.ExperienceView.parse(query)
    assert any(message in n for n in notices), notices
    tree = experience.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_trust_shows_total_only_with_the_reason(experience):
    tree = experience.layout(org="SYN118", metric="considered_complaint")
    text = text_of(tree)
    assert "for England and regions only, so trust figures are totals" in text
    rows = table_of(tree, "experience-table").rows
    assert [r[0] for r in rows] == ["All"]


def test_trend_context_is_england_over_survey_years(experience):
    view, _ = experience.ExperienceView.parse({"metric": "considered_complaint"})
    points = experience.trend_points(view)
    assert set(points["group"]) == {"England"}
    assert points["period"].to_list() == queries.periods("considered_complaint",
                                                         "survey_year")
    assert points.filter(pl.col("value").is_null()).is_empty()


def test_downloads_match_the_tables(experience):
    search = "?metric=concerns_taken_seriously&org=Y62&dim=deprivation_quintile"
    tree = experience.layout(metric="concerns_taken_seriously", org="Y62",
                             dim="deprivation_quintile")
    payload = experience.download_csv(search)
    assert payload["filename"] == "experience-concerns_taken_seriously-Y62.csv"
    assert _csv_rows(payload)[1:] == table_of(tree, "experience-table").rows
    trend = experience.download_trend_csv(search)
    assert _csv_rows(trend)[1:] == table_of(tree, "experience-trend-table").rows
    assert {r[0] for r in _csv_rows(trend)[1:]} == {"England", "North West"}


def test_url_callback_writes_only_real_changes(experience):
    view = experience.ExperienceView.parse({})[0]
    shown = {"metric": view.metric, "org": view.org, "period": view.period,
             "dim": view.dimension}
    current = written_search(experience.FOLLOWED, shown, "")
    assert written_search(experience.FOLLOWED, shown, current) is dash.no_update
    changed = written_search(experience.FOLLOWED, shown | {"org": "Y56"}, current)
    assert "org=Y56" in changed
