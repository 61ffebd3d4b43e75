"""The Overview's headline gaps: each metric's most affected group against the reference
group, as one forest plot, the table under it (what is downloaded) and the sentence beside
it. Facts in (the ``gaps`` frame of ``views.overview``: one row per metric and breakdown),
text, frames and a figure out.
"""

from __future__ import annotations

import polars as pl

from components import figures
from components import format as fmt
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import DIMENSIONS, ETHNICITY, QUINTILE
from metrics.registry import PROPORTION

SYMBOLS = {"suppressed": "*", "no data": ":"}
REFERENCE_WORDS = {ETHNICITY: "White women", QUINTILE: "the least deprived quintile"}
RATIO_DECIMALS = 2


def short_group(group: str) -> str:
    """A group as a chart's row names it: "Q1" for "Q1 (most deprived)"."""
    return group.split(" ")[0] if group in DIMENSIONS[QUINTILE].groups else group


def label(row: dict) -> str:
    """A row of the chart: "PPH ≥1,500 ml: Black vs White", or "PPH ≥1,500 ml: by
    ethnicity" where no group could be compared."""
    title = registry.get(row["metric"]).short_title
    if row["status"] != "ok":
        return f"{title}: by {DIMENSIONS[row['dimension']].label.lower()}"
    return f"{title}: {short_group(row['group'])} vs {short_group(row['reference'])}"


def ratio_text(row: dict) -> str:
    return fmt.number(row["ratio"], RATIO_DECIMALS)


def interval_text(row: dict) -> str:
    """The ratio's 95% CI, "1.25 to 1.41" (":" where it is not worked out)."""
    if fmt.missing(row["ratio_lower95"]) or fmt.missing(row["ratio_upper95"]):
        return ":"
    return (f"{fmt.number(row['ratio_lower95'], RATIO_DECIMALS)} to "
            f"{fmt.number(row['ratio_upper95'], RATIO_DECIMALS)}")


def direction(row: dict) -> str:
    """Which side of the reference the group lies: "higher (worse)", "lower (better)",
    "higher" (no judgement) or "the same"."""
    if row["ratio"] == 1:
        return "the same"
    metric = registry.get(row["metric"])
    high, low = polarity_word(metric)
    side, judged = ("higher", high) if row["ratio"] > 1 else ("lower", low)
    return side if metric.polarity == registry.NO_JUDGEMENT else f"{side} ({judged})"


def significance(row: dict) -> str:
    """The gap in words for the table: "Significant: higher (worse)", "Not significant";
    the symbol where the comparison is withheld or there are no figures."""
    if row["status"] != "ok":
        return SYMBOLS[row["status"]]
    if row["gap_significant"]:
        return f"Significant: {direction(row)}"
    return "Not significant"


def table_rows(gaps: pl.DataFrame) -> pl.DataFrame:
    """The chart as a table, one row per metric and breakdown in the chart's order, as
    shown and downloaded: ``*`` where small numbers withhold the comparison, ``:`` where
    there are no figures."""
    rows = []
    for row in gaps.iter_rows(named=True):
        metric = registry.get(row["metric"])
        symbol = SYMBOLS.get(row["status"])
        d = metric.decimals
        rows.append({
            "Section": row["section"],
            "Metric": metric.title,
            "Breakdown": DIMENSIONS[row["dimension"]].label,
            "Period": row["period"],
            "Most affected group": symbol or row["group"],
            "Reference group": row["reference"],
            "Unit": metric.unit,
            "Group's value": symbol or fmt.number(row["value"], d),
            "Reference value": symbol or fmt.number(row["reference_value"], d),
            "Ratio": symbol or ratio_text(row),
            "Ratio 95% CI": symbol or interval_text(row),
            "Gap": significance(row),
        })
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows \
        else pl.DataFrame()


def hover(row: dict) -> str:
    """A point's hover: both groups' values, the ratio with its CI and its period."""
    metric = registry.get(row["metric"])
    who = fmt.subject(row["group"], row["dimension"], metric)
    reference = fmt.subject(row["reference"], row["dimension"], metric)
    judged = "significant" if row["gap_significant"] else "not significant"
    return (f"<b>{figures.plain(metric.title)}</b><br>"
            f"{who}: {fmt.value(metric, row['value'])}<br>"
            f"{reference}: {fmt.value(metric, row['reference_value'])}<br>"
            f"Ratio {ratio_text(row)} (95% CI {interval_text(row)}): {judged}, "
            f"{direction(row)}<br>{row['period']}")


def forest_rows(gaps: pl.DataFrame) -> pl.DataFrame:
    """The rows :func:`components.figures.forest` draws: section, label (escaped), ratio
    and its CI, significance, status and hover text."""
    rows = list(gaps.iter_rows(named=True))
    return gaps.select("section", "ratio", "ratio_lower95", "ratio_upper95", "status").with_columns(
        label=pl.Series([figures.plain(label(r)) for r in rows], dtype=pl.String),
        significant=pl.Series([bool(r["gap_significant"]) for r in rows], dtype=pl.Boolean),
        hover=pl.Series([hover(r) if r["status"] == "ok" else "" for r in rows],
                        dtype=pl.String),
    )


def sources(gaps: pl.DataFrame) -> str:
    """The publishers of the metrics compared, in registry order: "MSDS, MBRRACE-UK"."""
    return ", ".join(dict.fromkeys(registry.get(m).source for m in gaps["metric"])) or "none"


def references(gaps: pl.DataFrame) -> str:
    """The reference groups compared with: "White women or the least deprived quintile"."""
    held = set(gaps["dimension"])
    return fmt.join_words([words for d, words in REFERENCE_WORDS.items() if d in held], "or")


def _metrics_word(n: int) -> str:
    return f"{n} metric" if n == 1 else f"{n} metrics"


def largest_words(row: dict) -> str:
    """The largest gap: "Maternal death: Black women, 3.44 times the rate for White women
    (95% CI 2.31 to 5.12)"."""
    metric = registry.get(row["metric"])
    noun = "share" if metric.statistic == PROPORTION else "rate"
    who = fmt.subject(row["group"], row["dimension"], metric)
    reference = fmt.subject(row["reference"], row["dimension"], metric)
    return (f"{metric.short_title}: {who}, {ratio_text(row)} times the {noun} for "
            f"{reference} (95% CI {interval_text(row)})")


def sentence(counts: tuple[int, int], largest: dict | None) -> str:
    """"N of M metrics show a significant gap; largest: ..." (``counts`` and ``largest`` as
    the model's ``gap_counts`` and ``largest_gap``)."""
    significant, compared = counts
    if not compared:
        return ("No gap between groups can be worked out here: every comparison is "
                "suppressed because of small numbers or has no figures.")
    what = "between groups (95% CI of the ratio excludes 1)"
    if not significant:
        return f"None of the {_metrics_word(compared)} compared shows a significant gap {what}."
    verb = "shows" if significant == 1 else "show"
    return (f"{significant} of {_metrics_word(compared)} {verb} a significant gap {what}; "
            f"largest: {largest_words(largest)}.")
