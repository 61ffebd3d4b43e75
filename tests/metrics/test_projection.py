"""Log-linear projections and gap closing: known trends, closed forms, edge cases."""

from __future__ import annotations

import calendar
import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from metrics import registry
from metrics.projection import (
    CLOSED,
    CLOSING,
    DIVERGING,
    NO_GAP,
    NOT_CLOSING,
    PARALLEL,
    REVERSED,
    TOO_SLOW,
    UNAVAILABLE,
    fit_log_linear,
    gap_closing,
    project,
    projection,
)

PPH = registry.get("pph_1500")  # a rate per 1,000
BOOKED = registry.get("booked_by_10_weeks")  # a percentage
Z = 1.959963984540054


def _quarter(i: int) -> tuple[date, date]:
    """The i-th quarter from April 2020 (start, end)."""
    first = 2020 * 12 + 3 + 3 * i
    y0, m0 = divmod(first, 12)
    y1, m1 = divmod(first + 2, 12)
    return date(y0, m0 + 1, 1), date(y1, m1 + 1, calendar.monthrange(y1, m1 + 1)[1])


def _points(series: dict[str, tuple[list[float], list[float]]], metric=PPH,
            suppressed: dict[str, set[int]] | None = None) -> pl.DataFrame:
    """A trend frame: each group's (rates per unit, denominators), one per quarter."""
    rows = []
    for order, (group, (rates, dens)) in enumerate(series.items(), start=1):
        for i, (rate, den) in enumerate(zip(rates, dens, strict=True)):
            start, end = _quarter(i)
            hidden = i in (suppressed or {}).get(group, set())
            rows.append({"group": group, "group_order": order, "period": f"Q{i}",
                         "period_start": start, "period_end": end, "denominator": int(den),
                         "suppressed": hidden,
                         "value": None if hidden else rate * metric.multiplier})
    return pl.DataFrame(rows, schema_overrides={"group_order": pl.Int16})


def _exponential(rate0: float, slope: float, n: int = 12, den: float = 1e7):
    t = np.arange(n)
    return list(rate0 * np.exp(slope * t)), [den] * n


# -- the fit ---------------------------------------------------------------------------------


def test_noise_free_exponential_is_recovered_exactly():
    t = np.arange(12.0)
    den = 20_000 + 1_000 * t
    events = den * np.exp(math.log(0.025) + 0.04 * t)
    fit = fit_log_linear(events=events, denominators=den, times=t)
    assert fit.slope == pytest.approx(0.04, rel=1e-10)
    assert fit.intercept == pytest.approx(math.log(0.025), rel=1e-10)
    assert fit.dispersion == 1.0  # no residual variation: the floor
    ahead = project(fit, times=[12, 13, 14], denominator=30_000, multiplier=1000)
    assert ahead["value"] == pytest.approx([25 * math.exp(0.04 * k) for k in (12, 13, 14)],
                                           rel=1e-10)
    assert np.all(ahead["lower"] < ahead["fit_lower"])  # sampling widens the band
    assert np.all(ahead["upper"] > ahead["fit_upper"])


def test_slope_ci_covers_the_true_slope_with_poisson_noise():
    rng = np.random.default_rng(7)
    t = np.arange(16.0)
    den = np.full(16, 5_000.0)
    events = rng.poisson(den * 0.03 * np.exp(-0.02 * t))
    fit = fit_log_linear(events=events, denominators=den, times=t)
    lower, upper = fit.slope_ci()
    assert lower < -0.02 < upper
    assert upper - lower < 0.04  # informative, not vacuous


def test_two_time_points_match_the_closed_form():
    # With points at two times only, the MLE rates are the pooled rates at each time:
    # exp(a) = Y0/N0, exp(a + b) = Y1/N1, Var(b) = phi (1/Y0 + 1/Y1), Var(a) = phi / Y0.
    events = np.array([10, 60, 30, 60, 50, 70.0])
    den = np.array([1000, 1500, 900, 1200, 1000, 1300.0])
    times = np.array([0, 0, 0, 1, 1, 1.0])
    y0, n0, y1, n1 = 100, 3400, 180, 3500
    fitted = np.where(times == 0, den * y0 / n0, den * y1 / n1)
    pearson = float(np.sum((events - fitted) ** 2 / fitted))
    phi = max(1.0, pearson / 4)
    assert phi > 1  # over-dispersed: the scaling is exercised
    fit = fit_log_linear(events=events, denominators=den, times=times)
    assert fit.intercept == pytest.approx(math.log(y0 / n0), rel=1e-10)
    assert fit.slope == pytest.approx(math.log((y1 / n1) / (y0 / n0)), rel=1e-10)
    assert fit.pearson_chi2 == pytest.approx(pearson, rel=1e-8)
    assert fit.dispersion == pytest.approx(phi, rel=1e-8)
    assert fit.covariance[1, 1] == pytest.approx(phi * (1 / y0 + 1 / y1), rel=1e-8)
    assert fit.covariance[0, 0] == pytest.approx(phi / y0, rel=1e-8)
    assert fit.covariance[0, 1] == pytest.approx(-phi / y0, rel=1e-8)


def test_prediction_interval_by_hand():
    t = np.arange(8.0)
    den = np.full(8, 10_000.0)
    events = den * 0.02 * np.exp(0.05 * t)
    fit = fit_log_linear(events=events, denominators=den, times=t)
    eta = math.log(0.02) + 0.05 * 9
    v = fit.covariance[0, 0] + 2 * 9 * fit.covariance[0, 1] + 81 * fit.covariance[1, 1]
    mu = 12_000 * math.exp(eta)
    ahead = project(fit, times=[9], denominator=12_000)
    assert ahead["lower"][0] == pytest.approx(math.exp(eta - Z * math.sqrt(v + 1 / mu)))
    assert ahead["upper"][0] == pytest.approx(math.exp(eta + Z * math.sqrt(v + 1 / mu)))


@pytest.mark.parametrize(("events", "den", "times", "message"), [
    ([1, 2], [10, 10, 10], [0, 1, 2], "same length"),
    ([1, -2, 3], [10, 10, 10], [0, 1, 2], "events must be >= 0"),
    ([1, 2, 3], [10, 0, 10], [0, 1, 2], "denominators must be > 0"),
    ([1, 2, 3], [10, 10, 10], [1, 1, 1], "two or more distinct times"),
    ([0, 0, 0], [10, 10, 10], [0, 1, 2], "no events"),
    ([1, None, 3], [10, 10, 10], [0, 1, 2], "finite"),
])
def test_bad_input_is_refused(events, den, times, message):
    with pytest.raises(ValueError, match=message):
        fit_log_linear(events=events, denominators=den, times=times)


# -- series ----------------------------------------------------------------------------------


def test_projection_of_a_known_trend_continues_it():
    rates, dens = _exponential(0.025, 0.04, n=12, den=20_000)
    projected, fits, gaps = projection(_points({"All": (rates, dens)}), metric=PPH,
                                       dimension="total", horizon=2)
    assert projected["step"].to_list() == [1, 2]
    assert projected["value"].to_list() == pytest.approx(
        [25 * math.exp(0.04 * 12), 25 * math.exp(0.04 * 13)], rel=1e-9)
    # Quarters follow on from the last one (January to March 2023).
    assert projected["period_end"].to_list() == [date(2023, 6, 30), date(2023, 9, 30)]
    assert projected["denominator"].to_list() == [20_000, 20_000]
    fit = fits["All"]
    assert fit["available"] and fit["points"] == 12 and fit["suppressed"] == 0
    assert fit["change_per_year"] == pytest.approx(math.exp(0.16), rel=1e-9)
    assert gaps == {}  # no reference group for the total


def test_default_horizon_is_three_periods():
    rates, dens = _exponential(0.025, 0.0, n=8, den=20_000)
    projected, _, _ = projection(_points({"All": (rates, dens)}), metric=PPH,
                                 dimension="total")
    assert projected["step"].to_list() == [1, 2, 3]


def test_assumed_denominator_is_the_mean_of_the_last_three():
    rates = [0.02] * 8
    dens = [1000, 1000, 1000, 1000, 1000, 900, 1200, 1500]
    projected, fits, _ = projection(_points({"All": (rates, dens)}), metric=PPH,
                                    dimension="total")
    assert fits["All"]["assumed_denominator"] == pytest.approx(1200)
    assert set(projected["denominator"]) == {1200}


def test_suppressed_points_are_dropped_and_counted():
    rates, dens = _exponential(0.025, 0.03, n=8, den=50_000)
    frame = _points({"All": (rates, dens)}, suppressed={"All": {2, 5}})
    projected, fits, _ = projection(frame, metric=PPH, dimension="total")
    assert fits["All"]["available"]
    assert (fits["All"]["points"], fits["All"]["suppressed"]) == (6, 2)
    # The remaining points still lie on the same curve: the trend is recovered exactly.
    assert fits["All"]["slope"] == pytest.approx(0.03, rel=1e-9)
    assert projected["value"][0] == pytest.approx(25 * math.exp(0.03 * 8), rel=1e-9)


def test_many_suppressed_periods_give_no_projection():
    rates, dens = _exponential(0.025, 0.03, n=12, den=50_000)
    frame = _points({"All": (rates, dens)}, suppressed={"All": {1, 3, 5, 7}})
    projected, fits, _ = projection(frame, metric=PPH, dimension="total")
    assert projected.is_empty() and not fits["All"]["available"]
    assert fits["All"]["reason"].startswith("4 of 12 periods are suppressed")
    # Three of twelve (a quarter) is still projected.
    frame = _points({"All": (rates, dens)}, suppressed={"All": {1, 3, 5}})
    assert projection(frame, metric=PPH, dimension="total")[1]["All"]["available"]


def test_short_series_are_unavailable_with_the_reason():
    rates, dens = _exponential(0.025, 0.03, n=7, den=50_000)
    frame = _points({"All": (rates, dens)}, suppressed={"All": {0, 3}})
    projected, fits, _ = projection(frame, metric=PPH, dimension="total")
    assert projected.is_empty()
    assert not fits["All"]["available"]
    assert fits["All"]["reason"] == ("only 5 published points (2 suppressed); a projection "
                                     "needs at least 6")


def test_overlapping_periods_are_not_projected():
    rows = []
    for i in range(8):  # 12 months to each quarter end: each shares 9 months with the next
        _, end = _quarter(i + 3)
        start, _ = _quarter(i)
        rows.append({"group": "All", "group_order": 0, "period": str(i), "period_start": start,
                     "period_end": end, "denominator": 1000, "suppressed": False,
                     "value": 20.0})
    _, fits, _ = projection(pl.DataFrame(rows), metric=PPH, dimension="total")
    assert not fits["All"]["available"] and "overlap" in fits["All"]["reason"]


def test_shares_are_capped_at_100_percent():
    rates, dens = _exponential(0.8, 0.05, n=8, den=10_000)
    projected, _, _ = projection(_points({"All": (rates, dens)}, metric=BOOKED),
                                 metric=BOOKED, dimension="total", horizon=3)
    assert projected["value"].max() <= 100 and projected["upper95"].max() == 100


# -- gaps ------------------------------------------------------------------------------------


def _gap(black: tuple[float, float], white: tuple[float, float] = (0.01, 0.0), n: int = 12):
    frame = _points({"White": _exponential(*white, n=n), "Black": _exponential(*black, n=n)})
    return projection(frame, metric=PPH, dimension="ethnicity")


def test_closing_gap_crosses_where_hand_computed():
    # Black 0.04 exp(-0.05 t) meets White 0.01 when 0.05 t = ln 4: t = 27.73, 16.73
    # quarters after the latest (t = 11), 4.18 years.
    _, _, gaps = _gap((0.04, -0.05))
    gap = gaps["Black"]
    assert gap["status"] == CLOSING
    expected = math.log(4) / 0.05 - 11
    assert gap["periods"] == pytest.approx(expected, rel=1e-9)
    assert gap["years"] == pytest.approx(expected / 4, rel=1e-9)
    assert gap["periods_lower"] < expected < gap["periods_upper"]
    assert gap["periods_upper"] - gap["periods_lower"] < 1  # huge counts: a tight interval
    # The 17th quarter after January to March 2023.
    assert gap["crossing_end"] == date(2027, 6, 30)
    assert gap["ratio_now"] == pytest.approx(4 * math.exp(-0.55), rel=1e-9)
    assert gap["ratio_change_per_year"] == pytest.approx(math.exp(-0.2), rel=1e-9)


def test_closing_interval_is_reproducible():
    first = _gap((0.04, -0.05))[2]["Black"]
    again = _gap((0.04, -0.05))[2]["Black"]
    assert (first["periods_lower"], first["periods_upper"]) == \
        (again["periods_lower"], again["periods_upper"])


def test_diverging_gap_is_not_closing():
    gap = _gap((0.02, 0.03))[2]["Black"]
    assert (gap["status"], gap["why"]) == (NOT_CLOSING, DIVERGING)
    assert gap["periods"] is None


def test_parallel_trends_are_not_closing():
    gap = _gap((0.02, 0.0))[2]["Black"]
    assert (gap["status"], gap["why"]) == (NOT_CLOSING, PARALLEL)
    assert gap["ratio_now"] == pytest.approx(2.0)


def test_very_slow_closing_is_not_closing_within_ten_years():
    # Crossing at t = ln 2 / 0.01 = 69.3: 58 quarters (14.6 years) after the latest.
    gap = _gap((0.02, -0.01))[2]["Black"]
    assert (gap["status"], gap["why"]) == (NOT_CLOSING, TOO_SLOW)
    assert gap["years"] == pytest.approx((math.log(2) / 0.01 - 11) / 4, rel=1e-9)


def test_equal_rates_are_already_closed():
    gap = _gap((0.01, 0.0))[2]["Black"]
    assert (gap["status"], gap["why"]) == (CLOSED, NO_GAP)


def test_crossed_lines_are_already_closed_and_reversed():
    # 0.02 exp(-0.1 t) met 0.01 at t = 10 ln 2 = 6.93, before the latest quarter (t = 11).
    gap = _gap((0.02, -0.1))[2]["Black"]
    assert (gap["status"], gap["why"]) == (CLOSED, REVERSED)
    assert gap["periods"] == pytest.approx(10 * math.log(2) - 11, rel=1e-9)
    assert gap["crossing_end"] == _quarter(7)[1]  # the first quarter after the crossing


def test_gap_needs_both_trends():
    # Black has figures for 4 quarters only.
    frame = _points({"White": _exponential(0.01, 0.0), "Black": _exponential(0.02, 0.0, n=4)})
    _, fits, gaps = projection(frame, metric=PPH, dimension="ethnicity")
    assert not fits["Black"]["available"]
    assert gaps["Black"]["status"] == UNAVAILABLE
    assert "only 4 published points" in gaps["Black"]["reason"]


def test_gap_closing_with_noise_brackets_the_truth():
    rng = np.random.default_rng(3)
    t = np.arange(16.0)
    den = np.full(16, 40_000.0)
    black = fit_log_linear(events=rng.poisson(den * 0.04 * np.exp(-0.06 * t)),
                           denominators=den, times=t)
    white = fit_log_linear(events=rng.poisson(den * 0.01 * np.ones(16)), denominators=den,
                           times=t)
    result = gap_closing(group=black, reference=white, now=15, periods_per_year=4)
    truth = math.log(4) / 0.06 - 15  # 8.1 quarters
    assert result["status"] == CLOSING
    assert result["periods_lower"] < truth < result["periods_upper"]


def test_bad_settings_are_refused():
    rates, dens = _exponential(0.02, 0.0, n=8)
    with pytest.raises(ValueError, match="horizon"):
        projection(_points({"All": (rates, dens)}), metric=PPH, dimension="total", horizon=0)
