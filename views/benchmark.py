"""Benchmark's view model: chosen units (trusts, ICBs or regions) side by side, every unit
of a scope on a funnel (standard PHE limits or limits widened for over-dispersion), and
ranks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import overdispersion, registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL

ALL_PEERS = "all"  # the scope of every unit compared
# Units a funnel can compare, each with its plural in words.
LEVELS = {"trust": "trusts", "icb": "ICBs", "region": "regions"}
TRUST = "trust"
STANDARD = "standard"  # PHE funnel limits, not widened
LIMITS = {STANDARD: "Standard (PHE)", "phi": "Adjusted for over-dispersion (phi)",
          "tau2": "Adjusted for over-dispersion (tau²)"}
# What a scope may filter on at each level: the units' column holding its value.
SCOPE_COLUMNS = {"trust": ("peer_group", "icb_code", "region_code"), "icb": ("region_code",),
                 "region": ()}
SCOPE_KINDS = {"peer_group": "Peer group", "icb_code": "ICB", "region_code": "Region"}
# PHE funnel labels (metrics.benchmark), highest first, then the statuses that keep a trust
# off the funnel.
FUNNEL_LABELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)",
                 "Not significant")


def trust_metrics() -> list[str]:
    """Metrics published at trust level, the only ones trusts can be benchmarked on."""
    return [m.id for m in registry.outcome_metrics() if "trust" in m.levels]


def group_choices(dimension: str) -> list[str]:
    """The groups a funnel can show: all women, then each known group of the breakdown."""
    return [ALL_GROUP] + ([] if dimension == TOTAL else list(DIMENSIONS[dimension].groups))


def funnel_dimension(dimension: str, group: str) -> str:
    """The funnel's breakdown: the total for all women, else the chosen breakdown."""
    return TOTAL if group == ALL_GROUP else dimension


@dataclass(frozen=True)
class Scope:
    """A set of units to show: every one, or those of a peer group, an ICB or a region."""

    value: str  # ALL_PEERS, a peer group's name, or an ICB's or region's code
    label: str  # "Peer group: Large units", "ICB: Quarrystead Valley ICB"
    column: str | None  # the units' column it filters on (None: every unit)
    name: str  # in words: "the peer group “Large units”", "Quarrystead Valley ICB"


@dataclass(frozen=True)
class Choices:
    """What a Benchmark link may choose for one metric (see :func:`choices`)."""

    periods: tuple[str, ...]  # newest first within each kind
    latest: str
    dimensions: tuple[str, ...]  # breakdowns the store holds for trusts
    stored: frozenset[str]  # every dimension stored for trusts (cross-tabulations too)
    peer_groups: tuple[str, ...]
    levels: tuple[str, ...]  # units the metric can be compared across (trust first)
    level_dimensions: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]  # per level

    @property
    def units(self) -> pl.DataFrame:
        """Every trust, ICB and region (code, name, level, ICB, region) of the store: read
        from it, not held, so the cache keeps no copy of the organisations per metric (at
        1,200 trusts they were most of a Benchmark view's cached bytes)."""
        return queries.organisations().filter(pl.col("org_level").is_in(list(LEVELS)))

    @property
    def trusts(self) -> pl.DataFrame:
        """Every trust (code, name, peer group, closure)."""
        return self.units_at(TRUST)

    def dimensions_at(self, level: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """Breakdowns offered and every dimension stored for units of ``level``."""
        return next((offered, stored) for found, offered, stored in self.level_dimensions
                    if found == level)

    def units_at(self, level: str) -> pl.DataFrame:
        return self.units.filter(pl.col("org_level") == level)

    def scopes(self, level: str) -> tuple[Scope, ...]:
        """The scopes units of ``level`` can be shown within: every unit, then each peer
        group, ICB and region some of them belong to (as the level allows)."""
        every = Scope(ALL_PEERS, f"All {LEVELS[level]}", None, f"all {LEVELS[level]}")
        found = [every]
        for column in SCOPE_COLUMNS[level]:
            kind = SCOPE_KINDS[column]
            if column == "peer_group":
                found += [Scope(p, f"{kind}: {p}", column, f"the peer group “{p}”")
                          for p in self.peer_groups]
                continue
            held = self.units_at(level)[column].drop_nulls().unique().to_list()
            places = self.units_at(column.removesuffix("_code")).filter(
                pl.col("org_code").is_in(held))  # those holding some unit
            for code, name in places.sort("name").select("org_code", "name").iter_rows():
                found.append(Scope(code, f"{kind}: {name}", column, name))
        return tuple(found)

    def scope(self, level: str, value: str) -> Scope:
        return next(s for s in self.scopes(level) if s.value == value)


def _offered_levels(metric_id: str) -> tuple[str, ...]:
    """Levels of units the metric is published for and the store holds, trusts first."""
    metric = registry.get(metric_id)
    return tuple(level for level in LEVELS if level in metric.levels
                 and (level == TRUST or queries.dimensions_at(metric_id, level)))


@queries.cached
def choices(metric_id: str) -> Choices:
    """The periods, units, breakdowns and scopes on offer for ``metric_id``."""
    metric = registry.get(metric_id)
    trusts = queries.organisations().filter(pl.col("org_level") == TRUST)
    levels = _offered_levels(metric_id)
    return Choices(
        periods=tuple(p for kind in metric.period_kinds
                      for p in reversed(queries.periods(metric_id, kind))),
        latest=queries.latest_period(metric_id) or "",
        dimensions=queries.dimensions_at(metric_id, TRUST),
        stored=queries.stored_dimensions(metric_id, TRUST),
        peer_groups=tuple(sorted(trusts["peer_group"].drop_nulls().unique().to_list())),
        levels=levels,
        level_dimensions=tuple((level, queries.dimensions_at(metric_id, level),
                                queries.stored_dimensions(metric_id, level))
                               for level in levels),
    )


@dataclass(frozen=True)
class Chosen:
    """One chosen trust's breakdown (no comparator) and the recording behind it."""

    code: str
    name: str
    frame: pl.DataFrame  # metrics.breakdown for the trust
    completeness: dict | None  # recording of the breakdown's dimension there

    @property
    def reported(self) -> bool:
        """Whether the trust has any row: a value, or one marked suppressed."""
        return not self.frame.is_empty() and not (
            self.frame["value"].is_null().all() and not self.frame["suppressed"].any())


@dataclass(frozen=True)
class Benchmark:
    """Everything Benchmark shows for one view (see :func:`benchmark`)."""

    metric: registry.Metric
    period: str
    dimension: str
    group: str
    trusts: tuple[str, ...]  # the chosen units' codes (trusts, ICBs or regions)
    scope: Scope
    level: str  # the units compared: "trust", "icb" or "region"
    limits_method: str  # STANDARD, "phi" or "tau2"
    synthetic: bool
    chosen: tuple[Chosen, ...]  # in the order chosen
    england_groups: pl.DataFrame  # metrics.breakdown for England: the panels' benchmark
    ranked: pl.DataFrame  # metrics.benchmark for the funnel's group: every unit, ranked,
    # ``funnel`` the label against the limits drawn
    limits: pl.DataFrame  # the funnel's limits (long: limit, denominator, value)
    dispersion: overdispersion.Dispersion | None  # how much more units vary than chance
    england: float | None  # England's figure for the group: the benchmark line
    choices: Choices

    @property
    def funnel_dimension(self) -> str:
        return funnel_dimension(self.dimension, self.group)

    @property
    def units_word(self) -> str:
        """The units compared, plural: "trusts", "ICBs", "regions"."""
        return LEVELS[self.level]

    @property
    def adjusted(self) -> bool:
        """Whether the limits are widened for over-dispersion."""
        return self.limits_method != STANDARD

    @property
    def in_scope(self) -> pl.DataFrame:
        """The units of the scope (funnel and rank table), alphabetical as ``ranked``."""
        if self.scope.column is None:
            return self.ranked
        members = self.choices.units_at(self.level).filter(
            pl.col(self.scope.column) == self.scope.value)["org_code"]
        return self.ranked.filter(pl.col("org_code").is_in(members.to_list()))

    @property
    def peer_ranked(self) -> pl.DataFrame:
        """The rank table's units: the scope's, best first, then unranked."""
        return self.in_scope.sort(pl.col("rank_overall"), pl.col("name"), nulls_last=True)

    @property
    def funnel_counts(self) -> dict[str, int]:
        """How many of the scope's units carry each PHE funnel label; how many are
        suppressed, have no data, and in all (key ``trusts``)."""
        frame = self.in_scope
        found = dict(frame.group_by("funnel").len().iter_rows())
        counts = {label: found.get(label, 0) for label in FUNNEL_LABELS}
        for status in ("suppressed", "no data"):
            counts[status] = frame.filter(pl.col("status") == status).height
        counts["trusts"] = frame.height
        return counts

    @property
    def plotted(self) -> int:
        """Units with a figure on the funnel."""
        c = self.funnel_counts
        return c["trusts"] - c["suppressed"] - c["no data"]

    @property
    def unreported(self) -> list[str]:
        """Names of the chosen units with no row at all in the period (merged or closed)."""
        return [c.name for c in self.chosen if not c.reported]

    @property
    def poorly_recorded(self) -> list[Chosen]:
        """Chosen units whose recording makes the breakdown unreliable."""
        return [c for c in self.chosen if c.completeness and c.completeness["poor"]]


def england_value(metric_id: str, period: str, dimension: str, group: str) -> float | None:
    """England's figure for ``group``: the funnel's benchmark line and its limits' centre."""
    frame = queries.breakdown(metric_id, "ENG", period, dimension, "none")
    row = frame.filter(pl.col("group") == group)
    value = None if row.is_empty() else row["value"][0]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else value


def dispersion_of(ranked: pl.DataFrame, metric: registry.Metric, england: float | None
                  ) -> overdispersion.Dispersion | None:
    """How much more the units vary than chance allows; None with fewer than 2 units or a
    benchmark of 0 (or 100%), about which no spread can be taken."""
    try:
        return overdispersion.benchmark_dispersion(ranked, metric=metric, average=england)
    except ValueError:
        return None


def funnel_of(metric_id: str, period: str, dimension: str, group: str, level: str,
              method: str, england: float | None
              ) -> tuple[pl.DataFrame, pl.DataFrame, overdispersion.Dispersion | None]:
    """Every unit with its funnel label, the limits, and the over-dispersion estimate, for
    the standard PHE limits or limits widened by ``method`` ("phi" or "tau2"). The estimate
    is taken over every unit of the level, whatever scope is shown."""
    metric = registry.get(metric_id)
    ranked = queries.benchmark(metric_id, period, dimension, group, level)
    fit = dispersion_of(ranked, metric, england)
    if method == STANDARD or fit is None:
        return ranked, queries.funnel(metric_id, period, dimension, group, level), fit
    widened = overdispersion.adjusted_benchmark(ranked, metric=metric, method=method,
                                                average=england, fit=fit)
    return (widened.with_columns(funnel=pl.col("funnel_adjusted")).drop("funnel_adjusted"),
            overdispersion.adjusted_funnel_curve(ranked, metric=metric, method=method,
                                                 average=england, fit=fit), fit)


@queries.cached
def benchmark(metric_id: str, period: str, dimension: str, group: str,
              trusts: tuple[str, ...], scope: str, level: str = TRUST,
              method: str = STANDARD) -> Benchmark:
    """The Benchmark model of a view already parsed (valid metric, period, breakdown,
    group, unit codes of ``level``, scope and limits)."""
    shown = funnel_dimension(dimension, group)
    on_offer = choices(metric_id)
    names = dict(on_offer.units.select("org_code", "name").iter_rows())
    england = england_value(metric_id, period, shown, group)
    ranked, limits, fit = funnel_of(metric_id, period, shown, group, level, method, england)
    return Benchmark(
        metric=registry.get(metric_id), period=period, dimension=dimension, group=group,
        trusts=trusts, scope=on_offer.scope(level, scope), level=level,
        limits_method=method, synthetic=queries.current().synthetic,
        chosen=tuple(Chosen(code=code, name=names.get(code, code),
                            frame=queries.breakdown(metric_id, code, period, dimension, "none"),
                            completeness=queries.completeness(code, period, dimension))
                     for code in trusts),
        england_groups=queries.breakdown(metric_id, "ENG", period, dimension, "none"),
        ranked=ranked, limits=limits, dispersion=fit, england=england, choices=on_offer,
    )
