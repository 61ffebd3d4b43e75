"""Making Data Count XmR (individuals) charts, as NHSRplotthedots v0.2.2.

Limits (``ptd_spc_standard``) and special-cause rules with their precedence
(``ptd_special_cause_type``, ``ptd_point_type``) follow METHODS.md sections 3.1-3.3. The rule
helpers mirror the package's internal functions so its unit tests can be replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from metrics._arrays import ArrayLike, as_float_array, check_one_of

LIMIT = 2.66  # 3 / d2 (d2 = 1.128 for moving ranges of 2)
NEAR_LIMIT = 2 * LIMIT / 3
SCREEN = 3.267  # moving ranges at or above 3.267 x mean are screened out (Nelson 1982)
RUN = 7  # points in a trend or shift
TRIAL_LIMIT_POINTS = 13  # fewer points than this give "trial limits"
MIN_FIX_POINTS = 12

IMPROVEMENTS = ("increase", "decrease", "neutral")
SPECIAL_CAUSE_RULES = (
    "Above UCL",
    "Below LCL",
    "7 Point Trend (Increasing)",
    "7 Point Trend (Decreasing)",
    "2 in 3 Above CL",
    "2 in 3 Below CL",
    "7 Points Above CL",
    "7 Points Below CL",
    "Common Cause",
)
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
COLOURS = {
    "common_cause": "#a6a6a6",
    "special_cause_improvement": "#00b0f0",
    "special_cause_neutral_high": "#490092",
    "special_cause_neutral_low": "#490092",
    "special_cause_concern": "#e46c0a",
    "target": "#de1b1b",
}
_DIRECTION = {"increase": 1, "decrease": -1, "neutral": 0}
_ASSURANCE_ICONS = {
    "consistent_pass": "pass",
    "consistent_fail": "fail",
    "inconsistent": "inconsistent",
}


# --- Rule helpers (vectorised ports of the package internals) ------------------------------


def seven_point_trend(values: ArrayLike) -> np.ndarray:
    """+1/-1 at the 7th point of 7 strictly increasing/decreasing points, else 0.

    Ties (and missing values) break a run. ``ptd_seven_point_trend``.
    """
    y = as_float_array(values).ravel()
    out = np.zeros(y.size)
    if y.size < RUN:
        return out
    steps = np.lib.stride_tricks.sliding_window_view(np.sign(np.diff(y)), RUN - 1)
    out[RUN - 1 :] = np.where(
        (steps == 1).all(axis=1), 1, np.where((steps == -1).all(axis=1), -1, 0)
    )
    return out


def seven_point_one_side_mean(relative_to_mean: ArrayLike) -> np.ndarray:
    """1 at a point ending 7 points on the same (non-zero) side of the mean, else 0.

    ``ptd_seven_point_one_side_mean``.
    """
    side = as_float_array(relative_to_mean).ravel()
    out = np.zeros(side.size)
    if side.size < RUN:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(side, RUN)
    same = (windows == windows[:, -1:]).all(axis=1) & (windows[:, -1] != 0)
    out[RUN - 1 :] = same
    return out


def part_of_seven(flags: ArrayLike) -> np.ndarray:
    """1 for every point of a flagged 7-point run (the flag sits on its last point).

    ``ptd_part_of_seven_trend``: a point is part of a run if it or one of the next 6 is
    flagged.
    """
    hit = (np.abs(as_float_array(flags).ravel()) == 1).astype(float)
    if hit.size == 0:
        return hit
    padded = np.concatenate([hit, np.zeros(RUN - 1)])
    return np.lib.stride_tricks.sliding_window_view(padded, RUN).max(axis=1)


def two_in_three(close_to_limits: ArrayLike, relative_to_mean: ArrayLike) -> np.ndarray:
    """1 for every point of a 3-point window with >= 2 close points all on one side.

    ``ptd_two_in_three``: windows need ``sum(close) >= 2`` and ``|sum(side)| == 3``.
    """
    close = as_float_array(close_to_limits).ravel()
    side = as_float_array(relative_to_mean).ravel()
    out = np.zeros(close.size)
    if close.size < 3:
        return out
    close_sum = np.lib.stride_tricks.sliding_window_view(close, 3).sum(axis=1)
    side_sum = np.lib.stride_tricks.sliding_window_view(side, 3).sum(axis=1)
    start = (close_sum >= 2) & (np.abs(side_sum) == 3)
    for shift in range(3):
        out[shift : shift + start.size] = np.maximum(out[shift : shift + start.size], start)
    return out


def part_of_two_in_three(two_in_three_flags: ArrayLike, close_to_limits: ArrayLike) -> np.ndarray:
    """Only the close points of a two-in-three window are flagged. ``ptd_part_of_two_in_three``."""
    flags = as_float_array(two_in_three_flags).ravel()
    close = as_float_array(close_to_limits).ravel()
    return ((flags == 1) & (np.abs(close) == 1)).astype(float)


def classify_special_cause(
    values: ArrayLike,
    relative_to_mean: ArrayLike,
    outside_limits: ArrayLike,
    part_trend: ArrayLike,
    part_two_in_three: ArrayLike,
    part_shift: ArrayLike,
) -> np.ndarray:
    """Combine rule flags into one label per point, in NHSRplotthedots precedence.

    Outside limits > 7-point trend > 2 in 3 near a limit > 7-point shift > common cause.
    Above/Below comes from the side of the mean; a trend's direction from the sign of the
    step into the point, or out of it when the next point is in the trend as well.
    """
    y = as_float_array(values).ravel()
    side = as_float_array(relative_to_mean).ravel()
    outside = as_float_array(outside_limits).ravel() != 0
    trend = as_float_array(part_trend).ravel() != 0
    two = as_float_array(part_two_in_three).ravel() != 0
    shift = as_float_array(part_shift).ravel() != 0
    if y.size == 0:
        return np.array([], dtype=object)
    steps = np.sign(np.diff(y))
    right = np.append(steps, steps[-1:] if steps.size else [0.0])
    left = np.insert(steps, 0, 0.0)
    use_right = trend & np.append(trend[1:], False)
    direction = np.where(use_right, right, left)
    above = np.where(side > 0, "Above", "Below")
    return np.select(
        [outside, trend, two, shift],
        [
            np.where(side == 1, "Above UCL", "Below LCL"),
            np.where(direction == 1, "7 Point Trend (Increasing)", "7 Point Trend (Decreasing)"),
            np.char.add(np.char.add("2 in 3 ", above), " CL"),
            np.char.add(np.char.add("7 Points ", above), " CL"),
        ],
        default="Common Cause",
    ).astype(object)


def point_type(rules: ArrayLike, improvement: str = "increase") -> np.ndarray:
    """Map rule labels to MDC point types for the improvement direction. ``ptd_point_type``."""
    check_one_of(improvement, IMPROVEMENTS, "improvement")
    labels = np.asarray(rules, dtype=object).ravel()
    up = np.array([r is not None and ("Above" in r or "Increasing" in r) for r in labels])
    down = np.array([r is not None and ("Below" in r or "Decreasing" in r) for r in labels])
    sign = up.astype(int) - down.astype(int)
    out = np.full(labels.size, "common_cause", dtype=object)
    if improvement == "neutral":
        out[sign > 0] = "special_cause_neutral_high"
        out[sign < 0] = "special_cause_neutral_low"
    else:
        oriented = sign * _DIRECTION[improvement]
        out[oriented > 0] = "special_cause_improvement"
        out[oriented < 0] = "special_cause_concern"
    out[np.array([r is None for r in labels], dtype=bool)] = None
    return out


# --- Limits and the chart -------------------------------------------------------------------


def _limits(
    y: np.ndarray, screen_outliers: bool, fix_after_n_points: int | None
) -> tuple[float, float]:
    """Centre line and mean moving range of one segment (NaN when undefined)."""
    fixed = y if fix_after_n_points is None else y[:fix_after_n_points]
    finite = fixed[np.isfinite(fixed)]
    if finite.size == 0:
        return float("nan"), float("nan")
    mean = float(finite.mean())
    ranges = np.abs(np.diff(fixed))
    ranges = ranges[np.isfinite(ranges)]
    if ranges.size == 0:
        return mean, float("nan")
    mr_bar = float(ranges.mean())
    if screen_outliers:
        ranges = ranges[ranges < SCREEN * mr_bar]
        mr_bar = float(ranges.mean()) if ranges.size else float("nan")
    return mean, mr_bar


def _segment(
    y: np.ndarray, screen_outliers: bool, fix_after_n_points: int | None, improvement: str
) -> pl.DataFrame:
    """Limits, rule flags and labels for one rebase segment."""
    mean, mr_bar = _limits(y, screen_outliers, fix_after_n_points)
    upl, lpl = mean + LIMIT * mr_bar, mean - LIMIT * mr_bar
    near_upl, near_lpl = mean + NEAR_LIMIT * mr_bar, mean - NEAR_LIMIT * mr_bar
    with np.errstate(invalid="ignore"):
        outside = (y > upl) | (y < lpl)
        side = np.nan_to_num(np.sign(y - mean))  # missing points and points on the mean: 0
        close = ~outside & ((y < near_lpl) | (y > near_upl))
    rules = classify_special_cause(
        y,
        side,
        outside,
        part_of_seven(seven_point_trend(y)),
        part_of_two_in_three(two_in_three(close, side), close),
        part_of_seven(seven_point_one_side_mean(side)),
    )
    rules[~np.isfinite(y)] = None
    return pl.DataFrame(
        {
            "value": y,
            **{
                name: np.full(y.size, level)
                for name, level in (
                    ("mean", mean),
                    ("lpl", lpl),
                    ("upl", upl),
                    ("near_lpl", near_lpl),
                    ("near_upl", near_upl),
                )
            },
            "outside_limits": outside,
            "relative_to_mean": side.astype(np.int8),
            "close_to_limits": close,
            "special_cause_rule": pl.Series(list(rules), dtype=pl.String),
            "point_type": pl.Series(list(point_type(rules, improvement)), dtype=pl.String),
        }
    )


@dataclass(frozen=True)
class SPCSummary:
    """Chart-level summary (``summary()`` of an NHSRplotthedots chart), last segment's limits."""

    mean: float
    lpl: float
    upl: float
    n: int
    common_cause: int
    special_cause_improvement: int
    special_cause_concern: int
    special_cause_neutral: int
    variation_type: str | None
    assurance_type: str | None
    trial_limits: bool
    variation_icon: str | None
    assurance_icon: str | None


@dataclass(frozen=True)
class SPCResult:
    """Per-point frame and summary of an XmR chart."""

    points: pl.DataFrame
    summary: SPCSummary


def variation_icon(variation_type: str | None, improvement: str = "increase") -> str | None:
    """MDC variation icon name (file stem of the NHSRplotthedots icon) for a point type."""
    check_one_of(improvement, IMPROVEMENTS, "improvement")
    if variation_type is None:
        return None
    if variation_type == "special_cause_improvement":
        return "improvement_high" if improvement == "increase" else "improvement_low"
    if variation_type == "special_cause_concern":
        return "concern_low" if improvement == "increase" else "concern_high"
    if variation_type.startswith("special_cause_neutral_"):
        return variation_type.removeprefix("special_cause_")
    return "common_cause"


def assurance_type(target: float | None, lpl: float, upl: float, improvement: str) -> str | None:
    """ "consistent_pass" / "consistent_fail" / "inconsistent" for a target (none if neutral)."""
    if target is None or improvement == "neutral" or not np.isfinite(target):
        return None
    increasing = improvement == "increase"
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def spc(
    values: ArrayLike,
    *,
    improvement: str = "increase",
    screen_outliers: bool = True,
    fix_after_n_points: int | None = None,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
) -> SPCResult:
    """XmR chart with Making Data Count rules, as NHSRplotthedots ``ptd_spc``.

    Per segment: ``mean`` of the (first ``fix_after_n_points``) values, ``mR`` = absolute
    successive differences, ``mR_bar`` their mean; with ``screen_outliers`` ranges
    ``>= 3.267 mR_bar`` are dropped and ``mR_bar`` recomputed. ``LPL/UPL = mean -/+ 2.66
    mR_bar``; near limits ``mean -/+ (2/3) 2.66 mR_bar``. Rules in precedence order:
    outside the limits (strict), 7-point trend (strict steps), 2 of 3 consecutive points
    between the near and process limits with all 3 on one side, 7 points on one side of the
    mean (a point on the mean breaks a run), else common cause.

    Parameters
    ----------
    values : array-like
        Observations in time order. Missing values get no rule or type (``null``), are
        left out of the mean, their moving ranges are dropped, and they break runs.
        As in the package, a constant series has no limits (NaN) when screening, since
        every zero moving range is ``>= 3.267 x 0``.
    improvement : {"increase", "decrease", "neutral"}
    screen_outliers : bool, default True
        The NHSRplotthedots default; ``False`` reproduces the MDC Excel tool.
    fix_after_n_points : int, optional
        Compute limits from the first n points (>= 12) of each segment only.
    target : float, optional
        Gives ``summary.assurance_type`` (not for neutral).
    rebase_at : sequence of int, default ()
        0-based indices where a new segment (recalculated limits and rules) starts.

    Returns
    -------
    SPCResult
        ``points``: polars frame with ``index, segment, value, mean, lpl, upl, near_lpl,
        near_upl, outside_limits, relative_to_mean, close_to_limits, special_cause_rule,
        point_type``. ``summary``: :class:`SPCSummary` from the last segment's limits;
        ``variation_type`` is the last point's type; ``trial_limits`` is True when any
        segment has fewer than 13 points; icons are NHSRplotthedots icon file stems.

    Raises
    ------
    ValueError
        Unknown ``improvement``, ``fix_after_n_points < 12``, or rebase indices out of range.

    References
    ----------
    NHS England "Making Data Count"; NHSRplotthedots v0.2.2 ``ptd_spc_standard``,
    ``ptd_special_cause_type``, ``ptd_point_type``, ``ptd_calculate_assurance_type``.
    """
    check_one_of(improvement, IMPROVEMENTS, "improvement")
    if fix_after_n_points is not None and fix_after_n_points < MIN_FIX_POINTS:
        raise ValueError(
            f"fix_after_n_points must be >= {MIN_FIX_POINTS}, got {fix_after_n_points}"
        )
    y = as_float_array(values).ravel()
    cuts = sorted(set(rebase_at))
    if any(not 0 < cut < y.size for cut in cuts):
        raise ValueError(
            f"rebase_at indices must be between 1 and {y.size - 1}, got {list(rebase_at)}"
        )

    parts = [part for part in np.split(y, cuts) if part.size] or [y]
    segments = [_segment(part, screen_outliers, fix_after_n_points, improvement) for part in parts]
    points = pl.concat(
        [seg.with_columns(segment=pl.lit(i, dtype=pl.Int32)) for i, seg in enumerate(segments)]
    ).with_row_index("index")
    points = points.select("index", "segment", *segments[0].columns)
    return SPCResult(points=points, summary=_summarise(points, segments, improvement, target))


def _summarise(
    points: pl.DataFrame, segments: list[pl.DataFrame], improvement: str, target: float | None
) -> SPCSummary:
    last = segments[-1]
    mean, lpl, upl = (
        float(last.get_column(k)[0]) if last.height else float("nan")
        for k in ("mean", "lpl", "upl")
    )
    types = points.get_column("point_type").drop_nulls()
    counts = {kind: int((types == kind).sum()) for kind in POINT_TYPES}
    variation = types[-1] if types.len() else None
    assurance = assurance_type(target, lpl, upl, improvement)
    return SPCSummary(
        mean=mean,
        lpl=lpl,
        upl=upl,
        n=points.height,
        common_cause=counts["common_cause"],
        special_cause_improvement=counts["special_cause_improvement"],
        special_cause_concern=counts["special_cause_concern"],
        special_cause_neutral=counts["special_cause_neutral_high"]
        + counts["special_cause_neutral_low"],
        variation_type=variation,
        assurance_type=assurance,
        trial_limits=any(seg.height < TRIAL_LIMIT_POINTS for seg in segments),
        variation_icon=variation_icon(variation, improvement),
        assurance_icon=_ASSURANCE_ICONS[assurance] if assurance else None,
    )
