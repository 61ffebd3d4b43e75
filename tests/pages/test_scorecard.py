"""Scorecard page: Annex 3 metrics for a trust against England, RAG always with words."""

from __future__ import annotations

import csv
import io

import dash
import pytest
from dash import dcc, html

from components import scorecard as card
from data import queries
from metrics import registry
from metrics.scorecard import RAG
from tests.pages.conftest import find, text_of
from tests.pages.viewurl import written_search

ARROWS = "".join(card.CHANGE_ARROWS.values())


@pytest.fixture(scope="module")
def scorecard(page):
    return page("scorecard")


def _table(tree):
    return find(tree, lambda c: getattr(c, "id", None) == "scorecard-table")[0]


def _on_screen(tree) -> list[list[str]]:
    """Body rows of the scorecard table as text, without the links column."""
    body = _table(tree).children[2]
    return [[text_of(cell).strip().lstrip(ARROWS).strip() for cell in tr.children[:-1]]
            for tr in body.children]


def test_layout_renders_with_no_arguments(scorecard):
    tree = scorecard.layout()
    text = text_of(tree)
    assert "Scorecard" in text
    assert "Some of the link could not be used" not in text
    graphs = find(tree, lambda c: isinstance(c, dcc.Graph))
    assert graphs and graphs[0].figure.data, "the default trust draws a chart"
    assert len(_on_screen(tree)) == len(registry.ANNEX3_METRICS)
    # The default is a trust (the scorecard compares a trust with England).
    assert queries.org_level(scorecard.ScorecardView.parse({})[0].org) == "trust"


def test_every_rag_badge_carries_its_word(scorecard):
    tree = scorecard.layout(org="SYN118")
    badges = find(tree, lambda c: isinstance(c, html.Span)
                  and str(getattr(c, "className", "")).startswith("rag rag-"))
    assert len(badges) >= len(registry.ANNEX3_METRICS) + 4  # table rows plus the legend
    for badge in badges:
        colour = badge.className.split("rag-")[1]
        assert badge.children == card.RAG_WORDS[colour]


def test_legend_follows_the_statistical_rag_mapping():
    meanings = card.rag_meanings()
    assert list(meanings) == ["green", "amber", "red", "grey"]
    assert "significantly better than England" in meanings["green"]
    assert "similar to England" in meanings["amber"]
    assert "significantly worse than England" in meanings["red"]
    assert "not compared" in meanings["grey"]
    # Every outcome of the comparison is explained under its colour.
    for outcome, colour in RAG.items():
        assert card.LEGEND_MEANING[outcome] in meanings[colour]


def test_rag_matches_the_comparison_with_england(scorecard):
    frame = queries.scorecard("SYN118")
    rows = card.scorecard_rows(frame)
    for source, shown in zip(frame.iter_rows(named=True), rows.iter_rows(named=True),
                             strict=True):
        if source["status"] == "ok":
            assert shown["RAG rating"] == card.RAG_WORDS[RAG[source["vs_england"]]]
        else:
            assert shown["RAG rating"] == "Grey"
    # The planted story trust has at least one red and one green in the demo.
    assert {"Red", "Green"} <= set(rows["RAG rating"])


def test_suppressed_is_shown_as_suppressed_never_zero(scorecard):
    frame = queries.scorecard("SYN118")
    suppressed = frame.filter(frame["status"] == "suppressed")
    assert suppressed.height, "the demo trust has a suppressed Annex 3 metric"
    rows = card.scorecard_rows(frame).filter(
        card.scorecard_rows(frame)["Metric"].is_in(
            [registry.get(m).title for m in suppressed["metric"]]))
    assert set(rows["Value"]) == {"*"} and set(rows["95% CI"]) == {"*"}
    assert all(w.startswith("Not compared") for w in rows["Compared with England"])
    figure = find(scorecard.layout(org="SYN118"), lambda c: isinstance(c, dcc.Graph))[0].figure
    assert any("Suppressed" in (a.text or "") for a in figure.layout.annotations)


def test_england_shows_national_values_without_rating(scorecard):
    tree = scorecard.layout(org="ENG")
    text = text_of(tree)
    assert "England is the benchmark" in text
    rows = _on_screen(tree)
    assert {r[6] for r in rows} == {"Grey"}
    assert all(r[5] == "Not compared: England is the benchmark" for r in rows)


@pytest.mark.parametrize("query, message", [
    ({"org": "NOPE"}, "Unknown organisation"),
    ({"org": "Y56"}, "is not a trust"),
    ({"org": "<script>"}, "Unknown organisation"),
])
def test_invalid_organisations_fall_back_with_a_notice(scorecard, query, message):
    view, notices = scorecard.ScorecardView.parse(query)
    assert view.org == scorecard.default_trust()
    assert any(message in n for n in notices)
    tree = scorecard.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_rows_link_to_explore_and_trends_with_the_metric(scorecard):
    tree = scorecard.layout(org="SYN010")
    hrefs = [c.href for c in find(tree, lambda c: isinstance(c, dcc.Link))]
    for metric in registry.ANNEX3_METRICS:
        assert any(h.startswith("/explore?") and f"metric={metric.id}" in h and "org=SYN010" in h
                   for h in hrefs)
        assert any(h.startswith("/trends?") and f"metric={metric.id}" in h for h in hrefs)


def test_closed_trust_explains_its_old_periods(scorecard, demo):
    merged = [c for c, s in demo.manifest["stories"].items() if "merged_away" in s][0]
    text = text_of(scorecard.layout(org=merged))
    assert "closed in" in text and "merging into" in text


def test_change_words_follow_polarity():
    stillbirth = registry.get("stillbirth")  # lower is better
    assert card.change_words({"change": "up", "previous_period": "2023",
                              "previous_value": 3.0}, stillbirth).startswith(
        "Up, significant: worse")
    assert card.change_words({"change": "down", "previous_period": "2023",
                              "previous_value": 3.0}, stillbirth).startswith(
        "Down, significant: better")
    assert card.change_words({"change": "flat", "previous_period": "2023",
                              "previous_value": 3.0}, stillbirth).startswith(
        "No significant change")
    assert card.change_words({"change": "none", "previous_period": None}, stillbirth) == \
        "No earlier period to compare"


def test_download_matches_the_table(scorecard):
    payload = scorecard.download_csv("?org=SYN118")
    assert payload["filename"] == "scorecard-SYN118.csv"
    rows = [r for r in csv.reader(io.StringIO(payload["content"])) if r and not
            r[0].startswith("#")]
    assert tuple(rows[0]) == card.COLUMNS
    assert rows[1:] == _on_screen(scorecard.layout(org="SYN118"))
    assert "Synthetic" in payload["content"].splitlines()[2]


def test_url_callback_writes_only_real_changes(scorecard):
    current = scorecard.ScorecardView("SYN118").search()
    assert written_search(scorecard.FOLLOWED, {"org": "SYN118"}, current) is dash.no_update
    assert written_search(scorecard.FOLLOWED, {"org": "SYN010"}, current) == "?org=SYN010"


def test_dot_chart_labels_every_panel_in_words(scorecard):
    frame = queries.scorecard("SYN118")
    figure = card.dot_chart(frame, org_label="Trust", title="t", source="s")
    words = [a.text for a in figure.layout.annotations if (a.text or "").split(":")[0]
             in card.RAG_WORDS.values()]
    assert len(words) == frame.height
