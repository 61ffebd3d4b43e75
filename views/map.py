"""The Map's facts for one selection: each region's breakdown and every trust's figure."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ALL_GROUP, MAP_DIMENSIONS, TOTAL


@dataclass(frozen=True)
class MapChoices:
    """What the Map offers, worked out once per store build: the metrics published for
    regions by a mapped breakdown and, for each, its periods and breakdowns."""

    metrics: tuple[str, ...]
    periods: dict[str, tuple[str, ...]]  # metric -> periods, newest first within each kind
    latest: dict[str, str]  # metric -> its latest period
    region_dimensions: dict[str, tuple[str, ...]]  # metric -> mapped breakdowns for regions
    trust_dimensions: dict[str, tuple[str, ...]]  # metric -> breakdowns held for trusts
    synthetic: bool  # whether the store's figures are invented (for the files' first lines)


@queries.cached
def choices() -> MapChoices:
    """The Map's menus (see :class:`MapChoices`)."""
    region = {m.id: tuple(d for d in MAP_DIMENSIONS
                          if d in queries.dimensions_at(m.id, "region"))
              for m in registry.OUTCOME_METRICS}
    metrics = tuple(m for m, dims in region.items() if dims)
    return MapChoices(
        metrics=metrics,
        periods={m: tuple(p for kind in registry.get(m).period_kinds
                          for p in reversed(queries.periods(m, kind))) for m in metrics},
        latest={m: queries.latest_period(m) or "" for m in metrics},
        region_dimensions={m: region[m] for m in metrics},
        trust_dimensions={m: tuple(queries.dimensions_at(m, "trust")) for m in metrics},
        synthetic=queries.current().synthetic,
    )


@dataclass(frozen=True)
class MapFacts:
    """What the map of a selection draws from (``components.maps`` turns it into rows)."""

    regions: tuple[tuple[str, str, pl.DataFrame], ...]  # (code, name, breakdown), by name
    trusts: pl.DataFrame  # metrics.benchmark for the trust points' breakdown and group
    totals: pl.DataFrame  # each trust's denominator for all women (its size on the map)
    synthetic: bool


@queries.cached
def map_facts(metric: str, period: str, dimension: str, group: str,
              trust_dimension: str, trust_group: str) -> MapFacts:
    """The regions' ``dimension`` breakdowns of ``metric`` in ``period`` (no comparator) and
    the trusts' figures for ``trust_group`` of ``trust_dimension``."""
    regions = queries.organisations().filter(pl.col("org_level") == "region").sort("name")
    return MapFacts(
        regions=tuple((code, name, queries.breakdown(metric, code, period, dimension, "none"))
                      for code, name in regions.select("org_code", "name").iter_rows()),
        trusts=queries.benchmark(metric, period, trust_dimension, trust_group),
        totals=queries.benchmark(metric, period, TOTAL, ALL_GROUP).select(
            "org_code", size="denominator", size_suppressed="suppressed"),
        synthetic=queries.current().synthetic,
    )


def facts(selection) -> MapFacts:
    """:func:`map_facts` of a ``components.maps.MapSelection``."""
    return map_facts(selection.metric, selection.period, selection.dimension, selection.group,
                     selection.trust_dimension, selection.trust_group)
