"""Local figures beside the national ones.

For each comparison in a local file (one organisation, metric, period and dimension) every
local group gets its value and 95% CI from ``metrics.breakdown`` (the same methods and
suppression as the national figures), its ratio to the reference group when the file has
that group, and, for registry metrics, England's figure for the same period, dimension and
group from the national store (and the organisation's own national figure when the file
names an organisation the store holds), compared by the single-overlapping-CI rule. Local
indicators without a national metric get their own values (a percentage with a Wilson CI).
The national store is only read.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from data.local.parse import LOCAL_PERIOD, LOCAL_SOURCE, key
from metrics import breakdown as breakdown_mod
from metrics import registry
from metrics.categories import DIMENSIONS
from metrics.registry import Metric

MAX_COMPARISONS = 100  # bounds the work one upload asks of the server (a few seconds)
KEY = ("organisation", "metric", "period_label", "dimension")
ENGLAND = "ENG"
COMPARISON_COLUMNS = (
    "comparison", "organisation", "national_org_code", "national_org_name", "metric",
    "national_metric", "metric_title", "unit", "period", "national_period", "dimension",
    "group", "group_order", "is_reference", "numerator", "denominator", "suppressed",
    "status", "value", "lower95", "upper95", "ratio", "ratio_lower95", "ratio_upper95",
    "england_value", "england_lower95", "england_upper95", "england_status", "org_value",
    "org_lower95", "org_upper95", "org_status", "vs_england", "note", "local_source", "line",
    "england_breakdowns", "national_levels",
)


@dataclass(frozen=True)
class Comparison:
    """Every local row worked out (see :data:`COMPARISON_COLUMNS`), and how many
    comparisons the file holds and how many were worked out."""

    cells: pl.DataFrame
    total: int
    compared: int

    @property
    def left_out(self) -> int:
        return self.total - self.compared


def local_metric(name: str) -> Metric:
    """A registry-shaped definition for a local indicator: a share of its denominator."""
    return Metric(
        id=name, title=name, short_title=name, source=LOCAL_SOURCE, section="Local indicators",
        unit="%", multiplier=100, numerator="As counted in your file",
        denominator="As counted in your file", polarity=registry.NO_JUDGEMENT,
        statistic=registry.PROPORTION, disclosure=registry.WITHHOLD_SMALL,
        period_kinds=(LOCAL_PERIOD,), dimensions={},
        definition="A local indicator from your own file; no national figure to compare.",
    )


def metric_of(metric: str, national: bool) -> Metric:
    """The registry entry of a national metric, or :func:`local_metric`."""
    return registry.get(metric) if national else local_metric(metric)


def resolve_organisation(organisation: str, organisations: pl.DataFrame) -> dict | None:
    """The national store's organisation whose code or name is ``organisation`` (any case,
    spacing and punctuation as :func:`~data.local.parse.key`), or None."""
    wanted = key(organisation)
    for row in organisations.select("org_code", "name", "org_level").iter_rows(named=True):
        if key(row["org_code"]) == wanted or key(row["name"]) == wanted:
            return row
    return None


def national_periods(metric_id: str) -> dict[str, str]:
    """The national store's period labels of ``metric_id`` by their
    :func:`~data.local.parse.key` (how a local label is matched to one)."""
    return {key(held): held for kind in queries.period_kinds(metric_id)
            for held in queries.periods(metric_id, kind)}


class _Lookups:
    """What one comparison run asks of the national store, each asked once."""

    def __init__(self):
        self.orgs: dict[str, dict | None] = {}
        self.periods: dict[str, dict[str, str]] = {}
        self.dims: dict[tuple[str, str], tuple[str, ...]] = {}

    def organisation(self, organisation: str) -> dict | None:
        if organisation not in self.orgs:
            self.orgs[organisation] = resolve_organisation(organisation,
                                                           queries.organisations())
        return self.orgs[organisation]

    def period(self, metric_id: str, label: str) -> str | None:
        if metric_id not in self.periods:
            self.periods[metric_id] = national_periods(metric_id)
        return self.periods[metric_id].get(key(label))

    def dimensions(self, metric_id: str, level: str) -> tuple[str, ...]:
        if (metric_id, level) not in self.dims:
            self.dims[metric_id, level] = queries.dimensions_at(metric_id, level)
        return self.dims[metric_id, level]


def _prefixed(frame: pl.DataFrame | None, prefix: str) -> pl.DataFrame:
    columns = {"value": f"{prefix}_value", "lower95": f"{prefix}_lower95",
               "upper95": f"{prefix}_upper95", "status": f"{prefix}_status"}
    if frame is None:
        return pl.DataFrame(schema={"group": pl.String} | {
            name: pl.String if name.endswith("status") else pl.Float64
            for name in columns.values()})
    return frame.select("group", *(pl.col(k).alias(v) for k, v in columns.items()))


def _national(metric: Metric, organisation: str, label: str | None, period: str,
              dimension: str, lookups: _Lookups
              ) -> tuple[pl.DataFrame | None, pl.DataFrame | None, dict | None, list[str]]:
    """England's and the organisation's national breakdowns (or None) and notes on gaps."""
    notes: list[str] = []
    dim_words = DIMENSIONS[dimension].label.lower()
    org = lookups.organisation(organisation)
    if label is None:
        latest = queries.latest_period(metric.id)
        notes.append(f"The national data hold no figure for period “{period}”"
                     + (f" (their latest is “{latest}”)." if latest else "."))
        return None, None, org, notes
    england = None
    if dimension in lookups.dimensions(metric.id, "england"):
        england = queries.breakdown(metric.id, ENGLAND, label, dimension, "none")
    else:
        notes.append(f"{metric.source} does not publish this metric by {dim_words} for "
                     "England.")
    own = None
    if org is None:
        notes.append(f"“{organisation}” is not an organisation code or name in the national "
                     "data, so England is the national figure shown.")
    elif org["org_code"] != ENGLAND:
        if dimension in lookups.dimensions(metric.id, org["org_level"]):
            own = queries.breakdown(metric.id, org["org_code"], label, dimension, "none")
        else:
            notes.append(f"The national data have no figure for {org['name']} by "
                         f"{dim_words} for this metric.")
    return england, own, org, notes


def _one(part: pl.DataFrame, index: int, lookups: _Lookups) -> pl.DataFrame:
    first = part.row(0, named=True)
    national = first["national_metric"]
    metric = metric_of(first["metric"], national)
    organisation, period, dimension = first["organisation"], first["period_label"], \
        first["dimension"]
    england = own = org = None
    notes: list[str] = []
    label = None
    if national:
        label = lookups.period(metric.id, period)
        england, own, org, notes = _national(metric, organisation, label, period, dimension,
                                             lookups)
    else:
        notes.append("A local indicator: there is no national metric to set beside it.")
    frame = breakdown_mod.breakdown(
        part, metric=metric, org_code=first["org_code"], period_label=period,
        dimension=dimension, comparator=england,
    )
    groups = part.select("group", "local_source", "line")
    held = queries.held_dimensions(metric.id) if national else {}
    return (
        frame.join(groups, on="group", how="inner")
        .join(_prefixed(england, "england"), on="group", how="left")
        .join(_prefixed(own, "org"), on="group", how="left")
        .with_columns(
            comparison=pl.lit(index), organisation=pl.lit(organisation),
            national_org_code=pl.lit(org["org_code"] if org else None, pl.String),
            national_org_name=pl.lit(org["name"] if org else None, pl.String),
            metric=pl.lit(metric.id), national_metric=pl.lit(national),
            metric_title=pl.lit(metric.title), unit=pl.lit(metric.unit),
            national_period=pl.lit(label, pl.String),
            vs_england=pl.col("vs_comparator"), note=pl.lit(" ".join(notes)),
            # What the national store holds for the metric, for the note's words.
            england_breakdowns=pl.lit(list(held.get("england", ())), pl.List(pl.String)),
            national_levels=pl.lit(list(held), pl.List(pl.String)),
        )
        .sort("group_order")
        .select(COMPARISON_COLUMNS)
    )


def compare(local: pl.DataFrame, *, limit: int = MAX_COMPARISONS) -> Comparison:
    """Work out the first ``limit`` comparisons of a parsed local file (in file order).

    Parameters
    ----------
    local : the frame from :func:`data.local.parse.parse`.
    limit : at most this many comparisons (organisation, metric, period, dimension).

    Returns
    -------
    Comparison whose ``cells`` hold one row per local row: the local numerator,
    denominator, value and 95% CI (null where suppressed), the ratio to the reference group
    with its 95% CI, England's and the organisation's national value, CI and status for the
    same group, ``vs_england`` (better / similar / worse, or higher / lower) and a ``note``
    saying why any national figure is missing.
    """
    keys = local.select(KEY).unique(maintain_order=True)
    lookups = _Lookups()
    parts = []
    for index, row in enumerate(keys.head(limit).iter_rows(named=True)):
        part = local.filter(*(pl.col(k) == v for k, v in row.items()))
        parts.append(_one(part, index, lookups))
    cells = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    return Comparison(cells, keys.height, min(keys.height, limit))
