"""Is the gap closing? Each group's gap to the reference group over time in words and
tables, from :func:`metrics.gap_trend.gap_trend` (facts in, text and frames out)."""

from __future__ import annotations

import math

import polars as pl

from components import format as fmt
from metrics.categories import DIMENSIONS
from metrics.gap_trend import (
    IMPROVING,
    INDEX_GROUP,
    MIN_TREND_PERIODS,
    NARROWING,
    NO_CHANGE,
    WIDENING,
)
from metrics.registry import Metric

RATIO_DECIMALS = 2
INDEX_WORDS = "the deprivation gradient as a whole (RII)"


def group_label(group: str) -> str:
    """A group's name in the gap table and legend ("SII / RII" for the whole gradient)."""
    return f"{INDEX_GROUP} (whole gradient)" if group == INDEX_GROUP else group


def pair_words(first: str, second: str) -> str:
    """Two subjects joined without repeating their shared words: "Black and White women"."""
    a, b = first.split(" "), second.split(" ")
    head = 0
    while head < min(len(a), len(b)) - 1 and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head - 1 and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head:len(a) - tail], b[head:len(b) - tail]
    return " ".join(a[:head] + middle_a + ["and"] + middle_b + a[len(a) - tail:])


def gap_words(group: str, dimension: str, metric: Metric) -> str:
    """Whose gap it is: "the gap between Black and White women"."""
    if group == INDEX_GROUP:
        return f"the gap across {INDEX_WORDS}"
    reference = DIMENSIONS[dimension].reference
    return "the gap between " + pair_words(fmt.subject(group, dimension, metric),
                                           fmt.subject(reference, dimension, metric))


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def _signed(factor: float) -> str:
    return f"{(factor - 1) * 100:+.1f}%"


def change_words(test: dict) -> str:
    """The ratio's change a year with its 95% CI: "falls by 12.0% a year (95% CI 3.1% to
    20.1%; p = 0.012)"; a change that is not significant keeps its sign."""
    slope, lower, upper = test["slope"], test["slope_lower95"], test["slope_upper95"]
    p = f"p = {test['p_value']:.3f}" if test["p_value"] >= 0.001 else "p < 0.001"
    if test["verdict"] == NO_CHANGE:
        return (f"changes by {_signed(math.exp(slope))} a year (95% CI "
                f"{_signed(math.exp(lower))} to {_signed(math.exp(upper))}; {p})")
    if slope < 0:
        return (f"falls by {_percent((1 - math.exp(slope)) * 100)} a year (95% CI "
                f"{_percent((1 - math.exp(upper)) * 100)} to "
                f"{_percent((1 - math.exp(lower)) * 100)}; {p})")
    return (f"rises by {_percent((math.exp(slope) - 1) * 100)} a year (95% CI "
            f"{_percent((math.exp(lower) - 1) * 100)} to "
            f"{_percent((math.exp(upper) - 1) * 100)}; {p})")


def _direction_words(test: dict, dimension: str, metric: Metric) -> str:
    """Whether a significant change is good news for the group, where the metric says."""
    if not test.get("direction"):
        return ""
    what = "an improvement" if test["direction"] == IMPROVING else "a worsening"
    if test["group"] == INDEX_GROUP:
        whom = "the most deprived relative to the least deprived"
    else:
        whom = (f"{fmt.subject(test['group'], dimension, metric)} relative to "
                f"{fmt.subject(DIMENSIONS[dimension].reference, dimension, metric)}")
    return f" For {whom}, this is {what}."


def verdict_sentence(test: dict, dimension: str, metric: Metric) -> str:
    """One group's trend test in words (a row of ``GapTrend.tests``)."""
    whose = gap_words(test["group"], dimension, metric)
    ratio = "RII" if test["group"] == INDEX_GROUP else "ratio"
    if test["verdict"] is None:
        n = test["periods"]
        return (f"Too few periods to tell whether {whose} is changing: {n} "
                f"{'period has' if n == 1 else 'periods have'} both figures published; the "
                f"test needs at least {MIN_TREND_PERIODS}.")
    change = change_words(test)
    if test["verdict"] == NO_CHANGE:
        return f"No significant change in {whose}: the {ratio} {change}."
    lead = f"{whose[0].upper()}{whose[1:]} is {test['verdict']}"
    return f"{lead}: the {ratio} {change}.{_direction_words(test, dimension, metric)}"


def verdict_sentences(tests: pl.DataFrame, dimension: str, metric: Metric) -> list[str]:
    return [verdict_sentence(t, dimension, metric) for t in tests.iter_rows(named=True)]


def _withheld(points: pl.DataFrame, dimension: str) -> dict[str, set[str]]:
    """Period -> the known groups whose figure is withheld (small numbers)."""
    known = DIMENSIONS[dimension].groups
    hidden = points.filter(pl.col("suppressed") & pl.col("value").is_null()
                           & pl.col("group").is_in(list(known)))
    out: dict[str, set[str]] = {}
    for group, period in hidden.select("group", "period").iter_rows():
        out.setdefault(period, set()).add(group)
    return out


def _missing_cell(group: str, period: str, withheld: dict[str, set[str]],
                  reference: str) -> str:
    """``*`` where a figure behind the gap is withheld, ``:`` where there is none."""
    hidden = withheld.get(period, set())
    blocked = bool(hidden) if group == INDEX_GROUP else bool(hidden & {group, reference})
    return "*" if blocked else ":"


def _interval(lower, upper, decimals: int) -> str | None:
    if fmt.missing(lower) or fmt.missing(upper):
        return None
    return f"{fmt.number(lower, decimals)} to {fmt.number(upper, decimals)}"


def gap_rows(series: pl.DataFrame, points: pl.DataFrame, metric: Metric,
             dimension: str) -> pl.DataFrame:
    """The gap series as a table: one row per group and period, DATA.md symbols."""
    withheld = _withheld(points, dimension)
    reference = DIMENSIONS[dimension].reference
    d = metric.decimals
    difference = f"Difference ({metric.unit})"
    out = []
    for row in series.iter_rows(named=True):
        symbol = _missing_cell(row["group"], row["period"], withheld, reference)
        cells = {
            "Ratio": None if fmt.missing(row["ratio"])
            else fmt.number(row["ratio"], RATIO_DECIMALS),
            "Ratio 95% CI": _interval(row["ratio_lower95"], row["ratio_upper95"],
                                      RATIO_DECIMALS),
            difference: None if fmt.missing(row["difference"])
            else fmt.number(row["difference"], d),
            "Difference 95% CI": _interval(row["difference_lower95"],
                                           row["difference_upper95"], d),
        }
        out.append({"Group": group_label(row["group"]), "Period": row["period"]}
                   | {k: symbol if v is None else v for k, v in cells.items()})
    return pl.DataFrame(out) if out else pl.DataFrame()


VERDICT_WORDS = {NARROWING: "Narrowing", WIDENING: "Widening",
                 NO_CHANGE: "No significant change", None: "Too few periods"}


def trend_test_rows(tests: pl.DataFrame) -> pl.DataFrame:
    """The trend test per group: periods tested, the ratio's change a year with its CI."""
    out = []
    for t in tests.iter_rows(named=True):
        tested = t["verdict"] is not None
        out.append({
            "Group": group_label(t["group"]), "Periods tested": str(t["periods"]),
            "Ratio change a year": _signed(math.exp(t["slope"])) if tested else ":",
            "95% CI": f"{_signed(math.exp(t['slope_lower95']))} to "
                      f"{_signed(math.exp(t['slope_upper95']))}" if tested else ":",
            "p": (f"{t['p_value']:.3f}" if t["p_value"] >= 0.001 else "<0.001")
            if tested else ":",
            "Gap": VERDICT_WORDS[t["verdict"]],
        })
    return pl.DataFrame(out) if out else pl.DataFrame()
