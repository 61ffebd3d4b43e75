"""One fact, one place: Benchmark's charts, tables, sentence and CSVs are drawn from one view
model (``views.benchmark``), built once per view and cached.

Random views of the demo store (every trust metric, period, units compared, breakdown,
group, scope, funnel limits and a few chosen units); for each, every number the page shows is
read back from the funnel plot, the small multiples, both tables, the sentences above the
funnel and both CSV downloads, and each must be the model's fact, written the same way.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import html
import io
import random
import re
from pathlib import Path

import polars as pl
import pytest

from components import benchmark as builders
from components import figures
from components import format as fmt
from data import queries
from metrics import overdispersion
from tests.components.hovers import hover_texts
from tests.pages.conftest import by_id, table_of, tables_of, text_of
from tests.pages.test_charts_match_tables import read_panels, state
from views import benchmark as models

VIEWS = 14
WITHHELD = {"*": "suppressed", ":": "no data"}


@pytest.fixture(scope="module")
def bench(page):
    return page("benchmark")


def random_views(count: int, seed: int = 17) -> list[dict]:
    """Views drawn from the page's own choices: metric, period, units compared (trusts half
    the time), breakdown, group, 0 to 4 units, a scope (every unit half the time) and the
    funnel limits."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        metric = rng.choice(models.trust_metrics())
        offer = models.choices(metric)
        level = "trust" if rng.random() < 0.5 else rng.choice(offer.levels)
        dimension = rng.choice(offer.dimensions_at(level)[0])
        units = rng.sample(offer.units_at(level)["org_code"].sort().to_list(),
                           rng.randint(0, 4))
        scopes = [s.value for s in offer.scopes(level)]
        out.append({"metric": metric, "period": rng.choice(offer.periods), "dim": dimension,
                    "compare": level, "group": rng.choice(models.group_choices(dimension)),
                    "trusts": ",".join(units),
                    "within": models.ALL_PEERS if rng.random() < 0.5 else rng.choice(scopes),
                    "od": rng.choice(list(models.LIMITS))})
    return out


def csv_rows(content: str) -> list[list[str]]:
    """A download's table (the ``#`` lines above it left out), cells as the page shows
    them (the download quotes formula-like text)."""
    body = [line for line in content.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    return [[c[1:] if c.startswith("'") else c for c in row] for row in rows]


def value_cell(row: dict, decimals: int) -> str:
    """What a rank table shows for a trust's value: the number, ``*`` or ``:``."""
    if row["status"] == "suppressed":
        return "*"
    return ":" if fmt.missing(row["value"]) else fmt.number(row["value"], decimals)


def count_cell(n, suppressed: bool) -> str:
    if fmt.missing(n):
        return "*" if suppressed else ":"
    return "-" if n == 0 else f"{int(n):,}"


# -- every number in every place ---------------------------------------------------------------


@pytest.mark.parametrize("seed", (17, 29))
def test_every_place_says_the_models_numbers(bench, seed):
    checked = {"funnel": 0, "multiples": 0, "levels": set(), "limits": set(), "scoped": 0}
    for query in random_views(VIEWS // 2, seed):
        view, notices = bench.BenchmarkView.parse(query)
        assert not notices, (query, notices)
        m = bench.model(view)
        tree = bench.layout(**query)
        checked["funnel"] += _check_funnel(tree, bench, m)
        _check_sentence(tree, bench, m)
        _check_rank_table(tree, bench, m, view.search())
        _check_limits(tree, bench, m, view.search())
        checked["multiples"] += _check_multiples(tree, bench, m, view.search())
        checked["levels"].add(m.level)
        checked["limits"].add(m.limits_method)
        checked["scoped"] += m.scope.value != models.ALL_PEERS
    assert checked["funnel"] >= 3 and checked["multiples"] >= 2, checked
    assert len(checked["levels"]) >= 2 and len(checked["limits"]) >= 2, checked
    assert checked["scoped"] >= 1, checked


def _unit_traces(m) -> tuple[str, str]:
    """The funnel's trace names for the units and the chosen ones: "Trusts", "Chosen
    trusts"."""
    many = builders.UNIT_WORDS[m.level][1]
    return many[0].upper() + many[1:], f"Chosen {many}"


def _check_funnel(tree, bench, m) -> bool:
    """The funnel's points are the model's trusts (denominator, value), the chosen ones
    highlighted; its limits are the model's limits; its England line is England's value."""
    figure = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    shown = m.in_scope.filter(pl.col("value").is_not_null())
    if shown.is_empty():
        assert not figure.data and m.plotted == 0
        return False
    units, chosen_units = _unit_traces(m)
    points = {t.name: t for t in figure.data if t.name in (units, chosen_units)}
    drawn = sorted((x, y) for t in points.values() for x, y in zip(t.x, t.y, strict=True))
    assert drawn == sorted(shown.select("denominator", "value").rows())
    chosen = shown.filter(pl.col("org_code").is_in(list(m.trusts)))
    if chosen.height:
        trace = points[chosen_units]
        assert sorted(zip(trace.x, trace.y, strict=True)) == \
            sorted(chosen.select("denominator", "value").rows())
    # Each point's hover: its unit's short name, value, CI and counts, and its flag in words
    # (its label against the limits drawn: plain words, never a PHE label).
    expected = sorted(
        (r["denominator"], r["value"],
         f"<b>{figures.plain(builders.short_name(r['name']))}</b><br>"
         f"{fmt.value(m.metric, r['value'])} "
         f"({fmt.interval(m.metric, r['lower95'], r['upper95'])})<br>"
         f"{fmt.count(r['numerator'])} of {fmt.count(r['denominator'])}<br>"
         f"{builders.funnel_words(r['funnel'], r['status'], m.metric)}")
        for r in shown.iter_rows(named=True))
    hovers = sorted((x, y, hover) for trace in points.values() for x, y, hover in
                    zip(trace.x, trace.y, hover_texts(trace), strict=True))
    assert hovers == expected
    assert not [h for *_, h in hovers if "(0.0" in h.rsplit("<br>", 1)[1]]
    for limit, (name, _) in figures.FUNNEL_LINES.items():
        part = m.limits.filter(pl.col("limit") == limit)
        traces = [t for t in figure.data if t.name == name and list(t.x) ==
                  part["denominator"].to_list()]
        assert any(list(t.y) == part["value"].to_list() for t in traces), limit
    lines = [s.y0 for s in figure.layout.shapes if s.y0 == s.y1]
    assert lines == ([] if m.england is None else [m.england])
    if m.england is not None:
        assert any(a.text == f"England {fmt.value(m.metric, m.england)}"
                   for a in figure.layout.annotations)
    return True


SENTENCE = {
    "High (0.001)": r"(\d+) trusts? (?:is|are) above the 99\.8% limit",
    "High (0.025)": r"and (\d+) more above the 95% limit",
    "Low (0.001)": r"(\d+) trusts? (?:is|are) below the 99\.8% limit",
    "Low (0.025)": r"and (\d+) more below the 95% limit",
    "Not significant": r"(\d+) (?:is|are) within the limits",
}


def _check_sentence(tree, bench, m) -> None:
    """The sentence's counts are the model's funnel counts; its benchmark is England's."""
    said = text_of(by_id(tree, bench.BENCHMARK_FUNNEL_SUMMARY))
    counts = m.funnel_counts
    if m.plotted == 0:
        assert f"all {counts['trusts']} are suppressed" in said
        return
    one, many = builders.UNIT_WORDS[m.level]
    units = f"(?:{one}|{many})"
    assert re.search(rf"in each of {m.plotted} {units}\b", said), said
    for label, pattern in SENTENCE.items():
        pattern = pattern.replace("trusts?", units)
        assert int(re.search(pattern, said)[1]) == counts[label], (label, said)
    if counts["suppressed"]:
        assert f"({counts['suppressed']} {one}" in said
    if m.england is not None:
        assert f"England's {fmt.value(m.metric, m.england)}," in said


def _check_rank_table(tree, bench, m, search: str) -> None:
    """Each row of the table and of its download is the model's trust, in the model's
    order; the table holds the download's rows (all of them, or both ends and the chosen)."""
    ranked = list(m.peer_ranked.iter_rows(named=True))
    rows = csv_rows(bench.rank_csv(search)["content"])
    if not ranked:
        assert rows == []
        assert bench.BENCHMARK_RANK_TABLE not in [t.id for t in tables_of(tree)]
        return
    header, body = rows[0], rows[1:]
    assert [r[0] for r in body] == [r["org_code"] for r in ranked]
    decimals = m.metric.decimals
    rank, rank_of = builders.rank_column(m.level), \
        "rank_in_peer_group" if m.level == "trust" else "rank_overall"
    for cells, row in zip(body, ranked, strict=True):
        record = dict(zip(header, cells, strict=True))
        assert record["Funnel plot"] == builders.funnel_words(row["funnel"], row["status"],
                                                              m.metric)
        assert record[f"Value ({m.metric.unit})"] == value_cell(row, decimals), record
        assert record["Numerator"] == count_cell(row["numerator"], row["suppressed"])
        assert record["Denominator"] == count_cell(row["denominator"], row["suppressed"])
        if record["95% CI"] not in WITHHELD:
            assert record["95% CI"] == (f"{fmt.number(row['lower95'], decimals)} to "
                                        f"{fmt.number(row['upper95'], decimals)}")
        if record[rank] not in WITHHELD:
            assert int(record[rank]) == row[rank_of]
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert table.header == header
    shown = set(map(tuple, table.rows))
    assert [r for r in body if tuple(r) in shown] == table.rows


def _check_limits(tree, bench, m, search: str) -> None:
    """The flags and limits are those of the limits chosen, worked out here from the
    standard frame; the over-dispersion estimate beside the chart is the model's and is in
    the rank download's preamble."""
    shown = models.funnel_dimension(m.dimension, m.group)
    standard = queries.benchmark(m.metric.id, m.period, shown, m.group, m.level)
    fit = overdispersion.benchmark_dispersion(standard, metric=m.metric, average=m.england) \
        if standard["value"].is_not_null().sum() >= 2 else None
    if fit is not None:
        assert m.dispersion == fit
    if m.adjusted and fit is not None:
        expected = overdispersion.adjusted_benchmark(
            standard, metric=m.metric, method=m.limits_method, average=m.england)
        assert m.ranked["funnel"].to_list() == expected["funnel_adjusted"].to_list()
        curve = overdispersion.adjusted_funnel_curve(
            standard, metric=m.metric, method=m.limits_method, average=m.england)
        assert m.limits.equals(curve)
    else:
        assert m.ranked["funnel"].to_list() == standard["funnel"].to_list()
        assert m.limits.equals(queries.funnel(m.metric.id, m.period, shown, m.group, m.level))
    said = text_of(by_id(tree, bench.BENCHMARK_DISPERSION))
    if m.dispersion is not None:
        assert said.startswith(f"phi = {m.dispersion.phi:.1f}:"), said
        assert ("widened" in said) == (m.adjusted and m.dispersion.over_dispersed), said
    preamble = [line for line in bench.rank_csv(search)["content"].splitlines()
                if line.startswith("#")]
    assert any(said in line for line in preamble), preamble
    funnel = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    if funnel.data:
        note = next(a.text for a in funnel.layout.annotations if "Limits:" in a.text)
        widened = "widened for over-dispersion" in note
        assert widened == (m.adjusted and m.dispersion is not None)


def _check_multiples(tree, bench, m, search: str) -> bool:
    """Each chosen trust's panel draws the model's values and 95% CIs; the table and its
    download hold the same values."""
    drawn = [c for c in m.chosen if not c.frame.is_empty()]
    if not drawn:
        return False
    figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    bars = [t for t in figure.data if t.type == "bar"]
    decimals = m.metric.decimals
    assert read_panels(figure, decimals) == [_panel(c.frame, decimals) for c in drawn]
    for trace, chosen in zip(bars, drawn, strict=True):
        rows = {r["group"]: r for r in chosen.frame.iter_rows(named=True)}
        for group, up, down in zip(trace.y, trace.error_x.array, trace.error_x.arrayminus,
                                   strict=True):
            row = rows[html.unescape(group)]
            if row["value"] is not None:
                assert up == pytest.approx(row["upper95"] - row["value"])
                assert down == pytest.approx(row["value"] - row["lower95"])
    table = table_of(tree, bench.BENCHMARK_MULTIPLES_TABLE)
    rows = csv_rows(bench.multiples_csv(search)["content"])
    assert rows[0] == table.header and rows[1:] == table.rows
    column = f"Value ({m.metric.unit})"
    expected = [(c.name, r["group"], _table_value(r, decimals)) for c in drawn
                for r in c.frame.iter_rows(named=True)]
    unit = builders.unit_column(m.level)
    assert [(r[unit], r["Group"].removesuffix(" (reference)"), r[column])
            for r in table.records()] == expected
    # Every panel marks England's value for each of its groups.
    england = {r["group"]: r["value"] for r in m.england_groups.iter_rows(named=True)
               if r["value"] is not None}
    ticks = [t for t in figure.data if t.name == "England"]
    assert len(ticks) == (len(drawn) if england else 0)
    for tick, chosen in zip(ticks, drawn, strict=False):
        assert {html.unescape(g): x for g, x in zip(tick.y, tick.x, strict=True)} == \
            {g: v for g, v in england.items() if g in chosen.frame["group"].to_list()}
    return True


def _panel(frame: pl.DataFrame, decimals: int) -> dict[str, tuple]:
    """What a panel should show for each group of the model's frame."""
    return {r["group"]: state(r["value"], None if r["value"] is not None else
                              ("suppressed" if r["status"] == "suppressed" else "no data"),
                              decimals) for r in frame.iter_rows(named=True)}


def _table_value(row: dict, decimals: int) -> str:
    if row["status"] == "suppressed":
        return "*"
    return ":" if fmt.missing(row["value"]) else fmt.number(row["value"], decimals)


# -- built once, cached, and the page's only source ---------------------------------------------


def same(a, b) -> bool:
    """Whether two view models (or parts of them) hold the same facts: frames cell for
    cell, dataclasses field by field (a cached model comes back as a copy)."""
    if isinstance(a, pl.DataFrame) or isinstance(b, pl.DataFrame):
        return isinstance(b, pl.DataFrame) and isinstance(a, pl.DataFrame) and a.equals(b)
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b



def test_the_model_is_built_once_per_view(bench, dash_app, monkeypatch):
    """Within the app the model of a view is built once; a link with parameters the page
    does not know is the same view and reads the same cached model."""
    calls = []
    original = queries.benchmark

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "benchmark", counted)
    query = {"metric": "pph_1500", "dim": "ethnicity", "group": "Black",
             "trusts": "SYN010,SYN020"}
    with dash_app.server.test_request_context("/benchmark"):
        queries.cache.clear()
        first = bench.model(bench.BenchmarkView.parse(query)[0])
        built = len(calls)
        assert built >= 1
        again = bench.model(bench.BenchmarkView.parse(query | {"junk": "1"})[0])
        assert len(calls) == built
        assert same(again, first)
        other = bench.model(bench.BenchmarkView.parse(query | {"group": "White"})[0])
        assert len(calls) > built and not other.ranked.equals(first.ranked)


def test_a_render_and_its_downloads_make_one_model_call_each(bench, monkeypatch):
    calls = []
    original = models.benchmark

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(models, "benchmark", counted)
    search = "?metric=pph_1500&dim=ethnicity&trusts=SYN010"
    bench.layout(**bench.viewstate.query_of(search))
    bench.rank_csv(search)
    bench.multiples_csv(search)
    assert len(calls) == 3 and len(set(calls)) == 1


def test_the_page_reads_the_store_only_through_its_model(bench):
    tree = ast.parse(Path(bench.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"data", "data.queries", "data.store"}, imported
