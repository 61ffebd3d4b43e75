"""The Overview's view model: every metric's latest figure for one organisation, its headline
gaps between groups (the most affected group against the reference group, for every metric),
the ethnic gaps as numbers of women and babies, and what changed since a year earlier."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from views import organisations_at

# The breakdowns of the headline gaps: as the cards' (deciles would repeat the quintiles).
GAP_DIMENSIONS = (ETHNICITY, QUINTILE)
GAP_COLUMNS = {
    "section": pl.String, "metric": pl.String, "dimension": pl.String, "period": pl.String,
    "group": pl.String, "reference": pl.String, "value": pl.Float64,
    "reference_value": pl.Float64, "ratio": pl.Float64, "ratio_lower95": pl.Float64,
    "ratio_upper95": pl.Float64, "gap_significant": pl.Boolean, "status": pl.String,
}


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
    gaps: pl.DataFrame  # GAP_COLUMNS: each metric's most affected group (see headline_gaps)
    synthetic: bool

    @property
    def organisations(self) -> pl.DataFrame:
        """Every organisation (the menu)."""
        return organisations_at()

    @property
    def totals_only(self) -> tuple[registry.Metric, ...]:
        """The metrics on a card with no breakdown by ethnicity or deprivation here."""
        compared = set(self.gaps["metric"])
        return tuple(card.metric for card in self.cards if card.metric.id not in compared)

    @property
    def gap_counts(self) -> tuple[int, int]:
        """(metrics with a significant headline gap, metrics with a headline gap worked
        out): the "N of M" of the headline gaps."""
        shown = self.gaps.filter(pl.col("status") == "ok")
        significant = shown.filter(pl.col("gap_significant"))
        return significant["metric"].n_unique(), shown["metric"].n_unique()

    @property
    def largest_gap(self) -> dict | None:
        """The significant headline gap that is largest in relative terms (|log ratio|)."""
        significant = self.gaps.filter((pl.col("status") == "ok") & pl.col("gap_significant"))
        if significant.is_empty():
            return None
        return significant.sort(pl.col("ratio").log().abs(), descending=True,
                                maintain_order=True).row(0, named=True)

    @property
    def area(self) -> dict[str, str | None]:
        """The codes of the ICB and region the organisation is or belongs to (None where it
        has none: England has neither, a region no ICB)."""
        row = self.organisations.filter(pl.col("org_code") == self.org).row(0, named=True)
        icb = self.org if self.level == "icb" else row["icb_code"]
        region = self.org if self.level == "region" else row["region_code"]
        return {"icb": icb, "region": region}

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


def adverse(ratio: float, metric: registry.Metric) -> float:
    """How far a ratio to the reference lies on the worse side, on the log scale: above 1
    where lower is better, below 1 where higher is better, either way with no judgement."""
    size = math.log(ratio)
    if metric.polarity == registry.LOWER_IS_BETTER:
        return size
    return -size if metric.polarity == registry.HIGHER_IS_BETTER else abs(size)


def most_affected(frame: pl.DataFrame, metric: registry.Metric, dimension: str) -> dict:
    """The headline gap of one breakdown (a :func:`metrics.breakdown.breakdown` frame): the
    known group furthest on the worse side of the reference group (:func:`adverse`), one
    whose ratio's 95% CI excludes 1 first. Groups withheld, of unknown category or with no
    events (a ratio of 0 has no place on a log scale; Explore shows it) are not candidates.
    Its ``status`` is "ok"; else "suppressed" where a group is withheld for small numbers,
    or "no data" (then the figures are null)."""
    known = frame.filter(pl.col("group").is_in(list(DIMENSIONS[dimension].groups)))
    reference = known.filter(pl.col("is_reference") & (pl.col("status") == "ok"))
    candidates = known.filter(~pl.col("is_reference") & (pl.col("status") == "ok")
                              & pl.col("ratio").is_finite() & (pl.col("ratio") > 0))
    rows = [r | {"score": adverse(r["ratio"], metric)}
            for r in candidates.iter_rows(named=True)]
    preferred = [r for r in rows if r["gap_significant"] and r["score"] > 0] or rows
    base = {"dimension": dimension, "reference": DIMENSIONS[dimension].reference}
    if not preferred or reference.is_empty():
        status = "suppressed" if (known["status"] == "suppressed").any() else "no data"
        return base | {"status": status}
    row = max(preferred, key=lambda r: r["score"])
    return base | {k: row[k] for k in ("group", "value", "ratio", "ratio_lower95",
                                       "ratio_upper95", "gap_significant")} | {
        "reference_value": reference["value"][0], "status": "ok"}


def headline_gaps(org: str, cards: tuple[Card, ...]) -> pl.DataFrame:
    """Each card's metric by ethnicity and by deprivation quintile where published here, in
    registry order: its most affected group against the reference group in the card's
    period (:func:`most_affected`), as :data:`GAP_COLUMNS`."""
    rows = []
    for card in cards:
        for dimension in GAP_DIMENSIONS:
            if dimension in card.dimensions:
                frame = queries.breakdown(card.metric.id, org, card.period, dimension, "none")
                rows.append({"section": card.metric.section, "metric": card.metric.id,
                             "period": card.period}
                            | most_affected(frame, card.metric, dimension))
    return pl.DataFrame(rows, schema=GAP_COLUMNS)


@queries.cached
def overview(org: str) -> Overview:
    """The Overview model of an organisation already parsed (a valid code)."""
    level = queries.org_level(org)
    found = queries.changes(org)
    cards = tuple(_card(entry, level) for entry in queries.overview(org))
    return Overview(
        org=org, org_name=queries.org_name(org), level=level, cards=cards,
        ethnic_gaps=_ethnic_gaps(org, level),
        since=found["since"], changes=found["changes"],
        gaps=headline_gaps(org, cards), synthetic=queries.current().synthetic,
    )
