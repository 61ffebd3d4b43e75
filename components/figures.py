"""Every chart comes from here, sharing one Plotly template (NHS identity, print-ready).

Builders take frames from ``data.queries`` and return ``go.Figure``s. Confidence intervals
are error bars or bands; suppressed groups are labelled "suppressed", never drawn as zero.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from components import format as fmt
from components import theme
from metrics.categories import DIMENSIONS
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
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["lasso2d", "select2d"],
          "toImageButtonOptions": {"format": "png", "scale": 2}}


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
    fig.add_bar(
        y=groups, x=[v if v is not None else 0 for v in values], orientation="h",
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
    for group, status in zip(groups, rows["status"], strict=True):
        if status != "ok":
            fig.add_annotation(x=0, y=group, xanchor="left", showarrow=False,
                               text=" suppressed (small numbers)" if status == "suppressed"
                               else " no data", font=dict(color=theme.NHS_DARK_GREY, size=13))
    if comparator_label and "comparator_value" in rows.columns and \
            rows["comparator_value"].is_not_null().any():
        fig.add_scatter(
            y=groups, x=rows["comparator_value"].to_list(), mode="markers",
            marker=dict(symbol="line-ns", size=22, line=dict(width=3, color=theme.TEXT)),
            name=comparator_label,
            hovertemplate=f"{comparator_label}: %{{x:,.{metric.decimals}f}}<extra></extra>",
        )
    # A floor on the height keeps a plot area between title and source for one bar.
    fig.update_layout(title=title, height=max(300, 140 + 42 * len(groups)), showlegend=True,
                      bargap=0.35)
    fig.update_xaxes(title=f"{metric.short_title} ({metric.unit}), bars show 95% CIs",
                     rangemode="tozero")
    _source_note(fig, source)
    return fig


def small_multiples(frames: list[tuple[str, pl.DataFrame]], metric: Metric, *, title: str,
                    source: str) -> go.Figure:
    """One breakdown panel per organisation, side by side, sharing the value axis."""
    frames = [(name, f) for name, f in frames if not f.is_empty()]
    if not frames:
        return empty("Choose one or more trusts to compare.")
    cols = min(4, len(frames))
    rows_n = (len(frames) + cols - 1) // cols
    fig = make_subplots(rows=rows_n, cols=cols, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=[wrap(name, 30) for name, _ in frames],
                        horizontal_spacing=0.03, vertical_spacing=0.12)
    top = max((f["upper95"].max() or 0) for _, f in frames) or 1
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
            # A group with no row of data is "no data", not suppressed (DATA.md symbols).
            text=["" if s else "suppressed" if st == "suppressed" else "no data"
                  for s, st in zip(shown, rows["status"], strict=True)],
            textposition="outside",
            hovertemplate="%{y}: %{x:,." + str(metric.decimals) + "f}<extra></extra>",
        )
    fig.update_xaxes(range=[0, top * 1.1])
    # Plotly.js mis-autoranges matched category axes (the first row lost its top groups).
    n_groups = len({g for _, f in frames for g in f["group"].to_list()})
    fig.update_yaxes(range=[-0.5, n_groups - 0.5])
    fig.update_layout(template=TEMPLATE, title=title, height=140 + 300 * rows_n,
                      margin=dict(t=90))
    fig.update_annotations(font_size=13)
    _source_note(fig, source)
    return fig


def wrap(text: str, width: int) -> str:
    """Break ``text`` into at most two lines of about ``width`` characters for titles."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines[:2])


FUNNEL_LINES = {"lower_2s": ("95% limits", "dash"), "upper_2s": ("95% limits", "dash"),
                "lower_3s": ("99.8% limits", "solid"), "upper_3s": ("99.8% limits", "solid")}


def _trust_hover(subset: pl.DataFrame, metric: Metric) -> list[tuple]:
    """Hover fields per trust: name, value, 95% CI, numerator, denominator."""
    return list(zip(
        subset["name"],
        [fmt.value(metric, v) for v in subset["value"]],
        [fmt.interval(metric, lo, hi) for lo, hi in
         zip(subset["lower95"], subset["upper95"], strict=True)],
        [fmt.count(n) for n in subset["numerator"]],
        [fmt.count(d) for d in subset["denominator"]],
        strict=True,
    ))


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
           highlight: tuple[str, ...], title: str, source: str) -> go.Figure:
    """Funnel plot: every trust's value against its denominator, limits and the benchmark."""
    shown = points.filter(pl.col("value").is_not_null())
    if shown.is_empty():
        return empty("No trust has a figure to plot for this selection.")
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
            name="Chosen trusts" if is_chosen else "Trusts",
            customdata=[(*row, label) for row, label in
                        zip(_trust_hover(subset, metric), subset["funnel"].fill_null(""),
                            strict=True)],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} (%{customdata[2]})"
                          "<br>%{customdata[3]} of %{customdata[4]}<br>%{customdata[5]}"
                          "<extra></extra>",
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
            for kind in special["point_type"].unique().to_list():
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
    fig.update_xaxes(type="category", categoryorder="array",
                     categoryarray=points["period"].unique(maintain_order=True).to_list())
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
            customdata=_trust_hover(subset, metric),
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} (%{customdata[2]})"
                          "<br>%{customdata[3]} of %{customdata[4]} women booked"
                          "<extra></extra>",
        )
    fig.update_layout(title=title, height=520)
    fig.update_xaxes(title="Women booked in the period")
    fig.update_yaxes(title=f"{metric.short_title} ({metric.unit})")
    _source_note(fig, source)
    return fig
