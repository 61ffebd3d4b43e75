"""Explore's view model: one organisation's metric by a breakdown, with its comparator."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS, TOTAL
from views import by_breakdown, figure_facts, has_figures, has_withheld, organisations_at


@dataclass(frozen=True)
class Explore:
    """Everything Explore shows for one view (see :func:`explore`)."""

    org: str
    metric: registry.Metric
    period: str
    dimension: str
    comparator: str
    org_name: str
    level: str
    synthetic: bool
    frame: pl.DataFrame  # metrics.breakdown: each group's value, CIs, gap, comparator
    excess: dict | None  # metrics.excess for a breakdown (None for the total)
    inequality: dict | None  # SII/RII for an ordered breakdown (deprivation)
    completeness: dict | None  # recording of ethnicity or deprivation here
    held: dict[str, tuple[str, ...]]  # level -> breakdowns the store holds for the metric
    figure_levels: dict[str, bool]  # level -> whether a figure can be shown in the period
    left_out: str | None  # why no sum of trusts was made for this organisation
    summed: dict | None  # how the store summed this organisation's figure from trusts
    england_note: str | None  # what England's figure is where the store summed it
    periods: tuple[str, ...]  # on offer, newest first within each kind
    dimensions: tuple[str, ...]  # breakdowns on offer here

    @property
    def organisations(self) -> pl.DataFrame:
        """Those the metric is published for."""
        return organisations_at(self.metric.levels)

    @property
    def title(self) -> str:
        return (f"{self.metric.title}: {self.org_name}, {self.period}"
                f"{by_breakdown(self.dimension)}")

    @property
    def comparator_label(self) -> str | None:
        """The comparator's name in the chart and table, or None when there is none."""
        if self.comparator == "england":
            return None if self.org == "ENG" else "England"
        return "Peer group" if self.comparator == "peer" else None

    @property
    def people(self) -> str:
        return people(self.metric)

    @property
    def drawn(self) -> bool:
        """Whether there is a value to draw."""
        return has_figures(self.frame)

    @property
    def tabulated(self) -> bool:
        """Whether there is a row worth a table: a value, or one marked suppressed."""
        return self.drawn or has_withheld(self.frame)

    @property
    def england_shown(self) -> bool:
        """Whether England's figure appears (the view is England's, or compared with it)."""
        return self.org == "ENG" or self.comparator == "england"


def people(metric: registry.Metric) -> str:
    """Whom the metric counts, in words: "babies" or "women"."""
    return "babies" if metric.subject == "babies" else "women"


@queries.cached
def explore(org: str, metric_id: str, period: str, dimension: str,
            comparator: str) -> Explore:
    """The Explore model of a view already parsed (valid codes, period and breakdown)."""
    metric = registry.get(metric_id)
    level = queries.org_level(org)
    breakdown = dimension != TOTAL
    return Explore(
        org=org, metric=metric, period=period, dimension=dimension, comparator=comparator,
        org_name=queries.org_name(org), level=level, synthetic=queries.current().synthetic,
        frame=queries.breakdown(metric_id, org, period, dimension, comparator),
        excess=queries.excess(metric_id, org, period, dimension) if breakdown else None,
        inequality=queries.inequality(metric_id, org, period, dimension)
        if DIMENSIONS[dimension].ordered else None,
        completeness=queries.completeness(org, period, dimension),
        **figure_facts(metric_id, org, level, period),
        periods=tuple(p for kind in metric.period_kinds
                      for p in reversed(queries.periods(metric_id, kind))),
        dimensions=queries.dimensions_at(metric_id, level),
    )
