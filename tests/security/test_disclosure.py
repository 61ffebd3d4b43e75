"""Disclosure control audit: no output path shows a count of 1 to 7 people below national
level, a rare-event rate from fewer than 8 events, or anything a subtraction of published
cells turns back into a withheld count.

Hand-made cases pin the complementary suppression rules (``metrics.disclosure``); a property
test then builds random small stores through the real pipeline (random births summed by
the demo's aggregator, controlled by the publisher's rule, published by ``write_store``)
and checks every output: the cached queries and metrics functions, table builders, figure
hover data, the pages' CSV downloads, the board pack's tables, ``equalities compute``, and a
differencing audit of the whole published store against the raw counts
(``tests/security/audit.py``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import figures, tables
from data import queries, schema, store
from metrics import disclosure, registry, rollup
from metrics.categories import DIMENSIONS, TOTAL
from tests.security import audit, stores
from tests.security.conftest import data_dir

SMALL = {str(n) for n in range(1, 8)}
Y2023 = ("2023", "calendar_year", date(2023, 1, 1), date(2023, 12, 31))
FY = ("2023-24", "financial_year", date(2023, 4, 1), date(2024, 3, 31))
QUARTERS = [("Q1", "quarter", date(2023, 4, 1), date(2023, 6, 30)),
            ("Q2", "quarter", date(2023, 7, 1), date(2023, 9, 30)),
            ("Q3", "quarter", date(2023, 10, 1), date(2023, 12, 31)),
            ("Q4", "quarter", date(2024, 1, 1), date(2024, 3, 31))]


def cell(num, den=1000, *, metric="stillbirth", org="Y56", level="region", period=Y2023,
         dim=TOTAL, group="All") -> dict:
    label, kind, start, end = period
    return dict(source="test", metric=metric, org_code=org, org_level=level,
                period_label=label, period_kind=kind, period_start=start, period_end=end,
                dimension=dim, group=group,
                group_order=DIMENSIONS[dim].order(group) if dim != TOTAL else 0,
                numerator=num, denominator=den, published_value=None, suppressed=num is None)


def _org(code: str, level: str, region: str | None = None) -> dict:
    return {c.name: None for c in schema.ORGANISATIONS} | dict(
        org_code=code, name=code, org_level=level, region_code=region, synthetic=True)


ORGS = pl.DataFrame([_org("ENG", "england"), _org("Y56", "region", "Y56"),
                     _org("Y58", "region", "Y58"),
                     *(_org(f"T{i}", "trust", "Y56") for i in (1, 2, 3))],
                    schema=schema.polars_schema("organisations"))


def protect(rows: list[dict]) -> dict[tuple, dict]:
    frame = schema.conform(pl.DataFrame(rows, infer_schema_length=None), "counts")
    out = disclosure.complementary_suppression(frame, organisations=ORGS)
    return {(r["org_code"], r["period_label"], r["group"]): r for r in out.iter_rows(named=True)}


def withheld(result: dict) -> set:
    return {key for key, r in result.items() if r["suppressed"]}


# -- the rules, case by case (expected cells worked out by hand) ------------------------------


def test_one_withheld_group_takes_the_next_smallest_with_it():
    """Region total 100 = 70 + 3 + 12 + 15: the 3 is withheld, so 100 - 70 - 12 - 15 would
    give it back; the next smallest group (12) is withheld too."""
    result = protect([cell(100), cell(70, dim="ethnicity", group="White"),
                      cell(None, dim="ethnicity", group="Mixed"),
                      cell(12, dim="ethnicity", group="Asian"),
                      cell(15, dim="ethnicity", group="Black")])
    assert withheld(result) == {("Y56", "2023", "Mixed"), ("Y56", "2023", "Asian")}
    assert result[("Y56", "2023", "Asian")]["numerator"] is None
    assert result[("Y56", "2023", "Asian")]["denominator"] == 1000  # not secret


def test_region_minus_its_trusts():
    """Region 35 = 20 + 6 + 9 (trusts): withholding trust 2 alone is undone by subtraction."""
    result = protect([cell(35), cell(20, org="T1", level="trust"),
                      cell(None, org="T2", level="trust"), cell(9, org="T3", level="trust")])
    assert withheld(result) == {("T2", "2023", "All"), ("T3", "2023", "All")}


def test_england_minus_the_other_regions():
    """England 50 = London 45 + South West 5: South West withheld, London must be too."""
    result = protect([cell(50, org="ENG", level="england"), cell(45),
                      cell(None, org="Y58")])
    assert withheld(result) == {("Y56", "2023", "All"), ("Y58", "2023", "All")}


def test_two_withheld_groups_whose_sum_is_small():
    """Total 22 = 20 + 1 + 1: both small groups withheld, but 22 - 20 = 2 shows they are
    1 and 1; the 20 is withheld as well."""
    result = protect([cell(22), cell(20, dim="ethnicity", group="White"),
                      cell(None, dim="ethnicity", group="Mixed"),
                      cell(None, dim="ethnicity", group="Asian")])
    assert ("Y56", "2023", "White") in withheld(result)
    assert ("Y56", "2023", "All") not in withheld(result)


def test_year_minus_its_quarters():
    """Induction delays: year 40 = 12 + 5 + 11 + 12; the 5 needs a second withheld quarter
    (the smallest other, 11)."""
    quarters = [cell(n, metric="iol_delay", org="T1", level="trust", period=q)
                for n, q in zip((12, None, 11, 12), QUARTERS, strict=True)]
    result = protect([cell(40, metric="iol_delay", org="T1", level="trust", period=FY),
                      *quarters])
    assert withheld(result) == {("T1", "Q2", "All"), ("T1", "Q3", "All")}


def test_overlapping_periods_do_not_give_a_quarter_away():
    """Two 12-month windows a quarter apart differ by one quarter in and one out: with
    W1 = q1..q4 and W2 = q2..q5 shown, q5 = W2 - W1 + q1. No single relation shows it."""
    q = [(f"q{i}", "quarter", date(2023, 3 * i - 2, 1), date(2023, 3 * i, 28))
         for i in range(1, 5)] + [("q5", "quarter", date(2024, 1, 1), date(2024, 3, 28))]
    w1 = ("W1", "rolling_12_months", q[0][2], q[3][3])
    w2 = ("W2", "rolling_12_months", q[1][2], q[4][3])
    values = (10, 20, 30, 40, None)  # q5 is 3
    rows = [cell(n, org="T1", level="trust", period=p) for n, p in zip(values, q, strict=True)]
    rows += [cell(100, org="T1", level="trust", period=w1),
             cell(93, org="T1", level="trust", period=w2)]
    result = protect(rows)
    hidden = withheld(result)
    assert ("T1", "q5", "All") in hidden
    # The attack needs q1 and both windows; one of them is now withheld.
    assert hidden & {("T1", "q1", "All"), ("T1", "W1", "All"), ("T1", "W2", "All")}


def test_england_that_is_one_region_is_withheld():
    """MSDS counts are rounded below England but exact nationally: with only London in the
    data, England's 4 is London's withheld count."""
    rows = [cell(4, 500, metric="booked_by_10_weeks", org="ENG", level="england"),
            cell(None, 500, metric="booked_by_10_weeks")]
    result = protect(rows)
    assert ("ENG", "2023", "All") in withheld(result)


def test_rounded_counts_need_no_second_cell():
    """Below England MSDS counts are rounded to 5, so 100 - 70 - 15 does not give the
    withheld group back; nothing more is withheld."""
    rows = [cell(100, metric="booked_by_10_weeks"),
            cell(70, metric="booked_by_10_weeks", dim="ethnicity", group="White"),
            cell(None, metric="booked_by_10_weeks", dim="ethnicity", group="Mixed"),
            cell(15, metric="booked_by_10_weeks", dim="ethnicity", group="Black")]
    assert withheld(protect(rows)) == {("Y56", "2023", "Mixed")}


def test_peer_rate_from_few_events_is_not_shown():
    """A roll-up of trusts with 0 and 0 haemorrhages has no rate to show (0 < 8 events);
    with 0 and 10 it has."""
    def pph(org, num):
        return cell(num, 400, metric="pph_1500", org=org, level="trust")
    few = rollup.rollup(schema.conform(pl.DataFrame([pph("T1", 0), pph("T2", 0)]), "counts"),
                        org_codes=("T1", "T2"), code="PEER", rare_event=True)
    enough = rollup.rollup(schema.conform(pl.DataFrame([pph("T1", 0), pph("T2", 10)]),
                                          "counts"),
                           org_codes=("T1", "T2"), code="PEER", rare_event=True)
    assert few["suppressed"].to_list() == [True]
    assert enough["suppressed"].to_list() == [False] and enough["numerator"][0] == 10


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="needs column"):
        disclosure.complementary_suppression(pl.DataFrame({"metric": ["x"]}),
                                             organisations=ORGS)


# -- random stores: every output path --------------------------------------------------------

SHAPES = st.builds(
    stores.Shape,
    regions=st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
                     min_size=2, max_size=3).map(tuple),
    months=st.sampled_from((15, 18, 24)),
    # Real publications fill the national tables; a cube this dense does too.
    density=st.floats(0.15, 0.6),
    seed=st.integers(0, 2**32 - 1),
)
# One metric of each kind of rule: unrounded with breakdowns by region (MBRRACE-UK, CQC),
# unrounded over quarters and years (Annex 3), rare-event rates, rounded MSDS counts.
CHECKED = ("stillbirth", "considered_complaint", "iol_delay", "pph_1500", "preterm",
           "booked_by_10_weeks")


class Outputs:
    """What one random store publishes, and the checks every output must pass."""

    def __init__(self, root: Path, raw: pl.DataFrame):
        self.store = store.load_store(root)
        self.counts = store.as_text(self.store.counts)
        raw = raw.with_columns(pl.col(pl.Categorical).cast(pl.String))
        key = ["metric", "org_code", "period_label", "dimension", "group"]
        self.cells = {tuple(r[k] for k in key): r for r in self.counts.join(
            raw.select(*key, "raw_numerator", "raw_denominator"), on=key, how="left"
        ).iter_rows(named=True)}
        self.level = dict(self.store.organisations.select("org_code", "org_level").iter_rows())
        self.checked = 0

    def cell(self, metric, org, period, dimension, group) -> dict | None:
        return self.cells.get((metric, org, period, dimension, group))

    def figures_row(self, metric: registry.Metric, org: str, period: str, dimension: str,
                    row: dict, where: str) -> None:
        """A frame row with numbers: the rules of DATA.md hold for it."""
        self.checked += 1
        national = self.level.get(org) == "england"
        for column in ("numerator", "denominator"):
            n = row.get(column)
            assert national or n is None or not 1 <= n <= 7, (where, org, column, n)
        stored = self.cell(metric.id, org, period, dimension, row["group"])
        if row.get("value") is None or stored is None:
            return
        assert not stored["suppressed"], (where, "value shown for a withheld cell", stored)
        if metric.rare_event and not national:
            assert stored["raw_numerator"] >= 8, (where, "rate from < 8 events", stored)

    def table(self, frame: pl.DataFrame, where: str, national: bool = False) -> None:
        """A table as shown or downloaded: no count of 1 to 7 below England."""
        for row in frame.iter_rows(named=True):
            self.checked += 1
            for column, text in row.items():
                if "umerator" in str(column) or "enominator" in str(column):
                    assert national or str(text).replace(",", "") not in SMALL, (
                        where, column, row)


def _csv_rows(text: str) -> pl.DataFrame:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def _hover_counts(figure) -> list[str]:
    """Every field of the figure's hover data (bars keep their counts in items 2 and 3,
    funnel points in 3 and 4: all are checked, so no layout of the fields is assumed)."""
    found = []
    for trace in json.loads(figure.to_json())["data"]:
        for item in trace.get("customdata") or []:
            found += [str(field) for field in (item if isinstance(item, list) else [item])]
    return found


def _sample(out: Outputs) -> dict[str, str]:
    """England, one region, one ICB and two trusts (all of them see every rule)."""
    chosen: dict[str, str] = {}
    for code, level in out.level.items():
        if sum(lv == level for lv in chosen.values()) < (2 if level == "trust" else 1):
            chosen[code] = level
    return chosen


def _check_metric(out: Outputs, metric: registry.Metric, pages) -> None:
    orgs = out.store.organisations
    peer_codes = orgs.filter(pl.col("org_level") == "trust")["org_code"].to_list()
    sample = _sample(out)
    for kind in metric.period_kinds[:2]:
        labels = queries.periods(metric.id, kind)
        for period in labels[-1:]:
            for code, level in sample.items():
                if level not in metric.levels:
                    continue
                for dimension in queries.dimensions_at(metric.id, level):
                    frame = queries.breakdown(metric.id, code, period, dimension, "england")
                    where = f"breakdown {metric.id} {code} {period} {dimension}"
                    for row in frame.iter_rows(named=True):
                        out.figures_row(metric, code, period, dimension, row, where)
                    national = level == "england"
                    out.table(tables.breakdown_rows(frame, metric, "England"), where, national)
                    bars = figures.breakdown_bars(frame, metric, title="t", source="s")
                    hover = _hover_counts(bars)
                    assert national or not set(hover) & SMALL, (where, hover)
                    if level == "trust":
                        peer = queries.breakdown(metric.id, code, period, dimension, "peer")
                        group = orgs.filter(pl.col("org_code") == code)["peer_group"][0]
                        members = orgs.filter(pl.col("peer_group") == group)["org_code"]
                        _check_peer(out, metric, period, dimension, peer, members.to_list())
                    if DIMENSIONS[dimension].ordered:
                        result = queries.inequality(metric.id, code, period, dimension)
                        if result["available"]:
                            assert frame.filter(pl.col("group").is_in(
                                list(DIMENSIONS[dimension].groups)))["value"].null_count() == 0
            if "trust" in metric.levels:
                for dimension in queries.dimensions_at(metric.id, "trust"):
                    for group in (DIMENSIONS[dimension].groups + ("All",))[:2]:
                        bench = queries.benchmark(metric.id, period, dimension, group)
                        for row in bench.iter_rows(named=True):
                            out.figures_row(metric, row["org_code"], period, dimension,
                                            row | {"group": group}, f"benchmark {group}")
                        curve = queries.funnel(metric.id, period, dimension, group)
                        funnel = figures.funnel(bench, curve, metric, average=None,
                                                highlight=(), title="t", source="s")
                        assert not set(_hover_counts(funnel)) & SMALL
        for code, level in sample.items():
            if level not in metric.levels:
                continue
            for dimension in queries.dimensions_at(metric.id, level)[:2]:
                points, _ = queries.trend(metric.id, code, kind, dimension)
                for row in points.iter_rows(named=True):
                    out.figures_row(metric, code, row["period"], dimension, row, "trend")
                if not points.is_empty():
                    named = points.with_columns(pl.lit(code).alias("group"))
                    out.table(tables.trend_context_rows(named, metric), "trend table",
                              level == "england")
    if metric.annex3:
        for code in peer_codes:
            for row in queries.scorecard(code).iter_rows(named=True):
                if row["metric"] == metric.id and row.get("period"):
                    out.figures_row(metric, code, row["period"], TOTAL, row | {"group": "All"},
                                    "scorecard")
    _check_downloads(out, metric, pages, peer_codes)


def _check_peer(out, metric, period, dimension, frame, members) -> None:
    """The peer group's roll-up is shown only where no member's count was withheld, and a
    rare-event rate only from 8 events or more."""
    for row in frame.filter(pl.col("comparator_value").is_not_null()).iter_rows(named=True):
        cells = [c for m in members
                 if (c := out.cell(metric.id, m, period, dimension, row["group"]))]
        assert all(c["numerator"] is not None and c["denominator"] is not None
                   for c in cells), ("peer value from a withheld cell", row["group"])
        if metric.rare_event:
            assert sum(c["raw_numerator"] for c in cells) >= 8, ("peer rate", row["group"])


def _check_downloads(out: Outputs, metric: registry.Metric, pages, trusts) -> None:
    search = f"?metric={metric.id}"
    out.table(_csv_rows(pages("downloads").counts_csv(metric.id)).filter(
        pl.col("org_level") != "england"), "counts download")
    values = _csv_rows(pages("downloads").values_csv(metric.id))
    out.table(values.filter(pl.col("org_level") != "england"), "values download")
    if "suppressed" in values.columns:
        hidden = values.filter(pl.col("suppressed") == "true")
        assert hidden.is_empty() or set(hidden["value"].unique()) <= {"*", ":", "z"}
    for code, level in _sample(out).items():
        if level == "england" or level not in metric.levels:
            continue
        query = f"{search}&org={code}"
        explore = _csv_rows(pages("explore").download_csv(query)["content"])
        out.table(explore, f"explore download {code}")
        if metric.source in (registry.MBRRACE, registry.CQC):
            module = "mortality" if metric.source == registry.MBRRACE else "experience"
            out.table(_csv_rows(pages(module).download_csv(query)["content"]), module)
    if "trust" in metric.levels:
        bench = f"{search}&trusts={','.join(trusts[:3])}"
        out.table(_csv_rows(pages("benchmark").rank_csv(bench)["content"]), "rank download")
        out.table(_csv_rows(pages("benchmark").multiples_csv(bench)["content"]),
                  "multiples download")
        series = _csv_rows(pages("trends").series_csv(f"{search}&org={trusts[0]}")["content"])
        out.table(series, "trends download")
    if metric.annex3 and trusts:
        units = [m.title for m in registry.METRICS_LIST if m.disclosure == registry.NOT_PEOPLE]
        card = _csv_rows(pages("scorecard").download_csv(f"?org={trusts[0]}")["content"])
        out.table(card.filter(~pl.col("Metric").is_in(units)), "scorecard download")


def _check_compute(out: Outputs, root: Path, metric: registry.Metric, capsys) -> None:
    from cli import main

    trust = next(c for c, lv in out.level.items() if lv == "trust")
    for measure in ("breakdown", "trend", "benchmark"):
        capsys.readouterr()
        org = trust if "trust" in metric.levels else "ENG"
        args = ["--data-dir", str(root), "compute", "--metric", metric.id, "--org", org,
                "--measure", measure, "--dimension", "all", "--format", "json"]
        if measure != "trend":
            args += ["--period", queries.latest_period(metric.id)]
        code = main(args)
        text = capsys.readouterr().out
        if code != 0:
            continue  # e.g. a metric not published at this level: a usage error, no figures
        for record in json.loads(text):
            record_org = record.get("org_code") or org
            period = record.get("period")
            out.figures_row(metric, record_org, period, record["dimension"],
                            record, f"compute {measure}")


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(shape=SHAPES, chosen=st.lists(st.sampled_from(CHECKED), min_size=2, max_size=2,
                                     unique=True))
def test_no_output_path_discloses_a_small_count(shape, chosen, page, tmp_path_factory,
                                                capsys):
    root = tmp_path_factory.mktemp("random-store")
    build, raw = stores.build(shape, root)
    with data_dir(root):
        out = Outputs(root, raw)
        audited = [m.id for m in registry.METRICS_LIST
                   if m.disclosure == registry.WITHHOLD_SMALL or m.id in chosen]
        leaks = audit.audit(out.counts.filter(pl.col("metric").is_in(audited)),
                            raw.filter(pl.col("metric").is_in(audited)),
                            out.store.organisations)
        assert not leaks, "\n".join(map(str, leaks[:10]))
        rare = [m.id for m in registry.METRICS_LIST if m.rare_event]
        leaks = audit.audit(out.counts.filter(pl.col("metric").is_in(rare)),
                            raw.filter(pl.col("metric").is_in(rare)),
                            out.store.organisations, rates_exact=True)
        assert not leaks, "\n".join(map(str, leaks[:10]))
        for metric_id in chosen:
            _check_metric(out, registry.get(metric_id), page)
            _check_compute(out, root, registry.get(metric_id), capsys)
        _check_board_pack(out, page)
    assert out.checked > 100


def _check_board_pack(out: Outputs, page) -> None:
    """The board pack (what the PDF export prints) of the largest trust: every table in it."""
    from tests.pages.conftest import tables_of

    sizes = out.store.organisations.filter(pl.col("org_level") == "trust").sort(
        "annual_births", descending=True)
    tree = page("boardpack").layout(org=sizes["org_code"][0])
    found = tables_of(tree)
    assert found, "the board pack holds tables"
    for table in found:
        frame = pl.DataFrame([dict(zip(table.header, row, strict=True)) for row in table.rows],
                             schema={h: pl.String for h in table.header}, orient="row") \
            if table.rows else pl.DataFrame()
        out.table(frame, f"board pack table {table.id}")


def _rare_event_store(*, as_msds_publishes: bool = False):
    """A small store's rare-event metrics, raw and published. ``as_msds_publishes`` gives
    every level its rate from unrounded counts, as MSDS publishes them (and as real
    published files are shown)."""
    shape = stores.Shape(regions=((2, 1), (2,)), months=15, density=0.1, seed=1)
    raw, organisations = stores.raw_counts(shape)
    rare = raw.filter(pl.col("metric").is_in([m.id for m in registry.METRICS_LIST
                                               if m.rare_event]))
    primary = stores.apply_disclosure(rare)
    if as_msds_publishes:
        multiplier = pl.col("metric").replace_strict(
            {m.id: float(m.multiplier) for m in registry.METRICS_LIST})
        primary = primary.with_columns(published_value=pl.when(
            ~pl.col("suppressed") & (pl.col("raw_denominator") > 0))
            .then(pl.col("raw_numerator") / pl.col("raw_denominator") * multiplier))
    published = disclosure.complementary_suppression(primary, organisations=organisations)
    return rare, primary, published, organisations


def test_published_rare_event_rates_cannot_be_differenced_within_their_table():
    """A rate from unrounded counts gives its exact number of events, so a table's total
    minus its other groups (or a quintile minus a decile) must never give back a withheld
    group. Before the rare-event pass this small store had 179 such cells."""
    raw, primary, published, organisations = _rare_event_store(as_msds_publishes=True)
    assert audit.audit(primary, raw, organisations, ("dims",), rates_exact=True)
    assert not audit.audit(published, raw, organisations, ("dims",), rates_exact=True)
    national = published.filter(pl.col("org_level") == "england")
    assert not national["suppressed"].any()


def test_rare_event_rates_cannot_be_differenced_across_organisations_or_periods():
    """Published as MSDS publishes them, an ICB minus its other trusts or a year minus its
    other quarters gives back withheld events; the rates this project computes below
    England come from counts rounded to 5, which no subtraction undoes."""
    raw, _, msds, organisations = _rare_event_store(as_msds_publishes=True)
    assert audit.audit(msds, raw, organisations, ("orgs", "periods"), rates_exact=True)
    raw, _, published, organisations = _rare_event_store()
    assert not audit.audit(published, raw, organisations, rates_exact=True)
    below = published.filter((pl.col("org_level") != "england") & ~pl.col("suppressed"))
    assert below.height and below["published_value"].is_null().all()
    assert (below["numerator"] % 5 == 0).all()
    national = published.filter(pl.col("org_level") == "england")
    assert national["published_value"].is_not_null().any()


def test_births_minus_live_births_gives_no_stillbirth_away(demo_raw, demo):
    """Stillbirth's denominator (all births) minus neonatal death's (live births) is the
    stillbirths. Controlled without knowing that relation, the demo's mortality figures
    give back hundreds of withheld stillbirth counts (the audit can fail); controlled as the
    store is written, none."""
    raw = demo_raw.filter(pl.col("metric").is_in(["stillbirth", "neonatal_death"]))
    primary = stores.apply_disclosure(raw)
    orgs = demo.organisations
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "POPULATION_SUMS", ())
        unaware = disclosure.complementary_suppression(primary, organisations=orgs)
    leaks = audit.audit(unaware, raw, orgs)
    assert len(leaks) > 100, len(leaks)
    assert {(leak.metric, leak.measure) for leak in leaks} == {("stillbirth", "numerator")}
    assert not audit.audit(unaware, raw, orgs, across=())  # only the relation across finds them
    aware = disclosure.complementary_suppression(primary, organisations=orgs)
    leaks = audit.audit(aware, raw, orgs)
    assert not leaks, "\n".join(map(str, leaks[:10]))
    # What it costs: neonatal death rates stay shown; withheld births belong to stillbirth
    # cells already withheld, or to the next-smallest group that protects them.
    shown = [f.filter(pl.col("metric") == "neonatal_death")["suppressed"].sum()
             for f in (unaware, aware)]
    assert shown[1] == shown[0], shown


def test_demo_store_has_no_withheld_count_given_away(demo_raw, demo):
    """The session demo store: the differencing audit over its unrounded sources, with raw
    counts rebuilt from the same seed. Before complementary suppression this found 449;
    before it knew that births are live births and stillbirths, a further 285."""
    raw = demo_raw
    unrounded = [m.id for m in registry.METRICS_LIST if m.disclosure == registry.WITHHOLD_SMALL]
    counts = demo.counts.filter(pl.col("metric").cast(pl.String).is_in(unrounded))
    leaks = audit.audit(counts, raw.filter(pl.col("metric").is_in(unrounded)),
                        demo.organisations)
    assert not leaks, "\n".join(map(str, leaks[:10]))
    assert counts.filter(pl.col("suppressed")).height > 0
    rare = [m.id for m in registry.METRICS_LIST if m.rare_event]
    leaks = audit.audit(demo.counts.filter(pl.col("metric").cast(pl.String).is_in(rare)),
                        raw.filter(pl.col("metric").is_in(rare)), demo.organisations,
                        rates_exact=True)
    assert not leaks, "\n".join(map(str, leaks[:10]))


@pytest.fixture(scope="module")
def demo_raw() -> pl.DataFrame:
    """The demo store's raw counts, rebuilt from the same seed."""
    return _demo_raw()


def _demo_raw() -> pl.DataFrame:
    import numpy as np

    from data.periods import all_periods, month_index
    from data.synthetic import calibration as cal
    from data.synthetic.aggregate import aggregate
    from data.synthetic.build import DEFAULT_SEED
    from data.synthetic.organisations import build_geography
    from data.synthetic.simulate import simulate_cube

    rng = np.random.default_rng(DEFAULT_SEED)
    geography = build_geography(rng)
    person, unit = simulate_cube(geography, rng, lambda _m: None)
    periods = all_periods(month_index(*cal.START), month_index(*cal.END))
    return aggregate(person, unit, geography, periods)


def test_real_store_gives_no_stillbirth_away_through_live_births(real_store):
    """MBRRACE-UK publishes births and live births beside stillbirths it withholds, so births
    minus live births gave every withheld stillbirth count below England back; one of the
    two is now withheld wherever the stillbirths are (England is not controlled)."""
    on = ["org_code", "period_label", "dimension", "group"]
    counts = real_store.counts.with_columns(pl.col(c).cast(pl.String)
                                            for c in ("metric", *on, "org_level"))
    births = counts.filter(pl.col("metric") == "stillbirth").select(
        *on, "org_level", stillbirths="numerator", births="denominator")
    live = counts.filter(pl.col("metric") == "neonatal_death").select(*on, live="denominator")
    withheld = births.join(live, on=on).filter(
        pl.col("stillbirths").is_null() & (pl.col("org_level") != "england"))
    assert withheld.height > 0
    given_away = withheld.filter(pl.col("births").is_not_null() & pl.col("live").is_not_null())
    assert given_away.is_empty(), given_away.head(10)


def test_population_sums_name_real_counts():
    for total, parts in registry.POPULATION_SUMS:
        for metric, measure in (total, *parts):
            assert metric in registry.METRICS and measure in ("numerator", "denominator")
            assert registry.get(metric).disclosure == registry.WITHHOLD_SMALL, (
                "only exact counts need the relation; rounded ones are safe")
