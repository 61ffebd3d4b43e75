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


def interval(
    metric: Metric, events: np.ndarray, denominator: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits in display units (Wilson for shares, PHE Poisson for rates)."""
    if metric.statistic == PROPORTION:
        events = np.minimum(events, denominator)
        return wilson_ci(events, denominator, confidence, multiplier=metric.multiplier)
    return rate_ci(events, denominator, confidence, multiplier=metric.multiplier)


def _floats(series: pl.Series) -> np.ndarray:
    """``series`` as float64 with NaN for nulls."""
    return series.cast(pl.Float64).fill_null(np.nan).to_numpy()


def with_values(frame: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Add ``shown, events, value, lower95, upper95, lower998, upper998`` (display units).

    Computed on NumPy arrays and attached in one step: the frames are small (a few dozen
    rows), so the cost is per operation, not per row.
    """
    numerator = _floats(frame["numerator"])
    denominator = _floats(frame["denominator"])
    suppressed = frame["suppressed"].fill_null(True).to_numpy()
    with np.errstate(invalid="ignore"):
        shown = ~suppressed & ~np.isnan(numerator) & (denominator > 0)
    events = numerator
    if metric.rare_event:
        published = _floats(frame["published_value"])
        events = np.where(np.isnan(published), numerator,
                          published * denominator / metric.multiplier)
    events = np.where(shown, events, np.nan)
    den = np.where(shown, denominator, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = events / den * metric.multiplier
    safe_events, safe_den = np.nan_to_num(events), np.nan_to_num(den)
    lo95, hi95 = interval(metric, safe_events, safe_den, 0.95)
    lo998, hi998 = interval(metric, safe_events, safe_den, 0.998)
    columns = {"events": events, "value": value, "lower95": lo95, "upper95": hi95,
               "lower998": lo998, "upper998": hi998}
    return frame.with_columns(
        pl.Series("shown", shown, dtype=pl.Boolean),
        *(pl.Series(name, np.where(shown, np.asarray(data, dtype=float), np.nan),
                    dtype=pl.Float64, nan_to_null=True)
          for name, data in columns.items()),
    )
