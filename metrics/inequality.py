"""Inequality across deprivation: slope and relative index of inequality (SII / RII)."""

from __future__ import annotations

import polars as pl

from metrics.categories import DIMENSIONS
from metrics.registry import PROPORTION, Metric
from metrics.stats import sii

SII_REPS = 10_000  # simulations for the CIs; seeded so every view shows the same figures
SII_SEED = 20251016


def inequality(frame: pl.DataFrame, *, metric: Metric, dimension: str) -> dict:
    """SII and RII with 95% CIs from a deprivation breakdown (as PHE ``phe_sii``).

    ``frame`` is a :func:`metrics.breakdown.breakdown` result for a decile or quintile
    dimension. Quantile 1 is the most deprived, so a positive SII means the outcome rises
    from most to least deprived (for lower-is-better outcomes a negative SII is the usual
    gradient against deprived areas). The SII is in display units (e.g. per 1,000).

    Returns ``{"available": True, "sii", "sii_lower", "sii_upper", "rii", "rii_lower",
    "rii_upper", "quantiles"}`` or ``{"available": False, "reason": ...}`` when a
    quantile is suppressed or missing (PHE requires every quantile).
    """
    dim = DIMENSIONS.get(dimension)
    if dim is None or not dim.ordered:
        return {"available": False, "reason": "SII and RII need a deprivation breakdown."}
    known = frame.filter(pl.col("group").is_in(list(dim.groups))).sort("group_order")
    usable = known.filter(pl.col("value").is_not_null() & (pl.col("value") > 0)
                          & (pl.col("lower95") > 0))
    if usable.height < len(dim.groups):
        return {"available": False,
                "reason": "SII and RII need a value for every deprivation group; some are "
                "suppressed or have no events."}
    data = usable.with_columns(
        quantile=pl.col("group_order").cast(pl.Int64),
        scaled=pl.col("value") / metric.multiplier,
        lo=pl.col("lower95") / metric.multiplier,
        hi=pl.col("upper95") / metric.multiplier,
    )
    if metric.statistic == PROPORTION and (data["hi"] >= 1).any():
        return {"available": False, "reason": "A group's upper limit reaches 100%."}
    result = sii(
        data, quantile="quantile", population="denominator", value="scaled", lower="lo",
        upper="hi", value_type="proportion" if metric.statistic == PROPORTION else "rate",
        multiplier=metric.multiplier, reps=SII_REPS, seed=SII_SEED,
    ).row(0, named=True)
    return {"available": True, "quantiles": len(dim.groups)} | result
