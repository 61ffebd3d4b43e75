"""The Annex 3 performance scorecard: one trust against England, RAG by statistics."""

from __future__ import annotations

import polars as pl

from metrics import cells
from metrics.registry import ANNEX3_METRICS, Metric
from metrics.stats import compare_with_benchmark, proportion_difference_ci, rate_difference_ci
from metrics.values import with_values

# RAG from the Fingertips comparison with England (not from fixed thresholds).
RAG = {"better": "green", "similar": "amber", "worse": "red",
       "higher": "grey", "lower": "grey", "not compared": "grey"}


def _latest_and_year_earlier(frame: pl.DataFrame, kind: str) -> tuple[dict, dict | None]:
    ordered = frame.sort("period_end").to_dicts()
    step = cells.year_earlier_step(kind)
    return ordered[-1], ordered[-1 - step] if len(ordered) > step else None


def change(metric: Metric, latest: dict, previous: dict | None) -> str:
    """Direction of change between two periods' cells (dicts with ``events, denominator``).

    "up" or "down" when the 95% CI of the difference (Newcombe for shares, Wald for rates)
    excludes zero, "flat" otherwise, "none" when either period has no figure.
    """
    if not previous or latest.get("events") is None or previous.get("events") is None:
        return "none"
    args = (latest["events"], latest["denominator"], previous["events"], previous["denominator"])
    if metric.statistic == "proportion":
        diff, lower, upper = proportion_difference_ci(*args)
    else:
        diff, lower, upper = rate_difference_ci(*args, multiplier=metric.multiplier)
    if lower > 0:
        return "up"
    if upper < 0:
        return "down"
    return "flat"


def scorecard(
    counts: pl.DataFrame, *, org_code: str, period_kind: str | None = None
) -> pl.DataFrame:
    """One row per Annex 3 metric: the trust's latest value with CI, England's value, the
    comparison at 95% and 99.8%, a RAG colour and the direction of change since the
    comparable period a year earlier (quarterly and rolling series step back four periods,
    so the two windows do not overlap).

    Uses the first of each metric's period kinds that ``counts`` holds (``period_kind``
    overrides it where the metric publishes that kind), so MBRRACE rows are calendar years,
    CQC rows survey years, and a store of published files uses what was published.
    """
    rows = []
    for metric in ANNEX3_METRICS:
        held = set(counts.filter(pl.col("metric") == metric.id)["period_kind"].cast(pl.String))
        kind = period_kind if period_kind in metric.period_kinds else next(
            (k for k in metric.period_kinds if k in held), metric.default_period_kind)
        trust = with_values(cells.select(counts, metric=metric.id, org_codes=org_code,
                                         period_kind=kind, dimension="total"), metric)
        england = with_values(cells.select(counts, metric=metric.id, org_codes="ENG",
                                           period_kind=kind, dimension="total"), metric)
        if trust.is_empty():
            rows.append({"metric": metric.id, "title": metric.title, "status": "no data"})
            continue
        latest, previous = _latest_and_year_earlier(trust, kind)
        eng = england.filter(pl.col("period_label") == latest["period_label"])
        eng_value = eng["value"][0] if eng.height else None
        comparisons = {}
        for level, key in ((0.95, "vs_england"), (0.998, "vs_england_998")):
            if latest["value"] is None or eng_value is None:
                comparisons[key] = "not compared"
            else:
                comparisons[key] = compare_with_benchmark(
                    latest["events"], latest["denominator"], eng_value,
                    statistic=metric.statistic, multiplier=metric.multiplier,
                    polarity=metric.polarity, confidence=level,
                )
        rows.append({
            "metric": metric.id,
            "title": metric.title,
            "period": latest["period_label"],
            "numerator": latest["numerator"],
            "denominator": latest["denominator"],
            "suppressed": latest["suppressed"],
            "status": "suppressed" if latest["suppressed"] else
            ("ok" if latest["value"] is not None else "no data"),
            "value": latest["value"],
            "lower95": latest["lower95"],
            "upper95": latest["upper95"],
            "england_value": eng_value,
            **comparisons,
            "rag": RAG.get(comparisons["vs_england"], "grey"),
            "previous_period": previous["period_label"] if previous else None,
            "previous_value": previous["value"] if previous else None,
            "change": change(metric, latest, previous),
        })
    return pl.DataFrame(rows, infer_schema_length=None)
