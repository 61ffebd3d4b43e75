"""The Overview's view model: every metric's latest figure for one organisation, the ethnic
gaps as numbers of women and babies, and what changed since a year earlier."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, TOTAL


@dataclass(frozen=True)
class Card:
    """One metric's card (a :func:`data.queries.overview` entry)."""

    metric: registry.Metric
    period: str  # the latest
    latest: dict  # the total with its CIs and comparison with England
    previous: dict | None  # the total a year earlier, with its ``period``
    gaps: tuple[dict, ...]  # the largest significant gap by ethnicity and by deprivation
    change: str  # up, down, flat or none
    dimensions: tuple[str, ...]  # breakdowns on offer at the organisation's level

    @property
    def explore_dimension(self) -> str:
        """The breakdown Explore opens on from the card: ethnicity where it is offered."""
        return ETHNICITY if ETHNICITY in self.dimensions else (self.dimensions or (TOTAL,))[0]

    @property
    def broken_down(self) -> bool:
        """Whether the metric is published by group at this level."""
        return self.metric.breakdowns != (TOTAL,) and len(self.dimensions) > 1


@dataclass(frozen=True)
class EthnicGap:
    """An Annex 3 outcome's ethnic gap as a number of women or babies."""

    metric: registry.Metric
    period: str
    total: dict  # metrics.excess total (``available`` False when not worked out)


@dataclass(frozen=True)
class Overview:
    """Everything the Overview shows for one organisation (see :func:`overview`)."""

    org: str
    org_name: str
    level: str | None
    cards: tuple[Card, ...]
    ethnic_gaps: tuple[EthnicGap, ...]
    since: str | None  # the period a year earlier that changes are measured from
    changes: pl.DataFrame  # metrics.changes.rank_changes, most important first
    organisations: pl.DataFrame  # every organisation (the menu)

    @property
    def sections(self) -> dict[str, tuple[Card, ...]]:
        """The cards by the registry's section, in registry order."""
        out: dict[str, list[Card]] = {}
        for card in self.cards:
            out.setdefault(card.metric.section, []).append(card)
        return {section: tuple(cards) for section, cards in out.items()}


def _card(entry: dict, level: str | None) -> Card:
    metric = registry.get(entry["metric"])
    return Card(metric=metric, period=entry["period"], latest=entry["latest"],
                previous=entry["previous"], gaps=tuple(entry["gaps"]), change=entry["change"],
                dimensions=queries.dimensions_at(metric.id, level))


def _ethnic_gaps(org: str, level: str | None) -> tuple[EthnicGap, ...]:
    """Each Annex 3 outcome published by ethnicity here, with its latest total excess."""
    out = []
    for metric in registry.ANNEX3_METRICS:
        period = queries.latest_period(metric.id)
        if period and ETHNICITY in queries.dimensions_at(metric.id, level):
            total = queries.excess(metric.id, org, period, ETHNICITY)["total"]
            out.append(EthnicGap(metric=metric, period=period, total=total))
    return tuple(out)


@queries.cached
def overview(org: str) -> Overview:
    """The Overview model of an organisation already parsed (a valid code)."""
    level = queries.org_level(org)
    found = queries.changes(org)
    return Overview(
        org=org, org_name=queries.org_name(org), level=level,
        cards=tuple(_card(entry, level) for entry in queries.overview(org)),
        ethnic_gaps=_ethnic_gaps(org, level),
        since=found["since"], changes=found["changes"],
        organisations=queries.organisations(),
    )
