"""The source pages' view model (Mortality for MBRRACE-UK, Experience for CQC): one
organisation's metric by a breakdown, with England beside it, and the totals over time with
England's."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from data.schema import PERIOD_KINDS
from metrics import registry
from views import by_breakdown, figure_facts, has_figures, has_withheld

ENGLAND = "ENG"


@dataclass(frozen=True)
class Source:
    """Everything a source page shows for one view (see :func:`source`)."""

    metric: registry.Metric
    org: str
    period: str
    dimension: str
    org_name: str
    england_name: str
    level: str | None
    synthetic: bool
    period_kind: str | None
    frame: pl.DataFrame  # metrics.breakdown, England as comparator unless England is shown
    points: pl.DataFrame  # the totals over time, England's first (totals_with_england)
    held: dict[str, tuple[str, ...]]  # level -> breakdowns the store holds for the metric
    figure_levels: dict[str, bool]  # level -> whether a figure can be shown in the period
    left_out: str | None  # why no sum of trusts was made for this organisation
    summed: dict | None  # how the store summed this organisation's figure from trusts
    england_note: str | None  # what England's figure is in the period, where summed
    england_notes: dict[str, str]  # period -> what England's figure is, where summed
    dimensions: tuple[str, ...]  # breakdowns on offer here
    periods: tuple[str, ...]  # every period held, newest first (the menu's order)

    @property
    def comparator(self) -> str:
        """The breakdown's comparator: England, unless England is shown."""
        return "none" if self.org == ENGLAND else "england"

    @property
    def comparator_label(self) -> str | None:
        return None if self.org == ENGLAND else "England"

    @property
    def title(self) -> str:
        return (f"{self.metric.title}: {self.org_name}, {self.period}"
                f"{by_breakdown(self.dimension)}")

    @property
    def series(self) -> list[str]:
        """The names of the series over time (England first), or the organisation's."""
        if self.points.is_empty():
            return [self.org_name]
        return self.points["group"].unique(maintain_order=True).to_list()

    @property
    def drawn(self) -> bool:
        """Whether the breakdown has a value to draw."""
        return has_figures(self.frame)

    @property
    def tabulated(self) -> bool:
        """Whether the breakdown has a row worth a table: a value, or one marked
        suppressed (a row of ":" for an organisation the store holds nothing for would
        repeat the note)."""
        return self.drawn or has_withheld(self.frame)

    @property
    def over_time(self) -> bool:
        """Whether the series over time has a value to draw."""
        return has_figures(self.points)

    @property
    def england_series(self) -> bool:
        """Whether England's series over time has a value to draw."""
        return self.over_time and has_figures(
            self.points.filter(pl.col("group") == self.england_name))

    @property
    def withheld(self) -> bool:
        """Whether every figure of the breakdown is withheld (small numbers)."""
        return not self.drawn and has_withheld(self.frame)

    @property
    def kind_words(self) -> str:
        """The period's kind in words ("Financial year")."""
        return PERIOD_KINDS.get(self.period_kind, self.period_kind or "")

    @property
    def summed_periods(self) -> dict[str, str]:
        """Period -> how England's figure was summed, for the periods over time drawn."""
        shown = set(self.points["period"].cast(pl.String).to_list()) \
            if "period" in self.points.columns else set()
        return {period: note for period, note in self.england_notes.items() if period in shown}


def period_labels(metric_id: str) -> list[str]:
    """Every period the store holds for the metric, oldest first, kind by kind."""
    metric = registry.get(metric_id)
    return [p for kind in metric.period_kinds for p in queries.periods(metric.id, kind)]


@queries.cached
def source(metric_id: str, org: str, period: str, dimension: str) -> Source:
    """The model of a source page's view already parsed (valid metric, organisation,
    period and breakdown)."""
    metric = registry.get(metric_id)
    level = queries.org_level(org)
    kind = queries.period_kind_of(metric_id, period)
    return Source(
        metric=metric, org=org, period=period, dimension=dimension,
        org_name=queries.org_name(org), england_name=queries.org_name(ENGLAND), level=level,
        synthetic=queries.current().synthetic, period_kind=kind,
        frame=queries.breakdown(metric_id, org, period, dimension,
                                "none" if org == ENGLAND else "england"),
        points=queries.totals_with_england(metric_id, org, kind),
        **figure_facts(metric_id, org, level, period),
        england_notes=queries.england_sum_notes(metric_id),
        dimensions=queries.dimensions_at(metric_id, level),
        periods=tuple(reversed(period_labels(metric_id))),
    )
