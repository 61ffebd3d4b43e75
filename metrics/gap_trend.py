"""Is the gap closing? Each group's gap to the reference group period by period, and a test
for a trend in it.

Per period the gaps are those of :func:`metrics.breakdown.breakdown` (rate or risk ratio and
difference with their 95% CIs) and, for deprivation, the SII and RII of
:func:`metrics.inequality.inequality`. The trend is an inverse-variance weighted regression
of the log ratio on time; a gap is "narrowing" when the ratio moves significantly towards 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from metrics._arrays import z_value
from metrics.breakdown import GAP_COLUMNS, _gaps
from metrics.categories import DIMENSIONS
from metrics.inequality import inequality
from metrics.registry import HIGHER_IS_BETTER, LOWER_IS_BETTER, Metric

NARROWING, WIDENING, NO_CHANGE = "narrowing", "widening", "no significant change"
VERDICTS = (NARROWING, WIDENING, NO_CHANGE)
IMPROVING, WORSENING = "improving", "worsening"
INDEX_GROUP = "SII / RII"  # the deprivation gradient as a whole, in the series and the tests
MIN_TREND_PERIODS = 4  # a slope and a residual variance need at least two spare points
DAYS_PER_YEAR = 365.25
SERIES_COLUMNS = ("group", "group_order", "period", "period_start", "years", *GAP_COLUMNS)
TEST_COLUMNS = ("group", "group_order", "periods", "slope", "slope_lower95", "slope_upper95",
                "ratio_change_per_year", "p_value", "dispersion", "verdict", "direction")
_POINT_COLUMNS = ("group", "group_order", "period", "period_start", "denominator", "value",
                  "lower95", "upper95")


@dataclass(frozen=True)
class GapTrend:
    """The gaps per period (``series``, :data:`SERIES_COLUMNS`) and one trend test per
    group (``tests``, :data:`TEST_COLUMNS`); see :func:`gap_trend`."""

    series: pl.DataFrame
    tests: pl.DataFrame


def log_ratio_trend(
    log_ratio: np.ndarray, standard_error: np.ndarray, years: np.ndarray,
    confidence: float = 0.95,
) -> dict:
    """Weighted least-squares slope of the log ratio on time, and what it says.

    With weights ``w = 1 / se^2``, weighted means ``tbar``, ``ybar`` and
    ``Stt = sum w (t - tbar)^2``::

        slope = sum w (t - tbar)(y - ybar) / Stt
        Q     = sum w (y - ybar - slope (t - tbar))^2        (k periods)
        phi   = max(1, Q / (k - 2))                          (multiplicative over-dispersion)
        se    = sqrt(phi / Stt);   CI = slope -/+ z se;   p = 2 (1 - Phi(|slope| / se))

    The gap is "narrowing" when the CI excludes 0 and the slope points towards 0 (a ratio
    of 1) from the side of 1 the series lies on (the sign of ``ybar``), "widening" when it
    points away, else "no significant change".

    Parameters
    ----------
    log_ratio, standard_error, years : numpy.ndarray
        Per period; periods with a missing value or a standard error of 0 are left out.
    confidence : float, default 0.95

    Returns
    -------
    dict
        ``periods, slope, slope_lower95, slope_upper95, ratio_change_per_year``
        (``exp(slope)``), ``p_value, dispersion`` (phi), ``verdict``; the figures and the
        verdict are None with fewer than :data:`MIN_TREND_PERIODS` periods or when all
        fall at one time.

    References
    ----------
    Thompson SG, Sharp SJ (1999) Stat Med 18:2693-2708 (weighted regression with
    multiplicative over-dispersion); Breslow NE, Day NE (1987) vol II (log rate ratios).
    """
    y, se, t = (np.asarray(a, dtype=np.float64) for a in (log_ratio, standard_error, years))
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0) & np.isfinite(t)
    k = int(keep.sum())
    result = dict.fromkeys(("slope", "slope_lower95", "slope_upper95",
                            "ratio_change_per_year", "p_value", "dispersion", "verdict"))
    result["periods"] = k
    if k < MIN_TREND_PERIODS:
        return result
    y, t, w = y[keep], t[keep], 1 / se[keep] ** 2
    t_bar, y_bar = (w * t).sum() / w.sum(), (w * y).sum() / w.sum()
    s_tt = (w * (t - t_bar) ** 2).sum()
    if not s_tt > 0:
        return result
    slope = float((w * (t - t_bar) * (y - y_bar)).sum() / s_tt)
    residual = float((w * (y - y_bar - slope * (t - t_bar)) ** 2).sum())
    phi = max(1.0, residual / (k - 2))
    se_slope = float(np.sqrt(phi / s_tt))
    half = z_value(confidence) * se_slope
    significant = abs(slope) > half
    towards_one = np.sign(slope) == -np.sign(y_bar)
    result.update(
        slope=slope, slope_lower95=slope - half, slope_upper95=slope + half,
        ratio_change_per_year=float(np.exp(slope)),
        p_value=float(2 * special.ndtr(-abs(slope) / se_slope)), dispersion=phi,
        verdict=(NARROWING if towards_one else WIDENING) if significant else NO_CHANGE,
    )
    return result


def _direction(slope: float | None, verdict: str | None, metric: Metric,
               orientation: float) -> str | None:
    """Whether a significant trend moves the group's outcome the right way relative to the
    reference (``orientation`` -1 where the ratio is reference over group, as the RII)."""
    if verdict in (None, NO_CHANGE) or slope is None:
        return None
    rising = orientation * slope > 0
    if metric.polarity == LOWER_IS_BETTER:
        return WORSENING if rising else IMPROVING
    if metric.polarity == HIGHER_IS_BETTER:
        return IMPROVING if rising else WORSENING
    return None


def _group_gaps(points: pl.DataFrame, metric: Metric, reference: str) -> pl.DataFrame:
    """Ratio and difference of every group to the reference, period by period."""
    parts = []
    for (_period,), part in points.group_by(["period"], maintain_order=True):
        groups = part["group"].to_list()
        denominator = part["denominator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        value = part["value"].fill_null(np.nan).to_numpy()
        events = value * denominator / metric.multiplier  # inverse of metrics.values
        gaps = _gaps(groups, events, denominator, metric, reference)
        parts.append(part.with_columns(
            pl.Series(name, column, dtype=pl.Float64, nan_to_null=True)
            for name, column in gaps.items()))
    return pl.concat(parts).filter(pl.col("group") != reference)


def _index_gaps(points: pl.DataFrame, metric: Metric, dimension: str) -> pl.DataFrame:
    """RII (as a ratio) and SII (as a difference) period by period."""
    rows = []
    for (period, start), part in points.group_by(["period", "period_start"],
                                                 maintain_order=True):
        result = inequality(part, metric=metric, dimension=dimension)
        rows.append({"group": INDEX_GROUP, "group_order": 0, "period": period,
                     "period_start": start} | {
            name: result.get(source) for name, source in zip(
                GAP_COLUMNS, ("rii", "rii_lower", "rii_upper", "sii", "sii_lower",
                              "sii_upper"), strict=True)})
    schema = {"group": pl.String, "group_order": pl.Int16, "period": pl.String,
              "period_start": points.schema["period_start"]} | dict.fromkeys(GAP_COLUMNS,
                                                                              pl.Float64)
    return pl.DataFrame(rows, schema=schema)


def _tests(series: pl.DataFrame, metric: Metric, confidence: float) -> pl.DataFrame:
    z = z_value(confidence)
    rows = []
    for (group, order), part in series.group_by(["group", "group_order"], maintain_order=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(part["ratio"].fill_null(np.nan).to_numpy())
            se = (np.log(part["ratio_upper95"].fill_null(np.nan).to_numpy())
                  - np.log(part["ratio_lower95"].fill_null(np.nan).to_numpy())) / (2 * z)
        result = log_ratio_trend(log_ratio, se, part["years"].to_numpy(), confidence)
        orientation = -1.0 if group == INDEX_GROUP else 1.0
        result["direction"] = _direction(result["slope"], result["verdict"], metric,
                                         orientation)
        rows.append({"group": group, "group_order": order} | result)
    schema = {"group": pl.String, "group_order": pl.Int16, "periods": pl.Int64,
              "verdict": pl.String, "direction": pl.String} | {
        c: pl.Float64 for c in ("slope", "slope_lower95", "slope_upper95",
                                "ratio_change_per_year", "p_value", "dispersion")}
    return pl.DataFrame(rows, schema=schema).select(TEST_COLUMNS)


def gap_trend(
    points: pl.DataFrame, *, metric: Metric, dimension: str, confidence: float = 0.95
) -> GapTrend:
    """Gaps to the reference group per period, and whether each is narrowing or widening.

    Parameters
    ----------
    points : polars.DataFrame
        Per group and period, as :func:`metrics.trend.trend` gives them:
        ``group, group_order, period, period_start, denominator, value, lower95, upper95``
        (display units; null where suppressed). Periods must not overlap (quarters or
        years, not rolling windows): the regression treats them as independent.
    metric : registry entry (its statistic, multiplier and polarity).
    dimension : a breakdown with a reference group (ethnicity or deprivation).
    confidence : float, default 0.95
        Level of the trend's CI and of its test.

    Returns
    -------
    GapTrend
        ``series`` (:data:`SERIES_COLUMNS`): one row per known non-reference group and
        period with ``years`` since the first period and the gap columns of
        :func:`metrics.breakdown.breakdown` (ratio with a log-method 95% CI; difference in
        display units), null where either figure is suppressed. For deprivation, rows of
        group :data:`INDEX_GROUP` carry the RII in the ratio columns and the SII in the
        difference columns (``phe_sii``; null where a group is suppressed). ``tests``
        (:data:`TEST_COLUMNS`): :func:`log_ratio_trend` per group, the standard error of
        each log ratio recovered from its 95% limits, ``(ln U - ln L) / (2 x 1.96)``, plus
        ``direction``: "improving" or "worsening" for the group relative to the reference
        when the trend is significant and the metric has a good direction, else null.

    Raises
    ------
    ValueError
        A dimension without a reference group, or missing columns.
    """
    dim = DIMENSIONS.get(dimension)
    if dim is None or dim.reference is None:
        raise ValueError(f"a gap trend needs a dimension with a reference group; got "
                         f"{dimension!r}")
    missing = [c for c in _POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points lack column(s) {missing}")
    known = points.select(_POINT_COLUMNS).filter(pl.col("group").is_in(list(dim.groups)))
    if known.is_empty():
        empty = pl.DataFrame(schema={"group": pl.String, "group_order": pl.Int16,
                                     "period": pl.String, "period_start": pl.Date,
                                     "years": pl.Float64} | dict.fromkeys(GAP_COLUMNS,
                                                                          pl.Float64))
        return GapTrend(empty, _tests(empty, metric, confidence))
    known = known.sort("period_start", "group_order")
    parts = [_group_gaps(known, metric, dim.reference)]
    if dim.ordered:
        parts.append(_index_gaps(known, metric, dimension))
    first = known["period_start"].min()
    series = (
        pl.concat([p.select("group", "group_order", "period", "period_start", *GAP_COLUMNS)
                   for p in parts], how="vertical_relaxed")
        .with_columns(years=(pl.col("period_start") - pl.lit(first)).dt.total_days()
                      / DAYS_PER_YEAR)
        .select(SERIES_COLUMNS)
        .sort("group_order", "period_start")
    )
    return GapTrend(series, _tests(series, metric, confidence))
