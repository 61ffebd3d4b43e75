"""Data quality's view model: every trust's recording of ethnicity or deprivation against
England and its threshold, and the population profile ("who is booked") of one
organisation beside England's."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.breakdown import COMPLETENESS_THRESHOLD
from metrics.categories import ETHNICITY, TOTAL
from views import organisations_at

PAGE_METRICS = tuple(m for m in registry.METRICS_LIST if m.id in COMPLETENESS_THRESHOLD)
PROFILE = registry.PROFILE_METRICS[0]  # women booked, by group
ALL_REGIONS = "all"
# Each sort order: the columns and their directions; trusts without a figure come last.
ORDERS = {
    "lowest": (["value", "name"], [False, False]),
    "highest": (["value", "name"], [True, False]),
    "name": (["name"], [False]),
    "region": (["region", "value", "name"], [False, False, False]),
    "size": (["denominator", "name"], [True, False]),
}


def regions() -> pl.DataFrame:
    """Region codes and names, by name."""
    return queries.organisations().filter(pl.col("org_level") == "region").select(
        "org_code", "name").sort("name")


def sort_trusts(frame: pl.DataFrame, sort: str) -> pl.DataFrame:
    """``frame`` in the order ``sort`` names; trusts without a figure always come last."""
    columns, descending = ORDERS[sort]
    return frame.sort(*columns, descending=descending, nulls_last=True)


@dataclass(frozen=True)
class Profile:
    """Who is booked: an organisation's share of women booked in each group, beside England's."""

    org: str
    org_name: str
    deprivation: str  # the deprivation breakdown asked for (quintile or decile)
    period: str | None  # the view's period if the store holds the profile for it, else the
    # latest with one (None when the store holds no profile)
    frames: tuple[tuple[str, pl.DataFrame, pl.DataFrame | None], ...]  # per breakdown held:
    # (dimension, breakdown with England's share as comparator, England's own or None)

    @property
    def organisations(self) -> pl.DataFrame:
        """Those the profile is published for (the menu)."""
        return organisations_at(PROFILE.levels)


@dataclass(frozen=True)
class DataQuality:
    """Everything Data quality shows for one view (see :func:`data_quality`)."""

    metric: registry.Metric
    period: str
    region: str
    region_name: str | None  # None for every region
    sort: str
    threshold: float  # the reliability threshold (%)
    trusts: pl.DataFrame  # metrics.benchmark of every trust: value, CIs, funnel label
    selected: pl.DataFrame  # the region's trusts (all when none), in the sort order
    funnel: pl.DataFrame  # the funnel's limits around England's value
    england: float | None  # England's value
    periods: tuple[str, ...]  # on offer, newest first within each kind
    regions: pl.DataFrame  # region codes and names, by name
    synthetic: bool
    profile: Profile

    @property
    def focus(self) -> tuple[str, ...] | None:
        """The trusts the funnel highlights (the chosen region's), None for all."""
        return tuple(self.selected["org_code"]) if self.region_name else None

    @property
    def headline(self) -> dict:
        """Counts behind the headline: the region's trusts, those with a figure, below the
        threshold and without one, and the lowest trust below the threshold."""
        frame = self.selected
        shown = frame.filter(pl.col("value").is_not_null())
        below = shown.filter(pl.col("value") < self.threshold).sort("value")
        return {"trusts": frame.height, "shown": shown.height, "below": below.height,
                "missing": frame.height - shown.height,
                "lowest": below.row(0, named=True) if below.height else None}


def _england(metric_id: str, period: str) -> float | None:
    frame = queries.breakdown(metric_id, "ENG", period, TOTAL, "none")
    return frame["value"][0] if frame.height else None


@queries.cached
def profile(org: str, deprivation: str, period: str) -> Profile:
    """The profile of ``org`` by ethnicity and ``deprivation`` in ``period`` (or in the
    profile's latest period when the store holds none for ``period``)."""
    held = [p for kind in PROFILE.period_kinds for p in queries.periods(PROFILE.id, kind)]
    shown = period if period in held else queries.latest_period(PROFILE.id)
    offered = queries.dimensions_at(PROFILE.id, queries.org_level(org)) if shown else ()
    frames = tuple(
        (dimension,
         queries.breakdown(PROFILE.id, org, shown, dimension, "england"),
         None if org == "ENG" else queries.breakdown(PROFILE.id, "ENG", shown, dimension,
                                                     "none"))
        for dimension in (ETHNICITY, deprivation) if dimension in offered)
    return Profile(org=org, org_name=queries.org_name(org), deprivation=deprivation,
                   period=shown, frames=frames)


@queries.cached
def data_quality(metric_id: str, period: str, region: str, sort: str, org: str,
                 deprivation: str) -> DataQuality:
    """The Data quality model of a view already parsed (valid measure, period, region,
    order, organisation and deprivation breakdown)."""
    metric = registry.get(metric_id)
    region_name = None if region == ALL_REGIONS else queries.org_name(region)
    trusts = queries.benchmark(metric_id, period, TOTAL) if period else pl.DataFrame()
    selected = trusts if region_name is None or trusts.is_empty() else trusts.filter(
        pl.col("region") == region_name)
    return DataQuality(
        metric=metric, period=period, region=region, region_name=region_name, sort=sort,
        threshold=COMPLETENESS_THRESHOLD[metric_id], trusts=trusts,
        selected=sort_trusts(selected, sort) if not selected.is_empty() else selected,
        funnel=queries.funnel(metric_id, period, TOTAL) if period else pl.DataFrame(),
        england=_england(metric_id, period) if period else None,
        periods=tuple(p for kind in metric.period_kinds
                      for p in reversed(queries.periods(metric_id, kind))),
        regions=regions(), synthetic=queries.current().synthetic,
        profile=profile(org, deprivation, period),
    )
