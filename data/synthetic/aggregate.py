"""Sum the simulated cube into published tables: every metric, level, period and breakdown,
then apply each source's disclosure rules (metrics.disclosure)."""

from __future__ import annotations

import polars as pl

from data.periods import Period
from data.synthetic.organisations import Geography
from metrics import categories as cat
from metrics import disclosure, registry
from metrics.registry import METRICS_LIST

# Numerator and denominator columns of the simulated cubes for each metric.
MEASURES = {
    "ethnicity_recorded": ("eth_known", "women"),
    "deprivation_known": ("dep_known", "women"),
    "booked_by_10_weeks": ("booked_by_10_weeks", "gestation_known"),
    "spontaneous_vaginal": ("spontaneous_vaginal", "mode_known"),
    "instrumental": ("instrumental", "mode_known"),
    "caesarean_planned": ("caesarean_planned", "mode_known"),
    "caesarean_emergency": ("caesarean_emergency", "mode_known"),
    "pph_1500": ("pph_1500", "women"),
    "preterm": ("preterm", "women"),
    "stillbirth": ("stillbirth", "women"),
    "neonatal_death": ("neonatal_death", "live_births"),
    "maternal_death": ("maternal_death", "women"),
    "concerns_taken_seriously": ("concerns_taken_seriously", "cqc_raised_concern"),
    "considered_complaint": ("considered_complaint", "cqc_answered_complaint"),
    "iol_delay": ("iol_delay", "inductions"),
    "optimal_perinatal_care": ("optimal_perinatal_care", "under_34_weeks"),
    "ou_suspension": ("ou_suspension", "ou_units"),
    "nnu_suspension": ("nnu_suspension", "nnu_units"),
    # A profile's denominator is every woman counted, whatever her group (see aggregate).
    "booking_population": ("women", "women"),
}
UNIT_METRICS = ("ou_suspension", "nnu_suspension")
# The ethnicity x deprivation cross-tab is produced for financial years only.
CROSS_TAB_KINDS = ("financial_year",)
LEVEL_COLUMN = {"england": "england", "region": "region_code", "icb": "icb_code",
                "trust": "trust_code"}


def _group_expr(dimension: str) -> pl.Expr:
    eth = pl.col("eth_label")
    if dimension == cat.TOTAL:
        return pl.lit(cat.ALL_GROUP)
    if dimension == cat.ETHNICITY:
        return eth
    if dimension == cat.DECILE:
        return pl.col("decile_label")
    if dimension == cat.QUINTILE:
        return pl.col("quintile_label")
    return pl.when(pl.col("eth").lt(5) & pl.col("dep").lt(10)).then(
        pl.concat_str([eth, pl.lit(" × "), pl.col("quintile_label").str.split(" ").list.first()])
    )


def _label_cube(cube: pl.DataFrame, geography: Geography) -> pl.DataFrame:
    trusts = geography.trusts
    lookup = pl.DataFrame(
        {
            "trust": list(range(len(trusts))),
            "trust_code": [t.code for t in trusts],
            "icb_code": [t.icb_code for t in trusts],
            "region_code": [t.region_code for t in trusts],
        },
        schema_overrides={"trust": pl.Int32},
    )
    eth_labels = list(cat.ETHNIC_GROUPS + cat.ETHNIC_UNKNOWN)
    decile_labels = list(cat.DECILES + cat.DEPRIVATION_UNKNOWN)
    quintile_labels = [cat.QUINTILES[d // 2] for d in range(10)] + ["Unknown"]
    out = cube.join(lookup, on="trust").with_columns(england=pl.lit("ENG"))
    if "eth" in cube.columns:
        out = out.with_columns(
            eth_label=pl.col("eth").map_elements(lambda i: eth_labels[i], return_dtype=pl.String),
            decile_label=pl.col("dep").map_elements(lambda i: decile_labels[i],
                                                    return_dtype=pl.String),
            quintile_label=pl.col("dep").map_elements(lambda i: quintile_labels[i],
                                                      return_dtype=pl.String),
        )
    return out


def _membership(periods: list[Period], kind: str) -> pl.DataFrame:
    rows = [(p.label, p.start, p.end, m) for p in periods if p.kind == kind for m in p.months]
    return pl.DataFrame(
        rows, schema=["period_label", "period_start", "period_end", "month"], orient="row"
    ).with_columns(pl.col("month").cast(pl.Int32), period_kind=pl.lit(kind))


def _wanted() -> dict[tuple[str, str, str], list[str]]:
    """(period kind, level, dimension) -> metric ids that publish it."""
    wanted: dict[tuple[str, str, str], list[str]] = {}
    for metric in METRICS_LIST:
        for level, dims in metric.dimensions.items():
            extra = ()
            if (cat.ETHNICITY in dims and cat.QUINTILE in dims and metric.source == registry.MSDS
                    and not metric.profile):
                extra = (cat.ETHNICITY_BY_QUINTILE,)
            for kind in metric.period_kinds:
                for dim in dims + (extra if kind in CROSS_TAB_KINDS else ()):
                    wanted.setdefault((kind, level, dim), []).append(metric.id)
    return wanted


def aggregate(
    person_cube: pl.DataFrame,
    unit_cube: pl.DataFrame,
    geography: Geography,
    periods: list[Period],
) -> pl.DataFrame:
    """Raw (unrounded) counts for every published cell, one row per metric and cell."""
    cubes = {"person": _label_cube(person_cube, geography),
             "unit": _label_cube(unit_cube, geography)}
    frames = []
    by_kind: dict[str, dict[tuple[str, str], list[str]]] = {}
    for (kind, level, dim), metric_ids in _wanted().items():
        by_kind.setdefault(kind, {})[(level, dim)] = metric_ids
    for kind, cells in by_kind.items():
        members = _membership(periods, kind)
        joined = {name: cube.join(members, on="month") for name, cube in cubes.items()}
        for (level, dim), metric_ids in cells.items():
            for name, cube in joined.items():
                ids = [m for m in metric_ids if (m in UNIT_METRICS) == (name == "unit")]
                if not ids:
                    continue
                needed = sorted({c for m in ids for c in MEASURES[m]})
                grouped = (
                    cube.with_columns(group=_group_expr(dim))
                    .filter(pl.col("group").is_not_null())
                    .group_by([LEVEL_COLUMN[level], "period_kind", "period_label",
                               "period_start", "period_end", "group"])
                    .agg(pl.col(c).sum() for c in needed)
                    .rename({LEVEL_COLUMN[level]: "org_code"})
                )
                for metric_id in ids:
                    num, den = MEASURES[metric_id]
                    denominator = pl.col(den)
                    if registry.get(metric_id).profile:
                        # Each group's share of everyone in the organisation and period,
                        # the not known groups included.
                        denominator = denominator.sum().over("org_code", "period_kind",
                                                             "period_label")
                    frames.append(
                        grouped.select(
                            metric=pl.lit(metric_id),
                            org_level=pl.lit(level),
                            org_code="org_code",
                            period_kind="period_kind",
                            period_label="period_label",
                            period_start="period_start",
                            period_end="period_end",
                            dimension=pl.lit(dim),
                            group="group",
                            raw_numerator=pl.col(num).cast(pl.Int64),
                            raw_denominator=denominator.cast(pl.Int64),
                        )
                    )
    return pl.concat(frames)


def apply_disclosure(raw: pl.DataFrame) -> pl.DataFrame:
    """Published counts from raw counts, following each metric's source rules (DATA.md)."""
    rules = pl.DataFrame(
        {
            "metric": [m.id for m in METRICS_LIST],
            "source": [m.source for m in METRICS_LIST],
            "rule": [m.disclosure for m in METRICS_LIST],
            "rare_event": [m.rare_event for m in METRICS_LIST],
            "multiplier": [float(m.multiplier) for m in METRICS_LIST],
        }
    )
    num, den = pl.col("raw_numerator"), pl.col("raw_denominator")
    national = pl.col("org_level") == "england"
    rounded = pl.col("rule") == registry.ROUND_TO_5
    controlled = pl.col("rule") != registry.NOT_PEOPLE

    def publish(count: pl.Expr) -> pl.Expr:
        return (
            pl.when(national | ~controlled).then(count)
            .when(rounded).then(disclosure.controlled_count(count, rounded=True))
            .otherwise(disclosure.controlled_count(count, rounded=False))
        )

    small = controlled & ~national & (disclosure.is_small(num) | disclosure.is_small(den))
    rare_hidden = pl.col("rare_event") & ~national & (num < disclosure.RARE_EVENT_MIN)
    dims = {d.id: d for d in cat.DIMENSIONS.values()}
    orders = pl.DataFrame(
        [(d, g, dims[d].order(g)) for d in dims for g in dims[d].all_groups],
        schema=["dimension", "group", "group_order"], orient="row",
    )
    return (
        raw.join(rules, on="metric")
        .join(orders, on=["dimension", "group"], how="left")
        .with_columns(
            numerator=publish(num),
            denominator=publish(den),
            # England's rare-event rates from unrounded counts; below England a rate from
            # unrounded counts would give its exact events (and, with them, its exact
            # births) for subtraction across trusts and periods, so it comes from the
            # rounded counts, as percentages do (DATA.md; the Methods page says why).
            published_value=pl.when(pl.col("rare_event") & national & (den > 0))
            .then(num / den * pl.col("multiplier")),
            suppressed=small | rare_hidden,
            group_order=pl.col("group_order").fill_null(0),
        )
        .with_columns(
            published_value=pl.when(pl.col("suppressed")).then(None)
            .otherwise(pl.col("published_value"))
        )
    )
