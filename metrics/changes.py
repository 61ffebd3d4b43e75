"""What changed: gaps to the reference group that opened or closed since the comparable
period a year earlier, and special-cause signals at the latest point of SPC charts.

Frames in (breakdowns from :func:`metrics.breakdown.breakdown`, points from
:func:`metrics.trend.trend`), one frame of changes out, ranked so a page can show the few
that matter most.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import polars as pl

from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from metrics.registry import HIGHER_IS_BETTER, LOWER_IS_BETTER, Metric

GAP_OPENED = "gap_opened"
GAP_CLOSED = "gap_closed"
SPC_SIGNAL = "spc_signal"
CHANGE_COLUMNS = (
    "kind", "metric", "dimension", "group", "period", "previous_period", "period_kind",
    "direction", "ratio", "ratio_lower95", "ratio_upper95", "previous_ratio",
    "previous_ratio_lower95", "previous_ratio_upper95", "value", "mean", "lpl", "upl",
    "rule", "point_type", "size",
)
SCHEMA = {c: pl.String for c in CHANGE_COLUMNS} | {
    c: pl.Float64 for c in ("ratio", "ratio_lower95", "ratio_upper95", "previous_ratio",
                            "previous_ratio_lower95", "previous_ratio_upper95", "value",
                            "mean", "lpl", "upl", "size")
}
# Ranking: a gap that became (or stopped being) significant first, then SPC rules from the
# strongest evidence (a point outside the limits) to the weakest (2 of 3 near a limit).
KIND_ORDER = {GAP_OPENED: 0, GAP_CLOSED: 0, SPC_SIGNAL: 1}
RULE_ORDER = {
    "Above UCL": 0, "Below LCL": 0,
    "7 Point Trend (Increasing)": 1, "7 Point Trend (Decreasing)": 1,
    "7 Points Above CL": 2, "7 Points Below CL": 2,
    "2 in 3 Above CL": 3, "2 in 3 Below CL": 3,
}
POINT_DIRECTION = {"special_cause_improvement": "better", "special_cause_concern": "worse",
                   "special_cause_neutral_high": "higher", "special_cause_neutral_low": "lower"}
MAX_CHANGES = 5
PER_METRIC = 2


def empty() -> pl.DataFrame:
    """A frame of no changes with :data:`CHANGE_COLUMNS`."""
    return pl.DataFrame(schema=SCHEMA)


def _direction(metric: Metric, higher: bool) -> str:
    """ "worse"/"better" by the metric's polarity, else "higher"/"lower"."""
    if metric.polarity == LOWER_IS_BETTER:
        return "worse" if higher else "better"
    if metric.polarity == HIGHER_IS_BETTER:
        return "better" if higher else "worse"
    return "higher" if higher else "lower"


def gap_changes(*, metric: Metric, latest: pl.DataFrame, previous: pl.DataFrame,
                period_kind: str | None = None) -> pl.DataFrame:
    """Gaps to the reference group that became significant (opened) or stopped being
    significant (closed) between two periods.

    A gap is significant when the 95% CI of the group's rate (or risk) ratio to the
    reference group excludes 1 (``gap_significant`` of the breakdown). Only known groups
    with a ratio CI in both periods are compared: a suppressed period says nothing.
    ``direction`` is the side of the reference the gap lies on, in the latest period for
    a gap that opened and in the previous one for a gap that closed ("worse"/"better" by
    the metric's polarity, "higher"/"lower" without one). ``size`` is the change in the log
    ratio, ``|ln RR_latest - ln RR_previous|``.

    Parameters
    ----------
    metric : registry entry.
    latest, previous : breakdown frames of one organisation and dimension for the two
        periods (:func:`metrics.breakdown.breakdown`).
    period_kind : stored in the result for links back to the view.

    Returns
    -------
    polars.DataFrame with :data:`CHANGE_COLUMNS` (SPC columns null).

    Raises
    ------
    ValueError
        When the two frames hold different dimensions or a frame lacks a breakdown column.
    """
    needed = ("dimension", "group", "period", "ratio", "ratio_lower95", "ratio_upper95",
              "gap_significant")
    for name, frame in (("latest", latest), ("previous", previous)):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} frame lacks breakdown columns {missing}")
    if latest.is_empty() or previous.is_empty():
        return empty()
    dims = set(latest["dimension"].unique()) | set(previous["dimension"].unique())
    if len(dims) != 1:
        raise ValueError(f"latest and previous must hold one and the same dimension, got "
                         f"{sorted(dims)}")
    dimension = dims.pop()
    dim = DIMENSIONS[dimension]
    groups = [g for g in dim.groups if g != dim.reference]
    keep = ("group", "period", "ratio", "ratio_lower95", "ratio_upper95", "gap_significant")
    joined = latest.select(keep).join(
        previous.select(keep), on="group", suffix="_prev"
    ).filter(
        pl.col("group").is_in(groups)
        & pl.col("gap_significant").is_not_null() & pl.col("gap_significant_prev").is_not_null()
        & (pl.col("gap_significant") != pl.col("gap_significant_prev"))
    )
    rows = []
    for row in joined.iter_rows(named=True):
        opened = bool(row["gap_significant"])
        side = row["ratio"] if opened else row["ratio_prev"]
        rows.append({
            "kind": GAP_OPENED if opened else GAP_CLOSED, "metric": metric.id,
            "dimension": dimension, "group": row["group"], "period": row["period"],
            "previous_period": row["period_prev"], "period_kind": period_kind,
            "direction": _direction(metric, side > 1),
            "ratio": row["ratio"], "ratio_lower95": row["ratio_lower95"],
            "ratio_upper95": row["ratio_upper95"], "previous_ratio": row["ratio_prev"],
            "previous_ratio_lower95": row["ratio_lower95_prev"],
            "previous_ratio_upper95": row["ratio_upper95_prev"],
            "size": abs(math.log(row["ratio"]) - math.log(row["ratio_prev"]))
            if row["ratio"] > 0 and row["ratio_prev"] > 0 else 0.0,
        })
    return pl.DataFrame(rows, schema=SCHEMA) if rows else empty()


def spc_signals(*, metric: Metric, points: pl.DataFrame, dimension: str,
                period_kind: str | None = None) -> pl.DataFrame:
    """Special-cause signals at the latest point of each group's SPC chart.

    A group signals when its point for the series' latest period carries a Making Data
    Count rule other than common cause (a point outside the process limits, a run of 7
    rising or falling, 7 on one side of the mean, 2 of 3 near a limit; NHSRplotthedots
    precedence). A group whose latest period is suppressed, or with too few points for
    limits, does not signal, nor does a chart whose limits have no width. Unknown
    categories (not stated, missing...) are left out.
    ``size`` is the latest point's distance from the mean in sigma units,
    ``|value - mean| / ((upl - mean) / 3)`` (``upl = mean + 2.66 mR-bar = mean + 3
    sigma``).

    Parameters
    ----------
    metric : registry entry.
    points : the ``points`` frame of :func:`metrics.trend.trend` for one organisation,
        period kind and dimension.
    dimension : the dimension ``points`` holds.
    period_kind : stored in the result for links back to the view.

    Returns
    -------
    polars.DataFrame with :data:`CHANGE_COLUMNS` (gap columns null); ``direction`` from
    the point type: "better", "worse", "higher" or "lower".
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if points.is_empty():
        return empty()
    needed = ("group", "period", "period_start", "value", "mean", "lpl", "upl",
              "special_cause_rule", "point_type")
    missing = [c for c in needed if c not in points.columns]
    if missing:
        raise ValueError(f"points frame lacks trend columns {missing}")
    groups = (ALL_GROUP,) if dimension == TOTAL else DIMENSIONS[dimension].groups
    newest = points["period_start"].max()
    latest = points.filter(
        (pl.col("period_start") == newest) & pl.col("group").is_in(list(groups))
        & pl.col("special_cause_rule").is_in(list(RULE_ORDER))
        # Limits of no width (every screened moving range 0) make any point "special".
        & (pl.col("upl") > pl.col("mean"))
    )
    rows = []
    for row in latest.iter_rows(named=True):
        sigma = (row["upl"] - row["mean"]) / 3
        rows.append({
            "kind": SPC_SIGNAL, "metric": metric.id, "dimension": dimension,
            "group": row["group"], "period": row["period"], "period_kind": period_kind,
            "direction": POINT_DIRECTION.get(row["point_type"]),
            "value": row["value"], "mean": row["mean"], "lpl": row["lpl"], "upl": row["upl"],
            "rule": row["special_cause_rule"], "point_type": row["point_type"],
            "size": abs(row["value"] - row["mean"]) / sigma,
        })
    return pl.DataFrame(rows, schema=SCHEMA) if rows else empty()


def _pick(rows: list[dict], taken: list[dict], limit: int, per_metric: int,
          per_kind: int | None) -> list[dict]:
    """``taken`` plus rows taken greedily in order under per-metric and per-kind caps."""
    taken = list(taken)
    for row in rows:
        if len(taken) == limit:
            break
        same_metric = sum(t["metric"] == row["metric"] for t in taken)
        same_kind = sum((t["kind"] == SPC_SIGNAL) == (row["kind"] == SPC_SIGNAL) for t in taken)
        if row not in taken and same_metric < per_metric and (
                per_kind is None or same_kind < per_kind):
            taken.append(row)
    return taken


def rank_changes(parts: Iterable[pl.DataFrame], *, limit: int = MAX_CHANGES,
                 per_metric: int = PER_METRIC) -> pl.DataFrame:
    """The most important changes, best first, with a ``rank`` column (1 = first).

    Order of importance: gaps that opened or closed before SPC signals; changes judged
    better or worse (metrics with a right direction) before those only higher or lower;
    SPC signals by the strength of their rule (a point outside the limits, a 7-point
    trend, a 7-point shift, 2 of 3 near a limit); then ``size``, largest first; ties by
    metric, dimension and group so the order is stable.

    Selection, so that one busy metric or one kind of change does not fill the list: first
    the most important change of each metric, with at most ``limit - 2`` of either kind
    (gaps or SPC signals) while the other has changes; then the remaining places in order,
    with at most ``per_metric`` changes of one metric. The result keeps the order above.

    Raises
    ------
    ValueError
        When ``limit`` or ``per_metric`` is below 1.
    """
    if limit < 1 or per_metric < 1:
        raise ValueError(f"limit and per_metric must be at least 1, got {limit}, {per_metric}")
    frames = [p.select(CHANGE_COLUMNS) for p in parts if not p.is_empty()]
    if not frames:
        return empty().with_columns(rank=pl.lit(None, pl.UInt32))
    ordered = pl.concat(frames).with_columns(
        _kind=pl.col("kind").replace_strict(KIND_ORDER, return_dtype=pl.Int8),
        _judged=~pl.col("direction").is_in(["better", "worse"]),
        _rule=pl.col("rule").replace_strict(RULE_ORDER, default=0, return_dtype=pl.Int8),
    ).sort(["_kind", "_judged", "_rule", "size", "metric", "dimension", "group"],
           descending=[False, False, False, True, False, False, False]).with_row_index("_at")
    rows = ordered.to_dicts()
    first = _pick(rows, [], limit, 1, max(limit - 2, 1))
    kept = [r["_at"] for r in _pick(rows, first, limit, per_metric, None)]
    return (ordered.filter(pl.col("_at").is_in(kept)).drop("_kind", "_judged", "_rule", "_at")
            .with_row_index("rank", offset=1).select(*CHANGE_COLUMNS, "rank"))
