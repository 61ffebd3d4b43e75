"""Roll trusts up into any set: a region, an ICB/LMNS, a peer group or a user's choice.

Published trust counts are already rounded and small ones withheld, so a roll-up sums what
was published and says so: where any member trust's count for a cell was withheld, the
roll-up cell is suppressed (its total is unknown), never computed as if the trust had zero.
"""

from __future__ import annotations

import polars as pl

from metrics.disclosure import RARE_EVENT_MIN

KEYS = ("source", "metric", "period_label", "period_kind", "period_start", "period_end",
        "dimension", "group", "group_order")


def rollup(counts: pl.DataFrame, *, org_codes: tuple[str, ...], code: str,
           level: str = "custom", rare_event: bool = False) -> pl.DataFrame:
    """Sum the trust rows of ``org_codes`` into cells for a new organisation ``code``.

    Returns rows in the counts schema plus ``members`` (trusts with a row for the cell) and
    ``withheld`` (members whose count was withheld). ``suppressed`` is True when
    ``withheld > 0``, or for a ``rare_event`` metric when the summed events are fewer than
    ``RARE_EVENT_MIN`` (a rate from few events is not shown, at any level). Rare-event
    values are recomputed from the members' published values weighted by denominator when
    every member has one, else from the summed counts.
    """
    members = counts.filter(
        pl.col("org_code").cast(pl.String).is_in(list(org_codes))
        & (pl.col("org_level") == "trust")
    )
    withheld = pl.col("numerator").is_null() | pl.col("denominator").is_null()
    rate_parts = pl.col("published_value") * pl.col("denominator")
    return (
        members.group_by(list(KEYS))
        .agg(
            numerator=pl.col("numerator").sum(),
            denominator=pl.col("denominator").sum(),
            weighted=rate_parts.sum(),
            has_rate=pl.col("published_value").is_not_null().all(),
            members=pl.len(),
            withheld=withheld.sum(),
        )
        .with_columns(
            org_code=pl.lit(code),
            org_level=pl.lit(level),
            suppressed=(pl.col("withheld") > 0)
            | (rare_event & (pl.col("numerator") < RARE_EVENT_MIN)),
            published_value=pl.when(pl.col("has_rate") & (pl.col("denominator") > 0))
            .then(pl.col("weighted") / pl.col("denominator")),
        )
        .with_columns(
            numerator=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("numerator")),
            published_value=pl.when(pl.col("suppressed")).then(None)
            .otherwise(pl.col("published_value")),
        )
        .drop("weighted", "has_rate")
    )
