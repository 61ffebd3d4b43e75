"""Is the gap closing? Gaps per period and the weighted trend test, against hand-worked
figures (expected values computed here with independent formulas)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats as scipy_stats

from metrics import registry
from metrics.breakdown import breakdown
from metrics.categories import QUINTILE
from metrics.gap_trend import (
    INDEX_GROUP,
    MIN_TREND_PERIODS,
    NARROWING,
    NO_CHANGE,
    SERIES_COLUMNS,
    TEST_COLUMNS,
    WIDENING,
    gap_trend,
    log_ratio_trend,
)
from metrics.inequality import inequality
from metrics.overdispersion import DEFAULT_TRIM
from metrics.trend import trend

Z = 1.959963984540054
PPH = registry.get("pph_1500")  # rate per 1,000, lower is better
BOOKING = registry.get("booked_by_10_weeks")  # percentage, higher is better
MODE = registry.get("spontaneous_vaginal")  # percentage, no right level
STARTS = [date(2019 + i, 4, 1) for i in range(6)]


def _wls(y, se, t):
    """Weighted least squares in matrix form: (slope, se of slope, residual Q)."""
    y, se, t = (np.asarray(a, dtype=float) for a in (y, se, t))
    w = 1 / se**2
    x = np.column_stack([np.ones_like(t), t])
    xtwx = x.T @ (w[:, None] * x)
    beta = np.linalg.solve(xtwx, x.T @ (w * y))
    residual = float(np.sum(w * (y - x @ beta) ** 2))
    phi = max(1.0, residual / (len(y) - 2))
    return beta[1], np.sqrt(phi * np.linalg.inv(xtwx)[1, 1]), phi


# --- The trend test ----------------------------------------------------------------------------


def test_log_ratio_trend_is_weighted_least_squares():
    y = np.array([0.9, 0.8, 0.75, 0.6, 0.55, 0.4])
    se = np.array([0.1, 0.12, 0.1, 0.08, 0.1, 0.09])
    t = np.arange(6.0)
    slope, se_slope, phi = _wls(y, se, t)
    result = log_ratio_trend(y, se, t)
    assert result["periods"] == 6
    assert result["slope"] == pytest.approx(slope, rel=1e-12)
    assert result["slope_lower95"] == pytest.approx(slope - Z * se_slope, rel=1e-12)
    assert result["slope_upper95"] == pytest.approx(slope + Z * se_slope, rel=1e-12)
    assert result["ratio_change_per_year"] == pytest.approx(np.exp(slope))
    assert result["p_value"] == pytest.approx(2 * scipy_stats.norm.sf(abs(slope) / se_slope))
    assert result["dispersion"] == pytest.approx(phi) and phi == 1.0  # residuals within chance
    assert result["verdict"] == NARROWING  # above 1 (log > 0) and falling


def test_over_dispersed_residuals_widen_the_slope_interval():
    y = np.array([0.5, 0.9, 0.2, 1.1, 0.3, 1.2, 0.6, 1.4])
    se = np.full(8, 0.05)
    t = np.arange(8.0)
    slope, se_slope, phi = _wls(y, se, t)
    result = log_ratio_trend(y, se, t)
    assert phi > 10 and result["dispersion"] == pytest.approx(phi)
    assert result["slope_upper95"] - result["slope"] == pytest.approx(Z * se_slope)
    # without the scaling this slope would look significant; with it, it does not
    assert slope - Z * se_slope / np.sqrt(phi) > 0
    assert result["verdict"] == NO_CHANGE


@pytest.mark.parametrize(
    ("log_ratio", "verdict"),
    [
        (np.log([0.5, 0.6, 0.7, 0.8, 0.9]), NARROWING),  # below 1, rising towards it
        (np.log([1.2, 1.4, 1.6, 1.8, 2.0]), WIDENING),  # above 1, rising away
        (np.log([0.9, 0.8, 0.7, 0.6, 0.5]), WIDENING),  # below 1, falling away
        (np.log([1.5, 1.49, 1.52, 1.5, 1.51]), NO_CHANGE),
    ],
)
def test_verdict_is_about_moving_towards_one(log_ratio, verdict):
    assert log_ratio_trend(log_ratio, np.full(5, 0.02), np.arange(5.0))["verdict"] == verdict


def test_too_few_periods_give_no_verdict():
    y, se = np.log([2.0, 1.5, 1.2, np.nan]), np.array([0.1, 0.1, 0.1, 0.1])
    result = log_ratio_trend(y, se, np.arange(4.0))
    assert result["periods"] == 3 < MIN_TREND_PERIODS
    assert result["slope"] is None and result["verdict"] is None and result["p_value"] is None
    same_time = log_ratio_trend(np.log([2.0, 1.5, 1.2, 1.1]), np.full(4, 0.1), np.zeros(4))
    assert same_time["periods"] == 4 and same_time["verdict"] is None


# --- Gaps per period from counts ------------------------------------------------------------


def _points(metric, rows: dict[str, list[tuple[float | None, float]]]) -> pl.DataFrame:
    """Trend-shaped points from ``group -> [(events or None, denominator) per period]``."""
    order = {"White": 1, "Mixed": 2, "Asian": 3, "Black": 4, "Other": 5, "Not known": 7}
    records = []
    for group, series in rows.items():
        for start, (events, den) in zip(STARTS, series, strict=True):
            value = None if events is None else events / den * metric.multiplier
            records.append({"group": group, "group_order": order[group],
                            "period": f"{start.year}-{start.year % 100 + 1:02d}",
                            "period_start": start, "denominator": den, "value": value,
                            "lower95": value, "upper95": value})
    return pl.DataFrame(records, schema_overrides={"group_order": pl.Int16})


def test_rate_gaps_and_their_trend_by_hand():
    white = [(100, 10000)] * 6
    black = [(60, 3000), (55, 3000), (50, 3000), (45, 3000), (40, 3000), (35, 3000)]
    asian = [(30, 2000), (None, 2000), (31, 2000), (29, 2000), (30, 2000), (32, 2000)]
    result = gap_trend(_points(PPH, {"White": white, "Black": black, "Asian": asian,
                                     "Not known": white}),
                       metric=PPH, dimension="ethnicity")
    assert result.series.columns == list(SERIES_COLUMNS)
    assert result.tests.columns == list(TEST_COLUMNS)
    assert set(result.series["group"]) == {"Black", "Asian"}  # not the reference, not unknown

    rows = result.series.filter(pl.col("group") == "Black").sort("period_start")
    x1, n1 = np.array([e for e, _ in black], float), 3000.0
    x2, n2 = 100.0, 10000.0
    ratio = (x1 / n1) / (x2 / n2)
    se = np.sqrt(1 / x1 + 1 / x2)
    np.testing.assert_allclose(rows["ratio"], ratio, rtol=1e-12)
    np.testing.assert_allclose(rows["ratio_lower95"], ratio * np.exp(-Z * se), rtol=1e-12)
    np.testing.assert_allclose(rows["ratio_upper95"], ratio * np.exp(Z * se), rtol=1e-12)
    diff = (x1 / n1 - x2 / n2) * 1000
    half = Z * np.sqrt(x1 / n1**2 + x2 / n2**2) * 1000
    np.testing.assert_allclose(rows["difference"], diff, rtol=1e-12)
    np.testing.assert_allclose(rows["difference_upper95"], diff + half, rtol=1e-12)
    years = np.array([(s - STARTS[0]).days / 365.25 for s in STARTS])
    np.testing.assert_allclose(rows["years"], years)

    slope, se_slope, _ = _wls(np.log(ratio), se, years)
    black_test = result.tests.filter(pl.col("group") == "Black").row(0, named=True)
    assert black_test["periods"] == 6
    assert black_test["slope"] == pytest.approx(slope, rel=1e-9)
    assert black_test["slope_upper95"] == pytest.approx(slope + Z * se_slope, rel=1e-9)
    assert black_test["verdict"] == NARROWING and black_test["direction"] == "improving"

    asian_rows = result.series.filter(pl.col("group") == "Asian")
    assert asian_rows["ratio"].null_count() == 1  # the suppressed period stays null
    asian_test = result.tests.filter(pl.col("group") == "Asian").row(0, named=True)
    assert asian_test["periods"] == 5 and asian_test["verdict"] == NO_CHANGE
    assert asian_test["direction"] is None


def test_proportion_gaps_use_the_risk_ratio_and_polarity():
    white = [(800, 1000)] * 6
    black = [(500, 1000), (540, 1000), (580, 1000), (620, 1000), (660, 1000), (700, 1000)]
    points = _points(BOOKING, {"White": white, "Black": black})
    result = gap_trend(points, metric=BOOKING, dimension="ethnicity")
    rows = result.series.sort("period_start")
    x1 = np.array([e for e, _ in black], float)
    ratio = (x1 / 1000) / 0.8
    se = np.sqrt(1 / x1 - 1 / 1000 + 1 / 800 - 1 / 1000)  # Katz
    np.testing.assert_allclose(rows["ratio"], ratio, rtol=1e-12)
    np.testing.assert_allclose(rows["ratio_lower95"], ratio * np.exp(-Z * se), rtol=1e-12)
    test = result.tests.row(0, named=True)
    assert test["verdict"] == NARROWING and test["direction"] == "improving"
    # the same series with no right level: narrowing, with no judgement of direction
    neutral = gap_trend(_points(MODE, {"White": white, "Black": black}), metric=MODE,
                        dimension="ethnicity").tests.row(0, named=True)
    assert neutral["verdict"] == NARROWING and neutral["direction"] is None


def test_suppressed_reference_blanks_the_period():
    white = [(100, 10000), (None, 10000), (100, 10000), (100, 10000), (100, 10000),
             (100, 10000)]
    black = [(60, 3000)] * 6
    result = gap_trend(_points(PPH, {"White": white, "Black": black}), metric=PPH,
                       dimension="ethnicity")
    assert result.series["ratio"].null_count() == 1
    assert result.series["difference"].null_count() == 1
    assert result.tests["periods"][0] == 5


def test_rising_rate_ratio_of_a_lower_is_better_metric_is_worsening():
    white = [(100, 10000)] * 6
    black = [(20, 2000), (26, 2000), (32, 2000), (38, 2000), (44, 2000), (50, 2000)]
    test = gap_trend(_points(PPH, {"White": white, "Black": black}), metric=PPH,
                     dimension="ethnicity").tests.row(0, named=True)
    assert test["verdict"] == WIDENING and test["direction"] == "worsening"


def test_bad_input():
    points = _points(PPH, {"White": [(100, 10000)] * 6})
    with pytest.raises(ValueError, match="reference group"):
        gap_trend(points, metric=PPH, dimension="total")
    with pytest.raises(ValueError, match="value"):
        gap_trend(points.drop("value"), metric=PPH, dimension="ethnicity")
    empty = gap_trend(points.filter(pl.col("group") == "Nobody"), metric=PPH,
                      dimension="ethnicity")
    assert empty.series.is_empty() and empty.tests.is_empty()
    assert empty.series.columns == list(SERIES_COLUMNS)


# --- On the demo store: the same gaps as the breakdown, SII/RII per period ------------------


def test_gaps_and_indices_match_the_breakdown_of_each_period(demo):
    points, _ = trend(demo.counts, metric=PPH, org_code="ENG", period_kind="financial_year",
                      dimension=QUINTILE)
    result = gap_trend(points, metric=PPH, dimension=QUINTILE)
    periods = points["period"].unique(maintain_order=True).to_list()
    assert len(periods) >= MIN_TREND_PERIODS
    for period in (periods[0], periods[-1]):
        frame = breakdown(demo.counts, metric=PPH, org_code="ENG", period_label=period,
                          dimension=QUINTILE)
        mine = result.series.filter(pl.col("period") == period)
        for row in frame.filter(~pl.col("is_reference") & (pl.col("group") != "Unknown")
                                ).iter_rows(named=True):
            gap = mine.filter(pl.col("group") == row["group"]).row(0, named=True)
            for column in ("ratio", "ratio_lower95", "ratio_upper95", "difference",
                           "difference_upper95"):
                assert gap[column] == pytest.approx(row[column], rel=1e-9)
        index = mine.filter(pl.col("group") == INDEX_GROUP).row(0, named=True)
        expected = inequality(frame, metric=PPH, dimension=QUINTILE)
        assert index["ratio"] == pytest.approx(expected["rii"], rel=1e-9)
        assert index["ratio_lower95"] == pytest.approx(expected["rii_lower"], rel=1e-9)
        assert index["difference"] == pytest.approx(expected["sii"], rel=1e-9)
        assert index["difference_upper95"] == pytest.approx(expected["sii_upper"], rel=1e-9)
    assert set(result.tests["group"]) == {INDEX_GROUP, "Q1 (most deprived)", "Q2", "Q3", "Q4"}
    assert result.tests["verdict"].is_in([NARROWING, WIDENING, NO_CHANGE]).all()


def test_the_planted_closing_gap_falls(demo):
    code = next(c for c, stories in demo.manifest["stories"].items()
                if "pph_gap_closes" in stories)
    points, _ = trend(demo.counts, metric=PPH, org_code=code, period_kind="financial_year",
                      dimension="ethnicity")
    black = gap_trend(points, metric=PPH, dimension="ethnicity").tests.filter(
        pl.col("group") == "Black").row(0, named=True)
    assert black["slope"] < 0 and black["verdict"] in (NARROWING, NO_CHANGE)


def test_methods_text_states_the_rules():
    text = " ".join((Path(__file__).parents[2] / "content" / "methods.md")
                    .read_text(encoding="utf-8").split())
    assert f"at least **{MIN_TREND_PERIODS} periods**" in text
    assert f"**{DEFAULT_TRIM:.0%}** of z-scores" in text
    for name in ("FunnelPlotR", "DerSimonian", "Spiegelhalter", "Thompson and Sharp",
                 "**narrowing**", "**widening**", "**no significant change**"):
        assert name in text
