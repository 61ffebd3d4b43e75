"""Every chart comes from here, sharing one Plotly template (NHS identity, print-ready).

Builders take frames from ``data.queries`` and return ``go.Figure``s. Confidence intervals
are error bars or bands; suppressed groups are labelled "suppressed", never drawn as zero.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from components import crosstab, theme
from components import format as fmt
from metrics.categories import DIMENSIONS, ETHNICITY, QUINTILES
from metrics.registry import Metric

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family=theme.FONT, size=14, color=theme.TEXT),
        title=dict(font=dict(size=16, color=theme.TEXT), x=0, xanchor="left"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=list(theme.PALETTE),
        xaxis=dict(showgrid=True, gridcolor=theme.NHS_PALE_GREY, zeroline=False,
                   linecolor=theme.NHS_MID_GREY, ticks="outside", automargin=True),
        yaxis=dict(showgrid=True, gridcolor=theme.NHS_PALE_GREY, zeroline=False,
                   linecolor=theme.NHS_MID_GREY, ticks="outside", automargin=True),
        margin=dict(l=10, r=20, t=70, b=120),
        hoverlabel=dict(font=dict(family=theme.FONT, size=13)),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
    )
)
# Nothing leaves the building. plotly.js 4 adds a "Share chart" button (sendChartToCloud,
# which posts the figure's data to plotlyServerURL) unless showSendToCloud is false, and
# its logo (displaylogo, or a watermark) links to plotly.com. Older plotly.js offered
# "Edit in Chart Studio" instead (showEditInChartStudio); both names are removed in case the
# bundle changes. "Download plot as a png" (toImage) stays: the browser draws the image.
OFFSITE_BUTTONS = ("sendChartToCloud", "sendDataToCloud", "editInChartStudio")
CONFIG = {"displaylogo": False, "watermark": False, "responsive": True,
          "showSendToCloud": False, "showEditInChartStudio": False, "plotlyServerURL": "",
          "modeBarButtonsToRemove": ["lasso2d", "select2d", *OFFSITE_BUTTONS],
          "toImageButtonOptions": {"format": "png", "scale": 2}}


def plain(text: str) -> str:
    """``text`` as Plotly shows it, character for character: ``&``, ``<`` and ``>`` escaped.

    Plotly reads a subset of HTML in every text it draws (titles, legends, hover labels,
    annotations, tick labels): ``<a href>`` becomes a live link, ``<b>`` bold, ``<br>`` a new
    line. Names from a store or from a user's file are data, not markup, so each goes
    through here before it reaches a figure. The builders below take their texts (titles,
    sources, labels and the names in their frames) as Plotly markup: the caller escapes.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_columns(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``frame`` with the text of ``columns`` escaped by :func:`plain`, for a builder that
    draws them (nulls stay null)."""
    return frame.with_columns(
        pl.col(c).str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
        for c in columns)


def _source_note(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=0, yanchor="top",
                       xanchor="left", showarrow=False, align="left", yshift=-72,
                       font=dict(size=11, color=theme.NHS_DARK_GREY))


def empty(message: str) -> go.Figure:
    """A figure that explains why there is nothing to draw."""
    fig = go.Figure(layout=dict(template=TEMPLATE, height=220))
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font=dict(size=15, color=theme.NHS_DARK_GREY))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def category_axis(fig: go.Figure, categories: list[str], *, axis: str = "y",
                  every_row: bool = True, **selector) -> None:
    """Make ``axis`` (``"x"`` or ``"y"``; all of them, or those ``selector`` picks) a
    category axis over ``categories`` in this order.

    Group and period names such as "2" or "2024" are names, not numbers: left to guess,
    Plotly would read mostly-numeric names as a number scale. With ``every_row`` each category
    keeps its row, including withheld ones at the ends (autorange leaves out empty bars).
    """
    extent = dict(range=[-0.5, len(categories) - 0.5]) if every_row else {}
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="category", categoryorder="array", categoryarray=list(categories), **extent,
           **selector)


def category_position(categories: list[str], name: str) -> int:
    """Where ``name`` sits on a :func:`category_axis`: its serial position, for placing an
    annotation or shape on its row.

    Plotly.js reads a layout position that looks like a number ("2", "2024") as a serial
    position before it looks for a category of that name, so a note placed at ``y="9"``
    would land on the tenth row whatever that row is called. Traces match data by name and
    need no such care.
    """
    return list(categories).index(name)


def withheld_note(status: str, *, prefix: str = "", short: bool = False) -> str:
    """The label on a group's row in place of a figure: "suppressed (small numbers)" (just
    "suppressed" where ``short``, in a narrow panel), or "no data"."""
    if status != "suppressed":
        return f"{prefix}no data"
    return f"{prefix}suppressed" + ("" if short else " (small numbers)")


def _note_rows(fig: go.Figure, categories: list[str], notes: list[tuple[str, str]],
               **annotation) -> None:
    """Label each ``(category, text)`` on its row of the y axis, placed by position."""
    for name, text in notes:
        fig.add_annotation(y=category_position(categories, name), text=text, xanchor="left",
                           showarrow=False, font=dict(color=theme.NHS_DARK_GREY, size=13),
                           **annotation)


def _group_colours(groups: list[str], dimension: str) -> list[str]:
    known = DIMENSIONS[dimension].groups
    if DIMENSIONS[dimension].ordered:
        # Sequential blues for an ordered gradient (most deprived darkest).
        n = len(known)
        shades = [f"rgba(0, 48, 135, {1 - 0.75 * i / max(n - 1, 1):.2f})" for i in range(n)]
        lookup = dict(zip(known, shades, strict=True))
    else:
        lookup = {g: theme.PALETTE[i % len(theme.PALETTE)] for i, g in enumerate(known)}
    return [lookup.get(g, theme.UNKNOWN_GROUP) for g in groups]


def breakdown_bars(frame: pl.DataFrame, metric: Metric, *, title: str, source: str,
                   comparator_label: str | None = None) -> go.Figure:
    """Horizontal bars per group with 95% CIs and the comparator's value for each group."""
    if frame.is_empty() or frame["value"].is_null().all():
        return empty("No figures to show: every group is suppressed or has no data.")
    rows = frame.sort("group_order", descending=True)
    groups = rows["group"].to_list()
    values = rows["value"].to_list()
    shown = [v is not None for v in values]
    fig = go.Figure(layout=dict(template=TEMPLATE))
    # A withheld group has no bar (never one of zero length): its row says why instead.
    fig.add_bar(
        y=groups, x=values, orientation="h",
        marker_color=_group_colours(groups, rows["dimension"][0]),
        error_x=dict(type="data", symmetric=False, color=theme.TEXT, thickness=1.5, width=5,
                     array=[(u - v) if s else 0 for u, v, s in
                            zip(rows["upper95"].fill_null(0), rows["value"].fill_null(0), shown,
                                strict=True)],
                     arrayminus=[(v - lo) if s else 0 for lo, v, s in
                                 zip(rows["lower95"].fill_null(0), rows["value"].fill_null(0),
                                     shown, strict=True)]),
        name=metric.short_title, showlegend=False,
        customdata=list(zip(
            [fmt.value(metric, v) for v in values],
            [fmt.interval(metric, lo, hi) for lo, hi in zip(rows["lower95"], rows["upper95"],
                                                           strict=True)],
            [fmt.count(n, s) for n, s in zip(rows["numerator"], rows["suppressed"], strict=True)],
            [fmt.count(d, s) for d, s in zip(rows["denominator"], rows["suppressed"],
                                             strict=True)],
            strict=True,
        )),
        hovertemplate="<b>%{y}</b><br>%{customdata[0]} (%{customdata[1]})<br>"
                      "%{customdata[2]} of %{customdata[3]}<extra></extra>",
    )
    _note_rows(fig, groups, [(g, withheld_note(st, prefix=" ")) for g, st, s in
                             zip(groups, rows["status"], shown, strict=True)
                             if st != "ok" or not s], x=0)
    if comparator_label and "comparator_value" in rows.columns and \
            rows["comparator_value"].is_not_null().any():
        fig.add_scatter(
            y=groups, x=rows["comparator_value"].to_list(), mode="markers",
            marker=dict(symbol="line-ns", size=22, line=dict(width=3, color=theme.TEXT)),
            name=comparator_label,
            hovertemplate=f"{comparator_label}: %{{x:,.{metric.decimals}f}}<extra></extra>",
        )
    # A floor on the height keeps a plot area between title and source for one bar.
    fig.update_layout(title=title, height=max(300, 140 + 36 * len(groups)), showlegend=True,
                      bargap=0.35)
    category_axis(fig, groups)
    fig.update_xaxes(title=f"{metric.short_title} ({metric.unit}), bars show 95% CIs",
                     rangemode="tozero")
    _source_note(fig, source)
    return fig


# A user's own figures stand out from the national ones by colour, shape and name.
LOCAL_STYLES = {
    "local": dict(symbol="diamond", size=14, color=theme.PALETTE[1]),
    "england": dict(symbol="circle", size=10, color=theme.NHS_BLUE),
    "organisation": dict(symbol="square", size=9, color=theme.NHS_DARK_GREY),
}


def local_comparison(frame: pl.DataFrame, metric: Metric, *, title: str,
                     source: str) -> go.Figure:
    """Local figures beside the national ones, one row per group: a dot per series (local,
    England, the organisation in the national data) with its 95% CI.

    ``frame`` is long: ``group``, ``group_order``, ``series`` (legend name), ``kind``
    (a key of :data:`LOCAL_STYLES`), ``value``, ``lower95``, ``upper95``, ``status``.
    Suppressed local groups are labelled, never drawn as zero.
    """
    if frame.is_empty() or frame["value"].is_null().all():
        return empty("No figures to show: every local group is suppressed or has no data.")
    groups = frame.sort("group_order", descending=True)["group"].unique(
        maintain_order=True).to_list()
    fig = go.Figure(layout=dict(template=TEMPLATE))
    for kind in ("organisation", "england", "local"):
        part = frame.filter(pl.col("kind") == kind)
        if part.is_empty() or part["value"].is_null().all():
            continue
        style = LOCAL_STYLES[kind]
        values, lows, highs = (part[c].to_list() for c in ("value", "lower95", "upper95"))
        fig.add_scatter(
            y=part["group"].to_list(), x=values, mode="markers", orientation="h",
            name=part["series"][0],
            marker=dict(symbol=style["symbol"], size=style["size"], color=style["color"],
                        line=dict(width=1, color=theme.TEXT)),
            error_x=dict(type="data", symmetric=False, thickness=1.5, width=4,
                         color=style["color"],
                         array=[h - v if v is not None and h is not None else None
                                for v, h in zip(values, highs, strict=True)],
                         arrayminus=[v - lo if v is not None and lo is not None else None
                                     for v, lo in zip(values, lows, strict=True)]),
            customdata=[[fmt.value(metric, v), fmt.interval(metric, lo, hi)]
                        for v, lo, hi in zip(values, lows, highs, strict=True)],
            hovertemplate=f"<b>{part['series'][0]}</b><br>%{{y}}: %{{customdata[0]}} "
                          "(%{customdata[1]})<extra></extra>",
        )
    hidden = frame.filter((pl.col("kind") == "local")
                          & ((pl.col("status") != "ok") | pl.col("value").is_null()))
    _note_rows(fig, groups, [(g, withheld_note(st, prefix="Local: ")) for g, st in
                             hidden.select("group", "status").iter_rows()], x=0, xref="paper")
    fig.update_layout(title=title, height=max(320, 170 + 70 * len(groups)),
                      scattermode="group", scattergap=0.45, showlegend=True)
    category_axis(fig, groups)
    fig.update_xaxes(title=f"{metric.short_title} ({metric.unit}), with 95% CIs",
                     rangemode="tozero")
    _source_note(fig, source)
    return fig


def _england_marks(fig: go.Figure, england: pl.DataFrame, metric: Metric, *, row: int,
                   col: int) -> None:
    """England's value for each group as a tall blue tick on a panel's bars (named in the
    source note: a legend would sit on the panels' titles)."""
    shown = england.filter(pl.col("value").is_not_null())
    if shown.is_empty():
        return
    fig.add_scatter(row=row, col=col, x=shown["value"].to_list(), y=shown["group"].to_list(),
                    mode="markers", name="England", showlegend=False,
                    marker=dict(symbol="line-ns", size=22, color=theme.NHS_BLUE,
                                line=dict(width=3, color=theme.NHS_BLUE)),
                    customdata=[fmt.value(metric, v) for v in shown["value"]],
                    hovertemplate="England, %{y}: %{customdata}<extra></extra>")


def small_multiples(frames: list[tuple[str, pl.DataFrame]], metric: Metric, *, title: str,
                    source: str, england: pl.DataFrame | None = None) -> go.Figure:
    """One breakdown panel per organisation, side by side, sharing the value axis; with
    ``england`` (England's breakdown) each panel marks England's value for each group."""
    frames = [(name, f) for name, f in frames if not f.is_empty()]
    if not frames:
        return empty("Choose one or more trusts to compare.")
    england = england if england is not None else pl.DataFrame()
    cols = min(4, len(frames))
    rows_n = (len(frames) + cols - 1) // cols
    fig = make_subplots(rows=rows_n, cols=cols, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=[wrap(name, 30) for name, _ in frames],
                        horizontal_spacing=0.03, vertical_spacing=0.12)
    top = max([*((f["upper95"].max() or 0) for _, f in frames),
               (england["value"].max() or 0) if not england.is_empty() else 0]) or 1
    for i, (_, frame) in enumerate(frames):
        r, c = i // cols + 1, i % cols + 1
        rows = frame.sort("group_order", descending=True)
        shown = rows["value"].is_not_null().to_list()
        fig.add_bar(
            row=r, col=c, y=rows["group"].to_list(), x=rows["value"].fill_null(0).to_list(),
            orientation="h", showlegend=False,
            marker_color=_group_colours(rows["group"].to_list(), rows["dimension"][0]),
            error_x=dict(type="data", symmetric=False, color=theme.TEXT, thickness=1.2,
                         array=[(u or 0) - (v or 0) if s else 0 for u, v, s in
                                zip(rows["upper95"], rows["value"], shown, strict=True)],
                         arrayminus=[(v or 0) - (lo or 0) if s else 0 for lo, v, s in
                                     zip(rows["lower95"], rows["value"], shown, strict=True)]),
            # The label rides on its (zero-length) bar, so it is matched to its group by
            # name. A group with no row of data is "no data", not suppressed (DATA.md).
            text=["" if s else withheld_note(st, short=True) for s, st in
                  zip(shown, rows["status"], strict=True)],
            textposition="outside",
            customdata=[fmt.value(metric, v) if s else withheld_note(st) for v, s, st in
                        zip(rows["value"], shown, rows["status"], strict=True)],
            hovertemplate="%{y}: %{customdata}<extra></extra>",
        )
        if not england.is_empty():
            _england_marks(fig, england.filter(pl.col("group").is_in(rows["group"].to_list())),
                           metric, row=r, col=c)
    fig.update_xaxes(range=[0, top * 1.1])
    # Every panel lists every group, in one order (matched category axes mis-autorange).
    every = pl.concat([f.select("group", "group_order") for _, f in frames])
    category_axis(fig, every.unique("group").sort("group_order", descending=True)[
        "group"].to_list())
    fig.update_layout(template=TEMPLATE, title=title, height=140 + 300 * rows_n,
                      margin=dict(t=90))
    fig.update_annotations(font_size=13)
    _source_note(fig, source)
    return fig


def wrap(text: str, width: int) -> str:
    """Break ``text`` into at most two lines of about ``width`` characters for titles.

    ``text`` is plain text (a title naming an organisation): it comes back as Plotly markup,
    escaped by :func:`plain`, with ``<br>`` between the lines.
    """
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(plain(line) for line in lines[:2])


def _shared_words(texts: list[str]) -> tuple[str, str, list[str] | None]:
    """(head, tail, rest): the whole words every text starts and ends with, and what is left
    of each text between them (``head + rest[i] + tail == texts[i]``); ``rest`` is None when
    every text is the same one of several words (or empty), all of it in ``head``. Otherwise
    at least one word of each text is left, so a one-word text (a number, a count) is never
    split or shared."""
    words = [text.split(" ") for text in texts]
    if len(set(texts)) == 1 and (len(words[0]) > 1 or not texts[0]):
        return texts[0], "", None
    fewest = min(len(w) for w in words)
    k = 0
    while k < fewest - 1 and all(w[k] == words[0][k] for w in words):
        k += 1
    j = 0
    while j < fewest - 1 - k and all(w[-1 - j] == words[0][-1 - j] for w in words):
        j += 1
    head = "".join(f"{w} " for w in words[0][:k])
    tail = "".join(f" {w}" for w in words[0][len(words[0]) - j:])
    return head, tail, [" ".join(w[k:len(w) - j]) for w in words]


def hover(template: str, points: list[dict[str, str]], *, whole: tuple[str, ...] = ("name",)
          ) -> dict:
    """Scatter arguments (``hovertemplate``, ``customdata``) whose hover for point ``i``
    reads exactly ``template.format_map(points[i])``, sent compactly.

    ``template`` is Plotly markup with a ``{field}`` for each text of ``points`` (texts
    formatted once, by ``components.format``, names escaped). What every point's text of a
    field starts or ends with, in whole words (a unit, "95% CI", a comparison's wording), is
    written once into the template, and the rest of each text goes in ``customdata``
    (:func:`_shared_words`): a thousand points then carry their own figures and names only.
    The ``whole`` fields (names: data, not wording) go whole in ``customdata``, so that no
    part of one ("2" of "Trust 2") stands alone there as if a count.
    """
    fields = list(points[0]) if points else []
    filled, columns = {}, []
    for field in fields:
        texts = [p[field] for p in points]
        head, tail, rest = ("", "", texts) if field in whole else _shared_words(texts)
        if rest is not None:
            filled[field] = f"{head}%{{customdata[{len(columns)}]}}{tail}"
            columns.append(rest)
        else:
            filled[field] = head
    compact = template.format_map(filled)
    # A shared text holding "%{" would be read by Plotly as a field: send every text whole.
    if compact.count("%{") != template.count("%{") + len(columns):
        columns = [[p[field] for p in points] for field in fields]
        compact = template.format_map({f: f"%{{customdata[{i}]}}" for i, f in enumerate(fields)})
    return {"hovertemplate": compact,
            "customdata": [list(row) for row in zip(*columns, strict=True)] if columns
            else None}


FUNNEL_LINES = {"lower_2s": ("95% limits", "dash"), "upper_2s": ("95% limits", "dash"),
                "lower_3s": ("99.8% limits", "solid"), "upper_3s": ("99.8% limits", "solid")}
# A funnel point's hover: the fields of :func:`_trust_hover`, then (the Benchmark funnel)
# its position against the limits in words, or (recording) the women booked.
FUNNEL_HOVER = ("<b>{name}</b><br>{value} ({interval})<br>{numerator} of {denominator}"
                "<br>{funnel}<extra></extra>")
COMPLETENESS_HOVER = ("<b>{name}</b><br>{value} ({interval})<br>{numerator} of {denominator}"
                      " women booked<extra></extra>")


def _trust_hover(subset: pl.DataFrame, metric: Metric) -> list[dict[str, str]]:
    """Hover fields per trust: ``name``, ``value``, its 95% CI (``interval``), ``numerator``
    and ``denominator``."""
    return [{"name": name, "value": fmt.value(metric, value),
             "interval": fmt.interval(metric, lower, upper),
             "numerator": fmt.count(numerator), "denominator": fmt.count(denominator)}
            for name, value, lower, upper, numerator, denominator in subset.select(
                "name", "value", "lower95", "upper95", "numerator", "denominator").iter_rows()]


def _funnel_limit_lines(fig: go.Figure, curve: pl.DataFrame) -> None:
    """Draw the 95% (dashed) and 99.8% (solid) funnel limits from a long limits frame."""
    for limit in ("lower_3s", "upper_3s", "lower_2s", "upper_2s"):
        part = curve.filter(pl.col("limit") == limit) if not curve.is_empty() else curve
        if part.is_empty():
            continue
        name, dash_style = FUNNEL_LINES[limit]
        fig.add_scatter(x=part["denominator"].to_list(), y=part["value"].to_list(),
                        mode="lines", line=dict(color=theme.NHS_DARK_GREY, dash=dash_style,
                                                width=1.3),
                        name=name, legendgroup=name, showlegend=limit.startswith("upper"),
                        hoverinfo="skip")


def _funnel_frame(curve: pl.DataFrame, metric: Metric, average: float | None,
                  label_position: str) -> go.Figure:
    """A funnel's empty figure: the limit lines and England's value as the benchmark."""
    fig = go.Figure(layout=dict(template=TEMPLATE))
    _funnel_limit_lines(fig, curve)
    if average is not None:
        fig.add_hline(y=average, line=dict(color=theme.NHS_BLUE, width=2),
                      annotation_text=f"England {fmt.value(metric, average)}",
                      annotation_position=label_position)
    return fig


def funnel(points: pl.DataFrame, curve: pl.DataFrame, metric: Metric, *, average: float | None,
           highlight: tuple[str, ...], title: str, source: str,
           units: tuple[str, str] = ("trust", "trusts")) -> go.Figure:
    """Funnel plot: every unit's value (``units``: singular and plural, trusts by default)
    against its denominator, limits and the benchmark; the chosen units are named."""
    shown = points.filter(pl.col("value").is_not_null())
    one, many = units
    if shown.is_empty():
        return empty(f"No {one} has a figure to plot for this selection.")
    fig = _funnel_frame(curve, metric, average, "top left")
    chosen = shown["org_code"].is_in(list(highlight))
    for subset, is_chosen in ((shown.filter(~chosen), False), (shown.filter(chosen), True)):
        if subset.is_empty():
            continue
        fig.add_scatter(
            x=subset["denominator"].to_list(), y=subset["value"].to_list(),
            mode="markers+text" if is_chosen else "markers",
            text=subset["name"].to_list() if is_chosen else None, textposition="top center",
            marker=dict(size=13 if is_chosen else 8,
                        color=theme.NHS_WARM_YELLOW if is_chosen else theme.NHS_BLUE,
                        line=dict(width=1.5 if is_chosen else 0.5, color=theme.TEXT),
                        symbol="diamond" if is_chosen else "circle", opacity=0.9),
            name=f"Chosen {many}" if is_chosen else many[0].upper() + many[1:],
            **hover(FUNNEL_HOVER, [
                fields | {"funnel": label} for fields, label in
                zip(_trust_hover(subset, metric), subset["funnel"].fill_null(""), strict=True)]),
        )
    fig.update_layout(title=title, height=520)
    fig.update_xaxes(title="Denominator (women or babies in the period)")
    fig.update_yaxes(title=f"{metric.short_title} ({metric.unit})")
    _source_note(fig, source)
    return fig


def trend(points: pl.DataFrame, metric: Metric, *, title: str, source: str,
          spc_group: str | None = None, height: int = 480) -> go.Figure:
    """Each group's series with 95% CI bands; for ``spc_group`` the SPC mean and process
    limits, with special-cause points coloured by Making Data Count convention."""
    if points.is_empty() or points["value"].is_null().all():
        return empty("No figures over time for this selection.")
    fig = go.Figure(layout=dict(template=TEMPLATE))
    groups = points["group"].unique(maintain_order=True).to_list()
    colours = _group_colours(groups, points["dimension"][0]) if "dimension" in points.columns \
        else [theme.PALETTE[i % len(theme.PALETTE)] for i in range(len(groups))]
    for group, colour in zip(groups, colours, strict=False):
        part = points.filter(pl.col("group") == group)
        x = part["period"].to_list()
        fig.add_scatter(x=x, y=part["value"].to_list(), mode="lines+markers", name=group,
                        line=dict(color=colour, width=2), marker=dict(size=6),
                        connectgaps=False,
                        hovertemplate=f"<b>{group}</b> %{{x}}<br>%{{y:,.{metric.decimals}f}}"
                                      "<extra></extra>")
        if group == spc_group and part["mean"].is_not_null().any():
            for column, label, style in (("mean", "Mean", "solid"), ("upl", "Process limits",
                                                                       "dash"),
                                         ("lpl", "Process limits", "dash")):
                fig.add_scatter(x=x, y=part[column].to_list(), mode="lines", name=label,
                                legendgroup=label, showlegend=column != "lpl",
                                line=dict(color=theme.NHS_DARK_GREY, dash=style, width=1.3),
                                hoverinfo="skip")
            special = part.filter(pl.col("point_type").is_not_null()
                                  & (pl.col("point_type") != "common_cause"))
            held = set(special["point_type"].to_list())
            for kind in (k for k in theme.SPC if k in held):  # the same legend order always
                subset = special.filter(pl.col("point_type") == kind)
                fig.add_scatter(
                    x=subset["period"].to_list(), y=subset["value"].to_list(), mode="markers",
                    name=kind.replace("special_cause_", "Special cause: ").replace("_", " "),
                    marker=dict(size=12, color=theme.SPC.get(kind, theme.TEXT),
                                line=dict(width=1, color=theme.TEXT)),
                    customdata=subset["special_cause_rule"].to_list(),
                    hovertemplate="%{x}<br>%{customdata}<extra></extra>",
                )
        elif part["lower95"].is_not_null().any():
            fig.add_scatter(x=x + x[::-1],
                            y=part["upper95"].to_list() + part["lower95"].to_list()[::-1],
                            fill="toself", fillcolor=_transparent(colour), line=dict(width=0),
                            mode="lines",
                            hoverinfo="skip", showlegend=False, name=f"{group} 95% CI")
    # Periods are labels ("2020", "2023 survey"), never numbers on a scale.
    category_axis(fig, points["period"].unique(maintain_order=True).to_list(), axis="x",
                  every_row=False)
    fig.update_layout(title=title, height=height)
    fig.update_yaxes(title=f"{metric.short_title} ({metric.unit})")
    fig.update_xaxes(tickangle=-35)
    _source_note(fig, source)
    return fig


def _transparent(colour: str) -> str:
    if colour.startswith("#") and len(colour) == 7:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},0.15)"
    # Any rgba (the sequential shades carry alphas other than 1.00): replace the alpha.
    return colour[:colour.rfind(",") + 1] + " 0.15)" if colour.startswith("rgba") else colour


PROJECTION_KEY = "Projection (not data)"


def add_projection(fig: go.Figure, points: pl.DataFrame, projected: pl.DataFrame,
                   metric: Metric, *, groups: tuple[str, ...] | None = None) -> go.Figure:
    """Continue a :func:`trend` figure with each group's projection: a dashed line from the
    latest figure through the projected periods, a hatched 95% prediction band, a shaded
    "Projection (not data)" region and one legend key. Each group's projection shares its
    legend group, so hiding a group hides its projection too.

    ``projected`` has ``group, period, value, lower95, upper95`` (periods labelled as in
    ``points``); ``groups`` limits the groups drawn (the table lists them all).
    """
    if projected.is_empty() or not fig.data or points.is_empty():
        return fig
    drawn = projected.filter(pl.col("group").is_in(list(groups))) if groups else projected
    if drawn.is_empty():
        return fig
    names = points["group"].unique(maintain_order=True).to_list()
    colours = dict(zip(names, _group_colours(names, points["dimension"][0])
                       if "dimension" in points.columns else theme.PALETTE, strict=False))
    latest = points["period"].unique(maintain_order=True).to_list()[-1]
    d = metric.decimals
    for group in drawn["group"].unique(maintain_order=True).to_list():
        part = drawn.filter(pl.col("group") == group)
        colour = colours.get(group, theme.NHS_DARK_GREY)
        x, y = part["period"].to_list(), part["value"].to_list()
        lower, upper = part["lower95"].to_list(), part["upper95"].to_list()
        notes = [f"Projection (not data): {fmt.value(metric, v)}<br>95% prediction interval "
                 f"{fmt.number(lo, d)} to {fmt.number(hi, d)}"
                 for v, lo, hi in zip(y, lower, upper, strict=True)]
        last = points.filter((pl.col("group") == group) & (pl.col("period") == latest))
        if last.height and last["value"][0] is not None:
            # Start from the latest figure so the projection reads as its continuation.
            value = last["value"][0]
            x, y = [latest, *x], [value, *y]
            lower, upper = [value, *lower], [value, *upper]
            notes = [f"Latest figure: {fmt.value(metric, value)}", *notes]
        fig.add_scatter(x=x + x[::-1], y=upper + lower[::-1], fill="toself", mode="lines",
                        fillcolor=_transparent(colour).replace("0.15)", "0.06)"),
                        fillpattern=dict(shape="/", fgcolor=colour, fgopacity=0.22, size=10),
                        line=dict(width=0), hoverinfo="skip", showlegend=False,
                        legendgroup=group, name=f"{group} projection band")
        fig.add_scatter(x=x, y=y, mode="lines+markers", name=f"{group} projection",
                        legendgroup=group, showlegend=False,
                        line=dict(color=colour, width=2, dash="dash"),
                        marker=dict(size=7, symbol="circle-open", color=colour),
                        customdata=notes,
                        hovertemplate=f"<b>{group}</b> %{{x}}<br>%{{customdata}}<extra></extra>")
    fig.add_scatter(x=[None], y=[None], mode="lines", name=PROJECTION_KEY,
                    line=dict(color=theme.NHS_DARK_GREY, width=2, dash="dash"),
                    hoverinfo="skip")
    ahead = drawn["period"].unique(maintain_order=True).to_list()
    shown = list(fig.layout.xaxis.categoryarray or points["period"].unique(
        maintain_order=True).to_list())
    categories = shown + [p for p in ahead if p not in shown]
    fig.update_xaxes(categoryarray=categories)
    first = category_position(categories, ahead[0])
    fig.add_vrect(x0=first - 0.5, x1=len(categories) - 0.5, layer="below", line_width=0,
                  fillcolor=theme.NHS_PALE_GREY, opacity=0.6,
                  annotation_text="Projected", annotation_position="top left",
                  annotation_font=dict(size=12, color=theme.NHS_DARK_GREY))
    return fig


# Blue below the reference, orange above: a diverging scale read by colour-blind people too
# (ColorBrewer PuOr family), light enough at both ends for black cell text.
DIVERGING = [[0.0, "#4393C3"], [0.5, "#F7F7F7"], [1.0, "#E08214"]]
NOT_SHOWN_GREY = "#C8CED2"
RATIO_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4)


def intersection_heatmap(frame: pl.DataFrame, metric: Metric, *, title: str,
                         source: str) -> go.Figure:
    """Ethnicity (rows) by deprivation quintile (columns): each cell's ratio to the
    reference cell (White, least deprived) on a diverging scale centred at 1 (log scale, so
    0.5 and 2 are equally far from 1).

    Cells say their ratio, in bold with ▲/▼ where its 95% CI excludes 1; suppressed cells
    are grey with "*" and cells without data grey with ":", never coloured as a value. The
    hover gives the rate with its 95% CI and the ratio with its CI.
    """
    if frame.is_empty():
        return empty("No figures by ethnicity and deprivation for this selection.")
    rows = list(DIMENSIONS[ETHNICITY].groups)
    columns = list(QUINTILES)
    cells = {crosstab.split(r["group"]): r for r in frame.iter_rows(named=True)}
    d = metric.decimals
    z, grey, text, grey_text, hover = [], [], [], [], []
    for ethnicity in rows:
        zr, gr, tr, gtr, hr = [], [], [], [], []
        for quintile in columns:
            row = cells.get((ethnicity, quintile))
            name = f"{ethnicity}, {quintile}"
            shown = row is not None and row["status"] == "ok" and row["value"] is not None
            ratio = None if not shown else 1.0 if row["is_reference"] else row["ratio"]
            if ratio is None:
                suppressed = row is not None and row["status"] == "suppressed"
                zr.append(None)
                gr.append(1)
                tr.append("")
                gtr.append("*" if suppressed else ":")
                hr.append(f"<b>{name}</b><br>" + (
                    "Suppressed (small numbers)" if suppressed else
                    f"{fmt.value(metric, row['value'])}; no ratio: the reference cell is "
                    "not available" if shown else "No data"))
                continue
            mark = crosstab.significance(row)
            label = "1.00<br>reference" if row["is_reference"] else f"{ratio:.2f}"
            if mark.startswith(("Higher", "Lower")):
                label = f"<b>{label} {mark.split(' ')[-1]}</b>"
            zr.append(math.log(max(ratio, RATIO_TICKS[0])))
            gr.append(None)
            tr.append(label)
            gtr.append("")
            ratio_text = "reference cell" if row["is_reference"] else (
                f"{ratio:.2f} (95% CI {fmt.number(row['ratio_lower95'], 2)} to "
                f"{fmt.number(row['ratio_upper95'], 2)}), {mark.lower()}")
            hr.append(f"<b>{name}</b><br>{fmt.value(metric, row['value'])} "
                      f"(95% CI {fmt.number(row['lower95'], d)} to "
                      f"{fmt.number(row['upper95'], d)})<br>"
                      f"Ratio to {crosstab.reference()}: {ratio_text}")
        for out, part in ((z, zr), (grey, gr), (text, tr), (grey_text, gtr), (hover, hr)):
            out.append(part)
    x_labels = [q.replace(" (", "<br>(") for q in columns]
    # Symmetric about 1, at least 0.67 to 1.5, at most 0.25 to 4 (beyond, colours saturate;
    # the cell text keeps the true ratio).
    reach = min(max([abs(v) for r in z for v in r if v is not None] + [math.log(1.5)]),
                math.log(RATIO_TICKS[-1]))
    ticks = [t for t in RATIO_TICKS if abs(math.log(t)) <= reach * 1.001]
    fig = go.Figure(layout=dict(template=TEMPLATE))
    fig.add_heatmap(z=grey, x=x_labels, y=rows, text=grey_text, texttemplate="%{text}",
                    textfont=dict(size=18, color=theme.TEXT), customdata=hover,
                    hovertemplate="%{customdata}<extra></extra>", hoverongaps=False,
                    colorscale=[[0, NOT_SHOWN_GREY], [1, NOT_SHOWN_GREY]], showscale=False,
                    xgap=3, ygap=3, name="Suppressed or no data")
    fig.add_heatmap(z=z, x=x_labels, y=rows, text=text, texttemplate="%{text}",
                    textfont=dict(size=15, color=theme.TEXT), customdata=hover,
                    hovertemplate="%{customdata}<extra></extra>", hoverongaps=False,
                    colorscale=DIVERGING, zmid=0, zmin=-reach, zmax=reach, xgap=3, ygap=3,
                    name=f"Ratio to {crosstab.reference()}",
                    colorbar=dict(title=dict(text=f"Ratio to<br>{crosstab.reference()}",
                                             side="top"),
                                  tickvals=[math.log(t) for t in ticks],
                                  ticktext=[f"{t:g}" for t in ticks], thickness=16,
                                  len=0.8, y=0.4, yanchor="middle"))
    fig.update_layout(title=title, height=520, margin=dict(t=90, b=130))
    category_axis(fig, x_labels, axis="x", every_row=False)
    category_axis(fig, rows, every_row=False)
    fig.update_xaxes(title="Deprivation quintile of the mother's residence", showgrid=False,
                     side="bottom")
    fig.update_yaxes(title="Ethnic group", autorange="reversed", showgrid=False)
    _source_note(fig, source)
    return fig


def completeness_funnel(points: pl.DataFrame, curve: pl.DataFrame, metric: Metric, *,
                        average: float | None, threshold: float,
                        focus: tuple[str, ...] | None = None, title: str,
                        source: str) -> go.Figure:
    """Funnel plot of recording completeness with the reliability threshold drawn as a line.

    Trusts below ``threshold`` are red diamonds named "Below ...% threshold" in the legend
    (shape and words, not colour alone); with ``focus`` (org codes, e.g. one region's
    trusts) every other trust is drawn pale grey for context.
    """
    shown = points.filter(pl.col("value").is_not_null())
    if shown.is_empty():
        return empty("No trust has a figure to plot for this selection.")
    fig = _funnel_frame(curve, metric, average, "bottom right")
    fig.add_hline(y=threshold, line=dict(color=theme.COMPARISON["worse"], width=2, dash="dot"),
                  annotation_text=f"{threshold:g}% threshold", annotation_position="bottom left",
                  annotation_font_color=theme.COMPARISON["worse"])
    in_focus = shown["org_code"].is_in(list(focus)) if focus else pl.Series([True] * shown.height)
    below = shown["value"] < threshold
    groups = (
        (shown.filter(~in_focus), "Other regions' trusts", dict(
            size=7, color=theme.NHS_PALE_GREY, symbol="circle",
            line=dict(width=0.5, color=theme.NHS_MID_GREY))),
        (shown.filter(in_focus & ~below), f"At or above {threshold:g}%", dict(
            size=8, color=theme.NHS_BLUE, symbol="circle", opacity=0.85,
            line=dict(width=0.5, color=theme.TEXT))),
        (shown.filter(in_focus & below), f"Below {threshold:g}% threshold", dict(
            size=12, color=theme.COMPARISON["worse"], symbol="diamond",
            line=dict(width=1, color=theme.TEXT))),
    )
    for subset, name, marker in groups:
        if subset.is_empty():
            continue
        fig.add_scatter(
            x=subset["denominator"].to_list(), y=subset["value"].to_list(), mode="markers",
            marker=marker, name=name,
            **hover(COMPLETENESS_HOVER, _trust_hover(subset, metric)),
        )
    fig.update_layout(title=title, height=520)
    fig.update_xaxes(title="Women booked in the period")
    fig.update_yaxes(title=f"{metric.short_title} ({metric.unit})")
    _source_note(fig, source)
    return fig


GAP_INDEX_COLOUR = theme.TEXT  # the SII / RII, apart from the groups' colours
WIDE_RATIO_TICKS = (0.1, 0.25, 0.5, 1, 2, 4, 10)


def gap_ratio_ticks(series: pl.DataFrame) -> tuple[float, ...]:
    """Ratio ticks for the span of ``series``' 95% CIs: the fine steps of
    :data:`RATIO_TICKS` within a four-fold span, doublings beyond (labels never overlap)."""
    low = series["ratio_lower95"].drop_nulls().min() or 1.0
    high = series["ratio_upper95"].drop_nulls().max() or 1.0
    return RATIO_TICKS if high / low <= 4 else WIDE_RATIO_TICKS


def gap_trend(series: pl.DataFrame, metric: Metric, *, dimension: str, shown: tuple[str, ...],
              labels: dict[str, str], title: str, source: str, height: int = 460) -> go.Figure:
    """Each group's ratio to the reference group per period on a log axis, with its 95% CI
    as error bars and a line at 1 (no gap); one trace per group (``labels``: group -> legend
    name), those not in ``shown`` one legend click away. Periods where a figure is withheld
    are gaps, never 1."""
    drawn = series.filter(pl.col("ratio").is_not_null())
    if drawn.is_empty():
        return empty("No gap to the reference group can be worked out for this selection.")
    fig = go.Figure(layout=dict(template=TEMPLATE))
    groups = series["group"].unique(maintain_order=True).to_list()
    colours = dict(zip(groups, _group_colours(groups, dimension), strict=True))
    periods = series["period"].unique(maintain_order=True).to_list()
    d = metric.decimals
    for group in groups:
        if group not in drawn["group"]:
            continue
        part = series.filter(pl.col("group") == group)
        ratio = part["ratio"].to_list()
        notes = [
            "withheld or no data" if r is None else
            f"ratio {r:.2f} (95% CI {lo:.2f} to {hi:.2f})<br>difference "
            f"{fmt.number(diff, d)} {metric.unit} (95% CI {fmt.number(dlo, d)} to "
            f"{fmt.number(dhi, d)})"
            for r, lo, hi, diff, dlo, dhi in part.select(
                "ratio", "ratio_lower95", "ratio_upper95", "difference",
                "difference_lower95", "difference_upper95").iter_rows()]
        fig.add_scatter(
            x=part["period"].to_list(), y=ratio, mode="lines+markers", name=labels[group],
            connectgaps=False, visible=True if group in shown else "legendonly",
            line=dict(color=colours.get(group, GAP_INDEX_COLOUR), width=1.5,
                      dash="dot" if group not in DIMENSIONS[dimension].groups else "solid"),
            marker=dict(size=8, color=colours.get(group, GAP_INDEX_COLOUR)),
            error_y=dict(type="data", symmetric=False,
                         array=[None if r is None or u is None else u - r
                                for r, u in zip(ratio, part["ratio_upper95"], strict=True)],
                         arrayminus=[None if r is None or lo is None else r - lo
                                     for r, lo in zip(ratio, part["ratio_lower95"],
                                                      strict=True)],
                         thickness=1.3, width=4),
            customdata=notes,
            hovertemplate=f"<b>{labels[group]}</b> %{{x}}<br>%{{customdata}}<extra></extra>")
    fig.add_hline(y=1, line=dict(color=theme.NHS_DARK_GREY, width=1.5, dash="dash"))
    # A log axis places annotations by log10 of the value: 0 is the line at 1.
    fig.add_annotation(text="1: no gap", x=0, xref="paper", y=0, yref="y", showarrow=False,
                       xanchor="left", yanchor="bottom",
                       font=dict(size=12, color=theme.NHS_DARK_GREY))
    # Every period keeps its place, so withheld ones at either end show as gaps too.
    category_axis(fig, periods, axis="x")
    reference = DIMENSIONS[dimension].reference
    ticks = gap_ratio_ticks(drawn)
    fig.update_layout(title=title, height=height, scattermode="group", scattergap=0.6)
    fig.update_yaxes(type="log", title=f"Ratio to {reference} (log scale)",
                     tickvals=list(ticks), ticktext=[f"{t:g}" for t in ticks])
    fig.update_xaxes(tickangle=-35)
    _source_note(fig, source)
    return fig


FOREST_MARKERS = {  # significance by shape and fill as well as colour
    True: ("Significant gap (95% CI excludes 1)",
           dict(symbol="diamond", size=12, color=theme.PALETTE[5],
                line=dict(width=1, color=theme.TEXT))),
    False: ("Not significant",
            dict(symbol="circle-open", size=10, color=theme.NHS_DARK_GREY,
                 line=dict(width=2))),
}
FOREST_TICKS = (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10)
FOREST_REACH = (0.1, 10)  # the widest axis: intervals beyond it are cut at its edge


def _forest_range(shown: pl.DataFrame) -> tuple[float, float]:
    """At least 0.67 to 1.5, wide enough for every interval within :data:`FOREST_REACH`,
    and for every point."""
    low = min(shown["ratio_lower95"].fill_null(shown["ratio"]).min(), 0.67)
    high = max(shown["ratio_upper95"].fill_null(shown["ratio"]).max(), 1.5)
    low = min(max(low, FOREST_REACH[0]), shown["ratio"].min())
    high = max(min(high, FOREST_REACH[1]), shown["ratio"].max())
    return low / 1.08, high * 1.08


def forest(rows: pl.DataFrame, *, title: str, source: str, x_title: str) -> go.Figure:
    """A forest plot: one row per comparison, its ratio with its 95% CI on a log axis, a
    line at 1, rows grouped under their section's heading (in ``rows``' order, top down).

    ``rows`` has ``section``, ``label`` (unique, as Plotly markup), ``ratio``,
    ``ratio_lower95``, ``ratio_upper95``, ``significant``, ``status`` and ``hover``.
    Significant ratios are filled diamonds, the rest open circles (shape, not colour
    alone); rows without a ratio say why ("suppressed (small numbers)", "no data").
    """
    shown = rows.filter((pl.col("status") == "ok") & pl.col("ratio").is_not_null())
    if shown.is_empty():
        return empty("No gap between groups to show: every comparison is suppressed or "
                     "has no figures.")
    order: list[str] = []
    ticks: list[str] = []
    for section in rows["section"].unique(maintain_order=True).to_list():
        order.append(section)
        ticks.append(f"<b>{plain(section)}</b>")
        for name in rows.filter(pl.col("section") == section)["label"].to_list():
            order.append(name)
            ticks.append(name)
    fig = go.Figure(layout=dict(template=TEMPLATE))
    fig.add_vline(x=1, line=dict(color=theme.TEXT, width=1.5))
    for significant, (name, marker) in FOREST_MARKERS.items():
        part = shown.filter(pl.col("significant") == significant)
        if part.is_empty():
            continue
        ratios = part["ratio"].to_list()
        fig.add_scatter(
            y=part["label"].to_list(), x=ratios, mode="markers", name=name, marker=marker,
            error_x=dict(type="data", symmetric=False, thickness=1.5, width=4,
                         color=marker["color"],
                         array=[(hi - r) if hi is not None else 0 for r, hi in
                                zip(ratios, part["ratio_upper95"], strict=True)],
                         arrayminus=[(r - lo) if lo is not None else 0 for r, lo in
                                     zip(ratios, part["ratio_lower95"], strict=True)]),
            customdata=part["hover"].to_list(), hovertemplate="%{customdata}<extra></extra>")
    withheld = rows.filter(pl.col("status") != "ok")
    bottom_up = list(reversed(order))
    _note_rows(fig, bottom_up, [(name, withheld_note(status)) for name, status in
                               withheld.select("label", "status").iter_rows()],
               x=0, xref="paper")
    low, high = _forest_range(shown)
    fig.update_xaxes(type="log", range=[math.log10(low), math.log10(high)], title=x_title,
                     tickvals=[t for t in FOREST_TICKS if low <= t <= high],
                     ticktext=[f"{t:g}" for t in FOREST_TICKS if low <= t <= high])
    category_axis(fig, bottom_up)
    fig.update_yaxes(tickvals=bottom_up, ticktext=list(reversed(ticks)), showgrid=False)
    # The title (up to two lines) above the legend, which has a row of its own under it.
    fig.update_layout(title=title, legend=dict(x=0, xanchor="left", y=1, yanchor="bottom"),
                      margin=dict(t=110), height=210 + 26 * len(order), showlegend=True)
    _source_note(fig, source)
    return fig
