"""Selecting cells of the counts table (frames in, frames out, no I/O)."""

from __future__ import annotations

import polars as pl

from metrics.categories import DIMENSIONS

CELL_COLUMNS = ("metric", "org_code", "org_level", "period_label", "period_kind",
                "period_start", "period_end", "dimension", "group", "group_order",
                "numerator", "denominator", "published_value", "suppressed")


def select(
    counts: pl.DataFrame,
    *,
    metric: str,
    org_codes: str | tuple[str, ...] | None = None,
    period_label: str | None = None,
    period_kind: str | None = None,
    dimension: str | None = None,
    group: str | None = None,
) -> pl.DataFrame:
    """Rows of ``counts`` matching every given filter, with string columns as ``String``."""
    predicates = [pl.col("metric") == metric]
    if isinstance(org_codes, str):
        predicates.append(pl.col("org_code") == org_codes)
    elif org_codes is not None:
        predicates.append(pl.col("org_code").cast(pl.String).is_in(list(org_codes)))
    for column, wanted in (("period_label", period_label), ("period_kind", period_kind),
                           ("dimension", dimension), ("group", group)):
        if wanted is not None:
            predicates.append(pl.col(column) == wanted)
    out = counts.filter(*predicates).select(CELL_COLUMNS)
    return out.with_columns(pl.col(c).cast(pl.String) for c in out.columns
                            if out.schema[c] in (pl.Categorical, pl.Enum))


def complete_groups(cells: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """``cells`` of one organisation and period with a row for every group of ``dimension``.

    Groups absent from the data appear with null counts (shown as "no data", never zero).
    """
    dim = DIMENSIONS[dimension]
    frame = pl.DataFrame(
        {"group": list(dim.all_groups), "group_order": [dim.order(g) for g in dim.all_groups]},
        schema={"group": pl.String, "group_order": pl.Int16},
    )
    return frame.join(cells.drop("group_order"), on="group", how="left").with_columns(
        pl.col("suppressed").fill_null(False), dimension=pl.lit(dimension)
    ).sort("group_order")


# Periods back to the same period a year earlier: half-years come twice a year, quarters and
# rolling 12 months every quarter (and rolling windows overlap, so only a year apart are they
# independent).
YEAR_STEP = {"quarter": 4, "half_year": 2, "rolling_12_months": 4}


def year_earlier_step(period_kind: str) -> int:
    """How many periods of ``period_kind`` back is the comparable period a year earlier."""
    return YEAR_STEP.get(period_kind, 1)


def periods(counts: pl.DataFrame, *, metric: str, period_kind: str | None = None) -> pl.DataFrame:
    """Distinct periods of ``metric`` (kind, label, start, end), oldest first."""
    frame = counts.filter(pl.col("metric") == metric)
    if period_kind:
        frame = frame.filter(pl.col("period_kind") == period_kind)
    return (
        frame.select("period_kind", "period_label", "period_start", "period_end")
        .unique()
        .with_columns(pl.col("period_kind", "period_label").cast(pl.String))
        # Ties (a financial year and the rolling year ending with it) in a fixed order.
        .sort("period_end", "period_start", "period_kind", "period_label")
    )
