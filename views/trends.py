"""Trends' view model: one organisation's series by group, its SPC and its projection, each
group's gap to the reference group over time, and what the data allow when SPC cannot be
drawn."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from metrics.gap_trend import MIN_TREND_PERIODS, GapTrend, gap_trend
from metrics.trend import MIN_SPC_POINTS, spc_valid
from views import by_breakdown, has_figures, organisations_at

# Periods that overlap (each shares most of its months with the next): no SPC on them.
OVERLAPPING = ("rolling_12_months",)
# The next larger organisation of each level, by its column in the organisations table.
PARENT_COLUMN = {"trust": "icb_code", "icb": "region_code"}


# What a view allowing SPC changes besides the kind of period (SpcRoute.change).
CHANGE_KIND, CHANGE_GROUP, CHANGE_TOTAL, CHANGE_ORG = "kind", "group", "total", "organisation"


@dataclass(frozen=True)
class SpcRoute:
    """A view that allows SPC: ``kind`` of period, and what else changes (``change``: only
    the kind, another group, the total or a larger organisation, with ``names`` of the
    groups or the organisation) and its ``published`` figures (the fewest of its groups)."""

    kind: str
    change: str
    names: tuple[str, ...]
    published: int


@dataclass(frozen=True)
class SpcOptions:
    """Why SPC cannot be drawn for the view's group, and which views would allow it."""

    published: int  # the group's published figures in the chosen kind
    suppressed: int  # its periods withheld (small numbers) in the chosen kind
    periods: int  # periods of the chosen kind held here
    short_groups: int  # known groups with fewer than MIN_SPC_POINTS published figures
    known_groups: int  # known groups with a series here
    routes: tuple[SpcRoute, ...]  # views allowing SPC, the chosen kind's first


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
    gap: GapTrend | None  # metrics.gap_trend of the points (None: no reference group)
    gap_kinds: tuple[str, ...]  # other kinds giving a gap trend test, when this one does not
    spc_options: SpcOptions | None  # when SPC is not drawn for the group (else None)
    kinds_held: tuple[str, ...]  # period kinds with figures for this organisation

    @property
    def organisations(self) -> pl.DataFrame:
        """Every organisation (menus, merger notes)."""
        return organisations_at()

    @property
    def overlapping(self) -> bool:
        """Whether the periods overlap, so SPC limits would not be valid."""
        return self.kind in OVERLAPPING

    @property
    def drawn(self) -> bool:
        return has_figures(self.points)

    @property
    def title(self) -> str:
        return f"{self.metric.title}: {self.org_name}{by_breakdown(self.dimension)}"

    @property
    def group_points(self) -> pl.DataFrame:
        """The SPC chart's group."""
        return self.points.filter(pl.col("group") == self.group) if not \
            self.points.is_empty() else self.points

    @property
    def reference(self) -> str | None:
        return DIMENSIONS[self.dimension].reference

    @property
    def gap_testable(self) -> bool:
        """Whether the gap trend test applies: periods that do not overlap."""
        return self.gap is not None and spc_valid(self.kind)

    @property
    def gap_test_made(self) -> bool:
        """Whether any group's gap is tested for a trend (enough periods, no overlap)."""
        return _test_made(self.gap, self.kind)

    @property
    def gap_groups(self) -> tuple[str, ...]:
        """Groups (and the SII / RII) with at least one gap figure, in order."""
        if self.gap is None:
            return ()
        shown = self.gap.series.filter(pl.col("ratio").is_not_null())
        return tuple(shown["group"].unique(maintain_order=True).to_list())

    @property
    def gap_groups_shown(self) -> tuple[str, ...]:
        """The gap chart's visible groups: the chosen group where it has gap figures, else
        every group with them (the others are one legend click away)."""
        groups = self.gap_groups
        return (self.group,) if self.group in groups else groups


def _figures(summary: dict | None) -> int:
    """Published figures behind an SPC summary (suppressed periods do not count)."""
    if summary is None:
        return 0
    return summary["n"] if summary["available"] else summary["points"]


def _published(metric_id: str, org: str, kind: str, dimension: str, group: str) -> int:
    """Published figures of ``group``'s series."""
    return _figures(queries.trend(metric_id, org, kind, dimension)[1].get(group))


def _larger(metric: registry.Metric, org: str, kind: str, dimension: str,
            group: str) -> tuple[str, str, int] | None:
    """The nearest organisation above ``org`` publishing enough figures of ``group``."""
    orgs = queries.organisations()
    code = org
    while True:
        row = orgs.filter(pl.col("org_code") == code)
        if row.is_empty():
            return None
        level = row["org_level"][0]
        code = "ENG" if level == "region" else \
            row[PARENT_COLUMN[level]][0] if level in PARENT_COLUMN else None
        if code is None:
            return None
        parent_level = queries.org_level(code)
        if parent_level in metric.levels and dimension in queries.dimensions_at(
                metric.id, parent_level):
            published = _published(metric.id, code, kind, dimension, group)
            if published >= MIN_SPC_POINTS:
                return code, queries.org_name(code), published


def _routes_in(metric: registry.Metric, org: str, kind: str, dimension: str,
               group: str) -> list[SpcRoute]:
    """Views of ``kind`` with enough figures for SPC: other groups, the total, a larger
    organisation."""
    summaries = queries.trend(metric.id, org, kind, dimension)[1]
    groups = {g: _figures(s) for g, s in summaries.items() if g != group and s["available"]
              and g in DIMENSIONS[dimension].groups}
    routes = [SpcRoute(kind, CHANGE_GROUP, tuple(groups), min(groups.values()))] \
        if groups else []
    if dimension != TOTAL:
        total = _published(metric.id, org, kind, TOTAL, ALL_GROUP)
        if total >= MIN_SPC_POINTS:
            routes.append(SpcRoute(kind, CHANGE_TOTAL, (), total))
    larger = _larger(metric, org, kind, dimension, group)
    if larger:
        routes.append(SpcRoute(kind, CHANGE_ORG, (larger[1],), larger[2]))
    return routes


def _spc_options(metric: registry.Metric, org: str, kind: str, dimension: str, group: str,
                 points: pl.DataFrame, summaries: dict,
                 kinds_held: tuple[str, ...]) -> SpcOptions:
    known = [g for g in summaries if g in DIMENSIONS[dimension].groups]
    published = {g: _figures(s) for g, s in summaries.items()}
    mine = points.filter(pl.col("group") == group) if not points.is_empty() else points
    others = [k for k in kinds_held if k != kind and spc_valid(k)]
    routes = _routes_in(metric, org, kind, dimension, group) if spc_valid(kind) else []
    routes += [SpcRoute(k, CHANGE_KIND, (), n) for k in others
               if (n := _published(metric.id, org, k, dimension, group)) >= MIN_SPC_POINTS]
    for k in others if not routes else ():
        routes = _routes_in(metric, org, k, dimension, group)
        if routes:
            break
    return SpcOptions(
        published=published.get(group, 0),
        suppressed=mine.filter(pl.col("suppressed") & pl.col("value").is_null()).height
        if not mine.is_empty() else 0,
        periods=points["period"].n_unique() if not points.is_empty() else 0,
        short_groups=sum(published[g] < MIN_SPC_POINTS for g in known),
        known_groups=len(known),
        routes=tuple(routes),
    )


def _test_made(gap: GapTrend | None, kind: str) -> bool:
    return gap is not None and spc_valid(kind) and bool(
        (gap.tests["periods"] >= MIN_TREND_PERIODS).any())


def _gap_trend(metric: registry.Metric, points: pl.DataFrame,
               dimension: str) -> GapTrend | None:
    if DIMENSIONS[dimension].reference is None or points.is_empty():
        return None
    return gap_trend(points, metric=metric, dimension=dimension)


def _gap_kinds(metric: registry.Metric, org: str, kind: str, dimension: str,
               kinds_held: tuple[str, ...]) -> tuple[str, ...]:
    """Other non-overlapping kinds whose gap trend test has enough periods for a group."""
    out = []
    for k in kinds_held:
        if k == kind or not spc_valid(k):
            continue
        result = _gap_trend(metric, queries.trend(metric.id, org, k, dimension)[0], dimension)
        if _test_made(result, k):
            out.append(k)
    return tuple(out)


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
    drawn = has_figures(points)
    level = queries.org_level(org)
    kinds_held = tuple(k for k in queries.period_kinds(metric_id)
                       if not queries.trend(metric_id, org, k, TOTAL)[0].is_empty())
    gap = _gap_trend(metric, points, dimension)
    spc_drawn = spc_valid(kind) and summaries.get(group, {}).get("available", False)
    return Trends(
        org=org, metric=metric, dimension=dimension, kind=kind, group=group,
        projection=projection, org_name=queries.org_name(org), level=level,
        synthetic=queries.current().synthetic, points=points, summaries=summaries,
        projected=projected, fits=fits, gaps=gaps,
        kinds_with_figures=() if drawn else tuple(k for k in kinds_held if k != kind),
        figure_levels=queries.figure_levels(metric_id),
        dimensions=queries.dimensions_at(metric_id, level),
        gap=gap,
        gap_kinds=() if gap is None or _test_made(gap, kind) else _gap_kinds(
            metric, org, kind, dimension, kinds_held),
        spc_options=None if spc_drawn else _spc_options(metric, org, kind, dimension, group,
                                                        points, summaries, kinds_held),
        kinds_held=kinds_held,
    )

