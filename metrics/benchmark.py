"""All trusts side by side: values, funnel-plot significance against a benchmark, and ranks
within peer groups."""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics import cells
from metrics.registry import HIGHER_IS_BETTER, LOWER_IS_BETTER, Metric
from metrics.stats import funnel_limits, funnel_significance
from metrics.values import with_values

BENCHMARK_COLUMNS = (
    "org_code", "name", "region", "icb", "peer_group", "numerator", "denominator",
    "suppressed", "status", "value", "lower95", "upper95", "lower998", "upper998",
    "funnel", "rank_in_peer_group", "peers_ranked", "rank_overall", "ranked",
)


def _rank(frame: pl.DataFrame, metric: Metric, over: str | None) -> pl.Expr:
    """Rank 1 = best (or highest when polarity is undefined); ties share the lower rank."""
    descending = metric.polarity != LOWER_IS_BETTER
    expr = pl.col("value").rank(method="min", descending=descending)
    return expr.over(over) if over else expr


def benchmark(
    counts: pl.DataFrame,
    organisations: pl.DataFrame,
    *,
    metric: Metric,
    period_label: str,
    dimension: str = "total",
    group: str = "All",
    average: float | None = None,
    level: str = "trust",
) -> pl.DataFrame:
    """Every trust's (or every ``level`` unit's: ICBs, regions) value for one group, its
    funnel significance and its ranks.

    Parameters
    ----------
    average : benchmark in display units (England's value); default the pooled value of
        the trusts shown. Funnel labels follow PHE ``assign_funnel_significance``
        ("High (0.001)" ... "Not significant"); suppressed trusts get null labels and ranks.
    """
    selected = cells.select(counts, metric=metric.id, period_label=period_label,
                            dimension=dimension, group=group).filter(
        pl.col("org_level") == level
    )
    frame = with_values(selected, metric)
    trusts = organisations.filter(pl.col("org_level") == level).select(
        "org_code", "name", "region", "icb", "peer_group"
    )
    frame = frame.join(trusts, on="org_code", how="left").with_columns(
        pl.col("name").fill_null(pl.col("org_code"))
    )
    shown = frame["value"].is_not_null().to_numpy()
    labels = np.full(frame.height, None, dtype=object)
    if shown.any():
        labels[shown] = funnel_significance(
            frame["events"].to_numpy()[shown],
            frame["denominator"].cast(pl.Float64).to_numpy()[shown],
            statistic=metric.statistic,
            average=average,
            multiplier=metric.multiplier,
        )
    frame = frame.with_columns(
        funnel=pl.Series(labels.tolist(), dtype=pl.String),
        status=pl.when(pl.col("suppressed")).then(pl.lit("suppressed"))
        .when(pl.col("value").is_null()).then(pl.lit("no data")).otherwise(pl.lit("ok")),
    )
    return frame.with_columns(
        rank_in_peer_group=_rank(frame, metric, "peer_group"),
        peers_ranked=pl.col("value").count().over("peer_group"),
        rank_overall=_rank(frame, metric, None),
        ranked=pl.col("value").count(),
    ).select(BENCHMARK_COLUMNS).sort("name")


def funnel_curve(
    frame: pl.DataFrame, *, metric: Metric, average: float | None = None
) -> pl.DataFrame:
    """The funnel's 95% and 99.8% limits over the range of denominators in ``frame``.

    Returns a long frame ``limit, denominator, value`` (display units), ``limit`` one of
    ``lower_2s, upper_2s, lower_3s, upper_3s`` (95% and 99.8%), following PHE
    ``calculate_funnel_limits``: Wilson-based limits for shares; exact Poisson limits for
    rates, where each event count fixes the population at which the limit is reached.
    """
    shown = frame.filter(pl.col("value").is_not_null() & (pl.col("denominator") > 0))
    if shown.height < 2:
        return pl.DataFrame(schema={"limit": pl.String, "denominator": pl.Float64,
                                    "value": pl.Float64})
    num = (shown["value"] * shown["denominator"] / metric.multiplier).to_numpy()
    den = shown["denominator"].cast(pl.Float64).to_numpy()
    limits = funnel_limits(num, den, statistic=metric.statistic, average=average,
                           multiplier=metric.multiplier)
    parts = []
    for limit in ("lower_2s", "upper_2s", "lower_3s", "upper_3s"):
        x = "population" if metric.statistic == "proportion" else f"{limit}_population_1_year"
        parts.append(limits.select(limit=pl.lit(limit), denominator=pl.col(x).cast(pl.Float64),
                                   value=pl.col(limit).cast(pl.Float64)))
    lo, hi = float(den.min()) * 0.9, float(den.max()) * 1.05
    return (
        pl.concat(parts)
        .filter(pl.col("value").is_finite() & pl.col("denominator").is_between(lo, hi))
        .sort("limit", "denominator")
    )


def polarity_word(metric: Metric) -> tuple[str, str]:
    """Words for the funnel's high and low sides ("worse", "better", or neutral)."""
    if metric.polarity == LOWER_IS_BETTER:
        return "worse", "better"
    if metric.polarity == HIGHER_IS_BETTER:
        return "better", "worse"
    return "higher", "lower"
