"""Builders for Data quality: each trust's recording of ethnicity or deprivation against
England's funnel and the reliability threshold, in words, as a table, and the headline over
a selection of trusts. Facts in (frames of ``metrics.benchmark``), text and frames out."""

from __future__ import annotations

import polars as pl

from components import format as fmt
from metrics.benchmark import polarity_word
from metrics.registry import Metric

# PHE funnel labels as words: which limit a trust is beyond, and on which side.
FUNNEL_WORDS = {"High (0.001)": ("Above the 99.8% limit", "high"),
                "High (0.025)": ("Above the 95% limit", "high"),
                "Low (0.001)": ("Below the 99.8% limit", "low"),
                "Low (0.025)": ("Below the 95% limit", "low"),
                "Not significant": ("Within the limits", None)}


def funnel_words(label: str | None, status: str, metric: Metric) -> str:
    """A trust's funnel position in words, with the metric's polarity."""
    if status == "suppressed":
        return "*"
    if label is None or label not in FUNNEL_WORDS:
        return ":"
    words, side = FUNNEL_WORDS[label]
    if side is None:
        return words
    high, low = polarity_word(metric)
    return f"{words} ({high if side == 'high' else low})"


def threshold_words(value: float | None, status: str, threshold: float) -> str:
    """"Below 90%" or "Meets 90%": the flag in words, never colour alone."""
    if status == "suppressed":
        return "*"
    if fmt.missing(value):
        return ":"
    return f"Below {threshold:g}%" if value < threshold else f"Meets {threshold:g}%"


def trust_rows(frame: pl.DataFrame, metric: Metric, threshold: float) -> pl.DataFrame:
    """The trust table as shown on screen and downloaded (DATA.md symbols), one row per
    trust of ``frame`` (``metrics.benchmark`` with the trusts' names, regions and peers)."""
    out = []
    for row in frame.iter_rows(named=True):
        shown = row["status"] == "ok"
        symbol = "*" if row["status"] == "suppressed" else ":"
        out.append({
            "Trust": row["name"],
            "Region": row["region"] or ":",
            "ICB / LMNS": row["icb"] or ":",
            "Peer group": row["peer_group"] or ":",
            "Women booked": fmt.count_cell(row["denominator"], row["suppressed"]),
            "Recorded": fmt.count_cell(row["numerator"], row["suppressed"]),
            f"{metric.short_title} (%)": fmt.number(row["value"], metric.decimals)
            if shown else symbol,
            "95% CI": f"{fmt.number(row['lower95'], metric.decimals)} to "
                      f"{fmt.number(row['upper95'], metric.decimals)}" if shown else symbol,
            "Against England (funnel)": funnel_words(row["funnel"], row["status"], metric),
            f"Threshold ({threshold:g}%)": threshold_words(row["value"], row["status"],
                                                           threshold),
        })
    return pl.DataFrame(out) if out else pl.DataFrame()


def headline_sentences(counts: dict, metric: Metric, *, threshold: float, period: str,
                       region_name: str | None, england: float | None) -> tuple[str, list[str]]:
    """The headline's lead (how many trusts are below the threshold) and its details (the
    lowest trust, England's value, trusts without a figure). ``counts``: trusts ``shown``
    (with a figure), ``below`` the threshold, ``missing`` a figure and the ``lowest`` row."""
    where = f" in {region_name}" if region_name else ""
    measure = f"{threshold:g}% threshold for {metric.short_title.lower()} in {period}."
    if not counts["shown"]:
        lead = f"No trust{where} has a figure for {period}."
    elif counts["below"]:
        lead = f"{counts['below']} of {counts['shown']} trusts{where} are below the {measure}"
    else:
        lead = f"Every one of the {counts['shown']} trusts{where} meets the {measure}"
    details = []
    if counts["lowest"]:
        low = counts["lowest"]
        details.append(f"Lowest: {low['name']}, {fmt.value(metric, low['value'])}.")
    if england is not None:
        details.append(f"England: {fmt.value(metric, england)}.")
    if counts["missing"]:
        details.append(f"{counts['missing']} trusts have no figure (suppressed or not "
                       "submitted).")
    return lead, details
