"""Builders for the Annex 3 scorecard: table rows (screen and download), the table with RAG
badges and links, the RAG legend, the definitions list and a dot-and-whisker chart of one
organisation against England.

RAG here is statistical: it comes from the Fingertips comparison of the trust's 95%
confidence interval with England's value (``metrics.scorecard.RAG``), not from targets.
Every colour is shown with its word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from components import figures, theme
from components import format as fmt
from metrics import registry
from metrics.scorecard import RAG

RAG_ORDER = ("green", "amber", "red", "grey")
RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "grey": "Grey"}
# What each comparison outcome means, for people (outcomes from metrics.significance).
OUTCOME_MEANING = {
    "better": "significantly better than England",
    "similar": "similar to England (no significant difference)",
    "worse": "significantly worse than England",
    "higher": "significantly higher than England",
    "lower": "significantly lower than England",
    "not compared": "not compared",
}
# The legend's wording per outcome (higher and lower share one phrase).
LEGEND_MEANING = OUTCOME_MEANING | {
    "higher": "significantly different from England where higher is neither better nor worse",
    "lower": "significantly different from England where higher is neither better nor worse",
    "not compared": "not compared (suppressed, no data, or England itself)",
}
CHANGE_ARROWS = {"up": "▲", "down": "▼", "flat": "▶", "none": ""}
COLUMNS = ("Metric", "Period", "Value", "95% CI", "England", "Compared with England",
           "RAG rating", "Change since a year earlier", "Numerator", "Denominator")
LINKS_COLUMN = "Look closer"
# Beside England's value where the store summed it from trusts (``england_note``).
SUMMED_MARK = "sum of trusts"
NOWRAP = ("Value", "95% CI", "England", "RAG rating")


def rag_meanings() -> dict[str, str]:
    """Each RAG colour and what it means, derived from :data:`metrics.scorecard.RAG`."""
    meanings: dict[str, list[str]] = {colour: [] for colour in RAG_ORDER}
    for outcome, colour in RAG.items():
        meanings.setdefault(colour, []).append(LEGEND_MEANING[outcome])
    return {colour: "; or ".join(dict.fromkeys(texts))
            for colour, texts in meanings.items() if texts}


def rag_badge(rag: str | None) -> html.Span:
    """A RAG badge that always carries its word (never colour alone)."""
    colour = rag if rag in RAG_WORDS else "grey"
    return html.Span(RAG_WORDS[colour], className=f"rag rag-{colour}")


def rag_legend() -> html.Div:
    """The RAG key: badge, then what the colour means."""
    return html.Div([
        html.H2("How to read the RAG rating", className="h6"),
        html.Ul([html.Li([rag_badge(colour), " ", meaning], className="mb-1")
                 for colour, meaning in rag_meanings().items()],
                className="list-unstyled mb-2"),
    ], className="rag-legend")


def _polarity_word(metric: registry.Metric, change: str) -> str:
    if metric.polarity == registry.NO_JUDGEMENT:
        return ""
    higher_better = metric.polarity == registry.HIGHER_IS_BETTER
    better = (change == "up") == higher_better
    return ": better" if better else ": worse"


def change_words(row: Mapping, metric: registry.Metric) -> str:
    """The change since the period a year earlier in words (significance by 95% CI of the
    difference, as ``metrics.scorecard.change``)."""
    change = row.get("change") or "none"
    period = row.get("previous_period")
    previous = row.get("previous_value")
    was = f". Previous period {period}: {fmt.value(metric, previous)}" if period and \
        not fmt.missing(previous) else ""
    if change in ("up", "down"):
        return f"{change.capitalize()}, significant{_polarity_word(metric, change)}{was}"
    if change == "flat":
        return f"No significant change{was}"
    if not period:
        return "No earlier period to compare"
    return "Not compared: a figure is suppressed or missing"


def comparison_words(row: Mapping, *, benchmark_only: bool) -> str:
    if benchmark_only:
        return "Not compared: England is the benchmark"
    status = row.get("status")
    if status == "suppressed":
        return "Not compared: suppressed (small numbers)"
    if status != "ok":
        return "Not compared: no data"
    outcome = row.get("vs_england") or "not compared"
    if outcome == "not compared":
        return "Not compared: no England figure"
    text = OUTCOME_MEANING[outcome].split(" (")[0]
    text = text[0].upper() + text[1:]
    if outcome != "similar" and row.get("vs_england_998") == outcome:
        text += " (also at 99.8%)"
    return text


def panel_words(row: Mapping, *, benchmark_only: bool) -> str:
    """The short label beside a chart panel: RAG word and comparison ("Red: worse than
    England"), short enough for the chart's right margin."""
    if benchmark_only:
        return "National value (not rated)"
    rag = RAG_WORDS[rag_of(row, benchmark_only=False)]
    outcome = row.get("vs_england") if _shown(row) else None
    if not outcome or outcome == "not compared":
        return f"{rag}: not compared"
    return f"{rag}: {OUTCOME_MEANING[outcome].split(' (')[0].replace('significantly ', '')}"


def rag_of(row: Mapping, *, benchmark_only: bool) -> str:
    return "grey" if benchmark_only else (row.get("rag") or "grey")


def _shown(row: Mapping) -> bool:
    return row.get("status") == "ok" and not fmt.missing(row.get("value"))


def _symbol(row: Mapping) -> str:
    return "*" if row.get("status") == "suppressed" else ":"


def england_cell(row: Mapping, metric: registry.Metric) -> str:
    """England's value, marked "(sum of trusts)" where the store summed it from a file's
    trusts (``england_note``); ``:`` where there is none."""
    if fmt.missing(row.get("england_value")):
        return ":"
    said = fmt.value(metric, row["england_value"])
    return f"{said} ({SUMMED_MARK})" if row.get("england_note") else said


def england_notes(frame: pl.DataFrame) -> list[str]:
    """What each England figure marked "(sum of trusts)" is: "Stillbirth rate, 2024:
    England: sum of the ...", one line per metric whose England value is shown."""
    if "england_note" not in frame.columns:
        return []
    return [f"{registry.get(row['metric']).title}, {row['period']}: {row['england_note']}"
            for row in frame.iter_rows(named=True)
            if row.get("england_note") and not fmt.missing(row.get("england_value"))]


def scorecard_rows(frame: pl.DataFrame, *, benchmark_only: bool = False) -> pl.DataFrame:
    """The scorecard as shown on screen and downloaded: one row per Annex 3 metric, text
    cells with DATA.md's symbols (``*`` suppressed, ``:`` not available, ``-`` zero)."""
    out = []
    for row in frame.iter_rows(named=True):
        metric = registry.get(row["metric"])
        shown = _shown(row)
        suppressed = bool(row.get("suppressed"))
        out.append(dict(zip(COLUMNS, (
            metric.title,
            row.get("period") or ":",
            fmt.value(metric, row["value"]) if shown else _symbol(row),
            f"{fmt.number(row['lower95'], metric.decimals)} to "
            f"{fmt.number(row['upper95'], metric.decimals)}" if shown else _symbol(row),
            england_cell(row, metric),
            comparison_words(row, benchmark_only=benchmark_only),
            RAG_WORDS[rag_of(row, benchmark_only=benchmark_only)],
            change_words(row, metric),
            fmt.count_cell(row.get("numerator"), suppressed),
            fmt.count_cell(row.get("denominator"), suppressed),
        ), strict=True)))
    return pl.DataFrame(out, schema=dict.fromkeys(COLUMNS, pl.String)) if out else \
        pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String))


def scorecard_table(frame: pl.DataFrame, rows: pl.DataFrame, *, caption: str, table_id: str,
                    links: Mapping[str, Sequence[tuple[str, str]]]) -> html.Table:
    """The on-screen scorecard: ``rows`` (from :func:`scorecard_rows`) with the RAG cell as a
    badge, the change cell with an arrow (hidden from screen readers, the words say it) and
    a last column of links per metric (``links[metric_id]`` = ``[(label, href), ...]``)."""
    body = []
    for source, shown in zip(frame.iter_rows(named=True), rows.iter_rows(named=True),
                             strict=True):
        cells = []
        for column, text in shown.items():
            if column == "RAG rating":
                content = html.Span(text, className=f"rag rag-{text.lower()}")
            elif column == "Change since a year earlier":
                arrow = CHANGE_ARROWS.get(source.get("change") or "none", "")
                content = [html.Span(arrow + " ", **{"aria-hidden": "true"}), text] \
                    if arrow else text
            else:
                content = text
            cells.append(html.Th(content, scope="row") if column == "Metric"
                         else html.Td(content, className="text-nowrap"
                                      if column in NOWRAP else None))
        # The metric's name, hidden on screen, tells a screen-reader user where each of
        # the repeated "Explore" and "Trends" links goes.
        title = registry.get(source["metric"]).title
        cells.append(html.Td([
            dcc.Link([label, html.Span(f" {title}", className="visually-hidden")], href=href,
                     className="me-2")
            for label, href in links.get(source["metric"], ())
        ], className="text-nowrap"))
        body.append(html.Tr(cells))
    return html.Table(
        id=table_id,
        className="table table-sm align-middle nhs-table scorecard-table",
        children=[
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(c, scope="col") for c in (*rows.columns,
                                                                   LINKS_COLUMN)])),
            html.Tbody(body),
        ],
    )


def summary(frame: pl.DataFrame, *, benchmark_only: bool = False) -> str:
    """"2 red, 4 amber, 1 green and 1 grey of 8 metrics" in RAG order."""
    counts = {colour: 0 for colour in RAG_ORDER}
    for row in frame.iter_rows(named=True):
        counts[rag_of(row, benchmark_only=benchmark_only)] += 1
    parts = [f"{n} {RAG_WORDS[c].lower()}" for c, n in counts.items() if n]
    if not parts:
        return "No metrics to rate."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} of {frame.height} metrics."


def definitions(metrics: Sequence[registry.Metric] = registry.ANNEX3_METRICS) -> html.Dl:
    """Definition, numerator, denominator, source and caveats of each Annex 3 metric."""
    items = []
    for metric in metrics:
        items.append(html.Dt(metric.title, className="mt-2"))
        items.append(html.Dd([
            html.P(metric.definition, className="mb-1"),
            html.P([html.Strong("Numerator: "), metric.numerator, html.Br(),
                    html.Strong("Denominator: "), metric.denominator, html.Br(),
                    html.Strong("Unit: "), metric.unit, " · ",
                    html.Strong("Source: "), metric.source], className="small mb-1"),
            html.P(" ".join(metric.caveats), className="small text-muted mb-0")
            if metric.caveats else None,
        ]))
    return html.Dl(items, className="definitions")


def dot_chart(frame: pl.DataFrame, *, org_label: str, title: str, source: str,
              benchmark_only: bool = False) -> go.Figure:
    """One small panel per metric: the organisation's value (dot) with its 95% CI (whisker)
    and England's value (blue bar), each panel on its own axis because units differ; the
    comparison is written beside each panel and suppressed values are labelled."""
    if frame.is_empty():
        return figures.empty("No Annex 3 metrics to show for this organisation.")
    rows = list(frame.iter_rows(named=True))
    n = len(rows)
    # Panels and their labels are laid out by hand and the figure built in one go: adding
    # them one at a time (make_subplots, add_annotation) revalidates the whole figure on
    # every call and took ten times as long.
    spacing = min(0.55 / n, 0.1)
    height = (1 - spacing * (n - 1)) / n
    traces, annotations, axes = [], [], {}
    legend_done = {"org": False, "england": False}
    for i, row in enumerate(rows):
        metric = registry.get(row["metric"])
        suffix = "" if i == 0 else str(i + 1)
        top = 1 - i * (height + spacing)
        on = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        eng = row.get("england_value")
        if _shown(row):
            lo, hi, value = row["lower95"], row["upper95"], row["value"]
            ci = fmt.interval(metric, lo, hi)
            traces.append(go.Scatter(
                x=[lo, hi], y=[0, 0], mode="lines", line=dict(color=theme.TEXT, width=2.5),
                showlegend=False, hoverinfo="skip", name=f"{org_label} 95% CI", **on))
            traces.append(go.Scatter(
                x=[value], y=[0], mode="markers",
                marker=dict(size=15, color=theme.COMPARISON.get(
                    row.get("vs_england") if not benchmark_only else "not compared",
                    theme.COMPARISON["not compared"]), line=dict(width=1.5, color=theme.TEXT)),
                name=f"{org_label} (line: 95% CI)", legendgroup="org",
                showlegend=not legend_done["org"],
                hovertemplate=f"<b>{metric.short_title}</b><br>{org_label}: "
                              f"{fmt.value(metric, value)} ({ci})<extra></extra>", **on))
            legend_done["org"] = True
        else:
            annotations.append(dict(
                text="Suppressed (small numbers)" if row.get("status") == "suppressed"
                else "No data for this organisation", xref=f"x{suffix} domain",
                yref=f"y{suffix}", x=0, y=0, xanchor="left", showarrow=False,
                bgcolor="white", font=dict(size=13, color=theme.NHS_DARK_GREY)))
        if not fmt.missing(eng) and not benchmark_only:
            traces.append(go.Scatter(
                x=[eng], y=[0], mode="markers",
                marker=dict(symbol="line-ns", size=28, line=dict(width=3, color=theme.NHS_BLUE)),
                name="England", legendgroup="england", showlegend=not legend_done["england"],
                hovertemplate=f"England{f' ({SUMMED_MARK})' if row.get('england_note') else ''}"
                              f": {fmt.value(metric, eng)}<extra></extra>", **on))
            legend_done["england"] = True
        annotations.append(dict(
            text=f"<b>{metric.short_title}</b> ({metric.unit}), "
                 f"{row.get('period') or 'no data'}", xref="paper", yref="paper", x=0,
            y=top, xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=13)))
        annotations.append(dict(
            text=panel_words(row, benchmark_only=benchmark_only), xref=f"x{suffix} domain",
            yref=f"y{suffix}", x=1.02, y=0, xanchor="left", showarrow=False, align="left",
            font=dict(size=13, color=theme.TEXT)))
        axes[f"xaxis{suffix}"] = dict(
            anchor=f"y{suffix}", domain=[0, 1], visible=_shown(row) or not fmt.missing(eng),
            tickfont=dict(size=12), nticks=6, range=_padded_range(row, eng))
        axes[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}",
                                      domain=[max(0.0, round(top - height, 6)), round(top, 6)],
                                      visible=False, range=[-1, 1], fixedrange=True)
    fig = go.Figure(data=traces, layout=dict(
        template=figures.TEMPLATE, height=135 + 100 * n, annotations=annotations,
        # Title pinned to the top so a two-line title never runs into the legend below it.
        title=dict(text=title, y=1, yref="container", yanchor="top", pad=dict(t=14)),
        margin=dict(l=10, r=230, t=115, b=110), showlegend=True,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, xanchor="left"),
        **axes))
    figures._source_note(fig, source)
    return fig


def _padded_range(row: Mapping, eng: float | None) -> list[float] | None:
    """An x range holding the CI and England's value with room either side, so neither sits
    on the panel's edge."""
    points = [v for v in (row.get("lower95"), row.get("upper95"), eng) if not fmt.missing(v)]
    if not points:
        return None
    lo, hi = min(points), max(points)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 0.5)
    # Rates and shares are never negative: keep just enough room left of zero for the dot.
    start = lo - pad if lo < 0 or lo - pad >= 0 else -pad * 0.4
    return [start, hi + pad]


def empty_notice(frame: pl.DataFrame, org_name: str) -> dbc.Alert | None:
    """An explanation when the organisation has no Annex 3 figure at all."""
    if frame.is_empty() or not any(_shown(r) for r in frame.iter_rows(named=True)):
        return dbc.Alert(f"No Annex 3 figure can be shown for {org_name}: every metric is "
                         "suppressed or has no data for this organisation.", color="info")
    return None
