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


# -- excess events ------------------------------------------------------------------------

MINUS = "\u2212"  # a real minus sign: a leading "-" would be read as a formula in a CSV


def round_people(value: float) -> int:
    """A modelled number of people rounded for reading: whole numbers below 20, the nearest
    5 below 1,000, three significant figures from 1,000 (1,237 -> 1,240)."""
    size = abs(value)
    step = 1 if size < 20 else 5 if size < 1000 else 10 ** (int(math.log10(size)) - 2)
    return int(math.copysign(math.floor(size / step + 0.5) * step, value))


def people_number(value: float) -> str:
    """:func:`round_people` with thousands separators and a minus sign, e.g. ``−1,240``."""
    rounded = round_people(value)
    return f"{MINUS if rounded < 0 else ''}{abs(rounded):,}"


def period_words(label: str) -> str:
    """A period label for running text: "the 12 months to Mar 2025", "2024-25"."""
    return f"the {label}" if label.startswith("12 months") or label.endswith("survey") \
        else label


def _ci_words(low: float, high: float, word: str, opposite: str) -> str:
    """A 95% CI of an amount of ``word`` ("fewer"); a limit on the other side of zero is
    said with ``opposite`` ("5 more to 55 fewer")."""
    if round_people(low) >= 0:
        return f"95% CI {people_number(low)} to {people_number(high)}"
    return f"95% CI {people_number(-low)} {opposite} to {people_number(high)} {word}"


def _excess_words(excess: float, lower: float, upper: float) -> tuple[str, str]:
    """("about 40 fewer", "95% CI 25 to 55") for an excess and its CI; "about the same
    number" when it rounds to 0. A positive excess means fewer at the reference rate."""
    if round_people(excess) == 0:
        return "about the same number", _ci_words(lower, upper, "fewer", "more")
    if excess > 0:
        return f"about {people_number(excess)} fewer", _ci_words(lower, upper, "fewer", "more")
    return f"about {people_number(-excess)} more", _ci_words(-upper, -lower, "more", "fewer")


def excess_sentence(metric: Metric, excess: float, lower: float, upper: float, *, who: str,
                    condition: str, lead: str = "") -> str:
    """How many fewer (or more) people would have had the outcome, in words.

    ``excess`` is observed minus expected at the reference rate, with its 95% CI: a
    positive excess means fewer people would have had the outcome at the reference rate.
    E.g. "About 40 fewer Black women (95% CI 25 to 55) would have had a postpartum
    haemorrhage of 1,500 ml or more if they had had the same rate as White women."
    """
    amount, ci = _excess_words(excess, lower, upper)
    outcome = f"would have {metric.counterfactual_phrase} {condition}"
    body = f"{amount} of {who} {outcome} ({ci})" if amount.endswith("number") else \
        f"{amount} {who} ({ci}) {outcome}"
    text = f"{lead}{body}" if lead else body[0].upper() + body[1:]
    return f"{text}."


def _people(metric: Metric) -> str:
    return "babies" if metric.subject == "babies" else "women"


def excess_group_sentence(row: dict, metric: Metric, dimension: str) -> str | None:
    """:func:`excess_sentence` for one row of ``metrics.excess.excess_events`` (None where
    the row has no figure or is the reference group)."""
    if row.get("status") != "ok" or missing(row.get("excess")):
        return None
    reference = DIMENSIONS[dimension].reference
    return excess_sentence(
        metric, row["excess"], row["excess_lower95"], row["excess_upper95"],
        who=subject(row["group"], dimension, metric),
        condition=f"if they had had the same rate as {subject(reference, dimension, metric)}")


def excess_total_sentence(total: dict, metric: Metric, dimension: str,
                          period: str | None = None) -> str | None:
    """:func:`excess_sentence` for ``metrics.excess.total_excess`` (None if unavailable),
    optionally led by the period ("In the 12 months to Mar 2025, about ...")."""
    if not total.get("available"):
        return None
    groups = "ethnic group" if dimension == ETHNICITY else "group"
    reference = subject(total["reference"], dimension, metric)
    return excess_sentence(
        metric, total["excess"], total["excess_lower95"], total["excess_upper95"],
        who=_people(metric),
        condition=f"if every {groups} had had the same rate as {reference}",
        lead=f"In {period_words(period)}, " if period else "")


def excess_short(row: dict, metric: Metric, dimension: str) -> str | None:
    """One group's excess in a few words: "Black women: about 290 fewer (95% CI 220 to
    360)"; None where the row has no figure or is the reference group."""
    if row.get("status") != "ok" or missing(row.get("excess")):
        return None
    who = subject(row["group"], dimension, metric)
    amount, ci = _excess_words(row["excess"], row["excess_lower95"], row["excess_upper95"])
    return f"{who[0].upper()}{who[1:]}: {amount} ({ci})"


def excess_cell(row: dict) -> str:
    """A group's excess for tables and downloads: "290 (220 to 360)", "−20 (−32 to −8)";
    ``0`` for the reference group, ``*`` where it would rest on a suppressed cell, ``:``
    where not available."""
    status = row.get("status")
    if status == "reference":
        return "0"
    if status == "suppressed":
        return "*"
    if status != "ok" or missing(row.get("excess")):
        return ":"
    return (f"{people_number(row['excess'])} ({people_number(row['excess_lower95'])} to "
            f"{people_number(row['excess_upper95'])})")


# -- what changed -------------------------------------------------------------------------

RULE_WORDS = {
    "Above UCL": "the latest point is above the upper process limit",
    "Below LCL": "the latest point is below the lower process limit",
    "7 Point Trend (Increasing)": "7 or more points in a row have risen",
    "7 Point Trend (Decreasing)": "7 or more points in a row have fallen",
    "7 Points Above CL": "7 or more points in a row lie above the average",
    "7 Points Below CL": "7 or more points in a row lie below the average",
    "2 in 3 Above CL": "2 of 3 recent points lie close to the upper process limit",
    "2 in 3 Below CL": "2 of 3 recent points lie close to the lower process limit",
}
SIGNAL_WORDS = {"better": "special-cause improvement", "worse": "special-cause concern",
                "higher": "special-cause variation (unusually high)",
                "lower": "special-cause variation (unusually low)"}


def _ratio_words(ratio: float, lower: float | None = None, upper: float | None = None,
                 note: str = "", noun: str = "") -> str:
    """"1.45 times the rate (95% CI 1.10 to 1.90)", "1.10 times (not significant)"."""
    ci = f"95% CI {lower:.2f} to {upper:.2f}" if not (missing(lower) or missing(upper)) else ""
    inside = ", ".join(p for p in (ci, note) if p)
    return f"{ratio:.2f} times" + (f" the {noun}" if noun else "") + \
        (f" ({inside})" if inside else "")


def change_sentence(row: dict, metric: Metric) -> str:
    """One change from ``metrics.changes.rank_changes`` in words, e.g. "PPH ≥1,500 ml: a
    significant gap opened. Black women fared worse than White women in the 12 months to
    Mar 2025: 1.45 times the rate (95% CI 1.10 to 1.90), against 1.10 times (not
    significant) in the 12 months to Mar 2024."
    """
    dimension, title = row["dimension"], metric.short_title
    who = subject(row["group"], dimension, metric)
    if row["kind"] == "spc_signal":
        said = SIGNAL_WORDS.get(row["direction"], "special-cause variation")
        rule = RULE_WORDS.get(row["rule"], row["rule"])
        return f"{title}, {who}: {said} in {period_words(row['period'])}: {rule}."
    noun = "share" if metric.statistic == PROPORTION else "rate"
    ref_who = subject(DIMENSIONS[dimension].reference, dimension, metric)
    judged = row["direction"] in ("better", "worse")
    side = f"fared {row['direction']}" if judged else f"had a {row['direction']} {noun}"
    now = _ratio_words(row["ratio"], row["ratio_lower95"], row["ratio_upper95"],
                       "" if row["kind"] == "gap_opened" else "not significant", noun)
    lead = f"{who[0].upper()}{who[1:]}"
    if row["kind"] == "gap_opened":
        before = _ratio_words(row["previous_ratio"], note="not significant")
        return (f"{title}: a significant gap opened. {lead} {side} than {ref_who} in "
                f"{period_words(row['period'])}: {now}, against {before} in "
                f"{period_words(row['previous_period'])}.")
    before = _ratio_words(row["previous_ratio"], note="significant")
    return (f"{title}: a significant gap closed. {lead} no longer differ significantly from "
            f"{ref_who} in {period_words(row['period'])}: {now}, against {before} "
            f"in {period_words(row['previous_period'])}, when they {side}.")
