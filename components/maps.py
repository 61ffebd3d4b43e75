"""The map of England's NHS regions, drawn from local outlines in British National Grid
metres (no tiles, no projection, nothing fetched), with trusts as points.

It shares :data:`components.figures.TEMPLATE`. Regions are filled by the ratio of a group's
value to the reference group's on a colour-blind-safe diverging scale centred on 1 (no gap),
on a log scale so that halving and doubling sit equally far from the centre. Suppressed or
unavailable regions are hatched grey and labelled, never coloured as "no gap".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale

from components import figures, theme
from components import format as fmt
from data.geo import Region
from metrics.registry import Metric

# ColorBrewer PuOr (colour-blind safe, prints in grey as a light-to-dark ramp both ways):
# purple where the group's value is below the reference group's, orange where above.
RATIO_COLOURS = ("#542788", "#998EC3", "#D8DAEB", "#F7F7F7", "#FEE0B6", "#F1A340", "#B35806")
RATIO_SCALE = [[i / (len(RATIO_COLOURS) - 1), c] for i, c in enumerate(RATIO_COLOURS)]
# The colour scale runs from 1/extent to extent, the first of these that holds every ratio.
EXTENTS = (1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)
TICKS = (1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)
UNAVAILABLE_FILL = theme.NHS_PALE_GREY
HATCH = dict(shape="/", fgcolor=theme.NHS_MID_GREY, bgcolor=UNAVAILABLE_FILL, size=8,
             solidity=0.15)
OUTLINE = theme.NHS_MID_GREY  # a coastline even where the fill is near white
SIGNIFICANT_OUTLINE = theme.TEXT
# Trust markers: shape (the side of England's limits) as well as colour (better, worse or
# neutral) carries the comparison with England.
TRUST_SYMBOLS = {"above": "triangle-up", "below": "triangle-down", "within": "circle",
                 "none": "circle-open"}
MAX_MARKER_PX = 24
MIN_MARKER_PX = 6
PAD_M = 15_000


def ratio_extent(ratios) -> float:
    """The smallest of :data:`EXTENTS` whose range 1/e..e holds every ratio."""
    logs = [abs(math.log(r)) for r in ratios if r is not None and r > 0]
    largest = max(logs, default=0.0)
    return next((e for e in EXTENTS if math.log(e) >= largest - 1e-12), EXTENTS[-1])


def ratio_colour(ratio: float, extent: float) -> str:
    """The fill for ``ratio`` on the diverging scale running from 1/extent to extent."""
    position = 0.5 + math.log(ratio) / (2 * math.log(extent))
    return sample_colorscale(RATIO_SCALE, [min(1.0, max(0.0, position))])[0]


def _ticks(extent: float) -> tuple[list[float], list[str]]:
    # Ticks closer to 1 than a quarter of the scale would crowd the label "1".
    ratios = [1.0] + [t for t in TICKS if t <= extent + 1e-9
                      and math.log(t) >= 0.25 * math.log(extent)]
    ratios += [1 / t for t in ratios[1:]]
    ratios.sort()
    return [math.log(r) for r in ratios], [f"{r:.2f}".rstrip("0").rstrip(".") for r in ratios]


def _xy(region: Region) -> tuple[list, list]:
    """The region's rings as one x and one y list, rings separated by gaps."""
    xs, ys = [], []
    for ring in region.rings:
        xs += ring[:, 0].astype(int).tolist() + [None]
        ys += ring[:, 1].astype(int).tolist() + [None]
    return xs[:-1], ys[:-1]


def _region_label(row: dict) -> str:
    if row["status"] == "ok":
        return f"<b>{row['region']}</b><br>{row['ratio']:.2f}" + \
            (" *" if row["gap_significant"] else "")
    return f"<b>{row['region']}</b><br><i>{row['short_status']}</i>"


# ONS's label points for the two northern regions sit 65 km apart, so their labels would
# overlap: North East and Yorkshire's moves east into Yorkshire (BNG metres).
LABEL_POINTS = {"North East and Yorkshire": (470_000, 482_000)}
# London is too small to hold its label over its trusts, and the North West too narrow: their
# labels sit off to the side with an arrow back (pixels).
LABEL_OFFSETS = {"London": (70, 30), "North West": (-80, 10)}


def region_map(regions: pl.DataFrame, trusts: pl.DataFrame, metric: Metric, *,
               outlines: Mapping[str, Region], scale_title: str, title: str,
               source: str, height: int = 820) -> go.Figure:
    """Regions filled by the gap ratio, trusts as points sized by births.

    Parameters
    ----------
    regions : one row per region: ``region`` (name), ``status`` ("ok" or why there is no
        ratio), ``short_status`` (a few words for the map), ``ratio``,
        ``gap_significant`` and ``hover`` (text).
    trusts : one row per placed trust: ``x``, ``y`` (BNG metres), ``size`` (births or the
        metric's denominator; null draws the smallest marker), ``side`` (a key of
        :data:`TRUST_SYMBOLS`), ``comparison`` (a key of :data:`theme.COMPARISON`, the same
        for every trust on one side), ``legend`` (the group's name) and ``hover`` (text).
    outlines : region name -> outline.
    """
    fig = go.Figure(layout=dict(template=figures.TEMPLATE))
    shown = regions.filter(pl.col("status") == "ok")
    extent = ratio_extent(shown["ratio"].to_list())
    # Unavailable first, then no significant gap, then significant gaps on top so that
    # their dark outlines are not painted over by a neighbour's grey one.
    order = regions.with_columns(
        rank=pl.when(pl.col("status") != "ok").then(0)
        .when(pl.col("gap_significant")).then(2).otherwise(1)
    ).sort("rank", "region")
    for row in order.iter_rows(named=True):
        outline = outlines.get(row["region"])
        if outline is None:
            continue
        xs, ys = _xy(outline)
        available = row["status"] == "ok"
        significant = available and bool(row["gap_significant"])
        fig.add_scatter(
            x=xs, y=ys, mode="lines", fill="toself", name=row["region"],
            fillcolor=ratio_colour(row["ratio"], extent) if available else UNAVAILABLE_FILL,
            fillpattern=None if available else HATCH,
            line=dict(color=SIGNIFICANT_OUTLINE if significant else OUTLINE,
                      width=2.2 if significant else 1),
            hoveron="fills", text=row["hover"], hoverinfo="text", showlegend=False,
        )
        label_x, label_y = LABEL_POINTS.get(row["region"], outline.label)
        ax, ay = LABEL_OFFSETS.get(row["region"], (0, 0))
        fig.add_annotation(
            x=label_x, y=label_y, text=_region_label(row), showarrow=bool(ax or ay),
            ax=ax, ay=ay, arrowcolor=theme.TEXT, arrowwidth=1, standoff=2,
            font=dict(size=12, color=theme.TEXT), bgcolor="rgba(255,255,255,0.82)",
            borderpad=2, align="center",
        )
    if shown.height < regions.height:
        fig.add_scatter(x=[None], y=[None], mode="lines", fill="toself", legendrank=900,
                        fillcolor=UNAVAILABLE_FILL, fillpattern=HATCH,
                        line=dict(color=OUTLINE, width=1), hoverinfo="skip",
                        name="Suppressed or not available (hatched)")
    if any(shown["gap_significant"].fill_null(False)):
        fig.add_scatter(x=[None], y=[None], mode="lines", legendrank=901,
                        line=dict(color=SIGNIFICANT_OUTLINE, width=2.2),
                        name="Gap significant at 95% (dark outline, *)", hoverinfo="skip")
    # The colour bar belongs to an invisible marker: scatter fills carry no colour scale.
    ticks, labels = _ticks(extent)
    first = next(iter(outlines.values()))
    fig.add_scatter(
        x=[first.label[0]], y=[first.label[1]], mode="markers", showlegend=False,
        hoverinfo="skip", marker=dict(
            size=0.1, opacity=0, color=[0.0], cmin=-math.log(extent), cmax=math.log(extent),
            colorscale=RATIO_SCALE, showscale=True,
            colorbar=dict(title=dict(text=scale_title, side="top", font=dict(size=13)),
                          tickvals=ticks, ticktext=labels, len=0.42, thickness=14,
                          x=0.99, xanchor="right", y=0.99, yanchor="top",
                          outlinewidth=0, ticks="outside", tickfont=dict(size=12))))
    _trust_points(fig, trusts)
    _frame(fig, outlines)
    fig.update_layout(
        title=title, height=height, hovermode="closest",
        legend=dict(orientation="v", x=0.0, xanchor="left", y=0.99, yanchor="top",
                    bgcolor="rgba(255,255,255,0.85)", font=dict(size=12),
                    itemsizing="constant",
                    title=dict(text="Trusts against England", font=dict(size=12))),
        margin=dict(l=10, r=10, t=70, b=110),
    )
    figures._source_note(fig, source)
    return fig


def _trust_points(fig: go.Figure, trusts: pl.DataFrame) -> None:
    if trusts.is_empty():
        return
    top = trusts["size"].max() or 1
    sizeref = 2.0 * top / MAX_MARKER_PX**2
    for side in TRUST_SYMBOLS:
        subset = trusts.filter(pl.col("side") == side)
        if subset.is_empty():
            continue
        key = subset["comparison"][0]
        fig.add_scatter(
            x=subset["x"].to_list(), y=subset["y"].to_list(), mode="markers",
            name=subset["legend"][0],
            marker=dict(size=subset["size"].fill_null(0).to_list(), sizemode="area",
                        sizeref=sizeref, sizemin=MIN_MARKER_PX, symbol=TRUST_SYMBOLS[side],
                        color=theme.COMPARISON[key] if key != "not compared" else
                        theme.NHS_DARK_GREY, opacity=0.9,
                        line=dict(width=1 if key != "not compared" else 1.5,
                                  color=theme.TEXT if key != "not compared" else
                                  theme.NHS_DARK_GREY)),
            text=subset["hover"].to_list(), hoverinfo="text",
        )


def _frame(fig: go.Figure, outlines: Mapping[str, Region]) -> None:
    """Equal-aspect hidden axes around England: one metre east is one metre north."""
    xs = [v for o in outlines.values() for r in o.rings for v in (r[:, 0].min(), r[:, 0].max())]
    ys = [v for o in outlines.values() for r in o.rings for v in (r[:, 1].min(), r[:, 1].max())]
    fig.update_xaxes(visible=False, range=[min(xs) - PAD_M, max(xs) + PAD_M], fixedrange=False)
    fig.update_yaxes(visible=False, range=[min(ys) - PAD_M, max(ys) + PAD_M],
                     scaleanchor="x", scaleratio=1)


def trust_hover(name: str, region: str | None, metric: Metric, who: str, value, lower, upper,
                words: str, size_text: str) -> str:
    """One trust's hover: name, region, value with its 95% CI, comparison, births."""
    shown = fmt.value(metric, value) if not fmt.missing(value) else None
    interval = fmt.interval(metric, lower, upper)
    figure = f"{who}: {shown} ({interval})" if shown else f"{who}: {words.lower()}"
    lines = [f"<b>{name}</b>", region or "Region not known", figure,
             words if shown else "", size_text]
    return "<br>".join(line for line in lines if line)
