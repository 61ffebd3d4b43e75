"""Charts agree with their tables (tracker issue 16, section 3): for every chart builder that
draws groups, on a sample of views across every breakdown the demo store holds, the rows a
chart marks as withheld are exactly the rows its table withholds, and every value it plots
is the table's value.

A chart is read the way Plotly.js 4 places things on a category axis (``set_convert.js``,
the bundle in ``assets/vendor``): trace data are matched to categories by name, but a layout
position (an annotation's ``x`` or ``y``) that is a number, or text that looks like one
("2"), is a serial position; only other text is a category's name. So a "suppressed" note
at ``y="9"`` on a decile chart is read on the tenth row, where the browser draws it.
"""

from __future__ import annotations

import base64
import html
import random
import re

import plotly.graph_objects as go
import polars as pl
import pytest
from dash import dcc

from components import figures
from data import queries
from metrics import registry
from metrics.categories import (
    DECILE,
    DIMENSIONS,
    ETHNICITY,
    QUINTILE,
    TOTAL,
)
from tests.pages.conftest import by_id, find, table_of, tables_of

BREAKDOWNS = (TOTAL, ETHNICITY, DECILE, QUINTILE)
WITHHELD_WORDS = ("suppressed", "no data")
# What a table cell says in place of a value, read as what its chart should say.
WITHHELD_CELLS = {"*": "suppressed", ":": "no data"}
GAP = ("gap",)  # a series' missing point: drawn as a gap, never labelled


# -- reading a figure as the browser draws it -------------------------------------------------


def _looks_numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value).strip())
    except ValueError:
        return False
    return True


def categories(figure: go.Figure, axis: str) -> list[str]:
    """The categories of ``axis`` ("yaxis", "xaxis2") in order; fails unless the builder
    made it a category axis (left to guess, Plotly reads names like "2" as numbers)."""
    layout = figure.layout[axis]
    assert layout.type == "category", f"{axis} is {layout.type!r}, not a category axis"
    assert layout.categoryarray, f"{axis} lists no categories"
    return list(layout.categoryarray)


def layout_row(names: list[str], position) -> str | None:
    """The category a layout position falls on, read as Plotly.js reads it."""
    if _looks_numeric(position):
        index = round(float(position))
        return names[index] if 0 <= index < len(names) else None
    return position if position in names else None


def _axis(ref: str | None, letter: str) -> str:
    """"y2" -> "yaxis2"."""
    return f"{letter}axis{(ref or letter)[1:]}"


def withheld_notes(figure: go.Figure) -> dict[str, str]:
    """Rows a figure's annotations label withheld: category -> "suppressed" or "no data"."""
    out: dict[str, str] = {}
    for note in figure.layout.annotations:
        text = (note.text or "").lower()
        kind = next((w for w in WITHHELD_WORDS if w in text), None)
        if kind is None or (note.yref or "y").startswith("paper"):
            continue
        row = layout_row(categories(figure, _axis(note.yref, "y")), note.y)
        assert row is not None, f"note {note.text!r} at y={note.y!r} is on no row"
        assert row not in out, f"two notes on row {row!r}"
        out[html.unescape(row)] = kind
    return out


def state(value, mark: str | None, decimals: int) -> tuple:
    """What a chart shows for one group: a value at the table's decimals, or why not."""
    assert mark is None or value is None, f"{value} is drawn on a row labelled {mark}"
    if mark is not None:
        return ("withheld", mark)
    return GAP if value is None else ("value", f"{value:,.{decimals}f}")


def cell_state(cell: str) -> tuple:
    """What a table cell says, in :func:`state`'s terms."""
    return ("withheld", WITHHELD_CELLS[cell]) if cell in WITHHELD_CELLS else ("value", cell)


def read_bars(figure: go.Figure, decimals: int) -> dict[str, tuple]:
    """:func:`figures.breakdown_bars`: each group's bar, or the note on its row."""
    (bars,) = [t for t in figure.data if t.type == "bar"]
    names = categories(figure, "yaxis")
    assert set(bars.y) <= set(names)
    marks = withheld_notes(figure)
    values = {html.unescape(g): x for g, x in zip(bars.y, bars.x, strict=True)}
    return {html.unescape(g): state(values.get(html.unescape(g)), marks.get(html.unescape(g)),
                                    decimals) for g in names}


def read_markers(figure: go.Figure, name: str, decimals: int) -> dict[str, tuple]:
    """A scatter series drawn on the groups' rows (a comparator's marks)."""
    (trace,) = [t for t in figure.data if t.type == "scatter" and t.name == name]
    return {html.unescape(g): state(x, None, decimals) for g, x in zip(trace.y, trace.x,
                                                                      strict=True)}


def table_states(records: list[dict], column: str, *, key: str = "Group") -> dict[str, tuple]:
    return {r[key].removesuffix(" (reference)"): cell_state(r[column]) for r in records}


def comparator_states(records: list[dict], column: str) -> dict[str, tuple]:
    """A comparator column: a withheld comparator is no mark at all (a gap)."""
    return {r["Group"].removesuffix(" (reference)"): GAP if r[column] in WITHHELD_CELLS
            else ("value", r[column].split(" ")[0]) for r in records}


def graphs(tree) -> list[dcc.Graph]:
    return find(tree, lambda c: isinstance(c, dcc.Graph))


# -- the reader itself -------------------------------------------------------------------------


def test_the_reader_places_notes_as_the_browser_does():
    deciles = ["Unknown", "10 (least deprived)", *map(str, range(9, 1, -1)), "1 (most deprived)"]
    figure = go.Figure(layout=dict(yaxis=dict(type="category", categoryarray=deciles)))
    # The fault of issue 16: a note placed by a name that looks like a number.
    figure.add_annotation(x=0, y="9", text="suppressed (small numbers)")
    assert withheld_notes(figure) == {"2": "suppressed"}
    figure.layout.annotations = []
    figure.add_annotation(x=0, y=figures.category_position(deciles, "9"), text="no data")
    assert withheld_notes(figure) == {"9": "no data"}
    with pytest.raises(AssertionError, match="not a category axis"):
        categories(go.Figure(), "yaxis")


# -- views ------------------------------------------------------------------------------------


def _sample_orgs(count: int, seed: int) -> list[str]:
    """England, one region, one ICB and ``count`` trusts (SYN008 and SYN050 among them)."""
    orgs = queries.organisations()
    by_level = {lv: orgs.filter(pl.col("org_level") == lv)["org_code"].sort().to_list()
                for lv in ("region", "icb", "trust")}
    rng = random.Random(seed)
    trusts = ["SYN008", "SYN050"] + rng.sample(by_level["trust"], count)
    return ["ENG", by_level["region"][0], rng.choice(by_level["icb"]),
            *dict.fromkeys(trusts)]


def views(dimension: str, *, count: int = 14, seed: int = 16) -> list[dict]:
    """Explore-style views holding ``dimension``: organisations of every level, metrics the
    store breaks down that way there, the latest period and another."""
    rng = random.Random(f"{seed}-{dimension}")
    out = []
    for org in _sample_orgs(5, seed):
        level = queries.org_level(org)
        metrics = [m.id for m in registry.OUTCOMES.values() if level in m.levels
                   and dimension in queries.dimensions_at(m.id, level)]
        for metric_id in rng.sample(metrics, min(2, len(metrics))):
            periods = queries.periods(metric_id)
            for period in dict.fromkeys([queries.latest_period(metric_id),
                                         rng.choice(periods)]):
                out.append({"org": org, "metric": metric_id, "period": period,
                            "dim": dimension})
    rng.shuffle(out)
    # The view from the issue, whatever the sample.
    example = {"org": "SYN008", "metric": "pph_1500", "period": "12 months to Mar 2025",
               "dim": DECILE}
    return ([example] if dimension == DECILE else []) + out[:count]


@pytest.fixture(scope="module")
def explore(page):
    return page("explore")


# -- breakdown bars ----------------------------------------------------------------------------


def test_the_issue_example_marks_the_withheld_deciles(explore):
    tree = explore.layout(org="SYN008", metric="pph_1500", period="12 months to Mar 2025",
                          dim=DECILE)
    read = read_bars(graphs(tree)[0].figure, 1)
    withheld = {g for g, s in read.items() if s[0] == "withheld"}
    assert withheld == {"1 (most deprived)", "5", "6", "7", "8", "9", "10 (least deprived)",
                        "Unknown"}
    assert {g: s for g, s in read.items() if g not in withheld} == {
        "2": ("value", "20.3"), "3": ("value", "23.4"), "4": ("value", "27.4")}


@pytest.mark.parametrize("dimension", BREAKDOWNS)
def test_explore_chart_matches_its_table(explore, dimension):
    checked = 0
    for query in views(dimension):
        view, notices = explore.ExploreView.parse(query)
        if notices or view.dimension != dimension:
            continue
        metric = registry.get(view.metric)
        tree = explore.layout(**query)
        drawn = graphs(tree)
        if not drawn:
            continue
        figure = drawn[0].figure
        records = table_of(tree, "explore-table").records()
        assert read_bars(figure, metric.decimals) == \
            table_states(records, f"Value ({metric.unit})"), query
        label = explore.comparator_label(view)
        if label and any(t.name == label for t in figure.data):
            assert read_markers(figure, label, metric.decimals) == \
                comparator_states(records, label), query
        checked += 1
    assert checked >= 5, f"only {checked} views of {dimension} drawn"


@pytest.mark.parametrize("dimension", (ETHNICITY, QUINTILE))
def test_board_pack_chart_matches_its_table(page, dimension):
    boardpack = page("boardpack")
    checked = 0
    for org in _sample_orgs(3, 7):
        view, _ = boardpack.BoardPackView.parse({"org": org})
        for metric in (registry.get("pph_1500"), registry.get("booked_by_10_weeks")):
            if dimension not in queries.dimensions_at(metric.id, queries.org_level(org)):
                continue
            period = boardpack.period_for(metric, view.period)
            block = boardpack.breakdown_block(view, metric, period, dimension)
            (graph,) = graphs(block)
            (table,) = tables_of(block)
            if not graph.figure.data:
                continue
            assert read_bars(graph.figure, metric.decimals) == table_states(
                table.records(), f"Value ({metric.unit})"), (org, metric.id)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("dimension", (DECILE, QUINTILE))
def test_profile_charts_match_their_table(page, dimension):
    dq = page("data_quality")
    metric = registry.get("booking_population")
    checked = 0
    # SYN115 withholds decile "2" of its profile, SYN007 the least deprived decile.
    for org in dict.fromkeys(["SYN115", "SYN007", *_sample_orgs(3, 11)]):
        tree = dq.layout(org=org, pdim=dimension)
        profile = find(tree, lambda c: isinstance(c, dcc.Graph) and isinstance(c.id, dict)
                       and c.id.get("type") == dq.DATA_QUALITY_PROFILE_GRAPH)
        if not profile:
            continue
        records = table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE).records()
        for graph in profile:
            label = DIMENSIONS[graph.id["dimension"]].label
            rows = [r for r in records if r["Breakdown"] == label]
            if not graph.figure.data:
                continue
            assert read_bars(graph.figure, metric.decimals) == \
                table_states(rows, "Share (%)"), (org, label)
            if org != "ENG":
                assert read_markers(graph.figure, "England", metric.decimals) == \
                    comparator_states(rows, "England: share (%)"), (org, label)
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize(("slug", "query"), [
    ("mortality", {"metric": "stillbirth", "dim": QUINTILE}),
    ("mortality", {"metric": "neonatal_death", "dim": ETHNICITY}),
    ("experience", {"metric": "concerns_taken_seriously", "dim": QUINTILE}),
])
def test_source_page_charts_match_their_tables(page, slug, query):
    module = page(slug)
    checked = 0
    for org in ("ENG", *_sample_orgs(2, 5)[1:3]):
        tree = module.layout(org=org, **query)
        drawn = [g for g in graphs(tree) if g.id == f"{slug}-graph"]
        if not drawn:
            continue
        metric = registry.get(query["metric"])
        records = table_of(tree, f"{slug}-table").records()
        assert read_bars(drawn[0].figure, metric.decimals) == \
            table_states(records, f"Value ({metric.unit})"), (slug, org)
        checked += 1
    assert checked


# -- small multiples (Benchmark) -------------------------------------------------------------


def read_panels(figure: go.Figure, decimals: int) -> list[dict[str, tuple]]:
    """:func:`figures.small_multiples`: per panel, each group's bar or the label riding on
    its zero-length bar."""
    panels = []
    for bars in (t for t in figure.data if t.type == "bar"):
        names = categories(figure, _axis(bars.yaxis, "y"))
        assert set(bars.y) <= set(names)
        read = {}
        for group, x, text in zip(bars.y, bars.x, bars.text, strict=True):
            mark = next((w for w in WITHHELD_WORDS if w in (text or "")), None)
            if mark is not None:
                assert not x, f"{group}: a value of {x} under a {mark} label"
            read[html.unescape(group)] = state(None if mark else x, mark, decimals)
        panels.append(read)
    return panels


@pytest.mark.parametrize("dimension", BREAKDOWNS)
def test_small_multiples_match_their_table(page, dimension):
    bench = page("benchmark")
    rng = random.Random(f"bench-{dimension}")
    trusts = queries.organisations().filter(pl.col("org_level") == "trust")["org_code"]
    checked = 0
    for metric_id in ("pph_1500", "booked_by_10_weeks", "stillbirth"):
        chosen = ["SYN008", *rng.sample(trusts.sort().to_list(), 3)]
        query = {"metric": metric_id, "trusts": ",".join(chosen), "dim": dimension}
        view, notices = bench.BenchmarkView.parse(query)
        if notices or view.dimension != dimension or not view.trusts:
            continue
        metric = registry.get(metric_id)
        tree = bench.layout(**query)
        figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
        if not any(t.type == "bar" for t in figure.data):
            continue
        records = table_of(tree, bench.BENCHMARK_MULTIPLES_TABLE).records()
        order = list(dict.fromkeys(r["Trust"] for r in records))
        expected = [table_states([r for r in records if r["Trust"] == trust],
                                 f"Value ({metric.unit})") for trust in order]
        assert read_panels(figure, metric.decimals) == expected, query
        checked += 1
    assert checked, f"no small multiples drawn by {dimension}"


# -- series over time (Trends and the source pages' context) ----------------------------------


def read_series(figure: go.Figure, groups: set[str], decimals: int) -> dict[tuple, tuple]:
    """:func:`figures.trend`: each group's point per period (a withheld one is a gap)."""
    periods = categories(figure, "xaxis")
    out = {}
    for trace in figure.data:
        name = html.unescape(trace.name or "")
        if trace.type != "scatter" or trace.mode != "lines+markers" or name not in groups:
            continue
        assert set(trace.x) <= set(periods)
        for period, y in zip(trace.x, trace.y, strict=True):
            out[(name, period)] = state(y, None, decimals)
    return out


def series_expected(records: list[dict], column: str, short) -> dict[tuple, tuple]:
    return {(r.get("Group") or r["Series"], short(r["Period"])):
            GAP if r[column] in WITHHELD_CELLS else ("value", r[column]) for r in records}


def _same_series(read: dict, expected: dict) -> None:
    """Every point the chart or the table has agrees; a point in neither is a gap."""
    for key in read.keys() | expected.keys():
        assert read.get(key, GAP) == expected.get(key, GAP), key


@pytest.mark.parametrize("dimension", BREAKDOWNS)
def test_trends_chart_matches_its_table(page, dimension):
    trends = page("trends")
    checked = 0
    for query in views(dimension, count=6, seed=3):
        query = {k: v for k, v in query.items() if k != "period"}
        view, notices = trends.TrendsView.parse(query)
        if notices or view.dimension != dimension:
            continue
        metric = registry.get(view.metric)
        tree = trends.layout(**query)
        drawn = [g for g in graphs(tree) if g.id == trends.TRENDS_SERIES_GRAPH]
        if not drawn:
            continue
        records = table_of(tree, trends.TRENDS_SERIES_TABLE).records()
        groups = {r["Group"] for r in records}
        short = _short_period(trends)
        _same_series(read_series(drawn[0].figure, groups, metric.decimals),
                     series_expected(records, f"Value ({metric.unit})", short))
        checked += 1
    assert checked, f"no trend drawn by {dimension}"


def _short_period(trends):
    """The chart's short period label for a table's full one (``trends.for_chart``)."""
    def short(label: str) -> str:
        frame = pl.DataFrame({"period": [label]})
        return trends.for_chart(frame)["period"][0]
    return short


@pytest.mark.parametrize("slug", ("mortality", "experience"))
def test_source_page_series_match_their_tables(page, slug):
    module = page(slug)
    checked = 0
    for org in ("ENG", "SYN008"):
        tree = module.layout(org=org)
        drawn = [g for g in graphs(tree) if g.id == f"{slug}-trend-graph"]
        if not drawn:
            continue
        records = table_of(tree, f"{slug}-trend-table").records()
        column = next(c for c in records[0] if c.startswith("Value ("))
        decimals = _decimals_of(records, column)
        _same_series(read_series(drawn[0].figure, {r["Series"] for r in records}, decimals),
                     series_expected(records, column, lambda p: p))
        checked += 1
    assert checked


def _decimals_of(records: list[dict], column: str) -> int:
    shown = [r[column] for r in records if r[column] not in WITHHELD_CELLS]
    return len(shown[0].partition(".")[2]) if shown else 1


# -- the heat map (Intersections) -------------------------------------------------------------


def read_heatmap(figure: go.Figure) -> dict[tuple, tuple]:
    """:func:`figures.intersection_heatmap`: each cell's ratio, or its grey symbol."""
    columns, rows = categories(figure, "xaxis"), categories(figure, "yaxis")
    grey, shown = (t for t in figure.data if t.type == "heatmap")
    out = {}
    for i, ethnicity in enumerate(rows):
        for j, quintile in enumerate(columns):
            key = (ethnicity, quintile.replace("<br>", " "))
            symbol, text = grey.text[i][j], shown.text[i][j]
            assert not (symbol and text), key
            if symbol:
                out[key] = cell_state(symbol)
            else:
                out[key] = ("value", re.sub(r"<[^>]+>", " ", text).split()[0])
    return out


@pytest.mark.parametrize("org", ("ENG", "SYN008", "SYN050"))
def test_heat_map_matches_its_table(page, org):
    """The ethnicity by deprivation quintile cross-tabulation (``ethnicity_by_quintile``)."""
    intersections = page("intersections")
    checked = 0
    for metric_id in ("pph_1500", "booked_by_10_weeks"):
        tree = intersections.layout(org=org, metric=metric_id)
        drawn = [g for g in graphs(tree) if g.id == intersections.INTERSECTIONS_GRAPH]
        if not drawn:
            continue
        metric = registry.get(metric_id)
        table = table_of(tree, intersections.INTERSECTIONS_TABLE)
        ratio = next(c for c in table.header if c.startswith("Ratio to"))
        expected = {}
        for r in table.records():
            value = r[f"Value ({metric.unit})"]
            key = (r["Ethnicity"], r["Deprivation quintile"])
            expected[key] = cell_state(value) if value in WITHHELD_CELLS else \
                cell_state(r[ratio].split(" ")[0])
        assert read_heatmap(drawn[0].figure) == expected, (org, metric_id)
        checked += 1
    assert checked


# -- local figures beside the national ones (Data page) ---------------------------------------


LOCAL_HEADER = "organisation,metric,period,group,dimension,numerator,denominator,source\n"


def _upload(rows: list[tuple[str, int]], dimension: str) -> str:
    body = LOCAL_HEADER + "".join(
        f"SYN008,pph_1500,2023-24,{group},{dimension},{n},{900 + i},audit\n"
        for i, (group, n) in enumerate(rows))
    return "data:text/csv;base64," + base64.b64encode(body.encode()).decode()


@pytest.mark.parametrize("dimension", (ETHNICITY, DECILE, QUINTILE))
def test_local_comparison_matches_its_table(page, dimension):
    data_page = page("_local_data")
    groups = DIMENSIONS[dimension].groups
    # Some groups small enough to be withheld (1 to 7), one zero, the rest shown; for
    # deciles the withheld set ("2", "3", "7", "9") is not its own mirror, so notes placed
    # by serial position instead of by name would land on other rows.
    counts = [30, 3, 2, 25, 18, 14, 4, 15, 0, 12][:len(groups)]
    view = data_page.on_upload(_upload(list(zip(groups, counts, strict=True)), dimension),
                               "audit.csv")
    (graph,) = graphs(view)
    figure = graph.figure
    names = categories(figure, "yaxis")
    marks = withheld_notes(figure)
    (local,) = [t for t in figure.data if (t.name or "").startswith("Local:")]
    values = dict(zip(local.y, local.x, strict=True))
    read = {g: state(values.get(g), marks.get(g), 1) for g in names}
    (table,) = [t for t in tables_of(view) if t.id is None]
    assert read == table_states(table.records(), "Local value")
    assert {g for g, s in read.items() if s[0] == "withheld"}, "the sample withholds some"
