"""A view model per page: everything one view of a page shows, built once and cached.

Each module here turns a page's parsed view (canonical primitives from its URL) into a
frozen object holding the frames and facts the page draws from: values with their CIs,
gaps, excess events, suppression, notes, the periods and breakdowns on offer, the
organisation's name and level. The page's chart, table, sentences, CSV download and export
all read that one object, so they cannot disagree. Models are memoized by store build and
view (``data.queries.cached``); they hold data only, never Dash components.
"""

from __future__ import annotations

import polars as pl

from data import queries
from metrics.categories import DIMENSIONS, TOTAL


def organisations_at(levels: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The store's organisations (of ``levels``, every one when None), for a model's
    ``organisations``: read from the store when asked, never held in a model, so the cache
    keeps no copy of them per view (at 1,200 trusts, 250 KB each)."""
    orgs = queries.organisations()
    return orgs if levels is None else orgs.filter(pl.col("org_level").is_in(list(levels)))


def figure_facts(metric_id: str, org: str, level: str | None, period: str) -> dict:
    """What a view of one organisation's figure says about where it comes from, as a
    model's fields: the breakdowns held at each level (``held``), the levels with a figure
    in the period (``figure_levels``), why no sum of trusts was made here (``left_out``), how
    this figure was summed from trusts (``summed``) and England's (``england_note``)."""
    return dict(held=queries.breakdowns_by_level(metric_id),
                figure_levels=queries.figure_levels(metric_id, period),
                left_out=queries.sum_left_out(metric_id, org, period),
                summed=queries.summed_from_trusts(metric_id, level, period),
                england_note=queries.england_sum_note(metric_id, period))


def has_figures(frame: pl.DataFrame) -> bool:
    """Whether a breakdown or series has any value to draw."""
    return not frame.is_empty() and frame["value"].is_not_null().any()


def has_withheld(frame: pl.DataFrame) -> bool:
    """Whether a breakdown has a row marked suppressed (small numbers)."""
    return not frame.is_empty() and frame["suppressed"].fill_null(False).any()


def by_breakdown(dimension: str) -> str:
    """``, by ethnicity`` to end a title (nothing for the total)."""
    return "" if dimension == TOTAL else f", by {DIMENSIONS[dimension].label.lower()}"
