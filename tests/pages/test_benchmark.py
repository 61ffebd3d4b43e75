"""Benchmark page: view parsing, layout with and without arguments, funnel counts, rank table
and downloads, called as plain functions on the demo store."""

from __future__ import annotations

import csv
import io

import dash
import polars as pl
import pytest
from dash import dcc, html

from components import benchmark as builders
from components import figures
from data import queries
from tests.components.hovers import hover_text
from tests.pages.conftest import by_id, find, table_of, text_of
from tests.pages.viewurl import written_search
from views import benchmark as models


@pytest.fixture(scope="module")
def bench(page):
    return page("benchmark")


def _peer_groups(bench) -> list[str]:
    """Every trust peer group (the same for every metric)."""
    return list(models.choices("pph_1500").peer_groups)


def _csv_rows(payload: dict) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(payload["content"])) if r and
            not r[0].startswith("#")]


def test_registered_with_path_name_and_order(bench):
    entry = dash.page_registry["pages.benchmark"]
    assert (entry["path"], entry["name"], entry["order"]) == ("/benchmark", "Benchmark", 2)


def test_layout_renders_with_no_arguments(bench):
    tree = bench.layout()
    text = text_of(tree)
    assert "Benchmark" in text
    assert "Some of the link could not be used" not in text
    # No trusts chosen: a prompt instead of the small multiples, but funnel and table drawn.
    assert "Choose up to 8 trusts" in text
    funnel = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    assert any(t.name == "Trusts" and len(t.x) > 50 for t in funnel.data)
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert "sortable" in table.class_name.split() and len(table.rows) >= 100


def test_metric_choices_are_those_published_for_trusts(bench):
    ids = bench.trust_metrics()
    assert "pph_1500" in ids and "maternal_death" not in ids
    view, notices = bench.BenchmarkView.parse({"metric": "maternal_death"})
    assert view.metric == "pph_1500" and notices


def test_view_round_trips_through_the_url(bench):
    query = {"metric": "booked_by_10_weeks", "period": "2023-24", "dim": "deprivation_quintile",
             "group": "Q1 (most deprived)", "trusts": "SYN010,SYN020",
             "peer": _peer_groups(bench)[0]}
    view, notices = bench.BenchmarkView.parse(query)
    assert notices == []
    assert view.trusts == ("SYN010", "SYN020")
    again, _ = bench.BenchmarkView.parse(bench.viewstate.query_of(view.search()))
    assert again == view


@pytest.mark.parametrize("query", [
    {"metric": "drop table"}, {"period": "1999"}, {"dim": "shoe size"},
    {"group": "Martians"}, {"trusts": "SYN010,NOPE,<script>"}, {"peer": "giants"},
    {"metric": "stillbirth", "dim": "ethnicity"},
])
def test_invalid_parameters_fall_back_with_a_notice(bench, query):
    view, notices = bench.BenchmarkView.parse(query)
    assert notices
    tree = bench.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert find(tree, lambda c: isinstance(c, dcc.Graph))


def test_at_most_eight_trusts(bench):
    codes = ",".join(f"SYN{i:03d}" for i in range(1, 12))
    view, notices = bench.BenchmarkView.parse({"trusts": codes})
    assert len(view.trusts) == 8
    assert any("first 8" in n for n in notices)


def test_group_needs_a_breakdown(bench):
    view, notices = bench.BenchmarkView.parse({"dim": "total", "group": "Black"})
    assert view.group == "All" and notices
    view, _ = bench.BenchmarkView.parse({"dim": "ethnicity", "group": "Black"})
    assert view.funnel_dimension == "ethnicity"
    view, _ = bench.BenchmarkView.parse({"dim": "ethnicity"})
    assert view.group == "All" and view.funnel_dimension == "total"


def test_small_multiples_share_one_axis_and_label_suppression(bench):
    tree = bench.layout(metric="pph_1500", trusts="SYN010,SYN020,SYN030", dim="ethnicity",
                        period="2024-25")
    figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    bars = [t for t in figure.data if t.type == "bar"]
    assert len(bars) == 3
    assert len({tuple(figure.layout[f"xaxis{i or ''}"].range or ()) for i in
                ("", 2, 3)} - {()}) <= 1
    assert any("suppressed" in (t.text or ()) for t in bars)
    table = table_of(tree, bench.BENCHMARK_MULTIPLES_TABLE)
    assert "*" in table.text
    names = [queries.org_name(c) for c in ("SYN010", "SYN020", "SYN030")]
    assert all(name in table.text for name in names)
    assert [a.text for a in figure.layout.annotations][:3] == [
        figures.wrap(n, 30) for n in names]


def test_funnel_outlier_is_beyond_the_998_limit(bench, stories):
    outlier = stories["pph_outlier"]
    tree = bench.layout(metric="pph_1500", period="2024-25", dim="total", trusts=outlier)
    figure = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    chosen = [t for t in figure.data if t.name == "Chosen trusts"][0]
    assert hover_text(chosen, 0).endswith("<br>Above the 99.8% limit (worse)")
    frame = queries.benchmark("pph_1500", "2024-25", "total", "All")
    row = frame.filter(pl.col("org_code") == outlier).row(0, named=True)
    assert row["funnel"] == "High (0.001)"
    # The England line is England's published value for the same group.
    england = queries.breakdown("pph_1500", "ENG", "2024-25", "total", "none")["value"][0]
    assert bench.model(bench.BenchmarkView.parse({"period": "2024-25",
                                                  "dim": "total"})[0]).england == england


def test_funnel_sentence_counts_match_the_funnel_column(bench):
    view, _ = bench.BenchmarkView.parse({"metric": "pph_1500", "period": "2024-25",
                                         "dim": "ethnicity", "group": "Black"})
    frame = queries.benchmark("pph_1500", "2024-25", "ethnicity", "Black")
    counts = frame["funnel"].value_counts()
    expected = dict(counts.iter_rows())
    sentence = bench.funnel_sentence(bench.model(view))
    high3, low3 = expected.get("High (0.001)", 0), expected.get("Low (0.001)", 0)
    assert f"{builders.trusts_word(high3)} {'is' if high3 == 1 else 'are'} above the 99.8% " \
        f"limit and {expected.get('High (0.025)', 0)} more above the 95% limit" in sentence
    assert f"{builders.trusts_word(low3)} {'is' if low3 == 1 else 'are'} below the 99.8% " \
        "limit" in sentence
    assert f"{expected.get('Not significant', 0)} are within the limits" in sentence
    suppressed = frame.filter(pl.col("status") == "suppressed").height
    assert suppressed > 0 and f"{suppressed} trusts suppressed" in sentence
    assert "Black women" in sentence


SYMBOLS = ("*", ":", "-")


def _rank_markup(tree, bench) -> str:
    """The rank table's HTML string as sent to the browser."""
    found = [c.children for c in find(tree, lambda c: isinstance(c, dcc.Markdown))
             if f'id="{bench.BENCHMARK_RANK_TABLE}"' in (c.children or "")]
    assert len(found) == 1
    return found[0]


def test_rank_table_shows_numbers_as_the_csv_and_suppressed_as_symbols(bench):
    tree = bench.layout(metric="pph_1500", period="2024-25", dim="ethnicity", group="Black",
                        trusts="SYN010")
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert table.header[:2] == ["Code", "Trust"]
    assert "Select a column heading to sort" in table.caption
    records = table.records()
    value_column = "Value (per 1,000)"
    values = [r[value_column] for r in records]
    numbers = [float(v) for v in values if v not in SYMBOLS]
    assert numbers == sorted(numbers), "best (lowest PPH) first"
    assert all(v in SYMBOLS or v == f"{float(v):.1f}" for v in values), "one decimal"
    assert "*" in values and "0" not in values and "0.0" not in values
    suppressed = [r for r in records if r[value_column] == "*"]
    assert all(r["Funnel plot"] == "Suppressed (small numbers)" for r in suppressed)
    assert all(r["Rank in peer group"] == "*" for r in suppressed)
    # Counts as published, with thousands separators, worked out from the stored figures.
    frame = queries.benchmark("pph_1500", "2024-25", "ethnicity", "Black")
    stored = {c: d for c, d, sup in frame.select("org_code", "denominator", "suppressed")
              .iter_rows() if d is not None and not sup}
    shown = {r["Code"]: r["Denominator"] for r in records if r["Code"] in stored}
    assert shown and all(text == f"{int(stored[code]):,}" for code, text in shown.items())
    assert any("," in text for text in shown.values())
    # The chosen trust's row is marked (and only it); the scrolling box is named and focusable.
    markup = _rank_markup(tree, bench)
    assert markup.count('<tr class="chosen">') == 1
    assert '<tr class="chosen"><td>SYN010</td>' in markup
    box = find(tree, lambda c: isinstance(c, html.Div)
                and getattr(c, "className", None) == "table-scroll")[0]
    assert box.role == "region" and box.tabIndex == "0"
    assert getattr(box, "aria-label")


def test_peer_filter_limits_the_rank_table(bench):
    peer = _peer_groups(bench)[-1]
    tree = bench.layout(metric="pph_1500", period="2024-25", peer=peer)
    records = table_of(tree, bench.BENCHMARK_RANK_TABLE).records()
    assert records and {r["Peer group"] for r in records} == {peer}
    ranks = sorted(int(r["Rank in peer group"]) for r in records
                   if r["Rank in peer group"] not in SYMBOLS)
    assert ranks[0] == 1


def test_rank_download_matches_the_table(bench):
    search = "?metric=pph_1500&period=2024-25&dim=ethnicity&group=Black"
    rows = _csv_rows(bench.rank_csv(search))
    tree = bench.layout(**bench.viewstate.query_of(search))
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert rows[0] == table.header
    assert rows[1:] == table.rows, "the download holds exactly the table's text"
    for row in rows[1:]:
        for cell in row[7:9]:  # numerator, denominator: symbols or published counts
            assert cell in SYMBOLS or int(cell.replace(",", "")) >= 5


def test_long_rank_table_shows_both_ends_and_the_chosen_trusts(bench):
    """With more trusts than the page shows, the first and last ranked trusts and the
    chosen ones stay, in rank order; unranked rows and the middle go to the download."""
    view, _ = bench.BenchmarkView.parse({"metric": "booked_by_10_weeks", "period": "2024-25"})
    rows = bench.rank_rows(bench.model(view))
    ranked = [c for c, r in zip(rows["Code"], rows["Rank in peer group"], strict=True)
              if r[0].isdigit()]
    middle = ranked[len(ranked) // 2]
    shown, note = builders.shown_rank_rows(rows, (middle,), limit=20)
    codes = shown["Code"].to_list()
    assert codes == ranked[:10] + [middle] + ranked[-10:]
    assert f"21 of {rows.height}" in note and f"{rows.height - 21} not shown" in note
    whole, none = builders.shown_rank_rows(rows, (), limit=rows.height)
    assert whole.equals(rows) and none == ""


def test_multiples_download_matches_the_table(bench):
    search = "?metric=pph_1500&trusts=SYN010,SYN020&dim=ethnicity&period=2024-25"
    rows = _csv_rows(bench.multiples_csv(search))
    tree = bench.layout(**bench.viewstate.query_of(search))
    assert rows[0][:2] == ["Trust", "Group"]
    assert rows[1:] == table_of(tree, bench.BENCHMARK_MULTIPLES_TABLE).rows


def test_url_callback_writes_only_real_changes(bench):
    view = bench.BenchmarkView.parse({})[0]
    shown = {"metric": view.metric, "period": view.period, "dim": view.dimension,
             "group": view.group, "trusts": [], "within": None}
    current = written_search(bench.FOLLOWED, shown, "")
    assert bench.BenchmarkView.parse(bench.viewstate.query_of(current))[0] == view
    same = written_search(bench.FOLLOWED, shown, current)
    assert same is dash.no_update
    changed = written_search(bench.FOLLOWED, shown | {"trusts": ["SYN010", "SYN020"]}, current)
    assert "trusts=SYN010%2CSYN020" in changed


def test_trust_level_only_metric_without_breakdown(bench):
    tree = bench.layout(metric="stillbirth", trusts="SYN010,SYN020")
    text = text_of(tree)
    assert "Some of the link could not be used" not in text
    assert by_id(tree, bench.BENCHMARK_MULTIPLES).figure.data
    assert by_id(tree, bench.BENCHMARK_FUNNEL).figure.data


def test_all_suppressed_group_explains_itself(bench):
    # PPH among women of mixed ethnicity in one quarter: every trust is under 8 events.
    query = {"metric": "pph_1500", "period": "2020-21 Q1 (Apr–Jun 2020)", "dim": "ethnicity",
             "group": "Mixed"}
    tree = bench.layout(**query)
    summary = by_id(tree, bench.BENCHMARK_FUNNEL_SUMMARY)
    assert "No trust has a published figure for Mixed women" in text_of(summary)
    figure = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    assert not figure.data and "No trust has a figure" in figure.layout.annotations[0].text
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert {r["Value (per 1,000)"] for r in table.records()} <= {"*", ":"}


def test_merged_trust_without_data_is_named(bench, stories):
    gone = stories["merged_away"]
    tree = bench.layout(metric="pph_1500", period="2024-25", trusts=f"{gone},SYN010")
    assert f"No figures to show for {queries.org_name(gone)}" in text_of(tree)
    figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    gone_panel = [t for t in figure.data if t.type == "bar"][0]
    assert set(gone_panel.text) == {"no data"}, "no data is not the same as suppressed"


def test_total_panels_are_short_and_have_no_ratio_column(bench):
    tree = bench.layout(metric="stillbirth", trusts="SYN010,SYN020,SYN030")
    figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    assert figure.layout.height < 400
    headers = table_of(tree, bench.BENCHMARK_MULTIPLES_TABLE).header
    assert "Ratio to reference (95% CI)" not in headers and headers[:2] == ["Trust", "Group"]


# -- units compared, scope and funnel limits -------------------------------------------------


def test_units_scope_and_limits_round_trip_through_the_url(bench):
    query = {"metric": "pph_1500", "compare": "icb", "within": "Y56", "od": "tau2",
             "trusts": "SYNQ01,SYNQ02"}
    view, notices = bench.BenchmarkView.parse(query)
    assert notices == []
    assert (view.level, view.scope, view.limits, view.trusts) == \
        ("icb", "Y56", "tau2", ("SYNQ01", "SYNQ02"))
    assert "compare=icb" in view.search() and "within=Y56" in view.search() \
        and "od=tau2" in view.search()
    again, _ = bench.BenchmarkView.parse(bench.viewstate.query_of(view.search()))
    assert again == view
    default, _ = bench.BenchmarkView.parse({})
    assert (default.level, default.scope, default.limits) == ("trust", "all", "standard")
    assert not {"compare", "within", "od"} & set(bench.viewstate.query_of(default.search()))


@pytest.mark.parametrize(("query", "field", "default"), [
    ({"compare": "galaxies"}, "level", "trust"),
    ({"compare": "icb", "metric": "concerns_taken_seriously"}, "level", "trust"),
    ({"od": "wide"}, "limits", "standard"),
    ({"od": "standard,phi"}, "limits", "standard"),
    ({"within": "NOPE"}, "scope", "all"),
    ({"compare": "icb", "within": "SYN010"}, "scope", "all"),
    ({"peer": "giants"}, "scope", "all"),
])
def test_bad_units_scope_or_limits_fall_back_with_a_notice(bench, query, field, default):
    view, notices = bench.BenchmarkView.parse(query)
    assert getattr(view, field) == default and notices
    assert "Some of the link could not be used" in text_of(bench.layout(**query))


def test_a_trust_scope_or_trusts_kept_after_switching_to_icbs_are_dropped_quietly(bench):
    peer = _peer_groups(bench)[0]
    view, notices = bench.BenchmarkView.parse({"compare": "icb", "within": peer,
                                               "trusts": "SYN010,SYNQ01"})
    assert notices == []
    assert (view.scope, view.trusts) == ("all", ("SYNQ01",))


def test_older_links_name_the_peer_group_as_peer(bench):
    peer = _peer_groups(bench)[0]
    view, notices = bench.BenchmarkView.parse({"peer": peer})
    assert notices == [] and view.scope == peer
    assert bench.viewstate.query_of(view.search())["within"] == peer


def _funnel_codes(figure, m) -> set[tuple]:
    return {(x, y) for t in figure.data if t.mode and "markers" in t.mode
            for x, y in zip(t.x, t.y, strict=True)}


@pytest.mark.parametrize("column", ["icb_code", "region_code"])
def test_a_scope_filters_the_funnel_as_well_as_the_rank_table(bench, column):
    trusts = queries.organisations().filter(pl.col("org_level") == "trust")
    code = trusts[column].drop_nulls().mode().sort()[0]
    members = set(trusts.filter(pl.col(column) == code)["org_code"])
    query = {"metric": "pph_1500", "period": "2024-25", "within": code}
    tree = bench.layout(**query)
    m = bench.model(bench.BenchmarkView.parse(query)[0])
    codes = {r["Code"] for r in table_of(tree, bench.BENCHMARK_RANK_TABLE).records()}
    assert codes and codes <= members
    frame = queries.benchmark("pph_1500", "2024-25", "total", "All")
    inside = frame.filter(pl.col("org_code").is_in(list(members)) & pl.col("value").is_not_null())
    figure = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    assert _funnel_codes(figure, m) == set(inside.select("denominator", "value").rows())
    assert inside.height < frame.filter(pl.col("value").is_not_null()).height
    assert queries.org_name(code) in table_of(tree, bench.BENCHMARK_RANK_TABLE).caption
    assert f"{queries.org_name(code)}: funnel plot" in text_of(tree)


def test_icbs_compared_on_their_own_funnel_and_rank_table(bench):
    query = {"metric": "pph_1500", "period": "2024-25", "compare": "icb",
             "trusts": "SYNQ01"}
    tree = bench.layout(**query)
    table = table_of(tree, bench.BENCHMARK_RANK_TABLE)
    assert table.header[:3] == ["Code", "ICB", "Region"]
    assert "Rank" in table.header and "Peer group" not in table.header
    icbs = queries.organisations().filter(pl.col("org_level") == "icb")["org_code"]
    assert {r["Code"] for r in table.records()} <= set(icbs)
    figure = by_id(tree, bench.BENCHMARK_FUNNEL).figure
    names = {t.name for t in figure.data}
    assert {"ICBs", "Chosen ICBs"} <= names
    frame = queries.benchmark("pph_1500", "2024-25", "total", "All", "icb")
    assert _funnel_codes(figure, None) == set(
        frame.filter(pl.col("value").is_not_null()).select("denominator", "value").rows())
    assert "ICBs" in text_of(by_id(tree, bench.BENCHMARK_FUNNEL_SUMMARY))
    panels = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    assert [a.text for a in panels.layout.annotations][0] == figures.wrap(
        queries.org_name("SYNQ01"), 30)


def test_the_trust_picker_stays_open_while_several_are_picked(bench):
    picker = by_id(bench.layout(), bench.BENCHMARK_TRUSTS)
    assert picker.multi and picker.closeOnSelect is False


@pytest.mark.parametrize("method", ["phi", "tau2"])
def test_adjusted_limits_are_wider_and_said_in_words(bench, method):
    base = {"metric": "pph_1500", "period": "2024-25"}
    standard = bench.model(bench.BenchmarkView.parse(base)[0])
    adjusted = bench.model(bench.BenchmarkView.parse(base | {"od": method})[0])
    assert adjusted.dispersion == standard.dispersion and standard.dispersion.phi > 1

    def width_at(m, x):
        upper = m.limits.filter(pl.col("limit") == "upper_3s")
        lower = m.limits.filter(pl.col("limit") == "lower_3s")
        near = (pl.col("denominator") - x).abs()
        return upper.sort(near)["value"][0] - lower.sort(near)["value"][0]

    x = float(standard.ranked["denominator"].median())
    assert width_at(adjusted, x) > width_at(standard, x) * 1.2
    flagged = [m.ranked.filter(pl.col("funnel") != "Not significant").height
               for m in (standard, adjusted)]
    assert flagged[1] < flagged[0]
    tree = bench.layout(**base, od=method)
    said = text_of(by_id(tree, bench.BENCHMARK_DISPERSION))
    phi = f"{standard.dispersion.phi:.1f}"
    assert said.startswith(f"phi = {phi}: trusts vary about {phi} times more than chance "
                           "alone; limits widened")
    content = bench.rank_csv(f"?metric=pph_1500&period=2024-25&od={method}")["content"]
    assert said in content and "widened for over-dispersion" in content
    plain = text_of(by_id(bench.layout(**base), bench.BENCHMARK_DISPERSION))
    assert "choose limits adjusted for over-dispersion" in plain


def test_small_multiples_mark_englands_value(bench):
    tree = bench.layout(metric="pph_1500", trusts="SYN010,SYN020", dim="ethnicity",
                        period="2024-25")
    figure = by_id(tree, bench.BENCHMARK_MULTIPLES).figure
    ticks = [t for t in figure.data if t.name == "England"]
    england = queries.breakdown("pph_1500", "ENG", "2024-25", "ethnicity", "none")
    expected = dict(england.filter(pl.col("value").is_not_null())
                    .select("group", "value").iter_rows())
    assert len(ticks) == 2
    assert all(dict(zip(t.y, t.x, strict=True)) == expected for t in ticks)
    assert "blue ticks: England" in figure.layout.annotations[-1].text
