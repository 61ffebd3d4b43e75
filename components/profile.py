"""The population profile ("Who is booked"): each group's share of the women booked by an
organisation, beside England's, as bars with 95% CIs and as a table.

A description of who is served, not an outcome: the builders show shares and their
intervals only, never gaps to a reference group, ratios or better/worse words.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from components import figures
from components import format as fmt
from metrics.categories import DIMENSIONS
from metrics.registry import Metric

ENGLAND = "ENG"


def _share(row: dict | None, metric: Metric) -> tuple[str, str]:
    """(share, 95% CI) as table cells: ``*`` suppressed, ``:`` not available."""
    if row is None:
        return ":", ":"
    if row["status"] == "suppressed":
        return "*", "*"
    if fmt.missing(row["value"]):
        return ":", ":"
    d = metric.decimals
    return (fmt.number(row["value"], d),
            f"{fmt.number(row['lower95'], d)} to {fmt.number(row['upper95'], d)}")


def profile_rows(frames: Sequence[tuple[str, pl.DataFrame, pl.DataFrame | None]],
                 metric: Metric) -> pl.DataFrame:
    """The profile table as shown on screen and downloaded (DATA.md symbols).

    Parameters
    ----------
    frames : per breakdown, ``(dimension, organisation's breakdown, England's breakdown)``
        (frames of :func:`data.queries.breakdown`); England's is None when the
        organisation is England.
    metric : the profile's registry entry.

    Returns
    -------
    One row per group of each breakdown: the breakdown, the group, the organisation's women
    booked in the group and in all groups, its share with the 95% CI and, beside them,
    England's share and CI (``England: ...`` columns). Withheld counts are ``*``, never 0.
    """
    out = []
    for dimension, frame, england in frames:
        theirs = {r["group"]: r for r in england.iter_rows(named=True)} if england is not None \
            else None
        for row in frame.iter_rows(named=True):
            share, ci = _share(row, metric)
            entry = {
                "Breakdown": DIMENSIONS[dimension].label,
                "Group": row["group"],
                "Women in the group": fmt.count_cell(row["numerator"], row["suppressed"]),
                "Women booked": fmt.count_cell(row["denominator"], row["suppressed"]),
                "Share (%)": share,
                "95% CI": ci,
            }
            if theirs is not None:
                eng_share, eng_ci = _share(theirs.get(row["group"]), metric)
                entry |= {"England: share (%)": eng_share, "England: 95% CI": eng_ci}
            out.append(entry)
    return pl.DataFrame(out) if out else pl.DataFrame()


def profile_figure(frame: pl.DataFrame, metric: Metric, *, dimension: str, org_code: str,
                   org_name: str, period: str, source: str) -> go.Figure:
    """One breakdown of the profile: the organisation's share of women booked in each group
    as bars with 95% CIs, England's share marked beside each bar."""
    title = f"Women booked by {DIMENSIONS[dimension].label.lower()}: {org_name}, {period}"
    return figures.breakdown_bars(
        frame, metric, title=figures.wrap(title, 70), source=source,
        comparator_label="England" if org_code != ENGLAND else None)
