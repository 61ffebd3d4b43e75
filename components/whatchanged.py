"""What changed for an organisation since a year earlier: the most important changes in
sentences, each with the view that shows it. Shared by the Overview's card and the board
pack, so that both say the same thing."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from components import format as fmt
from components import viewstate
from metrics import registry

NOTHING_CHANGED = ("No gap to the reference group opened or closed, and no chart shows "
                   "special-cause variation at its latest point.")
HOW = ("Gaps compare each group with the reference group a year apart; signals are Making "
       "Data Count rules at the latest quarter or year.")


@dataclass(frozen=True)
class Change:
    sentence: str
    href: str  # the view's path and query
    page: str  # the name of the page ``href`` opens


def title(since: str | None) -> str:
    """"What changed since the 12 months to Mar 2024" (``since``: the period a year
    earlier, from :func:`data.queries.changes`)."""
    return f"What changed since {fmt.period_words(since) if since else 'a year earlier'}"


def href(row: dict, org: str) -> str:
    """Explore for a gap that opened or closed; Trends (SPC chart of the group) for a signal."""
    if row["kind"] == "spc_signal":
        return "/trends" + viewstate.search({"org": org, "metric": row["metric"],
                                             "dim": row["dimension"], "kind": row["period_kind"],
                                             "group": row["group"]})
    return "/explore" + viewstate.search({"org": org, "metric": row["metric"],
                                         "period": row["period"], "dim": row["dimension"]})


def changes(ranked: pl.DataFrame, org: str) -> list[Change]:
    """The organisation's most important changes, best first, from the ranked frame of
    :func:`data.queries.changes`."""
    return [Change(fmt.change_sentence(row, registry.get(row["metric"])), href(row, org),
                   "Trends" if row["kind"] == "spc_signal" else "Explore")
            for row in ranked.iter_rows(named=True)]
