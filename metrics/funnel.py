"""Funnel plot control limits and significance, as PHEindicatormethods v2.1.0.

Proportions use the Fingertips Wilson-based limits (``sigma_adjustment``); ratios (O/E) and
crude rates use exact Poisson limits found by the Fingertips bisection (``poisson_funnel``).
"Low/High (0.025)" is outside the 95% limits, "(0.001)" outside the 99.8% limits. Limits
widened for over-dispersion (an option beside these) are in :mod:`metrics.overdispersion`.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import special

from metrics._arrays import (
    ArrayLike,
    as_float_array,
    broadcast,
    check_non_negative,
    check_not_above,
    check_one_of,
    finish,
)
from metrics.intervals import poisson_limits

STATISTICS = ("proportion", "rate", "ratio")
RATIO_TYPES = ("count", "isr", "ratio")
SIGNIFICANCE_LABELS = (
    "Low (0.001)",
    "Low (0.025)",
    "High (0.001)",
    "High (0.025)",
    "Not significant",
)
# Funnel probability per limit: 2s = 95% (p = 0.975 / tail 0.025), 3s = 99.8% (0.999 / 0.001).
FUNNEL_LEVELS = (("2s", 0.975, 0.025), ("3s", 0.999, 0.001))
_AXIS_POINTS = 100


# --- Limit formulas -------------------------------------------------------------------------


def sigma_adjustment(
    p: float, population: ArrayLike, average: float, side: str, multiplier: float = 1.0
) -> float | np.ndarray:
    """Proportion funnel limit at ``population`` for pooled proportion ``average`` (0-1).

    Closed-form Fingertips formula with ``q = qnorm(p)`` (0.975 for the 95% limits, 0.999
    for 99.8%); the low limit is the observed proportion whose Wilson upper limit equals
    ``average``, the high limit the one whose Wilson lower limit does. Unclipped.

    References
    ----------
    PHEindicatormethods ``sigma_adjustment``; Fingertips technical guidance (funnel plots).
    """
    check_one_of(side, ("low", "high"), "side")
    (n,), is_scalar = broadcast(population)
    q2 = special.ndtri(p) ** 2
    av = average
    first = av * (n / q2 + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adj = np.sqrt(
            (-8 * av * (n / q2 + 1)) ** 2
            - 64 * (1 / q2 + 1 / n) * av * (n * (av * (n / q2 + 2) - 1) + q2 * (av - 1))
        )
        last = 1 / q2 + 1 / n
        sign = -1.0 if side == "low" else 1.0
        return finish((first + sign * adj / 8) / last / n * multiplier, is_scalar)


def _poisson_at_least(mean: np.ndarray, k: np.ndarray) -> np.ndarray:
    """P(K >= k) for K ~ Poisson(mean), k rounded up to an integer."""
    k = np.ceil(k)
    return np.where(k <= 0, 1.0, special.gammainc(np.maximum(k, 1), mean))


def _poisson_at_most(mean: np.ndarray, k: np.ndarray) -> np.ndarray:
    """P(K <= k) for K ~ Poisson(mean), k rounded down to an integer."""
    return special.gammaincc(np.floor(k) + 1, mean)


def poisson_funnel(observed: ArrayLike, p: float, side: str) -> float | np.ndarray:
    """Expected count whose Poisson tail probability at ``observed`` equals ``p``.

    Fingertips ``PoisLow``/``PoisHigh`` bisection: ``v`` in (0, 1) starts at 0.5 and moves by
    ``dv`` (halving from 0.5 while ``dv > 1e-7``); the candidate mean is
    ``(1 + obs) v / (1 - v)``. ``side="low"`` seeks ``P(K >= obs) = p`` (the exact lower
    limit), ``side="high"`` seeks ``P(K <= obs) = p`` (the exact upper limit). The tail
    probabilities are evaluated exactly with the regularised incomplete gamma function
    (PHE sums the series to 1e-10), so results match PHE to the bisection step (~1e-7
    relative). ``side="low"`` with ``observed == 0`` returns 0.

    References
    ----------
    PHEindicatormethods ``poisson_funnel``/``poisson_cis``; Fingertips
    ``StatisticalMethods.PoisLow/PoisHigh``.
    """
    check_one_of(side, ("low", "high"), "side")
    (obs,), is_scalar = broadcast(observed)
    check_non_negative(obs, "observed")
    v = np.full(obs.shape, 0.5)
    dv = 0.5
    with np.errstate(invalid="ignore"):
        while dv > 1e-7:
            dv /= 2
            mean = (1 + obs) * v / (1 - v)
            if side == "low":
                move_down = _poisson_at_least(mean, obs) > p
            else:
                move_down = _poisson_at_most(mean, obs) < p
            v = np.where(move_down, v - dv, v + dv)
        result = (1 + obs) * v / (1 - v)
    if side == "low":
        result = np.where(obs == 0, 0.0, result)
    return finish(np.where(np.isfinite(obs), result, np.nan), is_scalar)


# --- Axis -----------------------------------------------------------------------------------


def _digits(value: float) -> int:
    # PHE uses nchar() on the number; R prints e.g. 1.2e+07 in scientific notation, which
    # changes the digit count only for 8+ digit round values (irrelevant for births).
    return len(str(int(value)))


def _signif_floor(value: float) -> float:
    if value == 0:
        return 0.0
    scaled = value * 0.95
    step = 10.0 ** (_digits(math.floor(scaled)) - 1)
    return math.floor(scaled / step) * step


def _signif_ceiling(value: float) -> float:
    if value == 0:
        return 0.0
    scaled = value * 1.05
    step = 10.0 ** (_digits(math.ceil(scaled)) - 2)
    return math.ceil(scaled / step) * step


def _resolve_statistic(statistic: str) -> str:
    return check_one_of(statistic, STATISTICS, "statistic")


def funnel_axis(
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float = 1.0,
    years_of_data: float = 1.0,
) -> np.ndarray:
    """The 100 x-axis points PHE evaluates funnel limits at.

    Axis range: from 0 if ``max(den) > 2 min(den)``, else ``min`` floored to its leading
    digit after x0.95; to ``max`` x1.05 ceilinged to 2 significant digits. For rates the
    range is taken per year (÷ ``years_of_data``, rounded, × back) and converted to events
    (``floor(min av)``, ``ceiling(max av)``). Points: ``x1 = max(1, axis_min)``,
    ``x_j = max(round((axis_max/x_{j-1})^(1/(101-offset)) x_{j-1}), x_{j-1} + 1)`` with
    ``offset = j`` (proportion, rate) or ``j - 1`` (ratio); ``round`` is half-to-even as R.

    Parameters
    ----------
    denominator : array-like
        Populations (proportion), expected counts (ratio) or denominators (rate).
    statistic : {"proportion", "rate", "ratio"}
    average : float, optional
        Rates only: the baseline rate in ``multiplier`` units (default: pooled from the
        caller; required for rates).
    multiplier, years_of_data : float
        Rates only.

    Returns
    -------
    numpy.ndarray
        100 increasing whole numbers: populations, observed events (ratio) or events (rate).

    References
    ----------
    PHEindicatormethods ``calculate_funnel_limits`` (signif.floor / signif.ceiling).
    """
    statistic = _resolve_statistic(statistic)
    av = None if average is None else float(average) / multiplier
    return _axis(denominator, statistic, av, years_of_data)


def _axis(
    denominator: ArrayLike, statistic: str, av: float | None, years_of_data: float
) -> np.ndarray:
    den = as_float_array(denominator).ravel()
    den = den[np.isfinite(den)]
    if den.size == 0:
        raise ValueError("denominator needs at least one non-missing value to build an axis")
    check_non_negative(den, "denominator")
    per_year = years_of_data if statistic == "rate" else 1.0
    low, high = float(den.min()), float(den.max())
    axis_min = 0.0 if high > 2 * low else _signif_floor(low / per_year) * per_year
    axis_max = _signif_ceiling(high / per_year) * per_year
    if statistic == "rate":
        if av is None or not av > 0:
            raise ValueError("rate funnels need a positive average rate to build the axis")
        axis_min, axis_max = math.floor(axis_min * av), math.ceil(axis_max * av)
    points = [max(1.0, axis_min)]
    for j in range(2, _AXIS_POINTS + 1):
        offset = j - 1 if statistic == "ratio" else j
        previous = points[-1]
        step = round((axis_max / previous) ** (1 / (101 - offset)) * previous)
        points.append(float(max(step, previous + 1)))
    return np.array(points)


# --- Limits table ---------------------------------------------------------------------------


def pooled_average(
    numerator: ArrayLike | None,
    denominator: ArrayLike | None,
    average: float | None,
    multiplier: float,
) -> float:
    """Baseline per unit: ``average / multiplier`` or the pooled ``sum(x) / sum(n)``."""
    if average is not None:
        return float(average) / multiplier
    if numerator is None or denominator is None:
        raise ValueError("give either average or both numerator and denominator to pool")
    (x, n), _ = broadcast(numerator, denominator)
    keep = np.isfinite(x) & np.isfinite(n)
    if not keep.any() or n[keep].sum() <= 0:
        raise ValueError("cannot pool an average: no non-missing numerator/denominator pairs")
    return float(x[keep].sum() / n[keep].sum())


def funnel_limits(
    numerator: ArrayLike | None = None,
    denominator: ArrayLike | None = None,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    points: ArrayLike | None = None,
    multiplier: float = 1.0,
    ratio_type: str = "count",
    years_of_data: float = 1.0,
) -> pl.DataFrame:
    """Funnel plot control limits (95% "2s" and 99.8% "3s") as PHE ``calculate_funnel_limits``.

    Parameters
    ----------
    numerator, denominator : array-like, optional
        Per-unit counts: cases and populations (proportion), observed and expected counts
        (ratio), events and denominators (crude rate). Used to pool the average
        (``sum(num) / sum(den)``) when ``average`` is not given, and to build the PHE
        100-point axis (:func:`funnel_axis`) when ``points`` is not given.
    statistic : {"proportion", "rate", "ratio"}
    average : float, optional
        Baseline in output units (e.g. 80.6 for a percentage with ``multiplier=100``,
        per 1,000 for rates with ``multiplier=1000``), e.g. the England value. Ignored for
        ratios, whose baseline is O/E = 1.
    points : array-like, optional
        Where to evaluate the limits: populations (proportion), observed events (ratio) or
        events (rate). Default: the PHE axis.
    multiplier : float, default 1
        Output scale (100 for percentages). Proportion limits are clipped to
        ``[0, multiplier]`` (PHE clips at 0 and 100, i.e. for percentages).
    ratio_type : {"count", "isr", "ratio"}
        Ratios only: limits as O/E - 1 ("count"), O/E x 100 ("isr") or O/E ("ratio").
    years_of_data : float, default 1
        Rates only: years pooled in the denominators (scales the axis and
        ``*_population_1_year``).

    Returns
    -------
    polars.DataFrame
        proportion: ``population, lower_2s, upper_2s, lower_3s, upper_3s, baseline``.
        ratio: ``observed_events, lower_2s_exp_events, lower_2s, upper_2s_exp_events,
        upper_2s, lower_3s_exp_events, lower_3s, upper_3s_exp_events, upper_3s, baseline``.
        rate: ``events, lower_2s_population_1_year, lower_2s, upper_2s_population_1_year,
        upper_2s, lower_3s_population_1_year, lower_3s, upper_3s_population_1_year,
        upper_3s, baseline``.

    Notes
    -----
    Ratio/rate lower limits use the "high" Poisson bisection and upper limits the "low"
    one: ``lower = O / poisson_funnel(O, tail, "high")``; for rates the expected count is
    divided by the average to give a population and ``limit = E / population x multiplier``.

    References
    ----------
    PHEindicatormethods v2.1.0 ``calculate_funnel_limits``; Fingertips technical guidance.
    """
    statistic = _resolve_statistic(statistic)
    if statistic == "ratio":
        check_one_of(ratio_type, RATIO_TYPES, "ratio_type")
        av = 1.0
    else:
        av = pooled_average(numerator, denominator, average, multiplier)
    if points is None:
        if denominator is None:
            raise ValueError("give points, or denominator to build the PHE axis")
        x = _axis(denominator, statistic, av, years_of_data)
    else:
        x = as_float_array(points).ravel()
        check_non_negative(x, "points")

    if statistic == "proportion":
        return _proportion_table(x, av, multiplier)
    if statistic == "ratio":
        return _ratio_table(x, ratio_type)
    return _rate_table(x, av, multiplier, years_of_data)


def _proportion_table(population: np.ndarray, av: float, multiplier: float) -> pl.DataFrame:
    columns: dict[str, np.ndarray] = {"population": population}
    for name, p, _ in FUNNEL_LEVELS:
        low = sigma_adjustment(p, population, av, "low", multiplier)
        high = sigma_adjustment(p, population, av, "high", multiplier)
        columns[f"lower_{name}"] = np.maximum(0.0, low)
        columns[f"upper_{name}"] = np.minimum(multiplier, high)
    columns["baseline"] = np.full(population.shape, av * multiplier)
    frame = pl.DataFrame(columns)
    return frame.select("population", "lower_2s", "upper_2s", "lower_3s", "upper_3s", "baseline")


def _ratio_table(observed: np.ndarray, ratio_type: str) -> pl.DataFrame:
    scale, shift = {"count": (1.0, -1.0), "isr": (100.0, 0.0), "ratio": (1.0, 0.0)}[ratio_type]
    columns: dict[str, np.ndarray] = {"observed_events": observed}
    for name, _, tail in FUNNEL_LEVELS:
        for bound, side in (("lower", "high"), ("upper", "low")):
            expected = np.asarray(poisson_funnel(observed, tail, side), dtype=np.float64)
            columns[f"{bound}_{name}_exp_events"] = expected
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[f"{bound}_{name}"] = (observed / expected) * scale + shift
    columns["baseline"] = np.full(observed.shape, scale + shift)
    return pl.DataFrame(columns)


def _rate_table(
    events: np.ndarray, av: float, multiplier: float, years_of_data: float
) -> pl.DataFrame:
    if not av > 0:
        raise ValueError("rate funnels need a positive average rate")
    columns: dict[str, np.ndarray] = {"events": events}
    for name, _, tail in FUNNEL_LEVELS:
        for bound, side in (("lower", "high"), ("upper", "low")):
            population = np.asarray(poisson_funnel(events, tail, side), dtype=np.float64) / av
            columns[f"{bound}_{name}_population_1_year"] = population / years_of_data
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[f"{bound}_{name}"] = events / population * multiplier
    columns["baseline"] = np.full(events.shape, av * multiplier)
    return pl.DataFrame(columns)


# --- Significance ---------------------------------------------------------------------------


def funnel_significance(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float = 1.0,
) -> str | None | np.ndarray:
    """Label each unit against the funnel, as PHE ``assign_funnel_significance``.

    proportion: ``x/n < low(99.8%)`` -> "Low (0.001)", ``< low(95%)`` -> "Low (0.025)",
    ``> high(99.8%)`` -> "High (0.001)", ``> high(95%)`` -> "High (0.025)", else
    "Not significant", with the Wilson-based limits of :func:`sigma_adjustment`.
    ratio / rate (crude): the unit's own PHE CI of the count (exact below 10 events,
    Byar's from 10) divided by the expected count (ratio) or denominator (rate) is compared
    with 1 (ratio) or the average: ``average < lower(99.8%)`` -> "High (0.001)", etc.

    Parameters
    ----------
    numerator, denominator : scalar or array-like
        Cases and populations, observed and expected counts, or events and denominators.
    statistic : {"proportion", "rate", "ratio"}
    average : float, optional
        Baseline in ``multiplier`` units; default pooled ``sum(num)/sum(den)`` over
        non-missing pairs (1 for ratios).
    multiplier : float, default 1
        Units of ``average`` only (the labels do not depend on it otherwise).

    Returns
    -------
    str or numpy.ndarray of object
        One label per unit; ``None`` where an input is missing or the denominator is 0.

    Raises
    ------
    ValueError
        Negative counts, or numerator > denominator for a proportion.

    References
    ----------
    PHEindicatormethods v2.1.0 ``assign_funnel_significance``, ``funnel_ratio_significance``.
    """
    statistic = _resolve_statistic(statistic)
    (x, n), is_scalar = broadcast(numerator, denominator)
    check_non_negative(x, "numerator")
    check_non_negative(n, "denominator")
    if statistic == "proportion":
        check_not_above(x, n, "numerator", "denominator")
    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    labels = np.full(x.shape, None, dtype=object)
    if not valid.any():
        return labels[()] if is_scalar else labels
    if statistic == "ratio":
        av = 1.0 if average is None else float(average) / multiplier
    else:
        av = pooled_average(x[valid], n[valid], average, multiplier)

    labels[valid] = "Not significant"
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "proportion":
            observed = x / n
            # Checked in reverse precedence so that the first PHE rule wins.
            rules = [
                (observed > sigma_adjustment(0.975, n, av, "high"), "High (0.025)"),
                (observed > sigma_adjustment(0.999, n, av, "high"), "High (0.001)"),
                (observed < sigma_adjustment(0.975, n, av, "low"), "Low (0.025)"),
                (observed < sigma_adjustment(0.999, n, av, "low"), "Low (0.001)"),
            ]
        else:
            low95, high95 = poisson_limits(x, 0.95)
            low998, high998 = poisson_limits(x, 0.998)
            rules = [
                (av > high95 / n, "Low (0.025)"),
                (av > high998 / n, "Low (0.001)"),
                (av < low95 / n, "High (0.025)"),
                (av < low998 / n, "High (0.001)"),
            ]
    for condition, label in rules:
        labels[condition & valid] = label
    return labels[()] if is_scalar else labels
