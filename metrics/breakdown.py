"""Breakdown of one organisation's metric by group, with gaps to the reference group and
comparisons with a comparator (England, a peer group or any benchmark frame)."""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics import cells
from metrics.categories import DIMENSIONS, TOTAL
from metrics.registry import PROPORTION, Metric
from metrics.stats import (
    compare_with_benchmark,
    proportion_difference_ci,
    rate_difference_ci,
    rate_ratio_ci,
    risk_ratio_ci,
)
from metrics.values import with_values

BREAKDOWN_COLUMNS = (
    "metric", "org_code", "period", "dimension", "group", "group_order", "is_reference",
    "numerator", "denominator", "suppressed", "status", "events", "value", "lower95", "upper95",
    "lower998", "upper998", "ratio", "ratio_lower95", "ratio_upper95", "difference",
    "difference_lower95", "difference_upper95", "gap_significant", "comparator_value",
    "vs_comparator", "vs_comparator_998",
)
# Completeness below these shares makes a breakdown unreliable (DATA.md, data quality).
COMPLETENESS_THRESHOLD = {"ethnicity_recorded": 90.0, "deprivation_known": 95.0}


def status_expr() -> pl.Expr:
    """"suppressed", "no data" or "ok" for each cell."""
    return (
        pl.when(pl.col("suppressed")).then(pl.lit("suppressed"))
        .when(pl.col("value").is_null()).then(pl.lit("no data"))
        .otherwise(pl.lit("ok"))
    )


def _gaps(frame: pl.DataFrame, metric: Metric, reference: str | None) -> dict[str, np.ndarray]:
    n = frame.height
    empty = {k: np.full(n, np.nan) for k in ("ratio", "ratio_lower95", "ratio_upper95",
                                              "difference", "difference_lower95",
                                              "difference_upper95")}
    if reference is None:
        return empty
    ref = frame.filter((pl.col("group") == reference) & pl.col("value").is_not_null())
    if ref.is_empty():
        return empty
    x2, n2 = float(ref["events"][0]), float(ref["denominator"][0])
    shown = frame["value"].is_not_null().to_numpy()
    x1 = np.where(shown, frame["events"].fill_null(0).to_numpy(), 0.0)
    n1 = np.where(shown, frame["denominator"].fill_null(1).cast(pl.Float64).to_numpy(), 1.0)
    if metric.statistic == PROPORTION:
        ratio = risk_ratio_ci(np.minimum(x1, n1), n1, min(x2, n2), n2)
        diff = proportion_difference_ci(np.minimum(x1, n1), n1, min(x2, n2), n2)
        scale = metric.multiplier
    else:
        ratio = rate_ratio_ci(x1, n1, x2, n2)
        diff = rate_difference_ci(x1, n1, x2, n2, multiplier=metric.multiplier)
        scale = 1.0
    out = {}
    for name, data in zip(("ratio", "ratio_lower95", "ratio_upper95"), ratio, strict=True):
        out[name] = np.where(shown, np.asarray(data, dtype=float), np.nan)
    for name, data in zip(("difference", "difference_lower95", "difference_upper95"), diff,
                          strict=True):
        out[name] = np.where(shown, np.asarray(data, dtype=float) * scale, np.nan)
    return out


def _compare(frame: pl.DataFrame, metric: Metric, confidence: float) -> np.ndarray:
    shown = frame["value"].is_not_null() & frame["comparator_value"].is_not_null()
    mask = shown.to_numpy()
    result = np.full(frame.height, None, dtype=object)
    if mask.any():
        result[mask] = compare_with_benchmark(
            frame["events"].to_numpy()[mask],
            frame["denominator"].cast(pl.Float64).to_numpy()[mask],
            frame["comparator_value"].to_numpy()[mask],
            statistic=metric.statistic,
            multiplier=metric.multiplier,
            polarity=metric.polarity,
            confidence=confidence,
        )
    return result


def breakdown(
    counts: pl.DataFrame,
    *,
    metric: Metric,
    org_code: str,
    period_label: str,
    dimension: str,
    comparator: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each group's value with 95% and 99.8% CIs, its gap to the reference group and its
    comparison with the comparator.

    Parameters
    ----------
    counts : the store's counts table (or a roll-up of it).
    metric : registry entry.
    org_code, period_label, dimension : the cell selection.
    comparator : optional frame with ``group`` and ``value`` (display units), e.g. England's
        breakdown for the same period; each group is compared with the comparator's value
        for the same group by Fingertips' single-overlapping-CI rule.

    Returns
    -------
    polars.DataFrame with :data:`BREAKDOWN_COLUMNS`, one row per group (every group of the
    dimension, including unknown categories). ``ratio`` is the rate ratio (rates) or risk
    ratio (shares) to the reference group with a log-method 95% CI; ``difference`` is in
    display units (Wald for rates, Newcombe hybrid score for shares); ``gap_significant``
    is True where the ratio's 95% CI excludes 1. Suppressed groups have ``status`` =
    "suppressed" and null figures.
    """
    selected = cells.select(counts, metric=metric.id, org_codes=org_code,
                            period_label=period_label, dimension=dimension)
    frame = with_values(cells.complete_groups(selected, dimension), metric)
    reference = DIMENSIONS[dimension].reference
    frame = frame.with_columns(
        metric=pl.lit(metric.id), org_code=pl.lit(org_code), period=pl.lit(period_label),
        is_reference=pl.col("group") == (reference or ""),
    )
    frame = frame.with_columns(
        pl.Series(k, v).fill_nan(None) for k, v in _gaps(frame, metric, reference).items()
    ).with_columns(
        # The reference group is the baseline: ratio 1 and difference 0 by definition.
        pl.when(pl.col("is_reference")).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("ratio_lower95", "ratio_upper95", "difference_lower95", "difference_upper95")
    ).with_columns(
        gap_significant=(pl.col("ratio_lower95") > 1) | (pl.col("ratio_upper95") < 1),
    )
    if comparator is not None and not comparator.is_empty():
        frame = frame.join(
            comparator.select("group", comparator_value="value"), on="group", how="left"
        )
    else:
        frame = frame.with_columns(comparator_value=pl.lit(None, dtype=pl.Float64))
    frame = frame.with_columns(
        vs_comparator=pl.Series(_compare(frame, metric, 0.95).tolist(), dtype=pl.String),
        vs_comparator_998=pl.Series(_compare(frame, metric, 0.998).tolist(), dtype=pl.String),
        status=status_expr(),
    )
    return frame.select(BREAKDOWN_COLUMNS).with_columns(pl.col("is_reference").fill_null(False))


def completeness(
    counts: pl.DataFrame, *, org_code: str, period_label: str, dimension: str
) -> dict | None:
    """Recording completeness behind a breakdown, with a flag when it makes it unreliable.

    Returns ``{"metric", "value", "threshold", "poor"}`` for ethnicity and deprivation
    breakdowns, or None when not applicable or not published for this period.
    """
    if dimension == TOTAL:
        return None
    metric_id = "deprivation_known" if DIMENSIONS[dimension].ordered else "ethnicity_recorded"
    rows = cells.select(counts, metric=metric_id, org_codes=org_code,
                        period_label=period_label, dimension=TOTAL)
    if rows.is_empty() or rows["suppressed"][0] or not rows["denominator"][0]:
        return None
    value = 100.0 * rows["numerator"][0] / rows["denominator"][0]
    threshold = COMPLETENESS_THRESHOLD[metric_id]
    return {"metric": metric_id, "value": value, "threshold": threshold,
            "poor": value < threshold}
