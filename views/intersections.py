"""Intersections' view model: one metric's ethnicity by deprivation quintile cells for an
organisation and period, with what the store holds instead where it has no such cells."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, ETHNICITY_BY_QUINTILE, QUINTILE
from views import organisations_at

CROSS = ETHNICITY_BY_QUINTILE
# Recording that must be good enough for the cells to be relied on, and its name in words.
RECORDED = ((ETHNICITY, "Ethnicity"), (QUINTILE, "Deprivation"))


@dataclass(frozen=True)
class Intersections:
    """Everything Intersections shows for one view (see :func:`intersections`)."""

    org: str
    metric: registry.Metric
    period: str  # empty when the store holds no cross-tabulation for the metric here
    org_name: str
    level: str | None
    synthetic: bool
    held: bool  # whether the store holds the cross-tabulation for this view
    cells: pl.DataFrame  # metrics.breakdown of ethnicity_by_quintile (empty when not held)
    poor_recording: tuple[tuple[str, dict], ...]  # (what, completeness) recorded too rarely
    offered: tuple[registry.Metric, ...]  # metrics in the menu: those with cells, and this one
    periods: tuple[str, ...]  # with cells for the metric at this level, newest first
    breakdowns: dict[str, tuple[str, ...]]  # level -> breakdowns the store holds for it

    @property
    def organisations(self) -> pl.DataFrame:
        """Those the metric is published for (the menu)."""
        return organisations_at(self.metric.levels)

    @property
    def title(self) -> str:
        return (f"{self.metric.title}: {self.org_name}, {self.period}, by ethnicity and "
                "deprivation quintile")


def _poor_recording(org: str, period: str) -> tuple[tuple[str, dict], ...]:
    found = ((what, queries.completeness(org, period, dimension))
             for dimension, what in RECORDED)
    return tuple((what, info) for what, info in found if info and info["poor"])


@queries.cached
def intersections(org: str, metric_id: str, period: str) -> Intersections:
    """The Intersections model of a view already parsed (valid code, metric and period)."""
    metric = registry.get(metric_id)
    level = queries.org_level(org)
    held = bool(period) and queries.holds(metric_id, level, CROSS)
    holding = queries.metrics_holding(CROSS)
    return Intersections(
        org=org, metric=metric, period=period, org_name=queries.org_name(org), level=level,
        synthetic=queries.current().synthetic, held=held,
        cells=queries.breakdown(metric_id, org, period, CROSS, "none") if held
        else pl.DataFrame(),
        poor_recording=_poor_recording(org, period) if held else (),
        offered=tuple(m for m in registry.outcome_metrics()
                      if m.id in holding or m.id == metric_id),
        periods=tuple(reversed(queries.dimension_periods(metric_id, level, CROSS))),
        breakdowns=queries.breakdowns_by_level(metric_id),
    )
