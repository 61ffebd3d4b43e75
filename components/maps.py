"""The map of England's NHS regions, drawn from local outlines in British National Grid
metres (no tiles, no projection, nothing fetched), with trusts as points; and what it shows,
assembled from the store for the Map page and the board pack (:class:`MapSelection`).

It shares :data:`components.figures.TEMPLATE`. Regions are filled by the ratio of a group's
value to the reference group's on a colour-blind-safe diverging scale centred on 1 (no gap),
on a log scale so that halving and doubling sit equally far from the centre. Suppressed or
unavailable regions are hatched grey and labelled, never coloured as "no gap".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale

from components import figures, theme
from components import format as fmt
from data import geo
from data.geo import Region
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import ALL_GROUP, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from metrics.registry import Metric


class MapFacts(Protocol):
    """What the rows are made from (``views.map.MapFacts``, built by the view model)."""

    regions: tuple[tuple[str, str, pl.DataFrame], ...]  # (code, name, breakdown)
    trusts: pl.DataFrame  # metrics.benchmark for the trust points
    totals: pl.DataFrame  # org_code, size, size_suppressed

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
    name = figures.plain(row["region"])
    if row["status"] == "ok":
        return f"<b>{name}</b><br>{row['ratio']:.2f}" + (" *" if row["gap_significant"] else "")
    return f"<b>{name}</b><br><i>{row['short_status']}</i>"


# ONS's label points for the two northern regions sit 65 km apart, so their labels would
# overlap: North East and Yorkshire's moves east into Yorkshire (BNG metres).
LABEL_POINTS = {"North East and Yorkshire": (470_000, 482_000)}
# London is too small to hold its label over its trusts, and the North West too narrow: their
# labels sit off to the side with an arrow back (pixels).
LABEL_OFFSETS = {"London": (70, 30), "North West": (-80, 10)}


def region_map(regions: pl.DataFrame, trusts: pl.DataFrame, metric: Metric, *,
               outlines: Mapping[str, Region], scale_title: str, title: str,
               source: str, height: int = 820,
               highlight: tuple[float, float, str] | None = None) -> go.Figure:
    """Regions filled by the gap ratio, trusts as points sized by births.

    Parameters
    ----------
    regions : one row per region: ``region`` (name), ``status`` ("ok" or why there is no
        ratio), ``short_status`` (a few words for the map), ``ratio``,
        ``gap_significant`` and ``hover`` (text).
    trusts : one row per placed trust: ``x``, ``y`` (BNG metres), ``size`` (births or the
        metric's denominator; null draws the smallest marker), ``side`` (a key of
        :data:`TRUST_SYMBOLS`), ``comparison`` (a key of :data:`theme.COMPARISON`, the same
        for every trust on one side), ``legend`` (the group's name) and ``hover`` (the
        fields of :data:`TRUST_HOVER`).
    outlines : region name -> outline.
    highlight : (x, y, name) of one trust to ring and name, e.g. a board pack's own trust.
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
            x=xs, y=ys, mode="lines", fill="toself", name=figures.plain(row["region"]),
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
    if highlight:
        _highlight(fig, *highlight, outlines)
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
            **figures.hover(TRUST_HOVER, subset["hover"].to_list(), whole=("name", "region")),
        )


def _highlight(fig: go.Figure, x: float, y: float, name: str,
               outlines: Mapping[str, Region]) -> None:
    """A ring around one trust's marker (its own colour and shape still show inside) and its
    name beside England, on the nearer side, where it hides no region and no other trust;
    never higher than the middle of the map, so that it clears the legend and the colour
    scale in the top corners."""
    fig.add_scatter(x=[x], y=[y], mode="markers", name="This trust (ringed)", legendrank=950,
                    hoverinfo="skip", marker=dict(symbol="circle-open", size=MAX_MARKER_PX + 10,
                                                  color=theme.TEXT, line=dict(width=3)))
    xs = [v for o in outlines.values() for r in o.rings for v in (r[:, 0].min(), r[:, 0].max())]
    ys = [v for o in outlines.values() for r in o.rings for v in (r[:, 1].min(), r[:, 1].max())]
    east = x > (min(xs) + max(xs)) / 2
    # Two lines of about half the name each (wrap keeps two lines only).
    label = figures.wrap(name, max(26, len(name) // 2 + 6))
    fig.add_annotation(x=x, y=y, text=f"<b>{label}</b>", showarrow=True, axref="x", ayref="y",
                       ax=max(xs) + PAD_M if east else min(xs) - PAD_M,
                       ay=min(y, (min(ys) + max(ys)) / 2),
                       xanchor="left" if east else "right", standoff=MAX_MARKER_PX / 2 + 6,
                       arrowcolor=theme.TEXT, arrowwidth=1.5, font=dict(size=12, color=theme.TEXT),
                       bgcolor="rgba(255,255,255,0.9)", bordercolor=theme.TEXT, borderpad=3,
                       align="left")


def _frame(fig: go.Figure, outlines: Mapping[str, Region]) -> None:
    """Equal-aspect hidden axes around England: one metre east is one metre north."""
    xs = [v for o in outlines.values() for r in o.rings for v in (r[:, 0].min(), r[:, 0].max())]
    ys = [v for o in outlines.values() for r in o.rings for v in (r[:, 1].min(), r[:, 1].max())]
    fig.update_xaxes(visible=False, range=[min(xs) - PAD_M, max(xs) + PAD_M], fixedrange=False)
    fig.update_yaxes(visible=False, range=[min(ys) - PAD_M, max(ys) + PAD_M],
                     scaleanchor="x", scaleratio=1)


# A trust's hover: name, region, value with its 95% CI (or why there is none), comparison,
# births; a line without a text is left out (``value`` to ``size`` bring their own breaks).
TRUST_HOVER = "<b>{name}</b><br>{region}<br>{who}: {value}{interval}{words}{size}<extra></extra>"


def trust_hover(name: str, region: str | None, metric: Metric, who: str, value, lower, upper,
                words: str, size_text: str) -> dict[str, str]:
    """One trust's hover texts, the fields of :data:`TRUST_HOVER` (Plotly markup). The
    names are escaped: they are data."""
    shown = not fmt.missing(value)
    return {"name": figures.plain(name), "region": figures.plain(region or "Region not known"),
            "who": who, "value": fmt.value(metric, value) if shown else words.lower(),
            "interval": f" ({fmt.interval(metric, lower, upper)})" if shown else "",
            "words": f"<br>{words}" if shown else "",
            "size": f"<br>{size_text}" if size_text else ""}


# -- what the map shows, from the store ---------------------------------------------------

# The group each breakdown opens on: the one the equity letters single out.
DEFAULT_GROUP = {ETHNICITY: "Black", QUINTILE: "Q1 (most deprived)"}
GAP_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95", "difference", "difference_lower95",
               "difference_upper95")
# Why a region has no ratio, in a few words for the map and in full for the table.
REGION_STATUS = {
    "suppressed": ("suppressed", "Suppressed (small numbers)"),
    "no data": ("no data", "No data for this group"),
    "reference suppressed": ("reference suppressed",
                             "Not available: the reference group is suppressed"),
    "not available": ("not available", "Not available"),
}


@dataclass(frozen=True)
class MapSelection:
    """What the map shows: the regions' gap between ``group`` and the reference group of
    ``dimension`` for ``metric`` in ``period``; trust points for all women and babies
    (``trusts="all"``) or for the group (``"group"``, where trusts' breakdowns are
    published)."""

    metric: str
    period: str
    dimension: str
    group: str
    trusts: str = "all"
    trust_breakdowns: tuple[str, ...] = ()  # what the store holds for trusts


    @property
    def reference(self) -> str:
        return DIMENSIONS[self.dimension].reference or ""

    @property
    def group_unpublished_for_trusts(self) -> bool:
        """MBRRACE-UK and CQC publish totals only for trusts."""
        return self.dimension not in self.trust_breakdowns

    @property
    def trust_dimension(self) -> str:
        """The trust points' breakdown: the chosen one if asked for and published for
        trusts, else all women."""
        wanted = self.trusts == "group" and not self.group_unpublished_for_trusts
        return self.dimension if wanted else TOTAL

    @property
    def trust_group(self) -> str:
        return self.group if self.trust_dimension != TOTAL else ALL_GROUP


def _status(row: dict | None, reference: dict | None) -> str:
    if row is None or row["status"] == "no data":
        return "no data"
    if row["status"] == "suppressed":
        return "suppressed"
    if fmt.missing(row["ratio"]):
        return "reference suppressed" if reference and reference["status"] == "suppressed" \
            else "not available"
    return "ok"


def gap_words(status: str, ratio, significant: bool | None, metric: Metric) -> str:
    """The region's gap in words: "Higher, significant (worse)", "No significant gap"."""
    if status != "ok":
        return REGION_STATUS[status][1]
    if not significant:
        return "No significant gap"
    high, low = polarity_word(metric)
    side, word = ("Higher", high) if ratio > 1 else ("Lower", low)
    judged = metric.polarity != registry.NO_JUDGEMENT
    return f"{side}, significant" + (f" ({word})" if judged else "")


def region_rows(selection: MapSelection, facts: MapFacts) -> pl.DataFrame:
    """One row per region: the group's and the reference group's values, the ratio and
    difference between them with 95% CIs, and the gap in words. A region whose group (or
    reference group) is suppressed has no figures, only its status."""
    metric = registry.get(selection.metric)
    out = []
    for code, name, frame in facts.regions:
        rows = {r["group"]: r for r in frame.iter_rows(named=True)}
        row, reference = rows.get(selection.group), rows.get(selection.reference)
        status = _status(row, reference)
        ok = status == "ok"
        # The group's own value stands even when the reference group's is suppressed.
        shown = row is not None and row["status"] == "ok"
        out.append({
            "org_code": code, "region": name, "status": status,
            "short_status": REGION_STATUS.get(status, ("", ""))[0],
            **{k: row[k] if shown else None for k in ("value", "lower95", "upper95")},
            **{k: row[k] if ok else None for k in GAP_COLUMNS},
            "reference_value": reference["value"] if reference else None,
            "reference_status": reference["status"] if reference else "no data",
            "gap_significant": bool(row["gap_significant"]) if ok else None,
            "gap": gap_words(status, row["ratio"] if ok else None,
                             row["gap_significant"] if ok else None, metric),
        })
    return pl.DataFrame(out, schema_overrides={"gap_significant": pl.Boolean})


def ci_range(lower, upper, decimals: int) -> str:
    """"1.2 to 3.4": a 95% CI for tables."""
    return f"{fmt.number(lower, decimals)} to {fmt.number(upper, decimals)}"


def region_table(rows: pl.DataFrame, selection: MapSelection, metric: Metric) -> pl.DataFrame:
    """The regions as shown and downloaded, largest ratio first, then those without one."""
    d = metric.decimals
    unit = metric.unit
    group, reference = selection.group, selection.reference

    def value(v, status):
        return "*" if status == "suppressed" else fmt.number(v, d) if not fmt.missing(v) \
            else ":"

    out = []
    for r in rows.sort(pl.col("ratio").is_null(), pl.col("ratio"), descending=[False, True],
                       nulls_last=True).iter_rows(named=True):
        ok = r["status"] == "ok"
        group_ok = not fmt.missing(r["value"])
        out.append({
            "Region": r["region"],
            f"{group} ({unit})": value(r["value"], r["status"]),
            f"{group} 95% CI": ci_range(r["lower95"], r["upper95"], d) if group_ok
            else ("*" if r["status"] == "suppressed" else ":"),
            f"{reference} ({unit})": value(r["reference_value"], r["reference_status"]),
            "Ratio (95% CI)": f"{fmt.number(r['ratio'], 2)} "
                              f"({ci_range(r['ratio_lower95'], r['ratio_upper95'], 2)})" if ok
            else ("*" if r["status"] in ("suppressed", "reference suppressed") else ":"),
            f"Difference ({unit}, 95% CI)": f"{fmt.number(r['difference'], d)} "
            f"({ci_range(r['difference_lower95'], r['difference_upper95'], d)})" if ok
            else ("*" if r["status"] in ("suppressed", "reference suppressed") else ":"),
            "Gap": r["gap"],
        })
    return pl.DataFrame(out)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def short_group(group: str) -> str:
    """"Q1 (most deprived)" -> "Q1"; ethnic groups unchanged."""
    return group.split(" (")[0]


def region_hover(row: dict, selection: MapSelection, metric: Metric) -> str:
    who = capital(fmt.subject(selection.group, selection.dimension, metric))
    ref = capital(fmt.subject(selection.reference, selection.dimension, metric))
    lines = [f"<b>{figures.plain(row['region'])}</b>"]
    if row["status"] == "ok":
        lines += [f"{who}: {fmt.value(metric, row['value'])}",
                  f"{ref}: {fmt.value(metric, row['reference_value'])}",
                  f"Ratio {row['ratio']:.2f} (95% CI {row['ratio_lower95']:.2f} to "
                  f"{row['ratio_upper95']:.2f})", row["gap"]]
    else:
        lines.append(row["gap"])
    return "<br>".join(lines)


def trust_comparison(label: str | None, status: str, metric: Metric) -> tuple[str, str, str]:
    """(colour key of ``theme.COMPARISON``, side, words) for a trust's PHE funnel label
    against England: above or below the 95% or 99.8% limit, within, or not compared. The
    side ("above", "below", "within", "none") sets the marker's shape, the key its colour."""
    if status == "suppressed":
        return "not compared", "none", "Suppressed (small numbers)"
    if not label:
        return "not compared", "none", "No data"
    if label == "Not significant":
        return "similar", "within", "Within England's limits (similar)"
    high, low = polarity_word(metric)
    above = label.startswith("High")
    limit = "99.8%" if "0.001" in label else "95%"
    word = high if above else low
    judged = metric.polarity != registry.NO_JUDGEMENT
    return word, "above" if above else "below", (
        f"{'Above' if above else 'Below'} England's {limit} limit"
        + (f" ({word})" if judged else ""))


def legend_name(key: str, side: str, metric: Metric) -> str:
    """A marker group's name in the legend: "Above England's limits (worse)"."""
    if side in ("above", "below"):
        judged = metric.polarity != registry.NO_JUDGEMENT
        return f"{side.title()} England's limits" + (f" ({key})" if judged else "")
    return "Within England's limits" if side == "within" else "Suppressed or no figure"


def trust_rows(selection: MapSelection, facts: MapFacts) -> pl.DataFrame:
    """Every trust with a figure for the selection: value, 95% CI, comparison with England,
    its births (the metric's denominator for all women) and its position, if known."""
    metric = registry.get(selection.metric)
    frame = facts.trusts.join(facts.totals, on="org_code", how="left")
    positions = geo.trust_positions(frame.select("org_code", "region").iter_rows())
    out = []
    for r in frame.iter_rows(named=True):
        key, side, words = trust_comparison(r["funnel"], r["status"], metric)
        x, y, source = positions.get(r["org_code"], (None, None, None))
        out.append(r | {"comparison": key, "side": side, "words": words, "x": x, "y": y,
                        "position": source,
                        "size": None if r["size_suppressed"] else r["size"]})
    return pl.DataFrame(out, infer_schema_length=None) if out else pl.DataFrame()


def map_trusts(rows: pl.DataFrame, selection: MapSelection, metric: Metric) -> pl.DataFrame:
    """The placed trusts as the figure draws them (position to the metre, size, colour key,
    hover fields)."""
    if rows.is_empty():
        return pl.DataFrame()
    placed = rows.filter(pl.col("x").is_not_null())
    who = fmt.subject(selection.trust_group, selection.trust_dimension, metric)
    hover = [trust_hover(r["name"], r["region"], metric, capital(who), r["value"],
                         r["lower95"], r["upper95"], r["words"],
                         f"{metric.denominator}: {fmt.count(r['size'])}"
                         if not fmt.missing(r["size"]) else "")
             for r in placed.iter_rows(named=True)]
    legend = [legend_name(k, s, metric) for k, s in zip(placed["comparison"], placed["side"],
                                                        strict=True)]
    # To the metre: a pixel of the map is several hundred metres of England.
    return placed.select(pl.col("x", "y").round().cast(pl.Int64), "size", "comparison",
                         "side").with_columns(legend=pl.Series(legend, dtype=pl.String),
                                              hover=pl.Series(hover))


def title_of(selection: MapSelection, metric: Metric) -> str:
    return (f"{metric.title}: {short_group(selection.group)} compared with "
            f"{short_group(selection.reference)}, by NHS England region, {selection.period}")


def source_line(metric: Metric, selection: MapSelection, synthetic: bool) -> str:
    synthetic = (f" {fmt.SYNTHETIC[:-1]}; trust positions are illustrative."
                 if synthetic else "")
    return (f"Source: {metric.source}, {selection.period}.{synthetic}<br>"
            f"Boundaries: {geo.ATTRIBUTION}.")


def selection_map(selection: MapSelection, regions: pl.DataFrame, trusts: pl.DataFrame,
                  metric: Metric, *, synthetic: bool, highlight: str | None = None,
                  height: int = 820) -> go.Figure:
    """:func:`region_map` of ``regions`` (:func:`region_rows`) and ``trusts``
    (:func:`trust_rows`), with the trust coded ``highlight`` ringed and named if placed."""
    regions = regions.with_columns(hover=pl.Series(
        [region_hover(r, selection, metric) for r in regions.iter_rows(named=True)],
        dtype=pl.String))
    kind = "ratio of shares" if metric.statistic == registry.PROPORTION else "rate ratio"
    chosen = trusts.filter((pl.col("org_code") == highlight) & pl.col("x").is_not_null()) \
        if highlight and not trusts.is_empty() else pl.DataFrame()
    return region_map(
        regions, map_trusts(trusts, selection, metric), metric, outlines={
            r["region"]: o for r in regions.iter_rows(named=True)
            if (o := geo.region_for(r["region"])) is not None},
        scale_title=f"{short_group(selection.group)} ÷ {short_group(selection.reference)}"
                    f"<br>({kind}; 1 = no gap)",
        title=figures.wrap(title_of(selection, metric), 80),
        source=source_line(metric, selection, synthetic), height=height,
        highlight=chosen.select("x", "y", "name").row(0) if chosen.height else None)
