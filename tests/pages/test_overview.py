"""Overview page: cards for every metric published at the organisation's level."""

from __future__ import annotations

import pytest
from dash import dcc

from metrics import registry
from tests.pages.conftest import find, text_of


@pytest.fixture(scope="module")
def overview(page):
    return page("overview")


def test_england_has_a_card_for_every_metric(overview):
    tree = overview.layout()
    text = text_of(tree)
    for metric in registry.OUTCOME_METRICS:  # the population profile has no card
        assert metric.title in text
    cards = find(tree, lambda c: "metric-card" in str(getattr(c, "className", "")))
    links = [link for card in cards for link in find(
        card, lambda c: isinstance(c, dcc.Link) and str(c.href).startswith("/explore"))]
    assert len(links) == len(registry.OUTCOME_METRICS)


def test_trust_overview_compares_with_england(overview):
    text = text_of(overview.layout(org="SYN010"))
    assert "Compared with England" in text
    assert "Maternal mortality" not in text  # published for England only


def test_unknown_org_falls_back_with_notice(overview):
    text = text_of(overview.layout(org="<script>"))
    assert "Some of the link could not be used" in text
    assert "Overview: England" in text


def test_values_come_from_the_store(overview, demo):
    import polars as pl

    row = demo.counts.filter((pl.col("metric") == "pph_1500") & (pl.col("org_code") == "ENG")
                             & (pl.col("period_label") == "12 months to Mar 2025")
                             & (pl.col("dimension") == "total"))
    expected = row["numerator"][0] / row["denominator"][0] * 1000
    assert f"{expected:,.1f} per 1,000" in text_of(overview.layout())


def _links(component) -> list[str]:
    """Links into the views (not the link to the methods)."""
    return [c.href for c in find(component, lambda c: getattr(c, "href", None))
            if c.href.startswith(("/explore", "/trends"))]


def test_england_headline_gaps_in_numbers(overview):
    from tests.pages.conftest import by_id

    card = by_id(overview.layout(), "overview-excess")
    text = text_of(card)
    # More events than at the White rate: a positive excess, "more", as in Explore's table.
    assert "more women (95% CI" in text
    assert "had a postpartum haemorrhage of 1,500 ml or more than if every ethnic group "\
        "had had the same rate as White women" in text
    assert "more babies (95% CI" in text and "were stillborn than if" in text
    assert all(h.startswith("/explore?org=ENG") and "dim=ethnicity" in h for h in _links(card))


def _check_links(card, org, page):
    links = _links(card)
    assert links
    for href in links:
        path, _, search = href.partition("?")
        query = dict(p.split("=", 1) for p in search.split("&"))
        assert query["org"] == org
        view_class = {"/explore": page("explore").ExploreView,
                      "/trends": page("trends").TrendsView}[path]
        from components.viewstate import query_of

        view, notices = view_class.parse(query_of(search))
        assert notices == [], href  # every link opens exactly its view
        assert view.metric == query["metric"]
    return links


def test_what_changed_card_links_to_its_views(overview, page):
    from tests.pages.conftest import by_id

    card = by_id(overview.layout(), "overview-changes")
    text = text_of(card)
    assert "What changed since the 12 months to Mar 2024" in text
    items = find(card, lambda c: getattr(c, "className", None) == "mb-1"
                 and type(c).__name__ == "Li")
    assert 1 <= len(items) <= 5
    links = _check_links(card, "ENG", page)
    assert len(links) == len(items)
    assert any(h.startswith("/trends") for h in links) and any(
        h.startswith("/explore") for h in links)


def test_what_changed_for_the_story_trust(overview, page, stories):
    from tests.pages.conftest import by_id

    org = stories["pph_gap_closes"]
    tree = overview.layout(org=org)
    card = by_id(tree, "overview-changes")
    _check_links(card, org, page)
    # Its PPH gap closed in 2023, so a year-on-year comparison of the latest period does
    # not list it; the trust's PPH total shows as a special-cause improvement instead.
    text = text_of(card)
    assert "PPH ≥1,500 ml, all women: special-cause improvement" in text
    # Its smaller ethnic groups are suppressed, so there is no total of excess events.
    assert not find(tree, lambda c: getattr(c, "id", None) == "overview-excess")
