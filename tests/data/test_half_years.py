"""6-month periods (financial half-years): built into the store from the same counts as the
quarters, summed and controlled by the same rules, listed wherever quarters are."""

from __future__ import annotations

import polars as pl
import pytest

import cli
from data import periods, queries
from data.periods import month_index
from data.synthetic.aggregate import apply_disclosure
from metrics import disclosure, registry
from metrics.cells import year_earlier_step
from metrics.trend import spc_period_kind, spc_valid
from tests.security import stores

SERIES = ["metric", "org_code", "dimension", "group"]
QUARTERLY = [m.id for m in registry.METRICS_LIST if "quarter" in m.period_kinds]
PROFILES = [m.id for m in registry.METRICS_LIST if m.profile]


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in frame.columns
                              if frame.schema[c] in (pl.Categorical, pl.Enum))


def _quarter_sums(counts: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Each half-year cell beside the hand sum of ``columns`` over its two quarters."""
    halves = counts.filter(pl.col("period_kind") == "half_year")
    inside = halves.select("period_label", "period_start", "period_end").unique().join(
        counts.filter(pl.col("period_kind") == "quarter").select(
            q_label="period_label", q_start="period_start", q_end="period_end").unique(),
        how="cross").filter((pl.col("q_start") >= pl.col("period_start"))
                            & (pl.col("q_end") <= pl.col("period_end")))
    quarters = counts.filter(pl.col("period_kind") == "quarter").rename(
        {"period_label": "q_label"}).join(inside.select("period_label", "q_label"),
                                          on="q_label")
    sums = quarters.group_by([*SERIES, "period_label"]).agg(
        quarters=pl.len(), **{f"{c}_sum": pl.col(c).sum() for c in columns},
        **{f"{c}_parts": pl.col(c).is_not_null().all() for c in columns})
    return halves.join(sums, on=[*SERIES, "period_label"], how="left")


# -- the periods ----------------------------------------------------------------------------


def test_half_years_are_two_financial_quarters_labelled_by_year_and_months():
    found = periods.half_years(month_index(2024, 1), month_index(2025, 12))
    assert [p.label for p in found] == ["2024-25 H1 (Apr–Sep 2024)",
                                        "2024-25 H2 (Oct 2024–Mar 2025)",
                                        "2025-26 H1 (Apr–Sep 2025)"]
    assert [(p.start.isoformat(), p.end.isoformat()) for p in found] == [
        ("2024-04-01", "2024-09-30"), ("2024-10-01", "2025-03-31"),
        ("2025-04-01", "2025-09-30")]
    for half in found:
        quarters = periods.quarters(half.months[0], half.months[-1])
        assert [m for q in quarters for m in q.months] == list(half.months)
        assert len(quarters) == 2
    # Back to back, never overlapping: a year is H1 then H2.
    assert all(a.months[-1] + 1 == b.months[0] for a, b in zip(found, found[1:], strict=False))


def test_a_half_year_is_offered_only_when_both_its_quarters_are_covered():
    assert periods.half_years(month_index(2024, 4), month_index(2024, 8)) == []
    assert len(periods.half_years(month_index(2024, 4), month_index(2024, 9))) == 1
    assert periods.half_years(month_index(2024, 5), month_index(2025, 2)) == []


def test_half_years_are_built_with_the_other_kinds_and_projected_forward():
    kinds = {p.kind for p in periods.all_periods(month_index(2023, 1), month_index(2024, 12))}
    assert "half_year" in kinds
    assert "half_year" in queries.PERIOD_BUILDERS


def test_half_years_do_not_overlap_so_spc_applies():
    assert spc_valid("half_year")
    assert spc_period_kind(("rolling_12_months", "half_year", "financial_year")) == "half_year"
    assert year_earlier_step("half_year") == 2


def test_every_metric_with_quarters_offers_half_years():
    assert QUARTERLY
    for metric_id in QUARTERLY:
        kinds = registry.get(metric_id).period_kinds
        assert "half_year" in kinds
        assert kinds.index("half_year") == kinds.index("quarter") + 1


# -- derived figures equal the quarters' sums -------------------------------------------------


@pytest.fixture(scope="module")
def small_raw() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw counts of a small random store of 15 months (two whole half-years)."""
    shape = stores.Shape(regions=((2, 1), (2,)), months=15, density=0.1, seed=3)
    return stores.raw_counts(shape)


def test_raw_half_year_counts_are_the_sums_of_their_quarters(small_raw):
    raw, _ = small_raw
    summed = _quarter_sums(raw, "raw_numerator", "raw_denominator")
    assert summed.height > 100
    # A group with no one in a quarter has no row for it: it counts as zero.
    assert summed["quarters"].is_between(1, 2).all()
    assert (summed["quarters"] == 2).sum() > 100
    assert (summed["raw_numerator"] == summed["raw_numerator_sum"]).all()
    # A profile's denominator is everyone in the organisation, so its hand sum needs the
    # group in both quarters.
    both = summed.filter((pl.col("quarters") == 2) | ~pl.col("metric").is_in(PROFILES))
    assert (both["raw_denominator"] == both["raw_denominator_sum"]).all()
    assert set(summed["metric"]) == set(QUARTERLY)


def test_half_years_are_controlled_as_any_count_is(small_raw):
    """The sum is controlled itself (not summed from controlled quarters): 1 to 7 withheld
    below England, MSDS rounded to 5, England as counted."""
    raw, _ = small_raw
    published = apply_disclosure(raw.filter(pl.col("period_kind") == "half_year"))
    below = published.filter(pl.col("org_level") != "england")
    small = below.filter(pl.col("raw_numerator").is_between(1, disclosure.SMALL_MAX)
                         & (pl.col("rule") != registry.NOT_PEOPLE))
    assert small.height > 0 and small["suppressed"].all() and small["numerator"].is_null().all()
    msds = below.filter((pl.col("rule") == registry.ROUND_TO_5) & ~pl.col("suppressed"))
    assert msds.height > 0 and (msds["numerator"] % 5 == 0).all()
    assert ((msds["numerator"] - msds["raw_numerator"]).abs() <= 2).all()
    england = published.filter(pl.col("org_level") == "england")
    assert (england["numerator"] == england["raw_numerator"]).all()


def test_store_half_years_are_the_sums_of_their_quarters(demo):
    """England's counts are published as counted: each half-year is its two quarters' sum,
    numerator and denominator, for every metric and group with quarters. Below England the
    unrounded sources are exact too wherever all three cells are shown."""
    counts = _as_text(demo.counts.filter(pl.col("metric").cast(pl.String).is_in(QUARTERLY)))
    summed = _quarter_sums(counts, "numerator", "denominator")
    assert summed["quarters"].is_between(1, 2).all()  # a trust closing mid-year has one
    england = summed.filter(pl.col("org_level") == "england")
    assert set(england["metric"]) == set(QUARTERLY)
    assert (england["numerator"] == england["numerator_sum"]).all()
    both = england.filter((pl.col("quarters") == 2) | ~pl.col("metric").is_in(PROFILES))
    assert both.height > 0.9 * england.height
    assert (both["denominator"] == both["denominator_sum"]).all()
    unrounded = [m.id for m in registry.METRICS_LIST if m.id in QUARTERLY
                 and m.disclosure != registry.ROUND_TO_5]
    shown = summed.filter(pl.col("metric").is_in(unrounded) & pl.col("numerator_parts")
                          & pl.col("numerator").is_not_null() & pl.col("denominator_parts"))
    assert shown.filter(pl.col("org_level") != "england").height > 100
    assert (shown["numerator"] == shown["numerator_sum"]).all()
    assert (shown["denominator"] == shown["denominator_sum"]).all()


def test_store_half_years_are_shown_where_a_quarter_is_withheld(demo):
    """Summed from the counts rather than from the published quarters, a half-year is shown
    wherever its own count allows, also when one of its quarters is withheld (as NHS England
    publishes 6-month figures)."""
    counts = _as_text(demo.counts.filter(pl.col("metric") == "pph_1500"))
    summed = _quarter_sums(counts, "numerator")
    assert summed.filter(pl.col("numerator").is_not_null()
                         & ~pl.col("numerator_parts")).height > 0


# -- the command line -----------------------------------------------------------------------


def test_cli_lists_and_computes_half_years(demo_root, monkeypatch, capsys):
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(demo_root))
    assert cli.main(["list-periods", "--metric", "pph_1500", "--format", "csv"]) == 0
    listed = [line.split(",") for line in capsys.readouterr().out.splitlines()]
    halves = [row for row in listed if row[0] == "half_year"]
    assert [row[1] for row in halves] == queries.periods("pph_1500", "half_year")
    assert "2023-24 H2 (Oct 2023–Mar 2024)" in {row[1] for row in halves}
    assert cli.main(["compute", "--metric", "iol_delay", "--org", "ENG", "--measure", "trend",
                     "--period-kind", "half_year"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    assert {r["period_kind"] for r in rows} == {"half_year"}
    assert len(rows) == len(queries.periods("iol_delay", "half_year")) >= 8
