"""The store's tables: every column, its type and its meaning, in one place.

The loader checks frames against these specs; the definitions page and the README's data
dictionary are generated from the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SCHEMA_VERSION = 1

LEVELS = ("england", "region", "icb", "trust")
LEVEL_LABELS = {"england": "England", "region": "Region", "icb": "ICB / LMNS", "trust": "Trust"}
PERIOD_KINDS = {
    "quarter": "Quarter (3 months, financial-year quarters)",
    "half_year": "6 months (financial half-years: April to September, October to March)",
    "financial_year": "Financial year (April to March)",
    "rolling_12_months": "12 months, rolling (ending each quarter)",
    "calendar_year": "Calendar year",
    "rolling_3_years": "3 calendar years, rolling",
    "survey_year": "Survey year (women giving birth in February)",
    "month": "Month (monthly statistics)",
}


class SchemaError(ValueError):
    """A table does not match its documented schema."""


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    nullable: bool
    doc: str


COUNTS = (
    Column("source", pl.String(), False, "Publisher of the figure: MSDS, MBRRACE-UK, CQC or "
           "Performance dashboard (Annex 3), or Local for a user's own file."),
    Column("metric", pl.String(), False, "Metric id from the registry (e.g. `pph_1500`)."),
    Column("org_code", pl.String(), False, "Organisation code (`ENG` for England; ODS codes for "
           "real organisations; `SYN…` codes for fictional demo trusts)."),
    Column("org_level", pl.String(), False, "england, region, icb (ICB / LMNS) or trust."),
    Column("period_label", pl.String(), False, "Human label of the period, unique within a "
           "period kind (e.g. `2023-24`, `12 months to Mar 2025`)."),
    Column("period_kind", pl.String(), False, "quarter, half_year, financial_year, "
           "rolling_12_months, calendar_year, rolling_3_years, survey_year or month."),
    Column("period_start", pl.Date(), False, "First day covered."),
    Column("period_end", pl.Date(), False, "Last day covered."),
    Column("dimension", pl.String(), False, "Breakdown: total, ethnicity, deprivation_decile, "
           "deprivation_quintile or ethnicity_by_quintile."),
    Column("group", pl.String(), False, "Group within the dimension (`All` for the total)."),
    Column("group_order", pl.Int16(), False, "Display order of the group within its dimension "
           "(0 for the total)."),
    Column("numerator", pl.Int64(), True, "Count with the outcome, after disclosure control; "
           "null when withheld (a count of 1 to 7 below national level)."),
    Column("denominator", pl.Int64(), True, "Population at risk after disclosure control; null "
           "when withheld or not published."),
    Column("published_value", pl.Float64(), True, "The publisher's own value in the metric's "
           "display unit where it is computed from unrounded counts (rare-event rates) or is "
           "all the source gives; null otherwise."),
    Column("suppressed", pl.Boolean(), False, "True when the value must not be shown (small "
           "numbers); shown as `*`, never as zero."),
)

ORGANISATIONS = (
    Column("org_code", pl.String(), False, "Organisation code."),
    Column("name", pl.String(), False, "Organisation name."),
    Column("org_level", pl.String(), False, "england, region, icb or trust."),
    Column("region_code", pl.String(), True, "NHS England region code (Y56…Y63)."),
    Column("region", pl.String(), True, "NHS England region name."),
    Column("icb_code", pl.String(), True, "ICB / LMNS code (trusts only)."),
    Column("icb", pl.String(), True, "ICB / LMNS name (trusts only)."),
    Column("peer_group", pl.String(), True, "Peer group of similar trusts (by size and level "
           "of neonatal care) for fair comparison."),
    Column("successor_code", pl.String(), True, "Code of the organisation that took this one "
           "over after a merger."),
    Column("opened", pl.Date(), True, "Date the organisation opened, if known."),
    Column("closed", pl.Date(), True, "Date the organisation closed (for example by merger)."),
    Column("annual_births", pl.Int64(), True, "Approximate deliveries a year (for sizing "
           "points), rounded to the nearest 5."),
    Column("synthetic", pl.Boolean(), False, "True for fictional demonstration organisations."),
)

TABLES = {"counts": COUNTS, "organisations": ORGANISATIONS}


def polars_schema(table: str) -> dict[str, pl.DataType]:
    """Column name -> dtype for ``table``."""
    return {c.name: c.dtype for c in TABLES[table]}


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Select and cast ``frame`` to ``table``'s columns in order (for writers)."""
    return frame.select(pl.col(c.name).cast(c.dtype) for c in TABLES[table])


def validate(frame: pl.DataFrame, table: str, *, where: str = "") -> None:
    """Raise :class:`SchemaError` naming the first column that breaks ``table``'s schema."""
    place = f" in {where}" if where else ""
    expected = TABLES[table]
    missing = [c.name for c in expected if c.name not in frame.columns]
    if missing:
        raise SchemaError(f"{table}{place}: missing column(s) {', '.join(missing)}")
    for column in expected:
        actual = frame.schema[column.name]
        if actual != column.dtype:
            raise SchemaError(
                f"{table}{place}: column {column.name!r} has type {actual}, expected {column.dtype}"
            )
        if not column.nullable:
            nulls = frame[column.name].null_count()
            if nulls:
                raise SchemaError(
                    f"{table}{place}: column {column.name!r} has {nulls} empty value(s)"
                )
