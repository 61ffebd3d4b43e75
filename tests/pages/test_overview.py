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
    for metric in registry.METRICS_LIST:
        assert metric.title in text
    links = find(tree, lambda c: isinstance(c, dcc.Link) and str(c.href).startswith("/explore"))
    assert len(links) == len(registry.METRICS_LIST)


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
