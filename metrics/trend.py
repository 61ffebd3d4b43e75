"""Each group's series over periods, with Making Data Count SPC results."""

from __future__ import annotations

from dataclasses import asdict

import polars as pl

from metrics import cells
from metrics.categories import DIMENSIONS
from metrics.registry import HIGHER_IS_BETTER, LOWER_IS_BETTER, Metric
from metrics.stats import spc
from metrics.values import with_values

# Rolling windows share months with their neighbours, so their points are not independent
# and XmR limits would be too narrow (METHODS.md: SPC on non-overlapping periods).
OVERLAPPING_KINDS = ("rolling_12_months", "rolling_3_years")


def spc_valid(period_kind: str) -> bool:
    """Whether SPC limits are valid on periods of ``period_kind`` (they do not overlap)."""
    return period_kind not in OVERLAPPING_KINDS


def spc_period_kind(kinds) -> str | None:
    """The first of ``kinds`` whose periods do not overlap (SPC needs independent points)."""
    return next((k for k in kinds if spc_valid(k)), None)

# Meaning of the MDC variation icons, for people (NHS England "Making Data Count").
VARIATION_MEANING = {
    "common_cause": "Common cause variation: no significant change.",
    "improvement_high": "Special cause variation: improvement (higher is better).",
    "improvement_low": "Special cause variation: improvement (lower is better).",
    "concern_high": "Special cause variation: concern (higher is worse).",
    "concern_low": "Special cause variation: concern (lower is worse).",
    "neutral_high": "Special cause variation: unusually high (no judgement).",
    "neutral_low": "Special cause variation: unusually low (no judgement).",
}
MIN_SPC_POINTS = 12


def improvement_direction(metric: Metric) -> str:
    """NHSRplotthedots ``improvement_direction`` for a metric's polarity."""
    return {HIGHER_IS_BETTER: "increase", LOWER_IS_BETTER: "decrease"}.get(
        metric.polarity, "neutral"
    )


def trend(
    counts: pl.DataFrame,
    *,
    metric: Metric,
    org_code: str,
    period_kind: str,
    dimension: str,
    groups: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, dict[str, dict]]:
    """Values with CIs per group and period, and an SPC chart per group.

    Returns ``(points, summaries)``. ``points`` has ``group, group_order, period,
    period_start, period_end, numerator, denominator, suppressed, value, lower95, upper95,
    mean, lpl, upl, special_cause_rule, point_type``; SPC columns are null when a group
    has fewer than 12 shown points (too few for limits). ``summaries`` maps each group to
    its SPC summary plus ``meaning`` (plain English), or ``{"available": False}``.
    Rolling periods overlap, so SPC is only meaningful on non-overlapping periods; callers
    pass quarters or years.
    """
    selected = cells.select(counts, metric=metric.id, org_codes=org_code,
                            period_kind=period_kind, dimension=dimension)
    if groups:
        selected = selected.filter(pl.col("group").is_in(list(groups)))
    frame = with_values(selected, metric).sort("group_order", "period_start")
    direction = improvement_direction(metric)
    parts, summaries = [], {}
    order = DIMENSIONS[dimension].all_groups
    for (group,), part in frame.group_by(["group"], maintain_order=True):
        shown = part.filter(pl.col("value").is_not_null())
        if shown.height >= MIN_SPC_POINTS:
            result = spc(shown["value"].to_numpy(), improvement=direction)
            chart = result.points.select("mean", "lpl", "upl", "special_cause_rule",
                                         "point_type")
            part = part.join(
                pl.concat([shown.select("period_start"), chart], how="horizontal"),
                on="period_start", how="left",
            )
            summary = asdict(result.summary)
            summary["meaning"] = VARIATION_MEANING.get(summary["variation_icon"] or "", "")
            summaries[group] = {"available": True} | summary
        else:
            part = part.with_columns(
                mean=pl.lit(None, pl.Float64), lpl=pl.lit(None, pl.Float64),
                upl=pl.lit(None, pl.Float64), special_cause_rule=pl.lit(None, pl.String),
                point_type=pl.lit(None, pl.String),
            )
            summaries[group] = {"available": False, "points": shown.height}
        parts.append(part)
    if not parts:
        return pl.DataFrame(), {}
    points = pl.concat(parts, how="diagonal_relaxed").rename({"period_label": "period"})
    points = points.select(
        "group", "group_order", "period", "period_start", "period_end", "numerator",
        "denominator", "suppressed", "value", "lower95", "upper95", "mean", "lpl", "upl",
        "special_cause_rule", "point_type",
    ).sort("group_order", "period_start")
    return points, dict(sorted(summaries.items(), key=lambda kv: order.index(kv[0])
                               if kv[0] in order else -1))
