"""Scorecard's view model: one trust's Annex 3 metrics against England."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from data import queries
from metrics import registry
from views import organisations_at

LEVELS = ("england", "trust")  # a trust against England, or England's own values


@dataclass(frozen=True)
class Choices:
    """The organisations a Scorecard link may name (see :func:`choices`)."""

    offered: tuple[str, ...]  # England and every trust
    default: str  # the first open trust by name (England when there is none)
    names: dict[str, str]  # every organisation's name, by code (for the notice on others)

    @property
    def organisations(self) -> pl.DataFrame:
        """England and the trusts, for the menu."""
        return organisations_at(LEVELS)


@queries.cached
def choices() -> Choices:
    """England and the trusts on offer, the default trust and every organisation's name."""
    orgs = queries.organisations()
    offered = orgs.filter(pl.col("org_level").is_in(LEVELS))
    open_trusts = offered.filter((pl.col("org_level") == "trust")
                                 & pl.col("closed").is_null()).sort("name")
    return Choices(offered=tuple(offered["org_code"]),
                   default=open_trusts["org_code"][0] if open_trusts.height else "ENG",
                   names=dict(orgs.select("org_code", "name").iter_rows()))


@dataclass(frozen=True)
class Scorecard:
    """Everything Scorecard shows for one organisation (see :func:`scorecard`)."""

    org: str
    org_name: str
    synthetic: bool
    frame: pl.DataFrame  # metrics.scorecard: one row per Annex 3 metric, with england_note
    closed: date | None  # when the trust closed
    successor: str | None  # the name of the trust it merged into
    choices: Choices

    @property
    def benchmark_only(self) -> bool:
        """England is the benchmark itself: national values, no comparison."""
        return self.org == "ENG"

    @property
    def sources(self) -> tuple[str, ...]:
        """The Annex 3 metrics' sources, each named once."""
        return tuple(dict.fromkeys(m.source for m in registry.ANNEX3_METRICS))


@queries.cached
def scorecard(org: str) -> Scorecard:
    """The Scorecard model of a view already parsed (England or a trust's code)."""
    on_offer = choices()
    row = on_offer.organisations.filter(pl.col("org_code") == org).row(0, named=True)
    successor = row.get("successor_code")
    return Scorecard(
        org=org, org_name=row["name"], synthetic=queries.current().synthetic,
        frame=queries.scorecard(org), closed=row.get("closed"),
        successor=on_offer.names.get(successor, successor) if successor else None,
        choices=on_offer,
    )
