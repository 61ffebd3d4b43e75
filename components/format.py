"""Numbers and sentences for people: values with units, intervals, gap statements."""

from __future__ import annotations

import math

import polars as pl

from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from metrics.registry import PROPORTION, Metric

SUPPRESSED = "suppressed"
COMPARISON_WORDS = {
    "better": "better than", "worse": "worse than", "similar": "similar to",
    "higher": "higher than", "lower": "lower than",
}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, decimals: int = 1) -> str:
    return "–" if missing(value) else f"{value:,.{decimals}f}"


def count(value: int | None, suppressed: bool = False) -> str:
    """A published count for running text and hovers (``0`` as a number); ``*`` where
    withheld. Tables and downloads use :func:`count_cell`."""
    if suppressed and missing(value):
        return "*"
    return ":" if missing(value) else f"{int(value):,}"


def value(metric: Metric, v: float | None) -> str:
    return metric.format_value(None if missing(v) else v)


def interval(metric: Metric, lower: float | None, upper: float | None, level: str = "95%") -> str:
    if missing(lower) or missing(upper):
        return ""
    d = metric.decimals
    return f"{level} CI {lower:,.{d}f} to {upper:,.{d}f}"


def subject(group: str, dimension: str, metric: Metric) -> str:
    """Who a group is, in words: "Black women", "babies of women in the most deprived decile"."""
    people = "women" if metric.subject != "babies" else "babies"
    if dimension == TOTAL:
        return f"all {people}"
    if dimension == ETHNICITY:
        base = f"{group} women" if group in DIMENSIONS[ETHNICITY].groups else \
            f"women whose ethnicity is {group.lower()}"
    elif dimension in (DECILE, QUINTILE):
        kind = "decile" if dimension == DECILE else "quintile"
        label = group.split(" ")[0]
        if "most" in group:
            base = f"women in the most deprived {kind} ({label})"
        elif "least" in group:
            base = f"women in the least deprived {kind} ({label})"
        elif group == "Unknown":
            base = "women whose deprivation is unknown"
        else:
            base = f"women in deprivation {kind} {label}"
    else:
        base = f"women in group {group}"
    return f"babies of {base}" if people == "babies" else base


def gap_statement(row: dict, metric: Metric, dimension: str) -> str | None:
    """A plain-English statement of a group's significant gap to the reference group.

    Returns None unless the gap is statistically significant (95% CI of the ratio excludes 1).
    """
    if not row.get("gap_significant") or missing(row.get("ratio")):
        return None
    reference = DIMENSIONS[dimension].reference
    who = subject(row["group"], dimension, metric)
    ref_who = subject(reference, dimension, metric)
    shown = value(metric, row["value"])
    ratio = f"{row['ratio']:.2f} times (95% CI {row['ratio_lower95']:.2f} to " \
            f"{row['ratio_upper95']:.2f})"
    noun = "the share" if metric.statistic == PROPORTION else "the rate"
    ref_value = row.get("reference_value")
    ref_text = f" ({value(metric, ref_value)})" if not missing(ref_value) else ""
    lead = f"{shown} of {who}" if metric.unit == "%" else f"{shown} {who}"
    return f"{lead[0].upper()}{lead[1:]} {metric.phrase}: {ratio} {noun} for {ref_who}{ref_text}."


def comparison(vs: str | None, comparator: str) -> str:
    if not vs or vs == "not compared":
        return f"not compared with {comparator}"
    return f"{COMPARISON_WORDS.get(vs, vs)} {comparator}"


def gap_statements(frame: pl.DataFrame, metric: Metric, dimension: str) -> list[str]:
    """Plain-English statements of every significant gap in a breakdown frame.

    Parameters
    ----------
    frame : a frame from ``data.queries.breakdown`` (columns ``is_reference``, ``value``,
        ``gap_significant``, ``ratio`` and its limits, ``group``).
    metric, dimension : the metric and the breakdown the frame holds.

    Returns
    -------
    One sentence per group whose ratio to the reference group is significant at 95% (see
    :func:`gap_statement`), in the frame's order; empty for the total or when no gap is.
    """
    if frame.is_empty() or dimension == TOTAL:
        return []
    reference = frame.filter(pl.col("is_reference"))
    ref_value = reference["value"][0] if reference.height else None
    out = []
    for row in frame.iter_rows(named=True):
        text = gap_statement(row | {"reference_value": ref_value}, metric, dimension)
        if text:
            out.append(text)
    return out


def count_cell(value: int | None, suppressed: bool = False) -> str:
    """A count for tables and downloads with DATA.md's symbols: ``*`` suppressed,
    ``:`` not available, ``-`` zero."""
    if suppressed and missing(value):
        return "*"
    if missing(value):
        return ":"
    return "-" if int(value) == 0 else f"{int(value):,}"


PUBLISHED_LEVELS = {"england": "England", "region": "regions", "icb": "ICBs / LMNSs",
                    "trust": "trusts"}


def published_levels_note(metric: Metric, level: str | None) -> str | None:
    """Why some breakdowns are missing at ``level``, or None when all are published there.

    E.g. "MBRRACE-UK publishes “Stillbirth rate” by ethnicity and deprivation quintile for
    England and regions only, so trust figures are totals."
    """
    dims = metric.dimensions_at(level or "")
    missing_dims = [d for d in metric.breakdowns if d not in dims]
    if not missing_dims or level in (None, "england"):
        return None
    where = " and ".join(PUBLISHED_LEVELS[lv] for lv in metric.levels
                         if len(metric.dimensions_at(lv)) > 1)
    what = " and ".join(DIMENSIONS[d].label.lower() for d in missing_dims)
    kind = {"region": "region", "icb": "ICB / LMNS", "trust": "trust"}.get(level, level)
    if len(dims) <= 1:
        return (f"{metric.source} publishes “{metric.title}” by {what} for {where} only, so "
                f"{kind} figures are totals.")
    return f"{metric.source} does not publish “{metric.title}” by {what} at this level."
