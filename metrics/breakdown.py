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
    """"suppressed", "no data" or "ok" for each cell (as :func:`breakdown` gives it)."""
    return (
        pl.when(pl.col("suppressed")).then(pl.lit("suppressed"))
        .when(pl.col("value").is_null()).then(pl.lit("no data"))
        .otherwise(pl.lit("ok"))
    )


GAP_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95", "difference", "difference_lower95",
               "difference_upper95")


def _gaps(groups: list[str], events: np.ndarray, denominator: np.ndarray, metric: Metric,
          reference: str | None) -> dict[str, np.ndarray]:
    """Ratio and difference to the reference group (NaN where not shown; the reference's
    own limits NaN, its ratio 1 and difference 0 by definition)."""
    n = len(groups)
    out = {k: np.full(n, np.nan) for k in GAP_COLUMNS}
    shown = ~np.isnan(events)
    is_ref = np.array([g == reference for g in groups], dtype=bool)
    if reference is None or not (is_ref & shown).any():
        return out
    i = int(np.flatnonzero(is_ref & shown)[0])
    x2, n2 = float(events[i]), float(denominator[i])
    x1 = np.where(shown, events, 0.0)
    n1 = np.where(shown, denominator, 1.0)
    if metric.statistic == PROPORTION:
        ratio = risk_ratio_ci(np.minimum(x1, n1), n1, min(x2, n2), n2)
        diff = proportion_difference_ci(np.minimum(x1, n1), n1, min(x2, n2), n2)
        scale = metric.multiplier
    else:
        ratio = rate_ratio_ci(x1, n1, x2, n2)
        diff = rate_difference_ci(x1, n1, x2, n2, multiplier=metric.multiplier)
        scale = 1.0
    for names, data, factor in ((GAP_COLUMNS[:3], ratio, 1.0), (GAP_COLUMNS[3:], diff, scale)):
        for name, column in zip(names, data, strict=True):
            out[name] = np.where(shown, np.asarray(column, dtype=float) * factor, np.nan)
    for name in ("ratio_lower95", "ratio_upper95", "difference_lower95", "difference_upper95"):
        out[name][is_ref] = np.nan
    return out


def _compare(events: np.ndarray, denominator: np.ndarray, comparator: np.ndarray,
             metric: Metric, confidence: float) -> list[str | None]:
    mask = ~np.isnan(events) & ~np.isnan(comparator)
    result = np.full(len(events), None, dtype=object)
    if mask.any():
        result[mask] = compare_with_benchmark(
            events[mask], denominator[mask], comparator[mask], statistic=metric.statistic,
            multiplier=metric.multiplier, polarity=metric.polarity, confidence=confidence)
    return result.tolist()


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
    # NumPy on the handful of rows, attached in one step (the cost is per operation).
    groups = frame["group"].to_list()
    events = frame["events"].fill_null(np.nan).to_numpy()
    denominator = frame["denominator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    value = frame["value"].fill_null(np.nan).to_numpy()
    events = np.where(np.isnan(value), np.nan, events)
    gaps = _gaps(groups, events, denominator, metric, reference)
    with np.errstate(invalid="ignore"):
        significant = (gaps["ratio_lower95"] > 1) | (gaps["ratio_upper95"] < 1)
    known = ~np.isnan(gaps["ratio_lower95"]) & ~np.isnan(gaps["ratio_upper95"])
    compared = dict(zip(comparator["group"].to_list(), comparator["value"].to_list(),
                        strict=True)) if comparator is not None else {}
    comparator_value = np.array([compared.get(g) for g in groups], dtype=float)
    suppressed = frame["suppressed"].to_numpy()
    status = np.where(suppressed, "suppressed", np.where(np.isnan(value), "no data", "ok"))
    frame = frame.with_columns(
        pl.lit(metric.id).alias("metric"), pl.lit(org_code).alias("org_code"),
        pl.lit(period_label).alias("period"),
        pl.Series("is_reference", [g == (reference or "") for g in groups], dtype=pl.Boolean),
        *(pl.Series(k, v, dtype=pl.Float64, nan_to_null=True) for k, v in gaps.items()),
        pl.Series("gap_significant", [bool(s) if k else None
                                      for s, k in zip(significant, known, strict=True)],
                  dtype=pl.Boolean),
        pl.Series("comparator_value", comparator_value, dtype=pl.Float64, nan_to_null=True),
        pl.Series("vs_comparator", _compare(events, denominator, comparator_value, metric,
                                            0.95), dtype=pl.String),
        pl.Series("vs_comparator_998", _compare(events, denominator, comparator_value, metric,
                                                0.998), dtype=pl.String),
        pl.Series("status", status, dtype=pl.String),
    )
    return frame.select(BREAKDOWN_COLUMNS)


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
