"""Disclosure across period kinds: a 6-month figure minus a published quarter (or a year minus
a half-year and a quarter) must never give back a withheld quarter.

Half-years are stored like every other period, so the complementary suppression every store
passes through on its way out (``store.write_store``) sees them as one more longer period
made of quarters. These tests check that with the independent differencing audit of
``tests/security/audit.py``, on hand-made cells and on random stores."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from data import schema
from data.synthetic.aggregate import apply_disclosure
from metrics import disclosure, registry
from tests.security import audit, stores
from tests.security.test_disclosure import ORGS, QUARTERS, cell

FY = ("2023-24", "financial_year", date(2023, 4, 1), date(2024, 3, 31))
H1 = ("2023-24 H1 (Apr–Sep 2023)", "half_year", date(2023, 4, 1), date(2023, 9, 30))
H2 = ("2023-24 H2 (Oct 2023–Mar 2024)", "half_year", date(2023, 10, 1), date(2024, 3, 31))
UNROUNDED = [m.id for m in registry.METRICS_LIST if m.disclosure == registry.WITHHOLD_SMALL]


def _trust_year(quarters: tuple[int, int, int, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(published after primary control, raw) for one trust's induction delays: four
    quarters, both half-years and the financial year, each summed from the quarters."""
    halves = (quarters[0] + quarters[1], quarters[2] + quarters[3])
    truth = list(zip((*quarters, *halves, sum(quarters)), (*QUARTERS, H1, H2, FY), strict=True))
    rows = [cell(None if 1 <= n <= disclosure.SMALL_MAX else n, metric="iol_delay", org="T1",
                 level="trust", period=p) for n, p in truth]
    published = schema.conform(pl.DataFrame(rows, infer_schema_length=None), "counts")
    raw = published.with_columns(raw_numerator=pl.Series([n for n, _ in truth]),
                                 raw_denominator=pl.col("denominator"))
    return published, raw


def _shown(frame: pl.DataFrame) -> dict[str, int | None]:
    return dict(frame.select("period_label", "numerator").iter_rows())


@pytest.mark.parametrize("quarters", [(12, 5, 11, 12), (30, 3, 40, 9), (2, 3, 50, 60),
                                      (20, 20, 4, 20), (0, 6, 15, 0)])
def test_no_quarter_is_a_half_year_minus_the_other(quarters):
    published, raw = _trust_year(quarters)
    # Primary control alone leaves a withheld quarter as a half-year minus its other
    # quarter: the audit sees it ...
    assert audit.audit(published, raw, ORGS)
    # ... and complementary suppression, which treats a half-year as one more period made
    # of quarters, closes every such difference, across half-years and the year.
    protected = disclosure.complementary_suppression(published, organisations=ORGS)
    assert not audit.audit(protected, raw, ORGS), _shown(protected)
    shown = _shown(protected)
    for label, n in zip([q[0] for q in QUARTERS], quarters, strict=True):
        if 1 <= n <= disclosure.SMALL_MAX:
            assert shown[label] is None


def test_a_withheld_first_quarter_takes_its_partner_or_its_half_year_with_it():
    """H1 17 = Q1 12 + Q2 5: with Q2 withheld, 17 - 12 would give it back, so Q1 or H1 goes
    too; the year (40) minus H2 (23) is H1 again, so withholding H1 alone is not enough."""
    published, _ = _trust_year((12, 5, 11, 12))
    shown = _shown(disclosure.complementary_suppression(published, organisations=ORGS))
    assert shown["Q2"] is None
    assert shown["Q1"] is None or (shown[H1[0]] is None
                                   and None in (shown[FY[0]], shown[H2[0]]))


@pytest.fixture(scope="module")
def random_store(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(published counts, raw counts, organisations) of a small random store whose induction
    delays are small enough to be withheld, over 21 months: three half-years, seven quarters,
    a financial year, rolling windows."""
    from data import store

    shape = stores.Shape(regions=((2, 1), (2,)), months=21, density=0.02, seed=11)
    build, raw = stores.build(shape, tmp_path_factory.mktemp("half-years"))
    loaded = store.load_store(build.parent.parent)
    counts = loaded.counts.with_columns(
        pl.col(c).cast(pl.String) for c in loaded.counts.columns
        if loaded.counts.schema[c] in (pl.Categorical, pl.Enum))
    return counts, raw, loaded.organisations


def test_random_store_gives_no_quarter_away_through_half_years(random_store):
    counts, raw, organisations = random_store
    halves = counts.filter(pl.col("period_kind") == "half_year")
    assert halves["period_label"].n_unique() == 3
    delays = counts.filter((pl.col("metric") == "iol_delay")
                           & pl.col("period_kind").is_in(["quarter", "half_year"]))
    assert delays.filter(pl.col("suppressed")).height > 0
    picked = pl.col("metric").is_in(UNROUNDED)
    leaks = audit.audit(counts.filter(picked), raw.filter(picked), organisations)
    assert not leaks, "\n".join(map(str, leaks[:10]))


def test_half_years_published_without_cross_kind_suppression_would_leak(random_store):
    """The store's quarters and other periods, then its half-years as primary control
    alone would publish them: the audit finds quarters given away, so the check above can
    fail, and it is the store's own pass that prevents it."""
    counts, raw, organisations = random_store
    picked = pl.col("metric").is_in(UNROUNDED)
    is_half = pl.col("period_kind") == "half_year"
    others = raw.filter(picked & ~is_half)
    protected = disclosure.complementary_suppression(
        schema.conform(apply_disclosure(others), "counts"), organisations=organisations)
    naive = pl.concat([protected, schema.conform(apply_disclosure(raw.filter(picked & is_half)),
                                                 "counts")])
    leaks = audit.audit(naive, raw.filter(picked), organisations)
    quarters = set(raw.filter(pl.col("period_kind") == "quarter")["period_label"])
    assert any(leak.cell[2] in quarters for leak in leaks), leaks[:5]
