"""The population profile (``booking_population``): who is booked, by ethnic group and
deprivation, in the demo store and from the real published files."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from data import store
from data.ingest import build, msds_annual
from data.ingest.detect import MSDS_COLUMNS
from metrics import categories as cat
from metrics import registry
from metrics.disclosure import SMALL_MAX

PROFILE = "booking_population"
REAL = build.default_realdata_dir()
MSDS_2223 = REAL / "hosp-epis-stat-mat-msdscsv-2022-23.csv"
needs_real = pytest.mark.skipif(not MSDS_2223.is_file(),
                                reason=f"real published file not present at {MSDS_2223}")


def _profile(s: store.Store) -> pl.DataFrame:
    frame = s.metric_counts(PROFILE)
    return frame.with_columns(pl.col(c).cast(pl.String) for c in frame.columns
                              if frame.schema[c] in (pl.Categorical, pl.Enum))


# -- registry ----------------------------------------------------------------------------------


def test_profile_is_a_description_not_an_outcome():
    metric = registry.get(PROFILE)
    assert metric.profile and metric.polarity == registry.NO_JUDGEMENT
    assert metric.statistic == registry.PROPORTION and metric.disclosure == registry.ROUND_TO_5
    assert not metric.annex3 and cat.TOTAL not in metric.breakdowns
    assert metric in registry.PROFILE_METRICS and metric not in registry.OUTCOME_METRICS
    assert PROFILE not in registry.OUTCOMES and PROFILE in registry.METRICS
    assert registry.OUTCOME_METRICS + registry.PROFILE_METRICS == tuple(
        sorted(registry.METRICS_LIST, key=lambda m: m.profile))


# -- demo store --------------------------------------------------------------------------------


def test_demo_store_holds_the_profile_at_every_level(demo):
    frame = _profile(demo)
    held = set(frame.select("org_level", "dimension").unique().iter_rows())
    assert held == {(level, dim) for level in ("england", "region", "icb", "trust")
                    for dim in (cat.ETHNICITY, cat.DECILE, cat.QUINTILE)}
    assert set(frame["period_kind"].unique()) == set(registry.get(PROFILE).period_kinds) & set(
        demo.metric_counts("ethnicity_recorded")["period_kind"].cast(pl.String).unique())


def test_england_shares_add_up_to_everyone_booked(demo):
    """England is not rounded: the groups sum exactly to the denominator, which is the
    completeness metrics' denominator (women booked) for the same period."""
    frame = _profile(demo).filter(pl.col("org_level") == "england")
    sums = frame.group_by("period_label", "dimension").agg(
        pl.col("numerator").sum(), pl.col("denominator").unique())
    assert (sums["denominator"].list.len() == 1).all()
    assert (sums["numerator"] == sums["denominator"].list.first()).all()
    recorded = demo.metric_counts("ethnicity_recorded").filter(
        (pl.col("org_level") == "england") & (pl.col("dimension") == cat.TOTAL)).select(
        pl.col("period_label").cast(pl.String), women=pl.col("denominator"))
    joined = sums.with_columns(pl.col("denominator").list.first()).join(
        recorded, on="period_label")
    assert joined.height == sums.height and (joined["denominator"] == joined["women"]).all()
    groups = set(frame.filter(pl.col("dimension") == cat.ETHNICITY)["group"])
    assert groups == set(cat.ETHNIC_GROUPS + cat.ETHNIC_UNKNOWN)


def test_demo_profile_passes_disclosure_control(demo):
    frame = _profile(demo).filter(pl.col("org_level") != "england")
    shown = frame.filter(~pl.col("suppressed"))
    assert shown.height and (shown["numerator"] % 5 == 0).all()
    assert (shown["denominator"] % 5 == 0).all()
    assert not shown["numerator"].is_between(1, SMALL_MAX).any()
    withheld = frame.filter(pl.col("suppressed"))
    assert withheld.height, "small groups in small trusts are withheld"
    assert withheld["numerator"].null_count() == withheld.height


def test_london_serves_more_black_and_asian_women_than_the_north_east(demo):
    """The demo's trust mixes follow the real distributions (DATA.md): London is far more
    ethnically diverse."""
    frame = _profile(demo).filter(
        (pl.col("org_level") == "region") & (pl.col("period_kind") == "financial_year")
        & (pl.col("dimension") == cat.ETHNICITY) & pl.col("group").is_in(["Asian", "Black"]))
    share = frame.group_by("org_code").agg(
        (pl.col("numerator").sum() / pl.col("denominator").first()).alias("share"))
    shares = dict(share.iter_rows())
    assert shares["Y56"] > 2 * shares["Y63"]  # London, North East and Yorkshire


# -- ingest ------------------------------------------------------------------------------------

HEADER = ",".join(MSDS_COLUMNS)


def _rows(*lines: str) -> list[list[str]]:
    return list(csv.reader([HEADER, *lines]))


def _line(level: str, code: str, dimension: str, measure: str, value: str) -> str:
    name = "ALL SUBMITTERS" if level == "National" else f"TRUST {code}"
    return f"2022-23,{dimension},{level},{code},{name},{measure},Deliveries,{value}"


def test_annual_categories_map_to_profile_groups():
    eth = "EthnicCategoryMotherGroup"
    dep = msds_annual.DEPRIVATION
    lines = [_line("Provider", "RXX", eth, m, v) for m, v in (
        ("White", "600"), ("Asian or Asian British", "200"), ("Black or Black British", "100"),
        ("Mixed", "5"), ("Any other ethnic group", "40"), ("Not Stated", "30"),
        ("Not known", "15"), ("Missing value / Value outside reporting parameters", "10"))]
    lines += [_line("Provider", "RXX", dep, m, v) for m, v in (
        ("01 - Most deprived", "300"), ("2", "200"), ("03", "*"), ("10 - Least deprived", "50"),
        ("Pseudo postcode recorded (includes no fixed abode or resident overseas)", "5"),
        ("Missing value / Value outside reporting parameters", "20"))]
    result = msds_annual.parse(_rows(*lines), "annual.csv")
    assert not result.parsed.problems
    rows = {(r["dimension"], r["group"]): r for r in result.parsed.rows
            if r["metric"] == PROFILE}
    asian = rows[(cat.ETHNICITY, "Asian")]
    assert (asian["numerator"], asian["denominator"], asian["suppressed"]) == (200, 1000, False)
    assert asian["group_order"] == cat.DIMENSIONS[cat.ETHNICITY].order("Asian")
    assert rows[(cat.ETHNICITY, "Not stated")]["numerator"] == 30
    assert rows[(cat.ETHNICITY, "Missing")]["numerator"] == 10
    mixed = rows[(cat.ETHNICITY, "Mixed")]  # 5 stands for 1 to 7: withheld
    assert mixed["suppressed"] and mixed["numerator"] is None and mixed["denominator"] == 1000
    # Deprivation: decile 3 withheld by the publisher, so every share's denominator is
    # unknown; unknown deprivation sums pseudo postcodes and missing.
    assert {k[1] for k in rows if k[0] == cat.QUINTILE} == {
        "Q1 (most deprived)", "Q2", "Q5 (least deprived)", "Unknown"}
    for (dim, _group), row in rows.items():
        if dim != cat.ETHNICITY:
            assert row["suppressed"] and row["numerator"] is None and row["denominator"] is None


# -- real store --------------------------------------------------------------------------------


def _raw(path: Path, **where) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if all(r[k] == v for k, v in where.items())]


@pytest.mark.realdata
@needs_real
def test_real_trust_share_matches_the_raw_file(real_store, monkeypatch):
    """Manchester University NHS FT (R0A), 2022-23: the share of women who are Black, and
    of those in the most deprived quintile, worked out from the published CSV."""
    from data import queries

    raw = _raw(MSDS_2223, Org_Code="R0A", Dimension="EthnicCategoryMotherGroup")
    women = sum(int(r["Value"]) for r in raw)
    black = next(int(r["Value"]) for r in raw if r["Measure"] == "Black or Black British")
    frame = _profile(real_store).filter((pl.col("org_code") == "R0A")
                                        & (pl.col("period_label") == "2022-23"))
    cell = frame.filter((pl.col("dimension") == cat.ETHNICITY)
                        & (pl.col("group") == "Black")).row(0, named=True)
    assert (cell["numerator"], cell["denominator"]) == (black, women)
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(real_store.path.parent.parent))
    shares = queries.breakdown(PROFILE, "R0A", "2022-23", cat.ETHNICITY, "england")
    row = shares.filter(pl.col("group") == "Black").row(0, named=True)
    assert row["value"] == pytest.approx(100 * black / women)
    assert row["lower95"] < row["value"] < row["upper95"]
    deciles = _raw(MSDS_2223, Org_Code="R0A", Dimension=msds_annual.DEPRIVATION)
    q1 = sum(int(r["Value"]) for r in deciles if r["Measure"][:2] in ("01", "02"))
    quintile = queries.breakdown(PROFILE, "R0A", "2022-23", cat.QUINTILE, "none")
    row = quintile.filter(pl.col("group") == "Q1 (most deprived)").row(0, named=True)
    assert row["value"] == pytest.approx(100 * q1 / sum(int(r["Value"]) for r in deciles))


@pytest.mark.realdata
@needs_real
def test_real_store_holds_the_profile_from_annual_and_monthly_files(real_store):
    frame = _profile(real_store)
    kinds = set(frame["period_kind"].unique())
    assert "financial_year" in kinds and "month" in kinds  # annual and exp-data files
    levels = set(frame["org_level"].unique())
    assert levels == {"england", "region", "icb", "trust"}
    # England's groups add up to the women counted in every period and breakdown.
    england = frame.filter(pl.col("org_level") == "england").group_by(
        "period_label", "dimension").agg(pl.col("numerator").sum(),
                                         pl.col("denominator").first())
    assert (england["numerator"] == england["denominator"]).all()
    trusts = frame.filter((pl.col("org_level") == "trust") & ~pl.col("suppressed"))
    assert not trusts["numerator"].is_between(1, SMALL_MAX).any()
