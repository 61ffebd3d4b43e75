"""Numbers and sentences for people: values with units, intervals, gap statements."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from metrics.registry import PROPORTION, Metric, is_local

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


# -- what the loaded store holds ------------------------------------------------------------
# These sentences say what the data store holds, worked out from it by the caller
# (``data.queries.dimensions_at``, ``figure_levels``, ``summed_from_trusts``), so that they are
# true of whichever store is loaded: the demo store, or a real one with totals only.

LEVEL_ADJECTIVES = {"england": "England", "region": "region", "icb": "ICB / LMNS",
                    "trust": "trust"}
LEVEL_ONE = {"england": "England", "region": "a region", "icb": "an ICB / LMNS",
             "trust": "a trust"}
LEVEL_FIGURES = {"england": "England's figures", "region": "region figures",
                 "icb": "ICB / LMNS figures", "trust": "trust figures"}


def join_words(items: Sequence[str], word: str = "and") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def title_words(metric: Metric) -> str:
    """The metric's title for running text: "stillbirth rate"; a network's local indicator,
    titled freely, is quoted as written: "“On a continuity of carer pathway (Local)”"."""
    if is_local(metric):
        return f"“{metric.title}”"
    return metric.title[0].lower() + metric.title[1:]


def _breakdown_words(dimensions: Sequence[str], word: str = "and") -> str:
    return join_words([DIMENSIONS[d].label.lower() for d in dimensions if d != TOTAL], word)


def _plural(level: str) -> str:
    return PUBLISHED_LEVELS.get(level, level)


def no_figure_note(metric: Metric, *, org_name: str, level: str | None, period: str | None,
                   levels: dict[str, bool], left_out: str | None = None) -> str:
    """Why there is nothing to show: the store holds no figure for the organisation, and
    which levels have one instead.

    ``levels`` maps each level holding the metric's total in the period to whether any of
    its figures can be shown (``data.queries.figure_levels``). E.g. "This data store holds
    no stillbirth rate figure for England in 2024. It holds figures for trusts and ICBs /
    LMNSs in 2024. Its region figures for 2024 are all suppressed (small numbers)."
    ``left_out`` is why no sum of the organisation's trusts was made (``data.queries.
    sum_left_out``).
    """
    when = f" in {period}" if period else ""
    if not period and not levels:
        return f"This data store holds no figures for {title_words(metric)}."
    said = f"This data store holds no {title_words(metric)} figure for {org_name}{when}."
    if left_out:
        said += (f" It sums {LEVEL_FIGURES.get(level or '', 'these figures')} from their "
                 f"trusts but made none for {org_name}{when}: it has {left_out}.")
    shown = [f"other {_plural(lv)}" if lv == level else _plural(lv)
             for lv, ok in levels.items() if ok]
    hidden = [LEVEL_ADJECTIVES.get(lv, lv) for lv, ok in levels.items() if not ok]
    if shown:
        said += f" It holds figures for {join_words(shown)}{when}."
    if hidden:
        said += (f" Its {join_words(hidden)} figures{f' for {period}' if period else ''} are "
                 "all suppressed (small numbers).")
    if not levels:
        said += f" It holds no figures for this metric{when} for any organisation."
    return said


def suppressed_note(*, org_name: str, period: str, groups: int) -> str:
    """Every figure for the organisation is withheld: "...'s figure for 2024 is suppressed"."""
    what = f"{org_name}'s figure" if groups <= 1 else f"Every group's figure for {org_name}"
    return (f"{what} for {period} is suppressed (small numbers), so there is nothing to draw. "
            "Try a longer period or a larger organisation.")


def breakdowns_note(metric: Metric, level: str | None,
                    held: dict[str, tuple[str, ...]]) -> str | None:
    """Which breakdowns the store holds for the metric, when some the registry lists are
    missing at ``level``; None when every one is held there.

    ``held`` maps each level to the breakdowns the store holds for the metric there
    (``data.queries.dimensions_at``). E.g. "This data store holds stillbirth rate by
    ethnicity and deprivation quintile for England and regions only, so trust figures are
    totals." or "This data store holds stillbirth rate as totals only: no figures by
    ethnicity or deprivation quintile for any organisation."
    """
    wanted = [d for d in metric.breakdowns if d != TOTAL]
    here = [d for d in held.get(level or "", ()) if d != TOTAL]
    missing = [d for d in wanted if d not in here]
    if not missing or not any(held.values()):
        return None
    title = title_words(metric)
    elsewhere = [lv for lv in metric.levels if lv != level
                 and any(d in held.get(lv, ()) for d in missing)]
    if elsewhere:
        dims = [d for d in missing if any(d in held[lv] for lv in elsewhere)]
        said = (f"This data store holds {title} by {_breakdown_words(dims)} for "
                f"{join_words([_plural(lv) for lv in elsewhere])} only")
        if not here:
            return f"{said}, so {LEVEL_FIGURES.get(level or '', 'these figures')} are totals."
        return f"{said}; here it holds it by {_breakdown_words(here)}."
    if not here:
        return (f"This data store holds {title} as totals only: no figures by "
                f"{_breakdown_words(missing, 'or')} for any organisation.")
    return f"This data store holds {title} by {_breakdown_words(here)} only, not by " \
        f"{_breakdown_words(missing, 'or')}."


def breakdown_levels(metric: Metric, level: str | None,
                     held: dict[str, tuple[str, ...]]) -> list[str]:
    """The other levels where the store holds a breakdown of the metric (registry order)."""
    return [lv for lv in metric.levels if lv != level
            and any(d != TOTAL for d in held.get(lv, ()))]


def choose_levels_words(levels: Sequence[str]) -> str:
    """"Choose England or a region to see the gaps between groups." (empty if none)."""
    if not levels:
        return ""
    return (f"Choose {join_words([LEVEL_ONE.get(lv, lv) for lv in levels], 'or')} to see the "
            "gaps between groups.")


def total_only_hint(metric: Metric, level: str | None,
                    held: dict[str, tuple[str, ...]]) -> str:
    """What to say in place of gap statements when the total is shown."""
    if any(d != TOTAL for d in held.get(level or "", ())):
        return "Choose a breakdown to see gaps between groups."
    if breakdown_levels(metric, level, held):
        return ("This data store holds no breakdown for this organisation, so there are no "
                "gaps between groups to state.")
    return ("This data store holds totals only, so there are no gaps between groups to "
            "state.")


def dimension_not_held(metric: Metric, dimension: str, *, org_name: str, shown: str,
                       held: bool = False) -> str:
    """The notice for a link asking for a breakdown that cannot be shown: one the store does
    not hold there, or (``held``) one it holds that is not a breakdown of this view (the
    ethnicity by deprivation cross-tabulation, shown on Intersections)."""
    label, instead = DIMENSIONS[dimension].label, DIMENSIONS[shown].label.lower()
    if held:
        return f"{label} is shown on the Intersections page, not here; showing {instead}."
    return (f"This data store holds no {title_words(metric)} by {label.lower()} for "
            f"{org_name}; showing {instead}.")


def summed_note(level: str | None, summed: dict) -> str:
    """How an ICB / LMNS, region or England figure was made from its trusts
    (``data.queries.summed_from_trusts``; England's says which trusts it sums)."""
    if summed.get("note"):
        return str(summed["note"])
    whose = LEVEL_ADJECTIVES.get(level or "", "this")
    as_at, file = summed.get("as_at"), summed.get("file")
    placed = (f" as ODS placed them on {as_at:%-d %B %Y}" + (f" ({file})" if file else "")
              if as_at else " (the ODS edition used is not recorded)")
    return (f"Summed from its trusts{placed}: no file loaded gives this {whose} figure "
            "itself. A sum is suppressed where any member trust's figure was withheld.")


def england_summed_note(note: str) -> str:
    """Beside a comparison with England where England's figure is a sum of trusts
    (``data.queries.england_sum_note``)."""
    return f"Compared with England's figure as this data store sums it. {note}"


def england_series_note(periods: Sequence[str]) -> str:
    """Beside a series over time whose England figures for ``periods`` are sums of trusts."""
    return (f"England's figures for {join_words(list(periods))} are sums of the trusts whose "
            "counts the source file publishes (no file gives England's own figure), so they "
            "leave out trusts whose counts were withheld.")


def no_england_note(metric: Metric, period: str) -> str:
    return (f"Not compared with England: this data store holds no England figure for "
            f"{title_words(metric)} in {period}.")


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


def more_or_fewer(value: float) -> str:
    """A modelled number of people in words, the way round :func:`people_number` signs it:
    ``−4`` is "4 fewer", ``16`` is "16 more", and one that rounds to 0 is "0"."""
    rounded = round_people(value)
    if rounded == 0:
        return "0"
    return f"{abs(rounded):,} {'more' if rounded > 0 else 'fewer'}"


def excess_words(excess: float, lower: float, upper: float) -> tuple[str, str]:
    """An excess and its 95% CI in words, the same way round as :func:`excess_cell`: the
    cell "−4 (−16 to 8)" is said ("about 4 fewer", "95% CI 16 fewer to 8 more"); "about the
    same number" when the excess rounds to 0.

    The excess is observed minus expected at the reference rate, so "more" always means
    more people had the outcome than at the reference rate. Words and cells round with the
    same :func:`round_people`, so they cannot disagree.
    """
    amount = "about the same number" if round_people(excess) == 0 else \
        f"about {more_or_fewer(excess)}"
    return amount, f"95% CI {more_or_fewer(lower)} to {more_or_fewer(upper)}"


def _compared(amount: str) -> str:
    """"than" after "about 4 fewer", "as" after "about the same number"."""
    return "as" if amount.endswith("number") else "than"


def excess_sentence(metric: Metric, excess: float, lower: float, upper: float, *, who: str,
                    condition: str, lead: str = "") -> str:
    """How many more (or fewer) people had the outcome than at the reference rate, in words.

    ``excess`` is observed minus expected at the reference rate, with its 95% CI, worded by
    :func:`excess_words` (the same way round as the table). E.g. "About 40 more Black women
    (95% CI 25 more to 55 more) had a postpartum haemorrhage of 1,500 ml or more than if
    they had had the same rate as White women."
    """
    amount, ci = excess_words(excess, lower, upper)
    people = f"{amount} of {who}" if amount.endswith("number") else f"{amount} {who}"
    body = f"{people} ({ci}) {metric.phrase} {_compared(amount)} {condition}"
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
    """One group's excess in a few words (:func:`excess_words`): "Black women: about 290
    more (95% CI 220 more to 360 more) than at the rate of White women"; None where the row
    has no figure or is the reference group."""
    if row.get("status") != "ok" or missing(row.get("excess")):
        return None
    who = subject(row["group"], dimension, metric)
    reference = subject(DIMENSIONS[dimension].reference, dimension, metric)
    amount, ci = excess_words(row["excess"], row["excess_lower95"], row["excess_upper95"])
    return f"{who[0].upper()}{who[1:]}: {amount} ({ci}) {_compared(amount)} at the rate of " \
        f"{reference}"


def excess_cell(row: dict) -> str:
    """A group's excess for tables and downloads: "290 (220 to 360)", "−20 (−32 to −8)";
    ``0`` for the reference group, ``*`` where it would rest on a suppressed cell, ``:``
    where not available. :func:`excess_words` says the same numbers the same way round."""
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


SYNTHETIC = "Synthetic demonstration data."


def synthetic_note(synthetic: bool) -> str:
    """`` Synthetic demonstration data.`` to follow a source line, or nothing for real data."""
    return f" {SYNTHETIC}" if synthetic else ""
