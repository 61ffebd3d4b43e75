"""Builders for Benchmark: the funnel's words and points, the rank table's rows, the chosen
trusts' table, and the labels and sizes of their charts. Facts in (frames of
``metrics.benchmark`` and ``metrics.breakdown``), text, frames and figure touches out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from components import figures, tables
from components import format as fmt
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import TOTAL

# PHE funnel labels as words for people: which limit a trust is beyond and on which side.
FUNNEL_WORDS = {"High (0.001)": ("Above the 99.8% limit", "high"),
                "High (0.025)": ("Above the 95% limit", "high"),
                "Low (0.001)": ("Below the 99.8% limit", "low"),
                "Low (0.025)": ("Below the 95% limit", "low"),
                "Not significant": ("Within the limits", None)}
RATIO_COLUMN = "Ratio to reference (95% CI)"


def funnel_words(label: str | None, status: str, metric: registry.Metric) -> str:
    """A trust's funnel position in words, with the metric's polarity: "Above the 99.8%
    limit (worse)"; suppressed trusts say so."""
    if status == "suppressed":
        return "Suppressed (small numbers)"
    if label is None or label not in FUNNEL_WORDS:
        return "No data"
    words, side = FUNNEL_WORDS[label]
    if side is None or metric.polarity == registry.NO_JUDGEMENT:
        return words
    high, low = polarity_word(metric)
    return f"{words} ({high if side == 'high' else low})"


def trusts_word(n: int) -> str:
    """"1 trust", "3 trusts"."""
    return f"{n} trust" if n == 1 else f"{n} trusts"


def _is_are(n: int) -> str:
    return "is" if n == 1 else "are"


def funnel_sentence(counts: Mapping[str, int], metric: registry.Metric, *, who: str,
                    period: str, england: float | None) -> str:
    """What the funnel shows and how many trusts lie beyond its limits, in one paragraph
    (``counts`` as the model's ``funnel_counts``, ``who`` the group in words)."""
    plotted = counts["trusts"] - counts["suppressed"] - counts["no data"]
    if plotted == 0:
        return (f"No trust has a published figure for {who} in {period}: all "
                f"{counts['trusts']} are suppressed because of small numbers or did not "
                "report.")
    high, low = polarity_word(metric)
    judged = metric.polarity != registry.NO_JUDGEMENT
    benchmark = f"England's {fmt.value(metric, england)}" if england is not None else \
        "the average of the trusts shown"
    held_back = f" ({trusts_word(counts['suppressed'])} suppressed because of small numbers)" \
        if counts["suppressed"] else ""
    high3, low3 = counts["High (0.001)"], counts["Low (0.001)"]
    return (
        f"The funnel plot compares the figure for {who} in each of "
        f"{trusts_word(plotted)}{held_back} with {benchmark}, allowing for each trust's size. "
        f"{trusts_word(high3)} {_is_are(high3)} above the 99.8% limit and "
        f"{counts['High (0.025)']} more above the 95% limit"
        f"{f' (higher: {high})' if judged else ''}; "
        f"{trusts_word(low3)} {_is_are(low3)} below the 99.8% limit and "
        f"{counts['Low (0.025)']} more below the 95% limit"
        f"{f' (lower: {low})' if judged else ''}; "
        f"{counts['Not significant']} {_is_are(counts['Not significant'])} within the limits."
    )


def short_name(name: str) -> str:
    """A trust's name without the "NHS (Foundation) Trust" tail, for labels on a chart."""
    for tail in (" NHS Foundation Trust", " NHS Trust"):
        if name.endswith(tail):
            return name.removesuffix(tail)
    return name


def funnel_points(frame: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """The trusts as the funnel plots them: short names escaped (names are data, drawn as
    written) and the funnel label in words."""
    return figures.plain_columns(frame.with_columns(
        funnel=pl.Series([funnel_words(label, status, metric) for label, status in
                          zip(frame["funnel"], frame["status"], strict=True)], dtype=pl.String),
        name=pl.col("name").map_elements(short_name, return_dtype=pl.String),
    ), "name")


def stagger_labels(figure) -> None:
    """Put the chosen trusts' name labels alternately above and below their points, from the
    highest value down, so that two trusts with similar values label away from each other."""
    for trace in figure.data:
        if trace.name == "Chosen trusts" and trace.y:
            order = sorted(range(len(trace.y)), key=lambda i: -trace.y[i])
            places = [""] * len(order)
            for rank, i in enumerate(order):
                places[i] = "top center" if rank % 2 == 0 else "bottom center"
            trace.textposition = places


def _count(n, suppressed: bool) -> str:
    if fmt.missing(n):
        return "*" if suppressed else ":"
    return "-" if n == 0 else f"{int(n):,}"


def rank_rows(frame: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """The rank table as shown and downloaded, as text, one row per trust of ``frame`` in
    its order: the metric's decimals and thousands commas; suppressed cells hold ``*``,
    unavailable ``:`` and zero counts ``-``."""
    rows = []
    for row in frame.iter_rows(named=True):
        hidden = row["status"] == "suppressed"
        shown = not hidden and not fmt.missing(row["value"])
        symbol = "*" if hidden else ":"
        rows.append({
            "Code": row["org_code"],
            "Trust": row["name"],
            "Region": row["region"] or ":",
            "ICB": row["icb"] or ":",
            "Peer group": row["peer_group"] or ":",
            f"Value ({metric.unit})": fmt.number(row["value"], metric.decimals) if shown
            else symbol,
            "95% CI": fmt.interval(metric, row["lower95"], row["upper95"]).removeprefix(
                "95% CI ") if shown else symbol,
            "Numerator": _count(row["numerator"], row["suppressed"]),
            "Denominator": _count(row["denominator"], row["suppressed"]),
            "Funnel plot": funnel_words(row["funnel"], row["status"], metric),
            "Rank in peer group": f"{row['rank_in_peer_group']:,}" if shown else symbol,
            "Trusts ranked in peer group": f"{row['peers_ranked']:,}",
        })
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows \
        else pl.DataFrame()


RANK_TABLE_MAX = tables.PAGE_ROWS_MAX


def shown_rank_rows(rows: pl.DataFrame, chosen: Sequence[str],
                    limit: int = RANK_TABLE_MAX) -> tuple[pl.DataFrame, str]:
    """The rank table's rows for the page, and a sentence saying what was left out.

    Up to ``limit`` rows show whole. A longer table (a store of many trusts) shows the
    ``limit / 2`` first and last ranked trusts and the chosen ones, in rank order, so that
    the page stays small; the CSV download holds every row."""
    if rows.height <= limit:
        return rows, ""
    half = limit // 2
    ranked = pl.col("Rank in peer group").str.contains(r"^\d")
    place = pl.int_range(pl.len()).over(ranked)  # position among the ranked (or unranked)
    is_chosen = pl.col("Code").is_in(list(chosen))
    keep = rows.filter((ranked & ((place < half) | (place >= ranked.sum() - half)))
                       | is_chosen)
    chosen_too = " and the chosen ones" if rows.select(is_chosen.any()).item() else ""
    note = (f"Showing the {half} first and {half} last ranked trusts{chosen_too}: "
            f"{keep.height:,} of {rows.height:,}. The download holds all {rows.height:,} "
            f"({rows.height - keep.height:,} not shown here).")
    return keep, note


def multiples_rows(frames: Sequence[tuple[str, pl.DataFrame]], metric: registry.Metric,
                   dimension: str) -> pl.DataFrame:
    """The side-by-side panels as a table: one row per trust and group, as on screen
    (``frames`` is (name, breakdown) per trust)."""
    parts = [tables.breakdown_rows(frame, metric, None).select(
        pl.lit(name).alias("Trust"), pl.all()) for name, frame in frames
        if not frame.is_empty()]
    if not parts:
        return pl.DataFrame()
    rows = pl.concat(parts)
    # The total has no reference group, so no ratio to one.
    return rows.drop(RATIO_COLUMN, strict=False) if dimension == TOTAL else rows


def fit_panel_height(figure, panels: int, groups: int) -> None:
    """Size each row of panels to its number of bars (one bar for the total needs no 300
    pixels), keeping room for the titles and the source note."""
    rows = max(1, -(-panels // 4))
    figure.update_layout(height=140 + rows * max(150, 40 + 30 * groups))
