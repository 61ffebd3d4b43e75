"""One fact, one place: Explore's chart, table, sentences and CSV are drawn from one view model.

Random views of the demo store (every level, metric, breakdown and comparator); for each, the
numbers the page shows are read back from the figure, the table, the sentences beside the
chart and the CSV download, and each must be the model's fact, written the same way.
"""

from __future__ import annotations

import csv
import io
import random
import re

import pytest

from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS
from tests.pages.conftest import find, table_of, text_of
from tests.pages.test_charts_match_tables import graphs, read_bars, table_states

VIEWS = 36
RATIO = re.compile(r"(\d+\.\d\d) times \(95% CI (\d+\.\d\d) to (\d+\.\d\d)\)")


@pytest.fixture(scope="module")
def explore(page):
    return page("explore")


def random_views(count: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    orgs = queries.organisations().select("org_code", "org_level").rows()
    out = []
    while len(out) < count:
        org, level = rng.choice(orgs)
        metrics = [m for m in registry.OUTCOME_METRICS if level in m.levels]
        if not metrics:
            continue
        metric = rng.choice(metrics)
        dims = queries.dimensions_at(metric.id, level)
        periods = queries.periods(metric.id)
        if not dims or not periods:
            continue
        out.append({"org": org, "metric": metric.id, "period": rng.choice(periods),
                    "dim": rng.choice(dims),
                    "vs": rng.choice(("england", "none", "peer" if level == "trust" else
                                      "england"))})
    return out


def _csv_table(content: str) -> tuple[list[str], list[list[str]]]:
    body = [line for line in content.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    return rows[0], rows[1:]


def _cell(text: str) -> str:
    """A CSV cell as the table shows it (the download quotes formula-like text)."""
    return text[1:] if text.startswith("'") else text


def test_every_place_says_the_same_number(explore):
    checked = sum(_check_view(explore, query) for query in random_views(VIEWS))
    assert checked >= VIEWS // 2, f"only {checked} of {VIEWS} random views had a table"


def _check_view(explore, query: dict) -> bool:
    """Check one view; True when it had a table to check."""
    view, _ = explore.ExploreView.parse(query)
    m = explore.model(view)
    tree = explore.layout(**query)
    if not m.tabulated:
        assert not find(tree, lambda c: getattr(c, "id", None) == "explore-table")
        return False
    table = table_of(tree, "explore-table")
    records = table.records()
    decimals = m.metric.decimals
    value_column = f"Value ({m.metric.unit})"
    # The table holds the model's frame: each group's value, or its symbol.
    by_group = {r["Group"].removesuffix(" (reference)"): r for r in records}
    for row in m.frame.iter_rows(named=True):
        shown = by_group[row["group"]][value_column]
        if row["value"] is None:
            assert shown in ("*", ":", "z"), (row["group"], shown)
        else:
            assert shown == fmt.number(row["value"], decimals), (row["group"], shown)
    # The CSV is the table, cell for cell.
    header, rows = _csv_table(explore.download_csv(view.search())["content"])
    assert header == table.header
    assert [[_cell(c) for c in r] for r in rows] == table.rows
    # The chart draws the same values and withholds the same groups.
    drawn = graphs(tree)
    assert bool(drawn) == m.drawn
    if drawn:
        assert read_bars(drawn[0].figure, decimals) == table_states(records, value_column)
    # Every ratio the sentences state is the table's ratio for that group.
    said = text_of(tree)
    ratios = {g: r["Ratio to reference (95% CI)"] for g, r in by_group.items()
              if "Ratio to reference (95% CI)" in r}
    for statement in fmt.gap_statements(m.frame, m.metric, m.dimension):
        assert statement in said
        found = RATIO.search(statement)
        said_of = statement.split(m.metric.phrase)[0]  # "44.2% of babies of Asian women"
        groups = [g for g in DIMENSIONS[m.dimension].all_groups
                  if said_of.rstrip().endswith(fmt.subject(g, m.dimension, m.metric))]
        assert len(groups) == 1, (statement, said_of)
        group = groups[0]
        assert ratios[group] == f"{found[1]} ({found[2]} to {found[3]})", statement
    return True


def test_the_model_is_built_once_per_view(explore, dash_app, monkeypatch):
    """Within the app the model of a view is built once; a link with parameters the page
    does not know is the same view and reads the same cached model."""
    calls = []
    breakdown = queries.breakdown

    def counted(*args, **kwargs):
        calls.append(args)
        return breakdown(*args, **kwargs)

    monkeypatch.setattr(queries, "breakdown", counted)
    query = {"org": "ENG", "metric": "pph_1500", "dim": "ethnicity"}
    with dash_app.server.test_request_context("/explore"):
        queries.cache.clear()
        explore.model(explore.ExploreView.parse(query)[0])
        built = len(calls)
        assert built >= 1
        explore.model(explore.ExploreView.parse(query | {"junk": "1"})[0])
        assert len(calls) == built


def test_links_with_unknown_parameters_share_the_cached_view(page, dash_app):
    """Parameters a page does not know make no new cache entry, and a link whose values the
    page refuses (shown with a notice) is drawn each time and never cached."""
    from web import layouts

    def entries() -> int:
        return len(queries.cache.cache._cache)

    with dash_app.server.test_request_context("/explore"):
        queries.cache.clear()
        page("explore").layout(org="ENG", metric="pph_1500")
        first = entries()
        for junk in range(5):
            page("explore").layout(org="ENG", metric="pph_1500", **{f"junk{junk}": "x"})
        assert entries() == first
        page("explore").layout(org="NOT-A-TRUST")
        page("explore").layout(org="NOT-A-TRUST-EITHER")
        assert entries() == first
        search, exact = layouts.canonical("pages.explore", {"org": "NOT-A-TRUST"})
        assert not exact and "org=ENG" in search
        # A value the page replaces without refusing it (a breakdown not held there) is
        # not the canonical view either: its notice must be drawn.
        _, exact = layouts.canonical("pages.mortality", {"org": "SYN118", "dim": "ethnicity"})
        assert not exact


@pytest.mark.parametrize("slug", ["mortality", "experience"])
def test_a_source_page_says_the_models_numbers_everywhere(page, slug):
    """Mortality and Experience draw their chart, tables and both CSVs from one model."""
    module = page(slug)
    view_class = module.MortalityView if slug == "mortality" else module.ExperienceView
    checked = 0
    for metric in module.PAGE_METRICS:
        for org in ("ENG", *[o for o, level in queries.organisations().select(
                "org_code", "org_level").rows() if level in metric.levels][1:4]):
            for dim in ("total", "ethnicity", "deprivation_quintile"):
                query = {"metric": metric.id, "org": org, "dim": dim}
                view, _ = view_class.parse(query)
                m = view.model()
                tree = module.layout(**query)
                if m.tabulated:
                    table = table_of(tree, f"{slug}-table")
                    by_group = {r["Group"].removesuffix(" (reference)"): r
                                for r in table.records()}
                    column = f"Value ({m.metric.unit})"
                    for row in m.frame.iter_rows(named=True):
                        shown = by_group[row["group"]][column]
                        assert shown == ("*" if row["suppressed"] else ":") \
                            if row["value"] is None \
                            else shown == fmt.number(row["value"], m.metric.decimals)
                    header, rows = _csv_table(module.download_csv(view.search())["content"])
                    assert header == table.header
                    assert [[_cell(c) for c in r] for r in rows] == table.rows
                    checked += 1
                assert bool([g for g in graphs(tree) if g.id == f"{slug}-graph"]) == m.drawn
                if m.over_time:
                    trend = table_of(tree, f"{slug}-trend-table")
                    header, rows = _csv_table(
                        module.download_trend_csv(view.search())["content"])
                    assert header == trend.header
                    assert [[_cell(c) for c in r] for r in rows] == trend.rows
                    assert len(trend.rows) == m.points.height
    assert checked >= 6
