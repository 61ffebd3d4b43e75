"""Trends' view model: one organisation's series by group, its SPC and its projection."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import TOTAL
from views import by_breakdown

# Periods that overlap (each shares most of its months with the next): no SPC on them.
OVERLAPPING = ("rolling_12_months",)


@dataclass(frozen=True)
class Trends:
    """Everything Trends shows for one view (see :func:`trends`)."""

    org: str
    metric: registry.Metric
    dimension: str
    kind: str
    group: str
    projection: bool
    org_name: str
    level: str
    synthetic: bool
    points: pl.DataFrame  # metrics.trend points, with ``dimension`` (empty when none)
    summaries: dict  # group -> SPC summary
    projected: pl.DataFrame  # metrics.projection points with labels (empty when off)
    fits: dict
    gaps: dict  # group -> when its gap to the reference group would close
    kinds_with_figures: tuple[str, ...]  # other period kinds with a total series here
    figure_levels: dict[str, bool]  # level -> whether any figure can be shown
    dimensions: tuple[str, ...]  # breakdowns on offer here
    organisations: pl.DataFrame  # every organisation (menus, merger notes)

    @property
    def overlapping(self) -> bool:
        """Whether the periods overlap, so SPC limits would not be valid."""
        return self.kind in OVERLAPPING

    @property
    def drawn(self) -> bool:
        return not self.points.is_empty() and self.points["value"].is_not_null().any()

    @property
    def title(self) -> str:
        return f"{self.metric.title}: {self.org_name}{by_breakdown(self.dimension)}"

    @property
    def group_points(self) -> pl.DataFrame:
        """The SPC chart's group."""
        return self.points.filter(pl.col("group") == self.group) if not \
            self.points.is_empty() else self.points


@queries.cached
def trends(org: str, metric_id: str, dimension: str, kind: str, group: str,
           projection: bool) -> Trends:
    """The Trends model of a view already parsed (valid codes, kind, breakdown, group)."""
    metric = registry.get(metric_id)
    points, summaries = queries.trend(metric_id, org, kind, dimension)
    if not points.is_empty():  # lets the figure colour groups as elsewhere
        points = points.with_columns(dimension=pl.lit(dimension))
    projected, fits, gaps = pl.DataFrame(), {}, {}
    if projection:
        projected, fits, gaps = queries.projection(metric_id, org, kind, dimension)
        if not projected.is_empty():
            projected = projected.filter(pl.col("period").is_not_null())
    drawn = not points.is_empty() and points["value"].is_not_null().any()
    level = queries.org_level(org)
    return Trends(
        org=org, metric=metric, dimension=dimension, kind=kind, group=group,
        projection=projection, org_name=queries.org_name(org), level=level,
        synthetic=queries.current().synthetic, points=points, summaries=summaries,
        projected=projected, fits=fits, gaps=gaps,
        kinds_with_figures=() if drawn else tuple(
            k for k in queries.period_kinds(metric_id)
            if k != kind and not queries.trend(metric_id, org, k, TOTAL)[0].is_empty()),
        figure_levels=queries.figure_levels(metric_id),
        dimensions=queries.dimensions_at(metric_id, level),
        organisations=queries.organisations(),
    )
