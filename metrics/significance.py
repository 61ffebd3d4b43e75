"""Comparison of an area or group with a benchmark (England), as Fingertips does it.

Fingertips ``IndicatorComparerFactory``: the default ``SingleOverlappingCIs`` rule (on an
interval worked out from counts, or on one published with the figure) and the older
``SpcFor*`` rules (METHODS.md section 1.3).
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


class _Unset:
    """An argument not given at all (``None`` given is a missing figure, compared as such:
    "not compared")."""

    def __repr__(self) -> str:
        return "<not given>"


_UNSET: ArrayLike = _Unset()


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
    numerator: ArrayLike = _UNSET,
    denominator: ArrayLike = _UNSET,
    benchmark: ArrayLike = _UNSET,
    *,
    value: ArrayLike = _UNSET,
    lower: ArrayLike = _UNSET,
    upper: ArrayLike = _UNSET,
    statistic: str = "proportion",
    multiplier: float = 1.0,
    polarity: str = "higher_is_better",
    confidence: float = 0.95,
    method: str = "single_ci",
) -> str | np.ndarray:
    """Classify each area against a benchmark value, as Fingertips.

    Takes either the area's counts (``numerator``, ``denominator``), from which its CI is
    worked out, or a published figure with its own CI (``value``, ``lower``, ``upper``,
    such as an MBRRACE-UK rate or a CQC survey percentage), which is compared as published.

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

    With ``value``, ``lower`` and ``upper`` (Fingertips ``SingleOverlappingCIs`` on the
    published interval; METHODS.md 1.3 item 1) nothing is recomputed::

        "similar"  if lower <= benchmark <= upper  (inclusive)
        "lower"    else if value < benchmark       (Fingertips "Worse" before polarity)
        "higher"   otherwise                       (Fingertips "Better" before polarity)

    ``value``, its limits and ``benchmark`` must be in the same units (``statistic`` and
    ``multiplier`` are not needed); ``confidence`` is not applied, the limits keep the
    level they were published at; ``method`` must be ``"single_ci"`` (SPC limits need the
    area's denominator).

    Parameters
    ----------
    numerator, denominator : scalar or array-like, optional
        Area cases/events and population/births (the counts path).
    benchmark : scalar or array-like
        Benchmark value in the same units as the area value (``x / n x multiplier`` on the
        counts path, ``value`` on the published-interval path). Required.
    value, lower, upper : scalar or array-like, optional
        The area's published value and its lower and upper confidence limits (the
        published-interval path), given instead of the counts; ``lower <= value <= upper``.
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

    Raises
    ------
    ValueError
        On an unknown statistic, polarity, method or confidence level; on counts and a
        published interval given together, or neither; without a benchmark; on the
        counts path, for negative counts (or a numerator above its denominator for a
        proportion); on the published-interval path, for a value, lower or upper given
        without the others, a lower limit above the upper, a value outside its own limits,
        or ``method="spc"``.

    References
    ----------
    fingertips-open ``IndicatorComparerFactory``, ``SingleOverlappingCIsComparer``,
    ``SpcForProportionsComparer``, ``SpcForDsrComparer``; METHODS.md 1.3.
    """
    check_one_of(statistic, ("proportion", "rate"), "statistic")
    check_one_of(polarity, POLARITIES, "polarity")
    check_one_of(method, METHODS, "method")
    level = normalise_confidence(confidence)
    if benchmark is _UNSET:
        raise ValueError("benchmark is required")
    counts = (numerator, denominator)
    if any(v is not _UNSET for v in (value, lower, upper)):
        if any(v is not _UNSET for v in counts):
            raise ValueError("give the area's counts (numerator, denominator) or its published "
                             "interval (value, lower, upper), not both")
        return _compare_interval(value, lower, upper, benchmark, polarity=polarity,
                                 method=method)
    if any(v is _UNSET for v in counts):
        raise ValueError("give the area's numerator and denominator, or its published value "
                         "with lower and upper limits")
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


def _labels(raw: np.ndarray, polarity: str, compared: np.ndarray) -> np.ndarray:
    """Raw outcomes ("higher"/"similar"/"lower") as labels for ``polarity``, with
    :data:`NOT_COMPARED` where ``compared`` is False."""
    mapping = _LABELS[polarity]
    labels = np.array([mapping[r] for r in raw.ravel()], dtype=object).reshape(raw.shape)
    labels[~compared] = NOT_COMPARED
    return labels


def _compare_interval(value: ArrayLike, lower: ArrayLike, upper: ArrayLike,
                      benchmark: ArrayLike, *, polarity: str, method: str) -> str | np.ndarray:
    """The published-interval path of :func:`compare_with_benchmark` (Fingertips
    ``SingleOverlappingCIs`` on limits given, not computed)."""
    missing = [name for name, v in (("value", value), ("lower", lower), ("upper", upper))
               if v is _UNSET]
    if missing:
        raise ValueError(f"a published interval needs value, lower and upper together; "
                         f"{' and '.join(missing)} not given")
    if method != "single_ci":
        raise ValueError("method='spc' needs the area's counts (its limits are built from "
                         "the denominator); a published interval is compared with "
                         "method='single_ci'")
    (v, lo, hi, bench), is_scalar = broadcast(value, lower, upper, benchmark)
    with np.errstate(invalid="ignore"):  # NaN (missing) compares False: not compared
        reversed_limits = lo > hi
        outside = (v < lo) | (v > hi)
    if np.any(reversed_limits):
        raise ValueError(f"lower must be <= upper; got lower "
                         f"{float(lo[reversed_limits].flat[0])!r} > upper "
                         f"{float(hi[reversed_limits].flat[0])!r}")
    if np.any(outside):
        raise ValueError(f"value must lie within its own limits; got {float(v[outside].flat[0])!r}"
                         f" outside {float(lo[outside].flat[0])!r} to "
                         f"{float(hi[outside].flat[0])!r}")
    valid = np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(bench)
    with np.errstate(invalid="ignore"):
        similar = (lo <= bench) & (bench <= hi)
        higher = ~similar & (v >= bench)
    raw = np.where(similar, "similar", np.where(higher, "higher", "lower"))
    labels = _labels(raw, polarity, valid)
    return str(labels[()]) if is_scalar else labels
