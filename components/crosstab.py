"""Ethnicity by deprivation quintile: the cells of the cross-tabulation, their significance
marks and the table that goes under the heat map (and into its CSV)."""

from __future__ import annotations

import polars as pl

from components import tables
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY_BY_QUINTILE, QUINTILES
from metrics.registry import Metric

SEPARATOR = " × "
HIGHER, LOWER = "▲", "▼"
# Quintile as written in a cell's group ("Q1") -> its full label.
QUINTILE_LABELS = {q.split(" ")[0]: q for q in QUINTILES}


def reference() -> str:
    """The reference cell, "White × Q5"."""
    return DIMENSIONS[ETHNICITY_BY_QUINTILE].reference or ""


def split(group: str) -> tuple[str, str]:
    """("Black", "Q1 (most deprived)") for the cell "Black × Q1"."""
    ethnicity, quintile = group.split(SEPARATOR)
    return ethnicity, QUINTILE_LABELS.get(quintile, quintile)


def significance(row: dict) -> str:
    """A cell's comparison with the reference cell, in words with its mark."""
    if row["is_reference"]:
        return "Reference"
    if row["status"] == "suppressed":
        return "*"
    if row["status"] != "ok" or row["ratio"] is None:
        return ":"
    if row["gap_significant"]:
        return f"Higher {HIGHER}" if row["ratio"] > 1 else f"Lower {LOWER}"
    return "Not significant"


def cell_rows(frame: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Every cell as shown: ethnicity, quintile, counts, value, CI, ratio to the reference
    cell with its CI and significance; ``*`` suppressed, ``:`` not available."""
    if frame.is_empty():
        return pl.DataFrame()
    shown = tables.breakdown_rows(frame, metric, None)
    ratio_column = f"Ratio to {reference()} (95% CI)"
    parts = [split(g) for g in frame["group"]]
    return shown.drop("Group").rename({"Ratio to reference (95% CI)": ratio_column}).select(
        pl.Series("Ethnicity", [e for e, _ in parts]),
        pl.Series("Deprivation quintile", [q for _, q in parts]),
        pl.all(),
    ).with_columns(
        pl.when(pl.Series([bool(r) for r in frame["is_reference"]]))
        .then(pl.lit("1.00 (reference)")).otherwise(pl.col(ratio_column)).alias(ratio_column),
        Significance=pl.Series([significance(r) for r in frame.iter_rows(named=True)]),
    )


# Who publishes each source's statistics, for saying what is not published.
PUBLISHERS = {registry.MSDS: "NHS Digital"}


def not_published(metric: Metric, where: str) -> str:
    """Why there is no heat map: the publisher gives no cross-tabulation here."""
    publisher = PUBLISHERS.get(metric.source, metric.source)
    return (f"{publisher} does not publish {metric.title[0].lower()}{metric.title[1:]} by "
            f"ethnicity and deprivation together {where}, so there is nothing to show here. "
            "Explore shows it by ethnicity and by deprivation separately.")


def summary(frame: pl.DataFrame) -> str:
    """How many cells differ significantly from the reference cell, which is furthest, and
    how many are suppressed."""
    others = frame.filter(~pl.col("is_reference"))
    marks = [significance(r) for r in others.iter_rows(named=True)]
    higher = sum(m.startswith("Higher") for m in marks)
    lower = sum(m.startswith("Lower") for m in marks)
    hidden = marks.count("*")
    text = (f"Of the {others.height} cells compared with {reference()}, {higher} "
            f"{'is' if higher == 1 else 'are'} significantly higher ({HIGHER}) and {lower} "
            f"lower ({LOWER})")
    text += f"; {hidden} {'is' if hidden == 1 else 'are'} suppressed (*)." if hidden else "."
    significant = others.filter(pl.col("gap_significant").fill_null(False))
    if significant.height:
        top = significant.with_columns(size=pl.col("ratio").log().abs()).sort(
            "size", descending=True).row(0, named=True)
        text += (f" Furthest from the reference: {top['group']}, {top['ratio']:.2f} times "
                 f"(95% CI {top['ratio_lower95']:.2f} to {top['ratio_upper95']:.2f}).")
    return text
