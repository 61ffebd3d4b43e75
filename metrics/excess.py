"""Excess events: how many fewer (or more) women or babies would have had an outcome if a
group had had the reference group's rate.

For group ``i`` with ``O_i`` events among ``D_i`` women or babies and the reference group's
rate ``r_ref = O_ref / D_ref``::

    expected_i = D_i * r_ref
    excess_i   = O_i - expected_i = D_i * (O_i / D_i - r_ref)

A positive excess means the group had more events than it would have had at the reference
rate; a negative excess (the group did better, or for a higher-is-better metric worse) is
reported as it is, never clipped to zero. The excess is a modelled number, not a count.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics.categories import DIMENSIONS
from metrics.registry import NO_JUDGEMENT, PROPORTION, Metric
from metrics.stats import proportion_difference_ci, rate_difference_ci

EXCESS_COLUMNS = (
    "group", "group_order", "is_reference", "known", "status", "reason", "observed",
    "expected", "excess", "excess_lower95", "excess_upper95", "significant",
)
REQUIRED_COLUMNS = ("dimension", "group", "group_order", "is_reference", "events",
                    "denominator", "status")
# Row status: figures worked out, the reference row itself, or why there is no figure.
OK, REFERENCE, SUPPRESSED, NO_DATA, NOT_APPLICABLE = (
    "ok", "reference", "suppressed", "no data", "not applicable",
)


def _check(frame: pl.DataFrame) -> str:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"breakdown frame lacks columns {missing}; pass a frame from "
                         "metrics.breakdown.breakdown")
    dimensions = frame["dimension"].unique().to_list()
    if len(dimensions) != 1 or dimensions[0] not in DIMENSIONS:
        raise ValueError(f"breakdown frame must hold one known dimension, got {dimensions}")
    return dimensions[0]


def _difference_ci(metric: Metric, o1, n1, o2: float, n2: float) -> tuple:
    """Difference of each group's rate from the reference rate, per person, with 95% CI."""
    if metric.statistic == PROPORTION:
        return proportion_difference_ci(np.minimum(o1, n1), n1, min(o2, n2), n2)
    return rate_difference_ci(o1, n1, o2, n2, multiplier=1.0)


def _unavailable(frame: pl.DataFrame, known: tuple[str, ...], status: str,
                 reason: str) -> pl.DataFrame:
    return frame.select(
        "group", "group_order", "is_reference",
        known=pl.col("group").is_in(list(known)),
        status=pl.lit(status), reason=pl.lit(reason),
        observed=pl.lit(None, pl.Float64), expected=pl.lit(None, pl.Float64),
        excess=pl.lit(None, pl.Float64), excess_lower95=pl.lit(None, pl.Float64),
        excess_upper95=pl.lit(None, pl.Float64), significant=pl.lit(None, pl.Boolean),
    )


def _why_not(metric: Metric, frame: pl.DataFrame, dimension: str) -> tuple[str, str] | None:
    """(status, reason) when no group's excess can be worked out, else None."""
    reference = DIMENSIONS[dimension].reference
    if metric.polarity == NO_JUDGEMENT:
        return NOT_APPLICABLE, (f"{metric.short_title} has no better or worse level, so no "
                                "group's figure is an excess.")
    if reference is None:
        return NOT_APPLICABLE, "The total has no groups to compare."
    ref = frame.filter(pl.col("group") == reference)
    if ref.is_empty() or ref["status"][0] == SUPPRESSED:
        return SUPPRESSED, (f"The figures of the reference group, {reference}, are "
                            "suppressed (small numbers).")
    if ref["events"][0] is None or not ref["denominator"][0]:
        return NO_DATA, f"The reference group, {reference}, has no figures for this period."
    return None


def excess_events(frame: pl.DataFrame, *, metric: Metric) -> pl.DataFrame:
    """Each group's excess events over the number expected at the reference group's rate.

    ``excess_i = O_i - D_i r_ref`` with ``r_ref = O_ref / D_ref``. The 95% CI is ``D_i``
    times the 95% CI of the difference between the group's rate and the reference rate,
    with ``D_i`` taken as fixed and the two groups independent:

    * rates (Poisson counts): the Wald interval, ``Var(excess_i) = Var(O_i) + D_i^2
      Var(r_ref) = O_i + D_i^2 O_ref / D_ref^2`` (the delta method; it is exactly ``D_i^2``
      times the variance of the Wald rate difference);
    * shares (binomial counts): Newcombe's hybrid score interval for the difference of
      proportions (method 10), which stays inside the possible range for small groups.

    Parameters
    ----------
    frame : a frame from :func:`metrics.breakdown.breakdown` (one organisation, period and
        dimension); uses ``dimension, group, group_order, is_reference, events,
        denominator, status``. ``events`` is the effective event count behind the shown
        value (for rare-event rates, the published rate times the denominator).
    metric : registry entry; metrics with no better or worse direction get no excess.

    Returns
    -------
    polars.DataFrame with :data:`EXCESS_COLUMNS`, one row per group in the frame's order.
    ``known`` is False for unknown categories (not stated, missing...). ``status`` is "ok",
    "reference" (excess 0, CI 0 to 0 by definition), "suppressed" (the group's or the
    reference group's cell is suppressed: never worked out from a suppressed cell),
    "no data" or "not applicable"; ``reason`` says why in words where there is no figure.
    ``significant`` is True where the CI excludes 0.

    Raises
    ------
    ValueError
        When the frame lacks a breakdown column or holds more than one dimension.

    References
    ----------
    Newcombe RG (1998) Stat Med 17:873-890 (method 10); Breslow NE, Day NE (1987)
    *Statistical methods in cancer research* vol II (Poisson rate differences); Rothman
    KJ, Greenland S, Lash TL (2008) *Modern epidemiology*, 3rd ed., ch. 4 (excess cases as
    the rate difference times the group's size). METHODS.md 1.3 [derived].
    """
    dimension = _check(frame)
    dim = DIMENSIONS[dimension]
    why = _why_not(metric, frame, dimension)
    if why:
        return _unavailable(frame, dim.groups, *why).select(EXCESS_COLUMNS)
    ref = frame.filter(pl.col("group") == dim.reference).row(0, named=True)
    o2, n2 = float(ref["events"]), float(ref["denominator"])
    shown = (frame["events"].is_not_null() & frame["denominator"].is_not_null()
             & (frame["denominator"] > 0)).to_numpy()
    o1 = np.where(shown, frame["events"].fill_null(0).cast(pl.Float64).to_numpy(), 0.0)
    n1 = np.where(shown, frame["denominator"].fill_null(1).cast(pl.Float64).to_numpy(), 1.0)
    diff, lower, upper = (np.asarray(a, dtype=float) for a in _difference_ci(metric, o1, n1,
                                                                            o2, n2))
    is_ref = frame["is_reference"].fill_null(False).to_numpy()
    suppressed = (frame["status"] == SUPPRESSED).to_numpy()
    status = np.where(is_ref, REFERENCE, np.where(suppressed, SUPPRESSED,
                                                  np.where(shown, OK, NO_DATA)))
    reason = np.where(status == SUPPRESSED, "This group's figures are suppressed (small "
                      "numbers).", np.where(status == NO_DATA, "This group has no figures "
                                            "for this period.", None))
    keep = status == OK

    def column(values: np.ndarray) -> pl.Series:
        # The reference group's excess is 0 exactly: O_ref - D_ref * O_ref / D_ref.
        return pl.Series(np.where(is_ref, 0.0, np.where(keep, values, np.nan))).fill_nan(None)

    out = frame.select("group", "group_order", "is_reference").with_columns(
        known=pl.col("group").is_in(list(dim.groups)),
        status=pl.Series(status.tolist(), dtype=pl.String),
        reason=pl.Series(reason.tolist(), dtype=pl.String),
        observed=pl.Series(np.where(keep | is_ref, o1, np.nan)).fill_nan(None),
        expected=pl.Series(np.where(keep | is_ref, n1 * o2 / n2, np.nan)).fill_nan(None),
        excess=column(n1 * diff),
        excess_lower95=column(n1 * lower),
        excess_upper95=column(n1 * upper),
    ).with_columns(
        significant=pl.when(pl.col("status") == OK).then(
            (pl.col("excess_lower95") > 0) | (pl.col("excess_upper95") < 0)),
    )
    return out.select(EXCESS_COLUMNS)


def total_excess(frame: pl.DataFrame, *, metric: Metric) -> dict:
    """The excess summed over every known group other than the reference group.

    ``T = sum_i (O_i - D_i r_ref) = O_S - D_S r_ref`` over the set ``S`` of known
    non-reference groups (unknown categories such as "Not stated" are left out: they are
    not a group with a rate of its own). ``T`` is the excess of the pooled group ``S``, so
    its 95% CI is ``D_S`` times the CI of the difference between the pooled rate
    ``O_S / D_S`` and ``r_ref`` (as :func:`excess_events`). This accounts for every group
    sharing the one reference rate (``Var(T) = sum Var(O_i) + D_S^2 Var(r_ref)`` for rates);
    for shares the pooled binomial variance is slightly conservative.

    Returns
    -------
    ``{"available": True, "reference", "groups", "observed", "expected", "excess",
    "excess_lower95", "excess_upper95", "significant"}`` or ``{"available": False,
    "reference", "reason"}``. Not available when any known group's or the reference
    group's cell is suppressed or missing (never worked out from a suppressed cell).
    """
    dimension = _check(frame)
    dim = DIMENSIONS[dimension]
    why = _why_not(metric, frame, dimension)
    if why:
        return {"available": False, "reference": dim.reference, "reason": why[1]}
    groups = frame.filter(pl.col("group").is_in(list(dim.groups))
                          & ~pl.col("is_reference").fill_null(False))
    blocked = groups.filter((pl.col("status") == SUPPRESSED) | pl.col("events").is_null()
                            | ~(pl.col("denominator") > 0).fill_null(False))
    if groups.is_empty() or blocked.height:
        names = ", ".join(blocked["group"].to_list()) or "every group"
        return {"available": False, "reference": dim.reference,
                "reason": f"Not all groups have figures ({names}: suppressed or no data), "
                          "so the total cannot be worked out."}
    ref = frame.filter(pl.col("group") == dim.reference).row(0, named=True)
    o2, n2 = float(ref["events"]), float(ref["denominator"])
    o_s = float(groups["events"].cast(pl.Float64).sum())
    n_s = float(groups["denominator"].cast(pl.Float64).sum())
    diff, lower, upper = (float(v) for v in _difference_ci(metric, o_s, n_s, o2, n2))
    low, high = n_s * lower, n_s * upper
    return {"available": True, "reference": dim.reference,
            "groups": tuple(groups["group"].to_list()), "observed": o_s,
            "expected": n_s * o2 / n2, "excess": n_s * diff, "excess_lower95": low,
            "excess_upper95": high, "significant": low > 0 or high < 0}


def excess(frame: pl.DataFrame, *, metric: Metric) -> dict:
    """:func:`excess_events` and :func:`total_excess` of one breakdown together.

    Returns ``{"available", "reason", "reference", "dimension", "groups": frame,
    "total": dict}``; ``available`` is False (with ``reason``) when no group's excess can
    be worked out at all (no right direction, the total, or the reference suppressed).
    """
    dimension = _check(frame)
    why = _why_not(metric, frame, dimension)
    return {"available": why is None, "reason": why[1] if why else None,
            "reference": DIMENSIONS[dimension].reference, "dimension": dimension,
            "groups": excess_events(frame, metric=metric),
            "total": total_excess(frame, metric=metric)}
