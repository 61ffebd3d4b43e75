"""The synthetic England demo: calibration, disclosure control, stories and determinism."""

from __future__ import annotations

import polars as pl
import pytest

from data.synthetic import calibration as cal
from data.synthetic.build import DEFAULT_SEED, build_demo
from metrics import registry


def _england(demo, metric, kind, dimension="total"):
    return demo.counts.filter(
        (pl.col("metric") == metric) & (pl.col("org_code") == "ENG")
        & (pl.col("period_kind") == kind) & (pl.col("dimension") == dimension)
    ).with_columns(rate=pl.col("numerator") / pl.col("denominator"),
                   period=pl.col("period_label").cast(pl.String))


def _rate(demo, metric, kind, period, group="All", dimension="total"):
    row = _england(demo, metric, kind, dimension).filter(
        (pl.col("period") == period) & (pl.col("group") == group))
    return row["rate"][0]


def test_every_metric_has_data_at_each_declared_level(demo):
    counts = demo.counts
    for metric in registry.METRICS_LIST:
        for level, dims in metric.dimensions.items():
            for dim in dims:
                rows = counts.filter((pl.col("metric") == metric.id)
                                     & (pl.col("org_level") == level)
                                     & (pl.col("dimension") == dim))
                assert rows.height > 0, (metric.id, level, dim)


def test_volume_and_trusts(demo):
    trusts = demo.organisations.filter(pl.col("org_level") == "trust")
    assert trusts.height == 120
    assert trusts["org_code"].str.starts_with("SYN").all()
    women = _england(demo, "pph_1500", "financial_year")
    for value in women["denominator"]:
        assert 520_000 <= value <= 600_000
    sizes = trusts["annual_births"]
    assert sizes.min() < 1000 and sizes.max() > 12_000


@pytest.mark.parametrize(
    ("metric", "kind", "period", "low", "high"),
    [
        ("stillbirth", "calendar_year", "2023", 2.9e-3, 3.5e-3),
        ("neonatal_death", "calendar_year", "2023", 1.4e-3, 1.85e-3),
        ("maternal_death", "rolling_3_years", "2021–23", 9e-5, 17e-5),
        ("pph_1500", "financial_year", "2020-21", 0.026, 0.029),
        ("pph_1500", "financial_year", "2024-25", 0.030, 0.033),
        ("preterm", "financial_year", "2023-24", 0.07, 0.08),
        ("booked_by_10_weeks", "financial_year", "2023-24", 0.62, 0.76),
        ("ethnicity_recorded", "financial_year", "2023-24", 0.90, 0.96),
        ("deprivation_known", "financial_year", "2023-24", 0.95, 0.999),
        ("instrumental", "financial_year", "2023-24", 0.10, 0.12),
        ("concerns_taken_seriously", "survey_year", "2023 survey", 0.77, 0.83),
    ],
)
def test_national_rates_match_published_targets(demo, metric, kind, period, low, high):
    assert low <= _rate(demo, metric, kind, period) <= high


def test_caesarean_rate_rises_to_published_level(demo):
    def cs(period):
        return (_rate(demo, "caesarean_planned", "financial_year", period)
                + _rate(demo, "caesarean_emergency", "financial_year", period))
    assert 0.40 <= cs("2023-24") <= 0.445
    assert 0.43 <= cs("2024-25") <= 0.47
    assert cs("2024-25") > cs("2020-21") + 0.03


def test_gradients_by_ethnicity_and_deprivation(demo):
    def ratio(metric, kind, period, dim, group, reference):
        return (_rate(demo, metric, kind, period, group, dim)
                / _rate(demo, metric, kind, period, reference, dim))

    black_still = ratio("stillbirth", "calendar_year", "2023", "ethnicity", "Black", "White")
    assert 1.7 <= black_still <= 2.8
    asian_still = ratio("stillbirth", "calendar_year", "2023", "ethnicity", "Asian", "White")
    assert 1.2 <= asian_still <= 2.0
    nnd = ratio("neonatal_death", "calendar_year", "2023", "deprivation_quintile",
                "Q1 (most deprived)", "Q5 (least deprived)")
    assert 1.8 <= nnd <= 3.2
    pph = ratio("pph_1500", "financial_year", "2023-24", "ethnicity", "Black", "White")
    assert 1.15 <= pph <= 1.5
    booking = ratio("booked_by_10_weeks", "financial_year", "2023-24", "ethnicity", "Black",
                    "White")
    assert booking < 0.92
    maternal = ratio("maternal_death", "rolling_3_years", "2021–23", "ethnicity", "Black",
                     "White")
    assert 1.8 <= maternal <= 4.5


def test_trust_counts_follow_disclosure_rules(demo):
    sub = demo.counts.filter(pl.col("org_level") != "england")
    msds = [m.id for m in registry.METRICS_LIST if m.disclosure == registry.ROUND_TO_5]
    rounded = sub.filter(pl.col("metric").cast(pl.String).is_in(msds))
    for column in ("numerator", "denominator"):
        values = rounded[column].drop_nulls()
        assert (values % 5 == 0).all(), column
    people = sub.filter(pl.col("metric").cast(pl.String).is_in(
        [m.id for m in registry.METRICS_LIST if m.disclosure != registry.NOT_PEOPLE]))
    for column in ("numerator", "denominator"):
        assert not people[column].is_between(1, 7).any(), column
    withheld = people.filter(pl.col("numerator").is_null())
    assert withheld.height > 0 and withheld["suppressed"].all()


def test_rare_event_rates_hidden_below_eight(demo):
    rare = demo.counts.filter(pl.col("metric").is_in(["pph_1500", "preterm"])
                              & (pl.col("org_level") == "trust"))
    shown = rare.filter(~pl.col("suppressed"))
    assert (shown["numerator"] >= 8).all()


def test_rare_event_rates_below_england_come_from_rounded_counts(demo):
    """A rate from unrounded counts would give its exact events to subtraction across trusts
    and periods; below England the demo's rates use the rounded counts, England's do not."""
    rare = demo.counts.filter(pl.col("metric").is_in(["pph_1500", "preterm"]))
    below = rare.filter((pl.col("org_level") != "england") & ~pl.col("suppressed"))
    assert below.height > 1000
    assert below["published_value"].is_null().all()
    assert (below["numerator"] % 5 == 0).all() and (below["denominator"] % 5 == 0).all()
    national = rare.filter(pl.col("org_level") == "england")
    assert national["published_value"].is_not_null().all()
    assert (national["numerator"] % 5 != 0).any()


def test_national_counts_are_not_controlled(demo):
    national = demo.counts.filter(pl.col("org_level") == "england")
    assert not national["suppressed"].any()
    assert (national["numerator"] % 5 != 0).any()


def test_planted_stories(demo):
    stories = demo.manifest["stories"]
    found = {story for values in stories.values() for story in values}
    assert {"pph_gap_closes", "very_small_unit", "poor_ethnicity_recording", "pph_outlier",
            "merged_away", "merger_successor"} <= found
    merged = [code for code, s in stories.items() if "merged_away" in s][0]
    org = demo.organisations.filter(pl.col("org_code") == merged)
    assert org["closed"][0] is not None and org["successor_code"][0]
    poor = [code for code, s in stories.items() if "poor_ethnicity_recording" in s][0]
    row = demo.counts.filter((pl.col("metric") == "ethnicity_recorded")
                             & (pl.col("org_code") == poor)
                             & (pl.col("period_label") == "2023-24"))
    assert row["numerator"][0] / row["denominator"][0] < 0.75


def test_same_seed_gives_identical_tables(demo, tmp_path):
    again = build_demo(seed=DEFAULT_SEED, root=tmp_path, progress=lambda _m: None)
    rebuilt = pl.read_parquet(again / "counts.parquet")
    original = pl.read_parquet(demo.path / "counts.parquet")
    assert rebuilt.equals(original)


def test_calibration_years_cover_the_simulation():
    for target in (cal.STILLBIRTH, cal.PPH, cal.BOOKED_BY_10_WEEKS):
        assert set(range(cal.START[0], cal.END[0] + 1)) <= set(target.by_year)
