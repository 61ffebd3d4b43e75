"""One fact, one place: the Overview, Data quality and Intersections pages draw their charts,
tables, sentences and CSV downloads from one view model per view.

Random views of the demo store (seeded); for each, the numbers the page shows are read back
from the figures, the tables, the sentences and the downloads, and each must be the model's
fact, written the same way. Each model is built once per view, whatever else the link holds.
"""

from __future__ import annotations

import csv
import html
import io
import math
import random

import pytest

from components import crosstab, figures, headlinegaps, whatchanged
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS
from tests.components.hovers import hover_texts
from tests.pages.conftest import by_id, find, table_of, text_of
from tests.pages.test_charts_match_tables import (
    categories,
    cell_state,
    comparator_states,
    graphs,
    read_bars,
    read_heatmap,
    read_markers,
    table_states,
    withheld_notes,
)

VIEWS = 8


def csv_rows(content: str) -> list[list[str]]:
    """A download's rows (header first), without its ``#`` preamble."""
    body = [line for line in content.splitlines() if not line.startswith("#")]
    return [[c[1:] if c.startswith("'") else c for c in row]
            for row in csv.reader(io.StringIO("\n".join(body)))]


def shown(value, status: str, decimals: int) -> str:
    """A value as a table cell shows it: the number, ``*`` suppressed or ``:`` none."""
    if status == "suppressed":
        return "*"
    return ":" if fmt.missing(value) else fmt.number(value, decimals)


def orgs_sample(rng: random.Random, count: int, levels=("england", "region", "icb", "trust")):
    orgs = queries.organisations().filter(queries.organisations()["org_level"].is_in(
        list(levels)))["org_code"].sort().to_list()
    return ["ENG", *rng.sample([o for o in orgs if o != "ENG"], count - 1)]


def built_once(dash_app, monkeypatch, module, name: str, make, query: dict) -> None:
    """``make(query)`` twice, the second time with parameters the page does not know: the
    model is built once (``module.name``, which only the build calls, runs once) and both
    calls give the same facts."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    with dash_app.server.test_request_context("/"):
        queries.cache.clear()
        first = make(query)
        assert len(calls) == 1
        again = make(query | {"junk": "1", "utm_source": "x"})
        assert len(calls) == 1
        assert type(again) is type(first) and repr(again) == repr(first)


# -- Overview --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overview(page):
    return page("overview")


def overview_model(overview, query):
    return overview.model(overview.OverviewView.parse(query)[0])


def test_overview_model_is_built_once_per_view(overview, dash_app, monkeypatch):
    import views.overview

    built_once(dash_app, monkeypatch, views.overview.queries, "changes",
               lambda q: overview_model(overview, q), {"org": "SYN010"})


def _cards(tree) -> dict[str, str]:
    """Each metric card's text, by its title."""
    found = find(tree, lambda c: "metric-card" in str(getattr(c, "className", "")))
    return {text_of(c.children.children[0]): text_of(c) for c in found}


def test_overview_says_the_models_numbers(overview):
    rng = random.Random(17)
    for org in orgs_sample(rng, VIEWS):
        m = overview_model(overview, {"org": org})
        tree = overview.layout(org=org)
        cards = _cards(tree)
        assert list(cards) == [card.metric.title for card in m.cards]
        for card in m.cards:
            text, row, metric = cards[card.metric.title], card.latest, card.metric
            assert f"{metric.source} · {card.period}" in text
            if row["status"] == "suppressed":
                assert "Suppressed (small numbers)" in text
            elif not fmt.missing(row["value"]):
                assert fmt.value(metric, row["value"]) in text
                assert fmt.interval(metric, row["lower95"], row["upper95"]) in text
            if card.change != "none" and card.previous and not fmt.missing(
                    card.previous["value"]):
                assert f"{card.previous['period']} " \
                       f"({fmt.value(metric, card.previous['value'])})" in text
            for gap in card.gaps:
                said = fmt.gap_statement(gap | {"reference_value": None}, metric,
                                         gap["dimension"])
                assert said and said in text
                assert f"{gap['ratio']:.2f} times" in said
        # The ethnic gaps in numbers: one sentence per model total worked out.
        said = [fmt.excess_total_sentence(g.total, g.metric, "ethnicity", g.period)
                for g in m.ethnic_gaps]
        said = [s for s in said if s]
        excess = find(tree, lambda c: getattr(c, "id", None) == overview.OVERVIEW_EXCESS)
        assert bool(excess) == bool(said)
        for sentence in said:
            assert sentence in text_of(excess[0])
        # What changed: the model's ranked changes, in order, each with its view.
        changes = by_id(tree, overview.OVERVIEW_CHANGES)
        items = find(changes, lambda c: type(c).__name__ == "Li")
        expected = whatchanged.changes(m.changes, org)
        assert len(items) == len(expected) == m.changes.height
        for item, change, row in zip(items, expected, m.changes.iter_rows(named=True),
                                     strict=True):
            assert change.sentence == fmt.change_sentence(row, registry.get(row["metric"]))
            assert text_of(item).startswith(change.sentence)
            assert change.href in [getattr(c, "href", None) for c in find(item, lambda c: True)]
        assert whatchanged.title(m.since) in text_of(changes)


def _forest_points(figure) -> dict[str, tuple[str, str, bool]]:
    """Each drawn row of the forest plot: label -> (ratio, its 95% CI, significant), at the
    table's two decimals, read from the marker and its error bar."""
    out = {}
    for trace in figure.data:
        significant = trace.name == figures.FOREST_MARKERS[True][0]
        assert significant or trace.name == figures.FOREST_MARKERS[False][0], trace.name
        for y, x, up, down in zip(trace.y, trace.x, trace.error_x.array,
                                  trace.error_x.arrayminus, strict=True):
            assert html.unescape(y) not in out
            out[html.unescape(y)] = (f"{x:.2f}", f"{x - down:.2f} to {x + up:.2f}",
                                     significant)
    return out


def _gap_rows_expected(m) -> list[tuple[str, ...]]:
    """The model's headline gaps as the table should hold them (metric title, breakdown,
    period, group, ratio, CI), written independently of the builders."""
    out = []
    for row in m.gaps.iter_rows(named=True):
        metric = registry.get(row["metric"])
        symbol = {"suppressed": "*", "no data": ":"}.get(row["status"])
        out.append((metric.title, DIMENSIONS[row["dimension"]].label, row["period"],
                    symbol or row["group"],
                    symbol or f"{row['ratio']:.2f}",
                    symbol or f"{row['ratio_lower95']:.2f} to {row['ratio_upper95']:.2f}"))
    return out


def test_overview_headline_gaps_agree(overview):
    """Chart points = table = CSV = sentence = view model, for random organisations."""
    withheld = significant_seen = 0
    for org in orgs_sample(random.Random(31), VIEWS + 4):
        m = overview_model(overview, {"org": org})
        tree = overview.layout(org=org)
        rows = list(m.gaps.iter_rows(named=True))
        assert rows, org  # every organisation has some metric broken down
        # The chart: each comparison's point and CI where drawn, else why not on its row.
        figure = by_id(tree, overview.OVERVIEW_GAPS_GRAPH).figure
        drawn = _forest_points(figure)
        assert drawn == {headlinegaps.label(r): (f"{r['ratio']:.2f}",
                                                 f"{r['ratio_lower95']:.2f} to "
                                                 f"{r['ratio_upper95']:.2f}",
                                                 bool(r["gap_significant"]))
                         for r in rows if r["status"] == "ok"}
        assert withheld_notes(figure) == {headlinegaps.label(r): r["status"] for r in rows
                                          if r["status"] != "ok"}
        # Each section heads its rows, top down, in the model's order.
        top_down = categories(figure, "yaxis")[::-1]
        expected_rows = []
        for section in dict.fromkeys(r["section"] for r in rows):
            expected_rows += [section] + [headlinegaps.label(r) for r in rows
                                          if r["section"] == section]
        assert [html.unescape(c) for c in top_down] == expected_rows
        # The table: the model's rows, and the chart's points cell for cell.
        table = table_of(tree, overview.OVERVIEW_GAPS_TABLE)
        records = table.records()
        assert [(r["Metric"], r["Breakdown"], r["Period"], r["Most affected group"],
                 r["Ratio"], r["Ratio 95% CI"]) for r in records] == _gap_rows_expected(m)
        table_points = {headlinegaps.label(row): (record["Ratio"], record["Ratio 95% CI"],
                                                  record["Gap"].startswith("Significant"))
                        for row, record in zip(rows, records, strict=True)
                        if row["status"] == "ok"}
        assert table_points == drawn
        for row, record in zip(rows, records, strict=True):
            if row["status"] == "ok":
                decimals = registry.get(row["metric"]).decimals
                assert record["Group's value"] == fmt.number(row["value"], decimals)
                assert record["Reference value"] == fmt.number(row["reference_value"],
                                                               decimals)
            else:
                withheld += 1
                symbol = "*" if row["status"] == "suppressed" else ":"
                assert {record[c] for c in ("Group's value", "Reference value", "Ratio",
                                            "Gap")} == {symbol}
        # The CSV: the table, cell for cell.
        search = overview.OverviewView.parse({"org": org})[0].search()
        assert csv_rows(overview.download_csv(search)["content"]) == [table.header,
                                                                      *table.rows]
        # The sentence: N of M from the table's rows, and the largest gap of the model.
        compared = {r["Metric"] for r in records if r["Ratio"] not in ("*", ":")}
        significant = {r["Metric"] for r in records if r["Gap"].startswith("Significant")}
        assert m.gap_counts == (len(significant), len(compared))
        summary = text_of(by_id(tree, overview.OVERVIEW_GAPS_SUMMARY))
        if significant:
            significant_seen += 1
            verb = "shows" if len(significant) == 1 else "show"
            assert summary.startswith(f"{len(significant)} of {len(compared)} metrics {verb} "
                                      "a significant gap")
            largest = max((r for r in rows if r["status"] == "ok" and r["gap_significant"]),
                          key=lambda r: abs(math.log(r["ratio"])))
            assert m.largest_gap == largest
            metric = registry.get(largest["metric"])
            assert f"largest: {metric.short_title}: " in summary
            assert f"{largest['ratio']:.2f} times the " in summary
            assert f"(95% CI {largest['ratio_lower95']:.2f} to " \
                   f"{largest['ratio_upper95']:.2f})." in summary
        elif compared:
            assert summary.startswith(f"None of the {len(compared)} metric")
    assert withheld and significant_seen


# -- Data quality ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dq(page):
    return page("data_quality")


def dq_model(dq, query):
    return dq.model(dq.DataQualityView.parse(query)[0])


def test_data_quality_model_is_built_once_per_view(dq, dash_app, monkeypatch):
    import views.data_quality

    built_once(dash_app, monkeypatch, views.data_quality.queries, "funnel",
               lambda q: dq_model(dq, q), {"region": "Y56", "sort": "name", "org": "SYN010"})


def dq_views(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    regions = queries.organisations().filter(
        queries.organisations()["org_level"] == "region")["org_code"].to_list()
    out = []
    for org in orgs_sample(rng, count):
        metric = rng.choice(("ethnicity_recorded", "deprivation_known"))
        out.append({"metric": metric, "period": rng.choice(queries.periods(metric)),
                    "region": rng.choice(["all", *regions]),
                    "sort": rng.choice(("lowest", "highest", "name", "region", "size")),
                    "org": org, "pdim": rng.choice(("deprivation_quintile",
                                                    "deprivation_decile"))})
    return out


def _funnel_points(figure) -> set[tuple]:
    return {(x, y) for t in figure.data if t.mode == "markers"
            for x, y in zip(t.x, t.y, strict=True)}


def test_data_quality_shows_the_models_numbers(dq):
    for query in dq_views(VIEWS, seed=23):
        m = dq_model(dq, query)
        tree = dq.layout(**query)
        metric, decimals = m.metric, m.metric.decimals
        # The funnel: every trust with a figure, at its size and value; England's line.
        figure = by_id(tree, dq.DATA_QUALITY_GRAPH).figure
        plotted = m.trusts.filter(m.trusts["value"].is_not_null())
        assert _funnel_points(figure) == set(zip(plotted["denominator"], plotted["value"],
                                                 strict=True))
        # Each point's hover: the trust's name, value, CI and counts, as the model holds them.
        assert sorted((x, y, h) for t in figure.data if t.mode == "markers"
                      for x, y, h in zip(t.x, t.y, hover_texts(t), strict=True)) == sorted(
            (r["denominator"], r["value"],
             f"<b>{figures.plain(r['name'])}</b><br>{fmt.value(metric, r['value'])} "
             f"({fmt.interval(metric, r['lower95'], r['upper95'])})<br>"
             f"{fmt.count(r['numerator'])} of {fmt.count(r['denominator'])} women booked")
            for r in plotted.iter_rows(named=True))
        below = [t for t in figure.data if t.name == f"Below {m.threshold:g}% threshold"]
        assert sum(len(t.y) for t in below) == m.headline["below"]
        if m.england is not None:
            assert any(a.text == f"England {fmt.value(metric, m.england)}"
                       for a in figure.layout.annotations)
        # The table: the model's trusts in its order, each value as the model holds it.
        table = table_of(tree, dq.DATA_QUALITY_TABLE)
        records = table.records()
        expected = m.selected.head(dq.TABLE_MAX)
        assert [r["Trust"] for r in records] == expected["name"].to_list()
        for record, row in zip(records, expected.iter_rows(named=True), strict=True):
            assert record[f"{metric.short_title} (%)"] == shown(row["value"], row["status"],
                                                                decimals)
        # The headline's numbers are the model's.
        headline = text_of(by_id(tree, dq.DATA_QUALITY_HEADLINE))
        counts = m.headline
        if counts["below"]:
            assert f"{counts['below']} of {counts['shown']} trusts" in headline
            assert f"Lowest: {counts['lowest']['name']}, " \
                   f"{fmt.value(metric, counts['lowest']['value'])}." in headline
        if m.england is not None:
            assert f"England: {fmt.value(metric, m.england)}." in headline
        # The CSV: the table, cell for cell, and every trust of the model.
        rows = csv_rows(dq.download_csv(dq.DataQualityView.parse(query)[0].search())["content"])
        assert rows[0] == table.header
        assert rows[1:len(records) + 1] == table.rows
        assert len(rows) - 1 == m.selected.height
        _check_profile(dq, m, tree, query)


def _check_profile(dq, m, tree, query) -> None:
    profile, metric = m.profile, registry.get("booking_population")
    if not profile.frames:
        assert not find(tree, lambda c: getattr(c, "id", None) == dq.DATA_QUALITY_PROFILE_TABLE)
        return
    table = table_of(tree, dq.DATA_QUALITY_PROFILE_TABLE)
    records = table.records()
    drawn = {g.id["dimension"]: g.figure for g in graphs(tree) if isinstance(g.id, dict)}
    assert list(drawn) == [dimension for dimension, _, _ in profile.frames]
    for dimension, frame, england in profile.frames:
        label = DIMENSIONS[dimension].label
        rows = [r for r in records if r["Breakdown"] == label]
        assert [r["Group"] for r in rows] == frame["group"].to_list()
        for record, row in zip(rows, frame.iter_rows(named=True), strict=True):
            assert record["Share (%)"] == shown(row["value"], row["status"], metric.decimals)
        if england is not None:
            theirs = {r["group"]: r for r in england.iter_rows(named=True)}
            for record in rows:
                row = theirs[record["Group"]]
                assert record["England: share (%)"] == shown(row["value"], row["status"],
                                                             metric.decimals)
        figure = drawn[dimension]
        if figure.data:
            assert read_bars(figure, metric.decimals) == table_states(rows, "Share (%)")
            if england is not None:
                assert read_markers(figure, "England", metric.decimals) == \
                    comparator_states(rows, "England: share (%)")
    search = dq.DataQualityView.parse(query)[0].search()
    downloaded = csv_rows(dq.download_profile_csv(search)["content"])
    assert downloaded == [table.header, *table.rows]


# -- Intersections ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def intersections(page):
    return page("intersections")


def intersections_model(intersections, query):
    return intersections.model(intersections.IntersectionsView.parse(query)[0])


def test_intersections_model_is_built_once_per_view(intersections, dash_app, monkeypatch):
    import views.intersections

    built_once(dash_app, monkeypatch, views.intersections.queries, "breakdowns_by_level",
               lambda q: intersections_model(intersections, q),
               {"org": "SYN008", "metric": "pph_1500"})


def intersections_views(count: int, seed: int) -> list[dict]:
    """Views of the metrics with the cross-tabulation (and one without) at every level."""
    rng = random.Random(seed)
    held = list(queries.metrics_holding(crosstab.ETHNICITY_BY_QUINTILE))
    out = []
    for org in orgs_sample(rng, count):
        level = queries.org_level(org)
        metric = rng.choice([*held, "stillbirth"])
        periods = queries.dimension_periods(metric, level, crosstab.ETHNICITY_BY_QUINTILE)
        out.append({"org": org, "metric": metric} | (
            {"period": rng.choice(periods)} if periods else {}))
    return out


def _heatmap_expected(m) -> dict[tuple, tuple]:
    """Each cell as the model holds it: its ratio to two decimals, or why there is none
    (``:`` also for a value with no ratio, where the reference cell is not available)."""
    out = {}
    for row in m.cells.iter_rows(named=True):
        cell = crosstab.split(row["group"])
        ratio = 1.0 if row["is_reference"] else row["ratio"]
        if row["status"] == "suppressed":
            out[cell] = cell_state("*")
        elif row["status"] != "ok" or row["value"] is None or ratio is None:
            out[cell] = cell_state(":")
        else:
            out[cell] = ("value", f"{ratio:.2f}")
    return out


def test_intersections_show_the_models_numbers(intersections):
    checked = 0
    for query in intersections_views(VIEWS * 2, seed=29):
        m = intersections_model(intersections, query)
        tree = intersections.layout(**query)
        search = intersections.IntersectionsView.parse(query)[0].search()
        downloaded = csv_rows(intersections.download_csv(search)["content"])
        if not m.held:
            assert not graphs(tree)
            assert by_id(tree, intersections.INTERSECTIONS_NOT_PUBLISHED)
            assert downloaded in ([], [[""]])
            continue
        figure = by_id(tree, intersections.INTERSECTIONS_GRAPH).figure
        assert read_heatmap(figure) == _heatmap_expected(m), query
        table = table_of(tree, intersections.INTERSECTIONS_TABLE)
        value = f"Value ({m.metric.unit})"
        for record, row in zip(table.records(), m.cells.iter_rows(named=True), strict=True):
            assert (record["Ethnicity"], record["Deprivation quintile"]) == \
                crosstab.split(row["group"])
            assert record[value] == shown(row["value"], row["status"], m.metric.decimals)
            assert record["Significance"] == crosstab.significance(row)
        summary = text_of(by_id(tree, intersections.INTERSECTIONS_SUMMARY))
        assert summary == crosstab.summary(m.cells)
        others = [crosstab.significance(r) for r in m.cells.iter_rows(named=True)
                  if not r["is_reference"]]
        higher = sum(s.startswith("Higher") for s in others)
        assert f"{len(others)} cells compared with" in summary
        assert f", {higher} {'is' if higher == 1 else 'are'} significantly higher" in summary
        assert downloaded == [table.header, *table.rows]
        assert m.title in table.caption
        checked += 1
    assert checked >= 3
