"""The board summary's view model: what a trust's board reads in five minutes.

One trust and period give the Annex 3 scorecard against England, the largest significant
gaps by ethnicity and deprivation (with their 95% CIs and the number of women or babies
behind them), what changed since a year earlier and a headline per gap. The printed pack,
the slide deck and their notes all read this one object, so they say the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, QUINTILE

HEADLINES = 4  # gaps drawn as charts, at most one per metric
GAPS_LISTED = 6  # gaps in the summary's table
PACK_DIMENSIONS = (ETHNICITY, QUINTILE)


def pack_metrics(level: str = "trust") -> tuple[registry.Metric, ...]:
    """Metrics published at ``level``: Annex 3 first, then the rest in registry order."""
    at_level = [m for m in registry.outcome_metrics() if level in m.levels]
    return tuple(sorted(at_level, key=lambda m: not m.annex3))


def period_for(metric: registry.Metric, wanted: str) -> str | None:
    """``wanted`` where the metric publishes it, else the metric's latest period."""
    if wanted in queries.periods(metric.id):
        return wanted
    return queries.latest_period(metric.id)


@dataclass(frozen=True)
class Gap:
    """One group's significant gap to its reference group, worse for the group."""

    metric: registry.Metric
    period: str
    dimension: str
    group: str
    times_worse: float  # the ratio, turned so that above 1 is worse for the group
    row: dict  # the group's breakdown row, with the reference group's ``reference_value``
    excess: dict  # the group's row of metrics.excess (women or babies more or fewer)
    frame: pl.DataFrame  # the breakdown the gap comes from (against England)


@dataclass(frozen=True)
class BoardSummary:
    """Everything the board summary shows for one trust and period (see :func:`summary`)."""

    org: str
    period: str
    org_name: str
    synthetic: bool
    scorecard: pl.DataFrame  # data.queries.scorecard: Annex 3 metrics against England
    gaps: tuple[Gap, ...]  # largest first
    changes: pl.DataFrame  # data.queries.changes, most important first
    since: str | None  # the period a year earlier that changes compare with

    @property
    def headlines(self) -> tuple[Gap, ...]:
        """The gaps drawn as charts: the largest of each metric, at most :data:`HEADLINES`."""
        chosen: dict[str, Gap] = {}
        for gap in self.gaps:
            chosen.setdefault(gap.metric.id, gap)
        return tuple(chosen.values())[:HEADLINES]

    @property
    def listed_gaps(self) -> tuple[Gap, ...]:
        return self.gaps[:GAPS_LISTED]


def _times_worse(metric: registry.Metric, ratio: float) -> float:
    return ratio if metric.polarity == registry.LOWER_IS_BETTER else 1 / ratio


def worse_gaps(metric: registry.Metric, period: str, frame: pl.DataFrame,
               excess: pl.DataFrame, dimension: str) -> list[Gap]:
    """The significant gaps in one breakdown where the group fares worse than the reference
    group (known groups only; metrics with no better or worse direction give none)."""
    if metric.polarity == registry.NO_JUDGEMENT or frame.is_empty():
        return []
    reference = frame.filter(pl.col("is_reference"))
    ref_value = reference["value"][0] if reference.height else None
    people = {row["group"]: row for row in excess.iter_rows(named=True)}
    out = []
    for row in frame.iter_rows(named=True):
        extra = people.get(row["group"], {})
        ratio = row["ratio"]
        if not row["gap_significant"] or ratio is None or not ratio > 0 \
                or not extra.get("known", False):
            continue
        times = _times_worse(metric, ratio)
        if times > 1:
            out.append(Gap(metric=metric, period=period, dimension=dimension,
                           group=row["group"], times_worse=times,
                           row=row | {"reference_value": ref_value}, excess=extra,
                           frame=frame))
    return out


def largest_gaps(org: str, period: str) -> tuple[Gap, ...]:
    """Every worse significant gap of the pack's metrics for the trust, largest first (by
    how many times worse the group fares: the ratio, or its inverse for shares where
    higher is better)."""
    found: list[Gap] = []
    for metric in pack_metrics():
        shown = period_for(metric, period)
        if shown is None:
            continue
        for dimension in PACK_DIMENSIONS:
            if dimension not in queries.dimensions_at(metric.id, "trust"):
                continue
            frame = queries.breakdown(metric.id, org, shown, dimension, "england")
            excess = queries.excess(metric.id, org, shown, dimension)["groups"]
            found += worse_gaps(metric, shown, frame, excess, dimension)
    return tuple(sorted(found, key=lambda g: g.times_worse, reverse=True))


@queries.cached
def summary(org: str, period: str) -> BoardSummary:
    """The board summary of a view already parsed (a trust's code and a period label)."""
    found = queries.changes(org)
    return BoardSummary(
        org=org, period=period, org_name=queries.org_name(org),
        synthetic=queries.current().synthetic, scorecard=queries.scorecard(org),
        gaps=largest_gaps(org, period), changes=found["changes"], since=found["since"])


def pack_periods() -> list[str]:
    """Every period any pack metric publishes."""
    return sorted({p for m in pack_metrics() for p in queries.periods(m.id)})


def default_period() -> str:
    """The latest financial year of the pack's metrics (else their latest period)."""
    years = sorted({p for m in pack_metrics() for p in queries.periods(m.id, "financial_year")})
    known = pack_periods()
    return years[-1] if years else (known[-1] if known else "")
