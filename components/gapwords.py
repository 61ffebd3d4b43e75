"""Projections in words: when a gap to the reference group would close at this pace, and a
fitted trend a year (Trends page and board pack)."""

from __future__ import annotations

from components import format as fmt
from metrics import projection, registry
from metrics.categories import DIMENSIONS


def short_period(label: str | None) -> str:
    """A period label without its months: "2027-28 Q1"."""
    return (label or "").split(" (")[0]


def _percent(factor: float) -> str:
    return f"{(factor - 1) * 100:+.1f}%"


def _years(value: float) -> str:
    return f"{round(value * 12)} months" if value < 1 else f"{value:.1f} years"


def _ratio_words(gap: dict, noun: str) -> str:
    return (f"fitted {noun} ratio now {gap['ratio_now']:.2f} (95% CI "
            f"{gap['ratio_now_lower95']:.2f} to {gap['ratio_now_upper95']:.2f}), changing by "
            f"{_percent(gap['ratio_change_per_year'])} a year (95% CI "
            f"{_percent(gap['ratio_change_per_year_lower95'])} to "
            f"{_percent(gap['ratio_change_per_year_upper95'])})")


def gap_sentence(group: str, gap: dict, dimension: str,
                 metric: registry.Metric) -> tuple[str, str]:
    """When ``group``'s gap to the reference group would close at this pace, in words:
    (the answer, the figures behind it)."""
    subject = fmt.subject(group, dimension, metric)
    reference = fmt.subject(DIMENSIONS[dimension].reference, dimension, metric)
    lead = f"{subject[0].upper()}{subject[1:]} compared with {reference}"
    status, why = gap["status"], gap.get("why")
    if status == projection.UNAVAILABLE:
        return f"{lead}: no projection.", f"{gap['reason'][0].upper()}{gap['reason'][1:]}."
    ratio = _ratio_words(gap, "rate" if metric.statistic != registry.PROPORTION else "share")
    ratio = f"{ratio[0].upper()}{ratio[1:]}."
    within = gap["within_years"]
    if status == projection.CLOSED and why == projection.REVERSED:
        return (f"{lead}: already closed, and reversed.",
                f"The fitted trends crossed around {short_period(gap['crossing_period'])}. "
                f"{ratio}")
    if status == projection.CLOSED:
        return (f"{lead}: already closed.", "The fitted trends do not differ significantly "
                f"at the latest period. {ratio}")
    if status == projection.CLOSING:
        upper = gap["periods_upper"]
        high = f"more than {within} years" if upper is None or upper == float("inf") else \
            f"{_years(gap['years_upper'])} ({short_period(gap['crossing_period_upper'])})"
        low = "now" if not gap["periods_lower"] else \
            f"{_years(gap['years_lower'])} ({short_period(gap['crossing_period_lower'])})"
        return (f"{lead}: closing at this pace, in about {_years(gap['years'])} (around "
                f"{short_period(gap['crossing_period'])}).",
                f"95% interval: {low} to {high}. {ratio}")
    reason = {projection.DIVERGING: "The gap is widening.",
              projection.PARALLEL: "The two trends are parallel within their "
                                       "uncertainty.",
              projection.TOO_SLOW: f"The fitted trends would not meet within {within} "
                                       "years."}.get(why, "")
    return f"{lead}: not closing at this pace.", f"{reason} {ratio}"


def trend_words(fit: dict) -> str:
    """A fitted trend a year with its 95% CI: "+2.1% (+0.4% to +3.9%)"."""
    return (f"{_percent(fit['change_per_year'])} ({_percent(fit['change_per_year_lower95'])} "
            f"to {_percent(fit['change_per_year_upper95'])})")
