"""Comparison of an area or group with a benchmark (England), as Fingertips does it.

Fingertips ``IndicatorComparerFactory``: the default ``SingleOverlappingCIs`` rule and the
older ``SpcFor*`` rules (METHODS.md section 1.3).
"""

from __future__ import annotations

import numpy as np

from metrics._arrays import (
    ArrayLike,
    broadcast,
    check_non_negative,
    check_not_above,
    check_one_of,
    normalise_confidence,
    where_valid,
)
from metrics.funnel import poisson_funnel
from metrics.intervals import poisson_limits, wilson_limits

POLARITIES = ("higher_is_better", "lower_is_better", "none")
METHODS = ("single_ci", "spc")
NOT_COMPARED = "not compared"
_LABELS = {
    # raw outcome -> label per polarity
    "higher_is_better": {"higher": "better", "lower": "worse", "similar": "similar"},
    "lower_is_better": {"higher": "worse", "lower": "better", "similar": "similar"},
    "none": {"higher": "higher", "lower": "lower", "similar": "similar"},
}


def _area_limits(
    x: np.ndarray, n: np.ndarray, statistic: str, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """The area's own CI per unit: Wilson (proportions) or exact/Byar's (rates)."""
    if statistic == "proportion":
        return wilson_limits(x, n, confidence)
    lower, upper = poisson_limits(x, confidence)
    return where_valid(n > 0, lambda: lower / n), where_valid(n > 0, lambda: upper / n)


def _benchmark_limits(
    n: np.ndarray, p0: np.ndarray, statistic: str, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits around the benchmark's expected count ``E = n p0`` (Fingertips SPC)."""
    expected = n * p0
    if statistic == "proportion":
        return wilson_limits(expected, n, confidence)
    tail = (1 - confidence) / 2
    low = np.asarray(poisson_funnel(expected, tail, "low"), dtype=np.float64)
    high = np.asarray(poisson_funnel(expected, tail, "high"), dtype=np.float64)
    return where_valid(n > 0, lambda: low / n), where_valid(n > 0, lambda: high / n)


def compare_with_benchmark(
    numerator: ArrayLike,
    denominator: ArrayLike,
    benchmark: ArrayLike,
    *,
    statistic: str = "proportion",
    multiplier: float = 1.0,
    polarity: str = "higher_is_better",
    confidence: float = 0.95,
    method: str = "single_ci",
) -> str | np.ndarray:
    """Classify each area against a benchmark value, as Fingertips.

    ``method="single_ci"`` (Fingertips ``SingleOverlappingCIs``, the default): the area's
    own CI (Wilson for proportions; exact Poisson below 10 events, Byar's from 10, for
    rates) is compared with the benchmark value: "similar" if
    ``lower <= benchmark <= upper`` (inclusive), else "lower" if ``value < benchmark``, else
    "higher". The benchmark's own uncertainty is ignored.

    ``method="spc"`` (Fingertips ``SpcForProportions`` / ``SpcForDsr``): limits are built
    around the benchmark's expected count ``E = n x benchmark`` (Wilson score at ``x = E``
    for proportions, exact Poisson bisection for rates); "higher" if the area value is
    above the upper limit, "lower" if below the lower limit. Fingertips uses z rounded to
    1.96 / 3.0902; the exact z is used here.

    The raw outcome is then turned into "better"/"similar"/"worse" by ``polarity``
    (``"none"`` keeps "higher"/"similar"/"lower").

    Parameters
    ----------
    numerator, denominator : scalar or array-like
        Area cases/events and population/births.
    benchmark : scalar or array-like
        Benchmark value in the same units as the area value ``x / n x multiplier``.
    statistic : {"proportion", "rate"}
    multiplier : float, default 1
        100 for percentages, 1000 for rates per 1,000.
    polarity : {"higher_is_better", "lower_is_better", "none"}
    confidence : float, default 0.95
        Typically 0.95 or 0.998 (also 95 / 99.8).
    method : {"single_ci", "spc"}

    Returns
    -------
    str or numpy.ndarray of str
        "better"/"similar"/"worse" (or "higher"/"similar"/"lower" when polarity is
        "none"); "not compared" where any input is missing or the denominator is 0.

    References
    ----------
    fingertips-open ``IndicatorComparerFactory``, ``SingleOverlappingCIsComparer``,
    ``SpcForProportionsComparer``, ``SpcForDsrComparer``; METHODS.md 1.3.
    """
    check_one_of(statistic, ("proportion", "rate"), "statistic")
    check_one_of(polarity, POLARITIES, "polarity")
    check_one_of(method, METHODS, "method")
    level = normalise_confidence(confidence)
    (x, n, bench), is_scalar = broadcast(numerator, denominator, benchmark)
    check_non_negative(x, "numerator")
    check_non_negative(n, "denominator")
    if statistic == "proportion":
        check_not_above(x, n, "numerator", "denominator")

    valid = np.isfinite(x) & np.isfinite(n) & (n > 0) & np.isfinite(bench)
    value = where_valid(valid, lambda: x / n)
    target = bench / multiplier
    if method == "single_ci":
        lower, upper = _area_limits(x, n, statistic, level)
        similar = (lower <= target) & (target <= upper)
        higher = ~similar & (value >= target)
    else:
        if statistic == "proportion" and np.any(valid & ((target < 0) | (target > 1))):
            raise ValueError("benchmark must be a proportion between 0 and multiplier")
        lower, upper = _benchmark_limits(n, np.where(valid, target, 0.0), statistic, level)
        higher = value > upper
        similar = ~higher & ~(value < lower)

    raw = np.where(similar, "similar", np.where(higher, "higher", "lower"))
    mapping = _LABELS[polarity]
    labels = np.array([mapping[r] for r in raw.ravel()], dtype=object).reshape(raw.shape)
    labels[~valid | np.isnan(lower) | np.isnan(upper)] = NOT_COMPARED
    return str(labels[()]) if is_scalar else labels
