"""Values and confidence intervals for cells of the counts table.

Every figure the app shows goes through :func:`with_values`, so suppression is honoured in
one place: a suppressed cell, a withheld count or a zero denominator gives null value and
limits, never zero.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics.registry import PROPORTION, Metric
from metrics.stats import rate_ci, wilson_ci

VALUE_COLUMNS = ("value", "lower95", "upper95", "lower998", "upper998")


def events_expr(metric: Metric) -> pl.Expr:
    """Effective event count behind the shown value.

    For rare-event rates the published value comes from unrounded counts; its events are
    ``value x denominator / multiplier`` so the interval is centred on the published value.
    """
    if metric.rare_event:
        return (
            pl.when(pl.col("published_value").is_not_null())
            .then(pl.col("published_value") * pl.col("denominator") / metric.multiplier)
            .otherwise(pl.col("numerator").cast(pl.Float64))
        )
    return pl.col("numerator").cast(pl.Float64)


def shown_expr() -> pl.Expr:
    """True where a value may be computed and shown."""
    return (
        ~pl.col("suppressed").fill_null(True)
        & pl.col("numerator").is_not_null()
        & pl.col("denominator").is_not_null()
        & (pl.col("denominator") > 0)
    )


def interval(
    metric: Metric, events: np.ndarray, denominator: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits in display units (Wilson for shares, PHE Poisson for rates)."""
    if metric.statistic == PROPORTION:
        events = np.minimum(events, denominator)
        return wilson_ci(events, denominator, confidence, multiplier=metric.multiplier)
    return rate_ci(events, denominator, confidence, multiplier=metric.multiplier)


def with_values(frame: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Add ``events, value, lower95, upper95, lower998, upper998`` (display units)."""
    frame = frame.with_columns(
        shown=shown_expr(),
        events=pl.when(shown_expr()).then(events_expr(metric)),
    )
    events = frame["events"].to_numpy().astype(float)
    den = frame["denominator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    den = np.where(np.isnan(events), np.nan, den)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = events / den * metric.multiplier
    lo95, hi95 = interval(metric, np.nan_to_num(events), np.nan_to_num(den), 0.95)
    lo998, hi998 = interval(metric, np.nan_to_num(events), np.nan_to_num(den), 0.998)
    missing = np.isnan(events)
    columns = {
        "value": value,
        "lower95": lo95, "upper95": hi95, "lower998": lo998, "upper998": hi998,
    }
    return frame.with_columns(
        pl.Series(name, np.where(missing, np.nan, np.asarray(data, dtype=float)))
        .fill_nan(None)
        for name, data in columns.items()
    )
