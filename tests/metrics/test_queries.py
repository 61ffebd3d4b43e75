"""The metrics queries (breakdown, benchmark, inequality, trend, scorecard, rollup) on the
demo store: disclosure control is honoured, figures agree with metrics.stats, and the
planted stories can be found."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from metrics import cells, registry, rollup, stats
from metrics.benchmark import benchmark, funnel_curve
from metrics.breakdown import breakdown
from metrics.categories import DIMENSIONS, ETHNICITY, TOTAL
from metrics.inequality import inequality
from metrics.registry import LOWER_IS_BETTER, PROPORTION, ROUND_TO_5, WITHHOLD_SMALL
from metrics.scorecard import RAG, scorecard
from metrics.trend import MIN_SPC_POINTS, trend
from metrics.values import with_values

FIGURES = ("value", "lower95", "upper95", "lower998", "upper998", "ratio", "ratio_lower95",
           "ratio_upper95", "difference", "difference_lower95", "difference_upper95")
PPH = registry.get("pph_1500")


def _labels(counts: pl.DataFrame, metric: registry.Metric, kind: str | None = None) -> list[str]:
    return cells.periods(counts, metric=metric.id,
                         period_kind=kind or metric.default_period_kind)["period_label"].to_list()


def _story(demo, story: str) -> str:
    codes = [code for code, stories in demo.manifest["stories"].items() if story in stories]
    assert len(codes) == 1, f"the demo plants exactly one {story!r} trust"
    return codes[0]


def _interval(metric: registry.Metric, events, denominator, confidence: float):
    if metric.statistic == PROPORTION:
        return stats.wilson_ci(events, denominator, confidence, multiplier=metric.multiplier)
    return stats.rate_ci(events, denominator, confidence, multiplier=metric.multiplier)


@pytest.fixture(scope="module")
def trust_breakdowns(demo) -> pl.DataFrame:
    """Every metric's breakdowns at trust level, latest period, for a spread of trusts
    (the smallest unit, the story trusts and a few ordinary ones)."""
    trusts = demo.organisations.filter(pl.col("org_level") == "trust").sort("annual_births")
    picks = set(trusts["org_code"].gather_every(20).to_list()) | set(demo.manifest["stories"])
    frames = []
    for metric in registry.METRICS_LIST:
        labels = _labels(demo.counts, metric)
        for dimension in metric.dimensions_at("trust"):
            for code in sorted(picks):
                frames.append(breakdown(demo.counts, metric=metric, org_code=code,
                                        period_label=labels[-1], dimension=dimension))
    return pl.concat(frames, how="vertical_relaxed")


# -- disclosure control ----------------------------------------------------------------------


def test_suppressed_cells_have_no_figures(demo):
    """Every suppressed cell of the store gives null value and CIs through with_values."""
    checked = 0
    for metric in registry.METRICS_LIST:
        suppressed = demo.counts.filter((pl.col("metric") == metric.id) & pl.col("suppressed"))
        if suppressed.is_empty():
            continue
        valued = with_values(suppressed, metric)
        for column in ("value", "lower95", "upper95", "lower998", "upper998"):
            assert valued[column].null_count() == valued.height, (metric.id, column)
        # A withheld count is null, never zero: only a published zero may remain.
        assert set(suppressed["numerator"].drop_nulls().unique().to_list()) <= {0}, metric.id
        checked += suppressed.height
    assert checked > 10_000


def test_suppressed_breakdown_rows_are_suppressed(trust_breakdowns):
    suppressed = trust_breakdowns.filter(pl.col("suppressed"))
    assert suppressed.height > 100, "the sample should include suppressed cells"
    assert (suppressed["status"] == "suppressed").all()
    for column in FIGURES:
        assert suppressed[column].null_count() == suppressed.height, column
    assert suppressed["gap_significant"].null_count() == suppressed.height
    assert suppressed["vs_comparator"].null_count() == suppressed.height
    assert set(suppressed["numerator"].drop_nulls().to_list()) <= {0}
    # and the other way round: a row with a value is never flagged suppressed
    shown = trust_breakdowns.filter(pl.col("value").is_not_null())
    assert not shown["suppressed"].any()
    assert (shown["status"] == "ok").all()


def test_trust_numerators_are_rounded_and_never_small(demo, trust_breakdowns):
    trusts = demo.counts.filter(pl.col("org_level") == "trust")
    people = {m.id: m for m in registry.METRICS_LIST if m.disclosure in (ROUND_TO_5,
                                                                           WITHHOLD_SMALL)}
    for metric in people.values():
        frame = trusts.filter(pl.col("metric") == metric.id)
        for column in ("numerator", "denominator"):
            counts = frame[column].drop_nulls()
            assert not counts.is_between(1, 7).any(), (metric.id, column)
            if metric.disclosure == ROUND_TO_5:
                assert (counts % 5 == 0).all(), (metric.id, column)
    shown = trust_breakdowns.filter(pl.col("numerator").is_not_null()
                                    & pl.col("metric").is_in(list(people)))
    assert shown.height > 1000
    assert not shown["numerator"].is_between(1, 7).any()
    rounded = shown.filter(pl.col("metric").is_in(
        [m for m, d in people.items() if d.disclosure == ROUND_TO_5]))
    assert (rounded["numerator"] % 5 == 0).all()


def test_rare_event_rates_need_eight_events(trust_breakdowns):
    """Rates per 1,000 are not shown where fewer than 8 events (rounded: at least 10)."""
    rare = [m.id for m in registry.METRICS_LIST if m.rare_event]
    shown = trust_breakdowns.filter(pl.col("metric").is_in(rare) & pl.col("value").is_not_null())
    assert shown.height > 100
    assert (shown["numerator"] >= 10).all()


# -- breakdown -------------------------------------------------------------------------------


def test_england_breakdown_matches_stats(demo):
    checked = 0
    for metric in registry.METRICS_LIST:
        if "england" not in metric.levels:
            continue
        label = _labels(demo.counts, metric)[-1]
        for dimension in metric.dimensions_at("england"):
            frame = breakdown(demo.counts, metric=metric, org_code="ENG", period_label=label,
                              dimension=dimension).filter(pl.col("value").is_not_null())
            num = frame["numerator"].cast(pl.Float64).to_numpy()
            den = frame["denominator"].cast(pl.Float64).to_numpy()
            np.testing.assert_allclose(frame["value"].to_numpy(),
                                       num / den * metric.multiplier, rtol=1e-9)
            for level, suffix in ((0.95, "95"), (0.998, "998")):
                lower, upper = _interval(metric, num, den, level)
                np.testing.assert_allclose(frame[f"lower{suffix}"].to_numpy(), lower, rtol=1e-9)
                np.testing.assert_allclose(frame[f"upper{suffix}"].to_numpy(), upper, rtol=1e-9)
            assert (frame["lower95"] <= frame["value"]).all()
            assert (frame["value"] <= frame["upper95"]).all()
            assert (frame["lower998"] <= frame["lower95"]).all()
            assert (frame["upper95"] <= frame["upper998"]).all()
            checked += frame.height
    assert checked > 100


def test_england_gaps_match_stats(demo):
    """Ratios and differences to the reference group are the stats functions' results."""
    for metric in (PPH, registry.get("booked_by_10_weeks")):
        label = _labels(demo.counts, metric)[-1]
        frame = breakdown(demo.counts, metric=metric, org_code="ENG", period_label=label,
                          dimension=ETHNICITY).filter(pl.col("value").is_not_null())
        ref = frame.filter(pl.col("is_reference")).row(0, named=True)
        others = frame.filter(~pl.col("is_reference"))
        x1 = others["numerator"].cast(pl.Float64).to_numpy()
        n1 = others["denominator"].cast(pl.Float64).to_numpy()
        x2, n2 = float(ref["numerator"]), float(ref["denominator"])
        if metric.statistic == PROPORTION:
            ratio = stats.risk_ratio_ci(x1, n1, x2, n2)
            diff = [np.asarray(d) * metric.multiplier
                    for d in stats.proportion_difference_ci(x1, n1, x2, n2)]
        else:
            ratio = stats.rate_ratio_ci(x1, n1, x2, n2)
            diff = stats.rate_difference_ci(x1, n1, x2, n2, multiplier=metric.multiplier)
        for column, expected in zip(("ratio", "ratio_lower95", "ratio_upper95"), ratio,
                                    strict=True):
            np.testing.assert_allclose(others[column].to_numpy(), expected, rtol=1e-9)
        for column, expected in zip(("difference", "difference_lower95",
                                     "difference_upper95"), diff, strict=True):
            np.testing.assert_allclose(others[column].to_numpy(), expected, rtol=1e-9)
        np.testing.assert_allclose(others["ratio"].to_numpy(),
                                   (others["value"] / ref["value"]).to_numpy(), rtol=1e-9)


def test_reference_group_is_the_baseline(trust_breakdowns):
    for (dimension,), part in trust_breakdowns.group_by(["dimension"]):
        reference = DIMENSIONS[dimension].reference
        flagged = part.filter(pl.col("is_reference"))
        assert set(flagged["group"].to_list()) <= {reference}
        shown = flagged.filter(pl.col("value").is_not_null())
        if reference is None:
            assert flagged.is_empty()
            continue
        assert shown.height > 0, dimension
        assert (shown["ratio"] == 1.0).all()
        assert (shown["difference"] == 0.0).all()
        assert shown["ratio_lower95"].null_count() == shown.height
        assert shown["gap_significant"].null_count() == shown.height


def test_gap_significant_agrees_with_ratio_ci(trust_breakdowns):
    gaps = trust_breakdowns.filter(pl.col("ratio_lower95").is_not_null())
    assert gaps.height > 500
    expected = (gaps["ratio_lower95"] > 1) | (gaps["ratio_upper95"] < 1)
    assert (gaps["gap_significant"] == expected).all()
    assert gaps["gap_significant"].any() and not gaps["gap_significant"].all()
    assert (gaps["ratio_lower95"] <= gaps["ratio"]).all()
    assert (gaps["ratio"] <= gaps["ratio_upper95"]).all()
    no_gap = trust_breakdowns.filter(pl.col("ratio_lower95").is_null())
    assert no_gap["gap_significant"].null_count() == no_gap.height


def test_breakdown_lists_every_group(demo):
    frame = breakdown(demo.counts, metric=PPH, org_code=_story(demo, "very_small_unit"),
                      period_label=_labels(demo.counts, PPH)[-1], dimension=ETHNICITY)
    assert frame["group"].to_list() == list(DIMENSIONS[ETHNICITY].all_groups)
    assert set(frame["status"].to_list()) <= {"ok", "suppressed", "no data"}


# -- roll-up ---------------------------------------------------------------------------------


def test_region_rollup_sums_members_and_never_treats_withheld_as_zero(demo):
    region = "Y56"
    members = tuple(sorted(demo.organisations.filter(
        (pl.col("org_level") == "trust") & (pl.col("region_code") == region))["org_code"]))
    counts = demo.counts.filter(pl.col("metric").is_in(["pph_1500", "booked_by_10_weeks",
                                                        "stillbirth"]))
    rolled = rollup.rollup(counts, org_codes=members, code="ROLLUP", level="region")
    keys = list(rollup.KEYS)
    member_rows = counts.filter(pl.col("org_code").cast(pl.String).is_in(list(members))
                                & (pl.col("org_level") == "trust"))
    expected = member_rows.group_by(keys).agg(
        numerator_sum=pl.col("numerator").sum(),
        denominator_sum=pl.col("denominator").sum(),
        any_withheld=(pl.col("numerator").is_null() | pl.col("denominator").is_null()).any(),
        n=pl.len(),
    )
    joined = rolled.join(expected, on=keys, how="inner")
    assert joined.height == rolled.height == expected.height

    complete = joined.filter(~pl.col("any_withheld"))
    assert complete.height > 100
    assert not complete["suppressed"].any()
    assert (complete["numerator"] == complete["numerator_sum"]).all()
    assert (complete["denominator"] == complete["denominator_sum"]).all()
    assert (complete["members"] == complete["n"]).all()

    partial = joined.filter(pl.col("any_withheld"))
    assert partial.height > 100, "some cells of a region have a withheld member"
    assert partial["suppressed"].all()
    assert (partial["withheld"] > 0).all()
    assert partial["numerator"].null_count() == partial.height
    assert partial["published_value"].null_count() == partial.height

    # The figures shown for a roll-up follow the same suppression rule.
    valued = with_values(rolled.filter(pl.col("metric") == "pph_1500"), PPH)
    assert valued.filter(pl.col("suppressed"))["value"].null_count() == \
        valued.filter(pl.col("suppressed")).height


def test_rollup_breakdown_is_suppressed_where_a_member_is_withheld(demo):
    region = "Y56"
    members = tuple(sorted(demo.organisations.filter(
        (pl.col("org_level") == "trust") & (pl.col("region_code") == region))["org_code"]))
    rolled = rollup.rollup(demo.counts.filter(pl.col("metric") == PPH.id), org_codes=members,
                           code="ROLLUP", level="region")
    for label in _labels(demo.counts, PPH, "financial_year"):
        frame = breakdown(rolled, metric=PPH, org_code="ROLLUP", period_label=label,
                          dimension=ETHNICITY)
        cellwise = rolled.filter((pl.col("period_label") == label)
                                 & (pl.col("dimension") == ETHNICITY))
        withheld = set(cellwise.filter(pl.col("withheld") > 0)["group"].to_list())
        for row in frame.iter_rows(named=True):
            if row["group"] in withheld:
                assert row["suppressed"] and row["value"] is None, (label, row["group"])


# -- benchmark -------------------------------------------------------------------------------


def _england_value(demo, metric, label, dimension=TOTAL, group="All") -> float:
    frame = breakdown(demo.counts, metric=metric, org_code="ENG", period_label=label,
                      dimension=dimension)
    return frame.filter(pl.col("group") == group)["value"][0]


def test_benchmark_funnel_labels(demo):
    trusts = demo.organisations.filter(pl.col("org_level") == "trust").height
    for metric in registry.OUTCOME_METRICS:  # a profile is not benchmarked
        if "trust" not in metric.levels:
            continue
        label = _labels(demo.counts, metric)[-1]
        frame = benchmark(demo.counts, demo.organisations, metric=metric, period_label=label,
                          average=_england_value(demo, metric, label))
        assert 0 < frame.height <= trusts
        shown = frame.filter(pl.col("value").is_not_null())
        assert set(shown["funnel"].to_list()) <= set(stats.SIGNIFICANCE_LABELS), metric.id
        hidden = frame.filter(pl.col("value").is_null())
        assert hidden["funnel"].null_count() == hidden.height
        assert hidden["rank_overall"].null_count() == hidden.height
        average = _england_value(demo, metric, label)
        high = shown.filter(pl.col("funnel").str.starts_with("High"))
        low = shown.filter(pl.col("funnel").str.starts_with("Low"))
        assert (high["value"] > average).all() and (low["value"] < average).all(), metric.id
        if shown.height:
            best = shown.sort("rank_overall").row(0, named=True)
            extreme = shown["value"].min() if metric.polarity == LOWER_IS_BETTER \
                else shown["value"].max()
            assert best["rank_overall"] == 1 and best["value"] == extreme, metric.id


def test_planted_pph_outlier_is_high_at_998(demo):
    outlier = _story(demo, "pph_outlier")
    label = _labels(demo.counts, PPH, "financial_year")[-1]
    frame = benchmark(demo.counts, demo.organisations, metric=PPH, period_label=label,
                      average=_england_value(demo, PPH, label))
    row = frame.filter(pl.col("org_code") == outlier).row(0, named=True)
    assert row["funnel"] == "High (0.001)"
    assert row["lower998"] > _england_value(demo, PPH, label)


def test_funnel_curve_brackets_the_average(demo):
    label = _labels(demo.counts, PPH, "financial_year")[-1]
    average = _england_value(demo, PPH, label)
    frame = benchmark(demo.counts, demo.organisations, metric=PPH, period_label=label,
                      average=average)
    curve = funnel_curve(frame, metric=PPH, average=average)
    assert set(curve["limit"].unique().to_list()) == {"lower_2s", "upper_2s", "lower_3s",
                                                      "upper_3s"}
    upper = curve.filter(pl.col("limit") == "upper_3s")["value"]
    lower = curve.filter(pl.col("limit") == "lower_3s")["value"]
    assert (upper > average).all() and (lower < average).all()


def test_benchmark_by_group(demo):
    label = _labels(demo.counts, PPH, "financial_year")[-1]
    frame = benchmark(demo.counts, demo.organisations, metric=PPH, period_label=label,
                      dimension=ETHNICITY, group="Black",
                      average=_england_value(demo, PPH, label, ETHNICITY, "Black"))
    story = _story(demo, "pph_gap_closes")
    direct = breakdown(demo.counts, metric=PPH, org_code=story, period_label=label,
                       dimension=ETHNICITY).filter(pl.col("group") == "Black")
    row = frame.filter(pl.col("org_code") == story)
    assert row["value"][0] == pytest.approx(direct["value"][0])
    assert frame["suppressed"].sum() > 0, "small trusts' Black PPH counts are withheld"


# -- inequality ------------------------------------------------------------------------------


def test_england_sii_rii(demo):
    for metric_id, sign in (("booked_by_10_weeks", 1), ("pph_1500", -1)):
        metric = registry.get(metric_id)
        label = _labels(demo.counts, metric, "financial_year")[-1]
        for dimension in ("deprivation_decile", "deprivation_quintile"):
            frame = breakdown(demo.counts, metric=metric, org_code="ENG", period_label=label,
                              dimension=dimension)
            result = inequality(frame, metric=metric, dimension=dimension)
            assert result["available"], result
            assert result["quantiles"] == len(DIMENSIONS[dimension].groups)
            assert result["sii_lower"] <= result["sii"] <= result["sii_upper"]
            assert result["rii_lower"] <= result["rii"] <= result["rii_upper"]
            # The calibrated gradients: booking by 10 weeks rises from most to least
            # deprived (SII > 0), PPH falls (SII < 0); both clearly, at England level.
            if sign > 0:
                assert result["sii_lower"] > 0, (metric_id, dimension, result)
            else:
                assert result["sii_upper"] < 0, (metric_id, dimension, result)
            assert inequality(frame, metric=metric, dimension=dimension) == result


def test_inequality_needs_every_deprivation_group(demo):
    small = _story(demo, "very_small_unit")
    label = _labels(demo.counts, PPH, "quarter")[-1]
    frame = breakdown(demo.counts, metric=PPH, org_code=small, period_label=label,
                      dimension="deprivation_decile")
    assert frame.filter(pl.col("group_order") <= 10)["value"].null_count() > 0
    result = inequality(frame, metric=PPH, dimension="deprivation_decile")
    assert result == {"available": False, "reason": result["reason"]} and result["reason"]
    ethnic = breakdown(demo.counts, metric=PPH, org_code="ENG", period_label=label,
                       dimension=ETHNICITY)
    assert not inequality(ethnic, metric=PPH, dimension=ETHNICITY)["available"]


# -- trend -----------------------------------------------------------------------------------


def test_trend_has_spc_from_twelve_points(demo):
    # The outlier trust has enough White and Asian quarters for SPC and too few for others.
    story = _story(demo, "pph_outlier")
    points, summaries = trend(demo.counts, metric=PPH, org_code=story, period_kind="quarter",
                              dimension=ETHNICITY)
    assert set(summaries) == set(points["group"].unique().to_list())
    spc_columns = ("mean", "lpl", "upl", "special_cause_rule", "point_type")
    with_spc = without_spc = 0
    for (group,), part in points.group_by(["group"]):
        shown = part.filter(pl.col("value").is_not_null())
        if shown.height >= MIN_SPC_POINTS:
            with_spc += 1
            assert summaries[group]["available"]
            for column in spc_columns:
                assert shown[column].null_count() == 0, (group, column)
            assert set(shown["point_type"].to_list()) <= set(stats.POINT_TYPES)
            assert (shown["lpl"] <= shown["mean"]).all() and (shown["mean"] <= shown["upl"]).all()
        else:
            without_spc += 1
            assert summaries[group] == {"available": False, "points": shown.height}
            for column in spc_columns:
                assert part[column].null_count() == part.height
        hidden = part.filter(pl.col("suppressed"))
        assert hidden["value"].null_count() == hidden.height
        assert hidden["mean"].null_count() == hidden.height
    assert with_spc and without_spc


def test_trend_points_equal_breakdowns(demo):
    story = _story(demo, "pph_gap_closes")
    points, _ = trend(demo.counts, metric=PPH, org_code=story, period_kind="quarter",
                      dimension=TOTAL)
    assert points.height == len(_labels(demo.counts, PPH, "quarter")) >= 12
    assert points["period_start"].is_sorted()
    for row in points.tail(3).iter_rows(named=True):
        single = breakdown(demo.counts, metric=PPH, org_code=story, period_label=row["period"],
                           dimension=TOTAL).row(0, named=True)
        for column in ("value", "lower95", "upper95", "numerator", "denominator"):
            assert row[column] == pytest.approx(single[column]), column


# -- scorecard -------------------------------------------------------------------------------


def test_scorecard_rows_follow_england_comparison(demo):
    story = _story(demo, "pph_outlier")
    card = scorecard(demo.counts, org_code=story)
    assert card["metric"].to_list() == [m.id for m in registry.ANNEX3_METRICS]
    for row in card.iter_rows(named=True):
        metric = registry.get(row["metric"])
        if row["status"] == "no data":
            continue
        assert row["period"] == _labels(demo.counts, metric)[-1]
        assert row["rag"] == RAG[row["vs_england"]]
        if row["suppressed"]:
            assert row["value"] is None and row["rag"] == "grey"
            continue
        single = breakdown(demo.counts, metric=metric, org_code=story,
                           period_label=row["period"], dimension=TOTAL).row(0, named=True)
        assert row["value"] == pytest.approx(single["value"])
        assert row["lower95"] == pytest.approx(single["lower95"])
        assert row["england_value"] == pytest.approx(_england_value(demo, metric,
                                                                    row["period"]))
    pph = card.filter(pl.col("metric") == PPH.id).row(0, named=True)
    assert pph["vs_england"] == "worse" and pph["rag"] == "red"


def test_scorecard_of_every_trust_is_well_formed(demo):
    for code in demo.organisations.filter(pl.col("org_level") == "trust")["org_code"][:10]:
        card = scorecard(demo.counts, org_code=code)
        assert card.height == len(registry.ANNEX3_METRICS)
        assert set(card["rag"].drop_nulls().to_list()) <= set(RAG.values())
        shown = card.filter(pl.col("value").is_not_null())
        assert not shown["suppressed"].any()
        assert all(math.isfinite(v) for v in shown["value"].to_list())


# -- the planted Black-White PPH gap that closes ----------------------------------------------


def _black_white_pph(demo, label: str) -> dict:
    frame = breakdown(demo.counts, metric=PPH, org_code=_story(demo, "pph_gap_closes"),
                      period_label=label, dimension=ETHNICITY)
    return frame.filter(pl.col("group") == "Black").row(0, named=True)


def test_pph_gap_is_significant_before_the_intervention(demo):
    row = _black_white_pph(demo, "2021-22")
    assert row["ratio"] > 1 and row["ratio_lower95"] > 1 and row["gap_significant"]


def test_pph_gap_has_closed_after_the_intervention(demo):
    row = _black_white_pph(demo, "2024-25")
    assert row["value"] is not None
    assert row["ratio_lower95"] <= 1 <= row["ratio_upper95"]
    assert row["gap_significant"] is False
