"""Making Data Count SPC in words: the variation icons, the points' kinds, the kinds of
period, and an SPC chart's statement."""

from __future__ import annotations

from components import format as fmt
from data.schema import PERIOD_KINDS
from metrics import registry

TRIAL_LIMIT_POINTS = 13  # NHSRplotthedots: limits from fewer points are trial limits
# The Making Data Count variation icons, named in words (colour, letter).
ICON_WORDS = {
    "common_cause": "Grey, no letter: common cause",
    "improvement_high": "Blue with H: improvement, high",
    "improvement_low": "Blue with L: improvement, low",
    "concern_high": "Orange with H: concern, high",
    "concern_low": "Orange with L: concern, low",
    "neutral_high": "Purple with H: unusually high",
    "neutral_low": "Purple with L: unusually low",
}
# What each icon says about the latest point, for someone who has never seen an SPC chart.
PLAIN_ENGLISH = {
    "common_cause": "No sign of real change: the figures vary only as much as chance would "
                    "make them.",
    "improvement_high": "Improving: recent figures are higher than chance alone would explain, "
                        "and higher is better.",
    "improvement_low": "Improving: recent figures are lower than chance alone would explain, "
                       "and lower is better.",
    "concern_high": "Getting worse: recent figures are higher than chance alone would explain, "
                    "and higher is worse.",
    "concern_low": "Getting worse: recent figures are lower than chance alone would explain, "
                   "and lower is worse.",
    "neutral_high": "Changed: recent figures are higher than chance alone would explain "
                    "(neither better nor worse in itself).",
    "neutral_low": "Changed: recent figures are lower than chance alone would explain "
                   "(neither better nor worse in itself).",
}
POINT_WORDS = {"common_cause": "Common cause", "special_cause_improvement": "Improvement",
               "special_cause_concern": "Concern", "special_cause_neutral_high": "Unusually high",
               "special_cause_neutral_low": "Unusually low"}
# The kind of period in a chart's title: "by quarter".
KIND_TITLES = {"quarter": "by quarter", "financial_year": "by financial year",
               "calendar_year": "by calendar year", "survey_year": "by survey year",
               "rolling_12_months": "rolling 12 months", "rolling_3_years": "rolling 3 years",
               "month": "by month", "half_year": "by half-year"}
# Periods of a kind, counted: "18 of 21 quarters".
KIND_NOUNS = {"quarter": "quarters", "financial_year": "financial years",
              "calendar_year": "calendar years", "survey_year": "survey years",
              "rolling_12_months": "rolling 12-month periods",
              "rolling_3_years": "rolling 3-year periods", "month": "months",
              "half_year": "6-month periods"}


def kind_words(kind: str) -> str:
    """The period kind for a title: "by quarter", "rolling 12 months"."""
    return KIND_TITLES.get(kind, PERIOD_KINDS.get(kind, kind).split(" (")[0].lower())


def kind_noun(kind: str) -> str:
    """Periods of ``kind`` counted: "quarters"."""
    return KIND_NOUNS.get(kind, "periods")


def spc_statement(summary: dict, subject: str, metric: registry.Metric) -> str:
    """The SPC chart of ``subject`` ("babies of Black women") in words: the latest point's
    variation, the mean and limits, the special-cause points and whether the limits are
    trial limits."""
    icon = summary["variation_icon"] or "common_cause"
    counts = [f"{summary[k]} {w}" for k, w in
              (("special_cause_improvement", "improvement"), ("special_cause_concern",
                                                              "concern"),
               ("special_cause_neutral", "neutral")) if summary[k]]
    special = ("Special-cause points: " + ", ".join(counts) + ".") if counts else \
        "No special-cause points."
    trial = (f" These are trial limits (fewer than {TRIAL_LIMIT_POINTS} points): they may "
             "move as more data arrive.") if summary["trial_limits"] else ""
    return (f"{subject[0].upper()}{subject[1:]}, latest point: {summary['meaning']} "
            f"{PLAIN_ENGLISH.get(icon, '')} Mean {fmt.value(metric, summary['mean'])}, process "
            f"limits {fmt.number(summary['lpl'], metric.decimals)} to "
            f"{fmt.number(summary['upl'], metric.decimals)}. {special}{trial}")
