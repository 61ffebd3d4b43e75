"""Benchmark's view model: chosen trusts side by side, every trust on a funnel, and ranks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL

ALL_PEERS = "all"
# PHE funnel labels (metrics.benchmark), highest first, then the statuses that keep a trust
# off the funnel.
FUNNEL_LABELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)",
                 "Not significant")


def trust_metrics() -> list[str]:
    """Metrics published at trust level, the only ones trusts can be benchmarked on."""
    return [m.id for m in registry.OUTCOME_METRICS if "trust" in m.levels]


def group_choices(dimension: str) -> list[str]:
    """The groups a funnel can show: all women, then each known group of the breakdown."""
    return [ALL_GROUP] + ([] if dimension == TOTAL else list(DIMENSIONS[dimension].groups))


def funnel_dimension(dimension: str, group: str) -> str:
    """The funnel's breakdown: the total for all women, else the chosen breakdown."""
    return TOTAL if group == ALL_GROUP else dimension


@dataclass(frozen=True)
class Choices:
    """What a Benchmark link may choose for one metric (see :func:`choices`)."""

    periods: tuple[str, ...]  # newest first within each kind
    latest: str
    dimensions: tuple[str, ...]  # breakdowns the store holds for trusts
    stored: frozenset[str]  # every dimension stored for trusts (cross-tabulations too)
    trusts: pl.DataFrame  # every trust (code, name, peer group, closure)
    peer_groups: tuple[str, ...]


@queries.cached
def choices(metric_id: str) -> Choices:
    """The periods, breakdowns, trusts and peer groups on offer for ``metric_id``."""
    metric = registry.get(metric_id)
    trusts = queries.organisations().filter(pl.col("org_level") == "trust")
    return Choices(
        periods=tuple(p for kind in metric.period_kinds
                      for p in reversed(queries.periods(metric_id, kind))),
        latest=queries.latest_period(metric_id) or "",
        dimensions=queries.dimensions_at(metric_id, "trust"),
        stored=queries.stored_dimensions(metric_id, "trust"),
        trusts=trusts,
        peer_groups=tuple(sorted(trusts["peer_group"].drop_nulls().unique().to_list())),
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
    trusts: tuple[str, ...]
    peer: str
    synthetic: bool
    chosen: tuple[Chosen, ...]  # in the order chosen
    ranked: pl.DataFrame  # metrics.benchmark for the funnel's group: every trust, ranked
    limits: pl.DataFrame  # metrics.benchmark.funnel_curve around England's value
    england: float | None  # England's figure for the group: the benchmark line
    choices: Choices

    @property
    def funnel_dimension(self) -> str:
        return funnel_dimension(self.dimension, self.group)

    @property
    def peer_ranked(self) -> pl.DataFrame:
        """The rank table's trusts: the peer group's (or all), best first, then unranked."""
        frame = self.ranked if self.peer == ALL_PEERS else \
            self.ranked.filter(pl.col("peer_group") == self.peer)
        return frame.sort(pl.col("rank_overall"), pl.col("name"), nulls_last=True)

    @property
    def funnel_counts(self) -> dict[str, int]:
        """How many trusts carry each PHE funnel label; how many are suppressed, have no
        data, and in all."""
        found = dict(self.ranked.group_by("funnel").len().iter_rows())
        counts = {label: found.get(label, 0) for label in FUNNEL_LABELS}
        for status in ("suppressed", "no data"):
            counts[status] = self.ranked.filter(pl.col("status") == status).height
        counts["trusts"] = self.ranked.height
        return counts

    @property
    def plotted(self) -> int:
        """Trusts with a figure on the funnel."""
        c = self.funnel_counts
        return c["trusts"] - c["suppressed"] - c["no data"]

    @property
    def unreported(self) -> list[str]:
        """Names of the chosen trusts with no row at all in the period (merged or closed)."""
        return [c.name for c in self.chosen if not c.reported]

    @property
    def poorly_recorded(self) -> list[Chosen]:
        """Chosen trusts whose recording makes the breakdown unreliable."""
        return [c for c in self.chosen if c.completeness and c.completeness["poor"]]


def england_value(metric_id: str, period: str, dimension: str, group: str) -> float | None:
    """England's figure for ``group``: the funnel's benchmark line and its limits' centre."""
    frame = queries.breakdown(metric_id, "ENG", period, dimension, "none")
    row = frame.filter(pl.col("group") == group)
    value = None if row.is_empty() else row["value"][0]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else value


@queries.cached
def benchmark(metric_id: str, period: str, dimension: str, group: str,
              trusts: tuple[str, ...], peer: str) -> Benchmark:
    """The Benchmark model of a view already parsed (valid metric, period, breakdown,
    group, trust codes and peer group)."""
    shown = funnel_dimension(dimension, group)
    on_offer = choices(metric_id)
    names = dict(on_offer.trusts.select("org_code", "name").iter_rows())
    return Benchmark(
        metric=registry.get(metric_id), period=period, dimension=dimension, group=group,
        trusts=trusts, peer=peer, synthetic=queries.current().synthetic,
        chosen=tuple(Chosen(code=code, name=names.get(code, code),
                            frame=queries.breakdown(metric_id, code, period, dimension, "none"),
                            completeness=queries.completeness(code, period, dimension))
                     for code in trusts),
        ranked=queries.benchmark(metric_id, period, shown, group),
        limits=queries.funnel(metric_id, period, shown, group),
        england=england_value(metric_id, period, shown, group),
        choices=on_offer,
    )
