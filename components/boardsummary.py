"""The board summary in words and tables (facts from ``views.boardpack``), shared by the
printed pack and the slide deck so that both say the same thing."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from components import format as fmt
from components import publiclink, viewstate, whatchanged
from components import scorecard as card
from metrics.categories import DIMENSIONS

GAP_COLUMNS = ("Metric, period", "Gap to the reference group (95% CI)",
               "In numbers of women or babies (95% CI)")
# The scorecard's columns a board reads; the counts go in a slide's notes.
SCORECARD_COLUMNS = ("Metric", "Period", "Value", "95% CI", "England",
                     "Compared with England", "RAG rating")
# Funnel-plot labels (PHE's significance levels) in words a board reads without a glossary.
FUNNEL_WORDS = {
    "High (0.001)": "above the 99.8% limit",
    "High (0.025)": "above the 95% limit",
    "Low (0.001)": "below the 99.8% limit",
    "Low (0.025)": "below the 95% limit",
    "Not significant": "within the 95% limits",
}


def funnel_words(label: str | None) -> str:
    """Where a trust sits on the funnel plot, in words ("above the 95% limit")."""
    if not label:
        return "not placed on the funnel plot"
    return FUNNEL_WORDS.get(label, label)


def heading(gap) -> str:
    """"Preterm birth: babies of Black women, 2024-25"."""
    return f"{gap.metric.short_title}: {fmt.subject(gap.group, gap.dimension, gap.metric)}, " \
        f"{gap.period}"


def statement(gap) -> str:
    """The gap with its 95% CI, as Explore says it."""
    return fmt.gap_statement(gap.row, gap.metric, gap.dimension) or ""


def people(gap) -> str | None:
    """The gap in numbers of women or babies with its 95% CI (None where not worked out)."""
    return fmt.excess_short(gap.excess, gap.metric, gap.dimension)


def source(gap, synthetic: bool) -> str:
    """The chart's source line (with the synthetic-data note for a demonstration store)."""
    return f"Source: {gap.metric.source}, {gap.period}.{fmt.synthetic_note(synthetic)}"


def chart_title(gap) -> str:
    label = DIMENSIONS[gap.dimension].label.lower()
    return f"{gap.metric.short_title} by {label}, {gap.period}"


def gap_rows(gaps: Sequence) -> pl.DataFrame:
    """The summary's table of gaps: one row per gap, as printed and put on a slide."""
    rows = [(f"{g.metric.short_title}, {g.period}", statement(g),
             people(g) or "Not worked out") for g in gaps]
    return pl.DataFrame(rows, schema=dict.fromkeys(GAP_COLUMNS, pl.String), orient="row")


def changes(model) -> list[whatchanged.Change]:
    return whatchanged.changes(model.changes, model.org)


def since(model) -> str:
    return fmt.period_words(model.since) if model.since else "a year earlier"


def key_points(model) -> list[str]:
    """The three things to know: the scorecard, the gaps (the largest in words) and how much
    changed since a year earlier."""
    gaps = model.gaps
    n_changes = model.changes.height
    largest = f" The largest: {statement(gaps[0])}" if gaps else ""
    return [
        f"Annex 3 scorecard: {card.summary(model.scorecard)}",
        f"{len(gaps)} significant gap{'' if len(gaps) == 1 else 's'} where a group of women "
        f"or babies fares worse than its reference group.{largest}",
        f"{n_changes or 'No'} important change{'' if n_changes == 1 else 's'} since "
        f"{since(model)}.",
    ]


def scorecard_rows(model) -> pl.DataFrame:
    """The scorecard as the board reads it (the on-screen table without counts or links)."""
    return card.scorecard_rows(model.scorecard).select(SCORECARD_COLUMNS)


def pack_link(org: str, period: str, *, full: bool = False) -> str:
    """Where the summary (or the full pack) of a trust and period is, as printed."""
    return publiclink.printed("/board-pack" + viewstate.search(
        {"org": org, "period": period, "full": "1" if full else None}))
