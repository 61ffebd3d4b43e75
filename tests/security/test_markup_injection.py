"""Markup injection through organisation names: a name is drawn as text on every chart and
in every table, never read as HTML (Plotly reads ``<a href>``, ``<b>`` and ``<br>`` in every
text it draws: titles, legends, hover labels, annotations, tick labels).

A small store is built by the real pipeline with organisation names holding a link and bold
markup, and every page is rendered on views that name those organisations; the figures'
JSON and the tables sent as one HTML string must hold no markup of the names' own, while
holding the names, escaped, where they appear.
"""

from __future__ import annotations

import dataclasses

import dash
import pytest

from components import figures
from returns import db, service
from returns import demo as returns_demo
from tests.pages.test_nothing_leaves import MARKUP, as_json, nodes, offsite_problems, strings
from tests.security import stores
from tests.security.conftest import data_dir

LINK = '<a href="http://evil.example">x</a>'
HOSTILE = {
    "SYN001": f"{LINK} NHS Trust",
    "SYN002": "<b>bold</b> & Sons NHS Foundation Trust",
    "SYNQ00": f"{LINK} ICB",
    "Y58": "<b>bold</b> region",
}
SHAPE = stores.Shape(regions=((2, 1), (1,)), months=15, density=0.5, seed=7)
METRIC = "booked_by_10_weeks"
VIEWS = (
    ("/", {"org": "SYN001"}),
    ("/explore", {"org": "SYN001", "metric": METRIC, "dim": "ethnicity"}),
    ("/explore", {"org": "SYNQ00", "metric": METRIC}),
    ("/explore", {"org": "Y58", "metric": METRIC}),
    ("/trends", {"org": "SYN001", "metric": METRIC}),
    ("/benchmark", {"metric": METRIC, "trusts": "SYN001,SYN002"}),
    ("/map", {"metric": METRIC}),
    ("/intersections", {"org": "SYN001", "metric": METRIC}),
    ("/scorecard", {"org": "SYN001"}),
    ("/data-quality", {"org": "SYN001"}),
    ("/data-quality", {"region": "Y58"}),
    ("/mortality", {"org": "SYN001"}),
    ("/experience", {"org": "SYN001"}),
    ("/board-pack", {"org": "SYN001"}),
    ("/board-pack", {"org": "SYN001", "full": "1"}),
    ("/data", {}),
    ("/returns", {}),
)


@pytest.fixture(scope="module")
def hostile_views(page, dash_app, tmp_path_factory) -> dict[str, object]:
    """``path?query`` -> the page's layout (as JSON) on the hostile store."""
    root = tmp_path_factory.mktemp("markup-store")
    stores.build(SHAPE, root, HOSTILE)
    paths = {p["path"]: p for p in dash.page_registry.values()}
    out = {}
    # A network of the hostile trusts, so the returns page names them too.
    url = f"sqlite:///{tmp_path_factory.mktemp('markup-returns') / 'returns.sqlite'}"
    network = returns_demo.demo_set(None)
    network = dataclasses.replace(network, indicators=tuple(
        dataclasses.replace(i, providers=("SYN001", "SYN002")) for i in network.indicators))
    service.define(db.engine(url), network, who="test")
    with data_dir(root), dash_app.server.app_context(), \
            pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        for path, query in VIEWS:
            key = path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
            out[key] = as_json(paths[path]["layout"](**query))
    return out


def test_every_page_is_covered(hostile_views):
    assert {key.split("?")[0] for key in hostile_views} >= \
        {p["path"] for p in dash.page_registry.values()} - {"/about"}


def test_names_reach_the_charts_escaped_and_never_as_markup(hostile_views):
    # Parts of the names, escaped (charts shorten and wrap names).
    escaped = (figures.plain("<a href="), figures.plain("<b>bold</b>"))
    reached: dict[str, int] = {}
    for key, tree in hostile_views.items():
        for graph in nodes(tree, "Graph"):
            assert offsite_problems(graph) == [], key
            found = strings(graph["props"].get("figure") or {})
            assert not [s for s in found if MARKUP.search(s)], \
                (key, [s for s in found if MARKUP.search(s)][:3])
            if any(e in s for s in found for e in escaped):
                reached[key] = reached.get(key, 0) + 1
    # Titles (Explore, Trends, Intersections, the scorecard), hover labels and point labels
    # (funnels), panel titles (small multiples) and the board pack's charts name them.
    for key in ("/explore?org=SYN001&metric=booked_by_10_weeks&dim=ethnicity",
                "/explore?org=SYNQ00&metric=booked_by_10_weeks",
                "/trends?org=SYN001&metric=booked_by_10_weeks",
                "/benchmark?metric=booked_by_10_weeks&trusts=SYN001,SYN002",
                "/intersections?org=SYN001&metric=booked_by_10_weeks",
                "/scorecard?org=SYN001", "/data-quality?org=SYN001",
                "/board-pack?org=SYN001&full=1"):
        assert reached.get(key), (key, reached)
    assert reached["/benchmark?metric=booked_by_10_weeks&trusts=SYN001,SYN002"] == 2
    assert reached["/board-pack?org=SYN001&full=1"] >= 3  # the full pack: a chart per metric


def test_the_returns_grid_names_providers_escaped(hostile_views):
    """The returns grid (a table sent as one HTML string) names the hostile trust, escaped."""
    grids = [n["props"].get("children") or "" for n in nodes(hostile_views["/returns?"],
                                                               "Markdown")
             if n["props"].get("dangerously_allow_html")]
    assert any("&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt; NHS Trust" in g
               for g in grids)
    assert not [g for g in grids if MARKUP.search(g)]


def test_names_in_tables_sent_as_html_are_escaped(hostile_views):
    seen = False
    for key, tree in hostile_views.items():
        for node in nodes(tree, "Markdown"):
            text = node["props"].get("children") or ""
            if not node["props"].get("dangerously_allow_html"):
                continue
            assert not MARKUP.search(text), (key, MARKUP.search(text))
            seen = seen or "&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt;" in text
    assert seen
