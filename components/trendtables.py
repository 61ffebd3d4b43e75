"""The Trends page's tables as shown (and as their CSV files): each group's series, the SPC
chart's points, the SPC summary of every group and the projection, in DATA.md's symbols."""

from __future__ import annotations

import polars as pl

from components import format as fmt
from components import gapwords
from components.spcwords import ICON_WORDS, PLAIN_ENGLISH, POINT_WORDS, TRIAL_LIMIT_POINTS
from metrics import registry
from metrics.trend import MIN_SPC_POINTS, VARIATION_MEANING


def value_cells(row: dict, metric: registry.Metric) -> tuple[str, str]:
    """A point's value and 95% CI as shown, or the symbol of a withheld (*) or missing (:)
    figure in both."""
    if row["suppressed"] and fmt.missing(row["value"]):
        return "*", "*"
    if fmt.missing(row["value"]):
        return ":", ":"
    return (fmt.number(row["value"], metric.decimals),
            fmt.interval(metric, row["lower95"], row["upper95"]).removeprefix("95% CI ")
            or ":")


def count_cell(n, suppressed: bool) -> str:
    """A count as shown: with thousands separators, "-" for none, or a symbol."""
    if fmt.missing(n):
        return "*" if suppressed else ":"
    return "-" if n == 0 else f"{int(n):,}"


def series_rows(points: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """Every group's series as shown: one row per group and period, DATA.md symbols."""
    out = []
    for row in points.iter_rows(named=True):
        value, ci = value_cells(row, metric)
        out.append({"Group": row["group"], "Period": row["period"],
                    "Numerator": count_cell(row["numerator"], row["suppressed"]),
                    "Denominator": count_cell(row["denominator"], row["suppressed"]),
                    f"Value ({metric.unit})": value, "95% CI": ci})
    return pl.DataFrame(out) if out else pl.DataFrame()


def spc_rows(points: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """The SPC chart's points as a table: value, mean, process limits and special causes."""
    d = metric.decimals
    out = []
    for row in points.iter_rows(named=True):
        value, _ = value_cells(row, metric)
        out.append({"Period": row["period"], f"Value ({metric.unit})": value,
                    "Mean": fmt.number(row["mean"], d) if not fmt.missing(row["mean"]) else ":",
                    "Lower process limit": fmt.number(row["lpl"], d)
                    if not fmt.missing(row["lpl"]) else ":",
                    "Upper process limit": fmt.number(row["upl"], d)
                    if not fmt.missing(row["upl"]) else ":",
                    "Variation": POINT_WORDS.get(row["point_type"] or "", ":"),
                    "Rule": row["special_cause_rule"] or ":"})
    return pl.DataFrame(out) if out else pl.DataFrame()


def summary_rows(summaries: dict) -> pl.DataFrame:
    """One row per group: variation, its icon in words, meaning and special-cause counts."""
    out = []
    for group, s in summaries.items():
        if not s["available"]:
            out.append({"Group": group, "Points": str(s["points"]),
                        "Variation (icon)": "Not calculated",
                        "What it means": f"SPC needs at least {MIN_SPC_POINTS} points.",
                        "In plain English": "Too few published figures to tell.",
                        "Improvement points": ":", "Concern points": ":",
                        "Neutral points": ":", "Limits": ":"})
            continue
        icon = s["variation_icon"] or "common_cause"
        out.append({
            "Group": group, "Points": str(s["n"]),
            "Variation (icon)": ICON_WORDS.get(icon, icon),
            "What it means": s["meaning"] or VARIATION_MEANING.get(icon, ""),
            "In plain English": PLAIN_ENGLISH.get(icon, ""),
            "Improvement points": str(s["special_cause_improvement"]),
            "Concern points": str(s["special_cause_concern"]),
            "Neutral points": str(s["special_cause_neutral"]),
            "Limits": f"Trial (fewer than {TRIAL_LIMIT_POINTS} points)" if s["trial_limits"]
            else "Full",
        })
    return pl.DataFrame(out) if out else pl.DataFrame()


def projection_rows(projected: pl.DataFrame, fits: dict,
                    metric: registry.Metric) -> pl.DataFrame:
    """The projection as shown: one row per group and period ahead, with the fitted trend
    a year and what it was fitted on."""
    d = metric.decimals
    out = []
    for row in projected.iter_rows(named=True):
        fit = fits[row["group"]]
        basis = f"{fit['points']} periods" + (f" ({fit['suppressed']} suppressed left out)"
                                              if fit["suppressed"] else "")
        out.append({"Group": row["group"], "Period": row["period"],
                    f"Projection ({metric.unit})": fmt.number(row["value"], d),
                    "95% prediction interval": f"{fmt.number(row['lower95'], d)} to "
                                               f"{fmt.number(row['upper95'], d)}",
                    "Trend a year (95% CI)": gapwords.trend_words(fit), "Fitted on": basis})
    return pl.DataFrame(out) if out else pl.DataFrame()
