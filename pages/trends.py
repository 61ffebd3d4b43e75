"""Trends: each group's series over time and Making Data Count SPC for one group.

Answers "is it getting better, for whom, and did our intervention change anything, or is it
noise?"

URL parameters: ``org`` (organisation code), ``metric`` (registry id), ``dim`` (total,
ethnicity, deprivation_decile, deprivation_quintile, as published for the organisation),
``kind`` (period kind: quarter, financial_year, calendar_year, survey_year; rolling kinds are
offered but get no SPC limits because their periods overlap), ``group`` (the group whose SPC
chart is drawn, and whose gap to the reference group is shown first; default the total or the
first known group), ``proj`` (``0`` hides the projection of each group's trend; shown by
default).

"Is the gap closing?" charts each group's ratio to the reference group per period (and the
deprivation SII / RII) with a trend test per group (:mod:`metrics.gap_trend`).
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, gaptrend, gapwords, ids, pagekit, tables, viewstate
from components import format as fmt
from components.spcwords import kind_noun, kind_words, spc_statement
from components.trendtables import projection_rows, series_rows, spc_rows, summary_rows
from data import queries
from data.schema import PERIOD_KINDS
from metrics import registry, trend
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from metrics.gap_trend import MIN_TREND_PERIODS
from metrics.trend import MIN_SPC_POINTS
from views.trends import (
    CHANGE_GROUP,
    CHANGE_KIND,
    CHANGE_TOTAL,
    SpcOptions,
    SpcRoute,
    Trends,
    trends,
)
from web import layouts, menus

dash.register_page(__name__, path="/trends", name="Trends", title="Trends · Equalities",
                   order=3,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: TrendsView.parse(query)[0].search())

TRENDS_ORG = "trends-org"
TRENDS_METRIC = "trends-metric"
TRENDS_KIND = "trends-kind"
TRENDS_DIMENSION = "trends-dimension"
TRENDS_GROUP = "trends-group"
TRENDS_SERIES_GRAPH = "trends-series-graph"
TRENDS_SERIES_TABLE = "trends-series-table"
TRENDS_SERIES_DOWNLOAD_BUTTON = "trends-series-download-button"
TRENDS_SERIES_DOWNLOAD = "trends-series-download"
TRENDS_SPC_GRAPH = "trends-spc-graph"
TRENDS_SPC_STATEMENT = "trends-spc-statement"
TRENDS_SPC_TABLE = "trends-spc-table"
TRENDS_SPC_DOWNLOAD_BUTTON = "trends-spc-download-button"
TRENDS_SPC_DOWNLOAD = "trends-spc-download"
TRENDS_SUMMARY_TABLE = "trends-summary-table"
TRENDS_PROJECTION = "trends-projection"
TRENDS_PROJECTION_TABLE = "trends-projection-table"
TRENDS_PROJECTION_GAPS = "trends-projection-gaps"
TRENDS_NOTHING = "trends-nothing"
TRENDS_SPC_ADVICE = "trends-spc-advice"
TRENDS_GAP_GRAPH = "trends-gap-graph"
TRENDS_GAP_VERDICTS = "trends-gap-verdicts"
TRENDS_GAP_TESTS = "trends-gap-tests"
TRENDS_GAP_TABLE = "trends-gap-table"
TRENDS_GAP_DOWNLOAD_BUTTON = "trends-gap-download-button"
TRENDS_GAP_DOWNLOAD = "trends-gap-download"
TRENDS_GAP_ADVICE = "trends-gap-advice"

LEVELS = ("england", "region", "icb", "trust")
DEFAULT_METRIC = "pph_1500"
INTRO = Path(__file__).resolve().parents[1] / "content" / "trends.md"
# Rolling periods share months with their neighbours, so successive points are not
# independent and XmR limits would be too narrow (metrics.trend.spc_valid).
NO_PAGE_BREAK = {"breakInside": "avoid"}  # a chart printed whole on one sheet


def default_kind(metric: registry.Metric) -> str:
    """The metric's first non-overlapping period kind (SPC needs one), else its first."""
    kinds = queries.period_kinds(metric.id) or metric.period_kinds
    return trend.spc_period_kind(kinds) or kinds[0]


def default_group(dimension: str) -> str:
    return ALL_GROUP if dimension == TOTAL else DIMENSIONS[dimension].groups[0]


@dataclass(frozen=True)
class TrendsView:
    org: str
    metric: str
    dimension: str
    kind: str
    group: str
    projection: bool = True

    @classmethod
    def parse(cls, query: dict) -> tuple["TrendsView", list[str]]:
        notices: list[str] = []
        orgs = queries.organisations()["org_code"].to_list()
        org = viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")
        metric_id = viewstate.choose(query, "metric", list(registry.outcomes()), DEFAULT_METRIC,
                                     notices, "metric")
        metric = registry.get(metric_id)
        level = queries.org_level(org)
        if level not in metric.levels:
            notices.append(f"{metric.title} is not published for this kind of organisation; "
                           "showing England.")
            org, level = "ENG", "england"
        kind = viewstate.choose(query, "kind", list(metric.period_kinds), default_kind(metric),
                                notices, "kind of period")
        dimension = controls.choose_dimension(
            query, metric, notices, org_name=queries.org_name(org),
            offered=queries.dimensions_at(metric.id, level),
            stored=queries.stored_dimensions(metric.id, level))
        group = viewstate.choose(query, "group", list(DIMENSIONS[dimension].all_groups),
                                 default_group(dimension), notices, "group")
        projection = viewstate.choose(query, "proj", ["1", "0"], "1", notices,
                                      "projection setting") == "1"
        return cls(org, metric_id, dimension, kind, group, projection), notices

    def search(self) -> str:
        # The projection is on by default: only turning it off is written in the link.
        return viewstate.search({"org": self.org, "metric": self.metric, "dim": self.dimension,
                                 "kind": self.kind, "group": self.group,
                                 "proj": None if self.projection else "0"})



def model(view: TrendsView) -> Trends:
    """The page's one call into the seam for a parsed view."""
    return trends(view.org, view.metric, view.dimension, view.kind, view.group,
                  view.projection)


def series(view: TrendsView) -> tuple[pl.DataFrame, dict]:
    """(points with their dimension, SPC summaries) for the view."""
    m = model(view)
    return m.points, m.summaries


def for_chart(points: pl.DataFrame) -> pl.DataFrame:
    """Points with short period labels ("2019-20 Q4" without its months, "to Dec 2020"), so
    the tilted axis labels stay clear of the source note; the tables keep the full labels."""
    return points.with_columns(pl.col("period").str.replace(r" \(.*\)$", "")
                               .str.replace(r"^12 months to ", "to "))


def fold_unknown_groups(figure, dimension: str) -> list[str]:
    """Hide the unknown groups (not stated, missing...) until chosen in the legend, with
    their bands: they would crowd the known groups. Returns the groups folded away."""
    unknown = DIMENSIONS[dimension].unknown
    folded = []
    for trace in figure.data:
        group = (trace.name or "").removesuffix(" 95% CI")
        if group in DIMENSIONS[dimension].all_groups:
            # One legend entry toggles a group's line and its band together.
            trace.legendgroup = group
            if group in unknown:
                trace.visible = "legendonly"
                folded.append(group)
    return list(dict.fromkeys(folded))


def roomy_legend(figure) -> None:
    """Room above the plot for a legend that wraps onto a second or third row on a narrow
    page (A4 portrait), so it never prints over the title."""
    figure.update_layout(margin=dict(t=120), legend=dict(y=1.02))


def source_line(m: Trends, points: pl.DataFrame, what: str) -> str:
    """Source and the span of periods, then what the marks mean on a second line (fits A4)."""
    synthetic = fmt.synthetic_note(m.synthetic)
    periods = points["period"].unique(maintain_order=True).to_list() if not points.is_empty() \
        else []
    span = f", {periods[0]} to {periods[-1]}" if periods else ""
    return f"Source: {m.metric.source}{span}.{synthetic}<br>{what}"


def who(m: Trends) -> str:
    return fmt.subject(m.group, m.dimension, m.metric)


def merger_note(m: Trends) -> str | None:
    """A sentence when a merger changes this trust's series."""
    orgs = m.organisations
    names = dict(zip(orgs["org_code"], orgs["name"], strict=True))
    row = orgs.filter(pl.col("org_code") == m.org).row(0, named=True)
    if row.get("closed"):
        successor = names.get(row["successor_code"], row["successor_code"]) \
            if row.get("successor_code") else None
        return (f"{row['name']} closed on {row['closed']:%-d %B %Y}"
                + (f" and merged into {successor}" if successor else "")
                + "; its series stops then.")
    merged = orgs.filter(pl.col("successor_code") == m.org)
    if merged.is_empty():
        return None
    parts = [f"{m['name']} on {m['closed'] + timedelta(days=1):%-d %B %Y}"
             for m in merged.iter_rows(named=True) if m.get("closed")]
    return (f"{row['name']} took over " + "; ".join(parts) + ": figures from then include "
            "its births, so the series changes at that point.") if parts else None


# -- sections --------------------------------------------------------------------------------


def _table_block(frame: pl.DataFrame, caption: str, table_id: str, button: str,
                 download: str, summary: str) -> html.Details:
    """A chart's table view, folded away under the chart (it is long), with its CSV."""
    return html.Details([
        html.Summary(f"{summary} ({frame.height} rows) and download"),
        tables.html_table(frame, caption=caption, table_id=table_id),
        pagekit.download_button(button, download),
    ], className="mt-2 mb-3")


def nothing_note(m: Trends) -> str:
    """Why the series chart is not drawn: every period suppressed, or none held here (and
    where the store holds figures instead)."""
    metric = m.metric
    if not m.points.is_empty():
        return (f"Nothing to draw: for {m.org_name}, every period is suppressed (small "
                f"numbers) for {fmt.title_words(metric)} ({kind_words(m.kind)}). Try another "
                "kind of period, the total, or a larger organisation.")
    if m.kinds_with_figures:
        return (f"Nothing to draw: this data store holds no {fmt.title_words(metric)} figures "
                f"for {m.org_name} {kind_words(m.kind)}, but holds them "
                f"{fmt.join_words([kind_words(k) for k in m.kinds_with_figures], 'or')}: "
                "choose that under “Periods”.")
    if m.dimension != TOTAL:
        return (f"Nothing to draw: this data store holds no {fmt.title_words(metric)} figures "
                f"for {m.org_name} by {DIMENSIONS[m.dimension].label.lower()} "
                f"({kind_words(m.kind)}). Try the total or a larger organisation.")
    return "Nothing to draw. " + fmt.no_figure_note(
        metric, org_name=m.org_name, level=m.level, period=None, levels=m.figure_levels)


def series_section(m: Trends, title: str) -> html.Section:
    metric, points, projected = m.metric, m.points, m.projected
    heading = html.H2("Over time" if m.dimension == TOTAL else "Each group over time",
                      className="h4 mt-3")
    if not m.drawn:
        return html.Section([heading, dbc.Alert(nothing_note(m), color="info",
                                                id=TRENDS_NOTHING)])
    projecting = not projected.is_empty()
    figure = figures.trend(for_chart(points), metric,
                           title=figures.wrap(title, 90), source=source_line(
                               m, points, "Shaded bands: 95% confidence intervals. "
                               "Gaps: suppressed periods." + (
                                   " Dashed: projection of the fitted trend (not data); "
                                   "hatched band: its 95% prediction interval."
                                   if projecting else "")))
    if projecting:
        figures.add_projection(figure, for_chart(points), for_chart(projected), metric,
                               groups=DIMENSIONS[m.dimension].groups)
    folded = fold_unknown_groups(figure, m.dimension)
    roomy_legend(figure)
    if projecting:
        figure.update_layout(margin=dict(t=150))  # the projection's key adds a legend row
    hidden = points.filter(pl.col("suppressed") & pl.col("value").is_null())
    gaps = hidden.group_by("group", maintain_order=True).len().iter_rows()
    gap_text = "; ".join(f"{g}: {n}" for g, n in gaps)
    rows = series_rows(points, metric)
    return html.Section([
        heading,
        html.Div(dcc.Graph(id=TRENDS_SERIES_GRAPH, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        html.P(f"{', '.join(folded)}: hidden on the chart to keep it readable; select "
               "them in the legend to show them. They are in the table below.",
               className="small text-muted mb-1") if folded else None,
        html.P(f"Suppressed periods (fewer than 8 events, shown as gaps, never as zero) — "
               f"{gap_text}.", className="small text-muted") if gap_text else None,
        _table_block(rows, f"{title}.",
                     TRENDS_SERIES_TABLE, TRENDS_SERIES_DOWNLOAD_BUTTON,
                     TRENDS_SERIES_DOWNLOAD, "Show the series as a table"),
    ])


def spc_reason(m: Trends, options: SpcOptions) -> str:
    """Why no SPC chart is drawn for this view, in its own figures."""
    if not trend.spc_valid(m.kind):
        return ("SPC limits are not valid on overlapping periods: each rolling period shares "
                "most of its months with the next, so the points are not independent and "
                "the limits would be too narrow. No limits are drawn.")
    subject = who(m)
    noun = kind_noun(m.kind)
    hidden = (f": {options.suppressed} of {options.periods} {noun} are suppressed (small "
              "numbers)") if options.suppressed else ""
    groups = (f" {options.short_groups} of {options.known_groups} groups have fewer than "
              f"{MIN_SPC_POINTS} published {noun} here.") if m.dimension != TOTAL and \
        options.known_groups and options.short_groups else ""
    return (f"SPC needs at least {MIN_SPC_POINTS} points; {subject} have "
            f"{options.published} published figures {kind_words(m.kind)} here{hidden}."
            f"{groups}")


def route_words(route: SpcRoute) -> str:
    """What a view allowing SPC changes besides its kind of period: "the total under
    “Breakdown” (21 published figures)"."""
    if route.change == CHANGE_GROUP:
        return ("another group under “Group for the SPC chart” ("
                + fmt.join_words(list(route.names), "or") + ")")
    if route.change == CHANGE_TOTAL:
        return f"the total under “Breakdown” ({route.published} published figures)"
    return (f"a larger organisation, such as {route.names[0]} ({route.published} published "
            "figures)")


def spc_advice(m: Trends, options: SpcOptions) -> str:
    """Views that would allow SPC, from the data, grouped by kind of period; never the kind
    already chosen."""
    if not options.routes:
        return ("No other view of this organisation has enough published figures for SPC; "
                "the series above still shows each period's figure.")
    choices = []
    for kind in dict.fromkeys(r.kind for r in options.routes):
        routes = [r for r in options.routes if r.kind == kind]
        if kind == m.kind:
            choices += [route_words(r) for r in routes]
        elif routes[0].change == CHANGE_KIND:
            choices.append(f"{kind_noun(kind)} under “Periods” ({routes[0].published} "
                           "published figures)")
        else:
            choices.append(f"{kind_noun(kind)} under “Periods”, with "
                           + fmt.join_words([route_words(r) for r in routes], "or"))
    return "For SPC, choose " + fmt.join_words(choices, "or") + "."


def spc_section(m: Trends) -> html.Section:
    metric = m.metric
    subject = who(m)
    heading = html.H2(f"Is it changing? Statistical process control for {subject}",
                      className="h4 mt-4")
    if m.spc_options is not None:
        return html.Section([heading, dbc.Alert(
            [spc_reason(m, m.spc_options), " ",
             html.Span(spc_advice(m, m.spc_options), id=TRENDS_SPC_ADVICE)],
            color="warning" if not trend.spc_valid(m.kind) else "info")])
    summary = m.summaries[m.group]
    part = m.group_points
    title = f"{metric.title}: {subject}, {m.org_name}, {kind_words(m.kind)}: SPC chart"
    figure = figures.trend(for_chart(part), metric,
                           title=figures.wrap(title, 90), spc_group=m.group,
                           source=source_line(m, part, "XmR chart (Making Data Count): "
                                              "mean and process limits; coloured points are "
                                              "special-cause variation."))
    roomy_legend(figure)
    return html.Section([
        heading,
        html.P(spc_statement(summary, who(m), metric), id=TRENDS_SPC_STATEMENT),
        html.Div(dcc.Graph(id=TRENDS_SPC_GRAPH, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        _table_block(spc_rows(part, metric), f"{title}.",
                     TRENDS_SPC_TABLE, TRENDS_SPC_DOWNLOAD_BUTTON, TRENDS_SPC_DOWNLOAD,
                     "Show the SPC chart as a table"),
    ])


def gap_title(m: Trends) -> str:
    return (f"{m.metric.title}: {m.org_name}, each group's ratio to "
            f"{m.reference}{' and the RII' if DIMENSIONS[m.dimension].ordered else ''}, "
            f"{kind_words(m.kind)}")


def gap_advice(m: Trends) -> str | None:
    """Where the trend test can be made when this view cannot make it (never this kind)."""
    if m.gap_test_made:
        return None
    why = ("No trend test on overlapping periods: each rolling period shares most of its "
           "months with the next, so they are not independent." if not m.gap_testable else
           f"The trend test needs at least {MIN_TREND_PERIODS} periods with both figures "
           "published.")
    if m.gap_kinds:
        return (f"{why} To test whether the gap is changing, choose "
                + fmt.join_words([kind_noun(k) for k in m.gap_kinds], "or")
                + " under “Periods”.")
    return f"{why} No other kind of period here has enough published periods for it."


def gap_table(m: Trends) -> pl.DataFrame:
    """The gap series as shown (the table on screen and the CSV)."""
    return gaptrend.gap_rows(m.gap.series, m.points, m.metric, m.dimension) \
        if m.gap is not None else pl.DataFrame()


def gap_sentences(m: Trends) -> list[str]:
    """The trend test of each group in words; none where the periods overlap."""
    return gaptrend.verdict_sentences(m.gap.tests, m.dimension, m.metric) \
        if m.gap_testable else []


def gap_section(m: Trends) -> html.Section | None:
    """Is the gap closing? Each group's ratio to the reference group over time, the trend
    test per group in words and as a table, and the series as a table with its CSV."""
    heading = html.H2("Is the gap closing?", className="h4 mt-4")
    if m.gap is None:
        broken_down = [d for d in m.dimensions if DIMENSIONS[d].reference is not None]
        if not broken_down or not m.drawn:
            return None
        return html.Section([heading, html.P(
            "Choose a breakdown by " + fmt.join_words(
                [DIMENSIONS[d].label.lower() for d in broken_down], "or")
            + " under “Breakdown” to see whether the gaps between groups are closing.",
            className="text-muted")])
    metric, series = m.metric, m.gap.series
    advice = gap_advice(m)
    if not m.gap_groups:
        return html.Section([heading, dbc.Alert(
            f"No gap to {fmt.subject(m.reference, m.dimension, metric)} can be worked out "
            f"for {m.org_name} {kind_words(m.kind)}: in every period a group's figure or "
            "the reference group's is withheld (small numbers) or missing."
            + (f" {advice}" if advice else ""), color="info", id=TRENDS_GAP_ADVICE)])
    labels = {g: gaptrend.group_label(g) for g in series["group"].unique()}
    ordered = DIMENSIONS[m.dimension].ordered
    what = ("Error bars: 95% confidence intervals. Gaps: a figure withheld (small numbers)."
            + (" RII: least deprived relative to most deprived, across the whole gradient."
               if ordered else ""))
    title = gap_title(m)
    figure = figures.gap_trend(
        for_chart(series), metric, dimension=m.dimension, shown=m.gap_groups_shown,
        labels=labels, title=figures.wrap(title, 90),
        source=source_line(m, series, what))
    roomy_legend(figure)
    hidden = [labels[g] for g in m.gap_groups if g not in m.gap_groups_shown]
    rows, sentences = gap_table(m), gap_sentences(m)
    return html.Section([
        heading,
        html.P("A ratio above 1 means a higher figure than for "
               f"{fmt.subject(m.reference, m.dimension, metric)}; a gap is narrowing when "
               "its ratio moves towards 1. Each group's trend is a weighted regression of "
               "the log ratio on time.", className="mb-2"),
        html.Details([html.Summary("How the gap and its trend are worked out, and limits"),
                      pagekit.content_markdown("trends_gap")], className="mb-2"),
        html.Ul([html.Li(t) for t in sentences], id=TRENDS_GAP_VERDICTS) if sentences
        else None,
        html.P(advice, id=TRENDS_GAP_ADVICE, className="small text-muted") if advice
        else None,
        html.Div(dcc.Graph(id=TRENDS_GAP_GRAPH, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        html.P(f"{', '.join(hidden)}: hidden on the chart to keep it readable; select them "
               "in the legend to show them. They are in the table below.",
               className="small text-muted mb-1") if hidden else None,
        tables.html_table(gaptrend.trend_test_rows(m.gap.tests),
                          caption="Trend in each group's ratio: its change a year with 95% "
                          "CI, from a weighted regression of the log ratio on time.",
                          table_id=TRENDS_GAP_TESTS) if m.gap_test_made else None,
        _table_block(rows, f"{title}.", TRENDS_GAP_TABLE, TRENDS_GAP_DOWNLOAD_BUTTON,
                     TRENDS_GAP_DOWNLOAD, "Show the gaps as a table"),
    ])


def summary_section(m: Trends) -> html.Section | None:
    """The SPC summary of every group; none for overlapping periods (SPC is not valid)."""
    rows = summary_rows(m.summaries)
    if not trend.spc_valid(m.kind) or rows.is_empty():
        return None
    return html.Section([
        html.H2("SPC summary for every group", className="h4 mt-4"),
        tables.html_table(rows, caption="Variation at the latest point for each group "
                          "(Making Data Count icons in words), special-cause points and "
                          "whether the limits are trial limits.",
                          table_id=TRENDS_SUMMARY_TABLE),
    ])


def projection_section(m: Trends) -> html.Section | None:
    """The projection's table, what it rests on and when each gap would close."""
    metric, projected, fits, gaps = m.metric, m.projected, m.fits, m.gaps
    if not m.projection or not fits:
        return None
    heading = html.H2("Projection (not data)", className="h4 mt-4")
    method = html.Details([html.Summary("How the projection is made, and its limits"),
                           pagekit.content_markdown("trends", section="Projection")],
                          className="mb-2")
    missing = [f"{g} ({f['reason']})" for g, f in fits.items() if not f["available"]]
    if projected.is_empty():
        reasons = {f["reason"] for f in fits.values() if not f["available"]}
        why = reasons.pop() if len(reasons) == 1 else "; ".join(missing) if missing else \
            "no group's trend reaches beyond the periods shown"
        return html.Section([heading, dbc.Alert(f"No projection for this view: {why}.",
                                                color="info"), method])
    rows = projection_rows(projected, fits, metric)
    sentences = [gapwords.gap_sentence(g, gap, m.dimension, metric)
                 for g, gap in gaps.items()]
    return html.Section([
        heading,
        html.P("If each group's trend over the periods shown continued at the same pace: the "
               "dashed lines and hatched bands on the chart above. A projection is not data "
               "and not a target; a change in care or in recording would change it.",
               className="mb-2"),
        method,
        html.H3("When would each gap close?", className="h6") if sentences else None,
        html.Ul([html.Li([html.Strong(answer), " ", detail]) for answer, detail in sentences],
                id=TRENDS_PROJECTION_GAPS)
        if sentences else None,
        html.P("No projection for: " + "; ".join(missing) + ".", className="small text-muted")
        if missing else None,
        html.Details([
            html.Summary(f"Show the projection as a table ({rows.height} rows)"),
            tables.html_table(rows, caption=f"Projection (not data): "
                              f"{metric.short_title.lower()}, the next {projected['step'].max()}"
                              " periods if each trend continued, with 95% prediction "
                              "intervals. In the Trends CSV as projection rows.",
                              table_id=TRENDS_PROJECTION_TABLE),
        ], className="mt-2 mb-3"),
    ])


# -- page ------------------------------------------------------------------------------------


def kind_option(kind: str, m: Trends) -> dict:
    """A kind of period in the menu: marked when its periods overlap (no SPC) and not
    offered when this organisation has no figures of that kind."""
    held = kind in m.kinds_held or kind == m.kind
    label = PERIOD_KINDS.get(kind, kind) + ("" if trend.spc_valid(kind)
                                            else " – overlapping, no SPC")
    return {"label": label + ("" if held else " – no figures here"), "value": kind,
            "disabled": not held}


def controls_card(m: Trends) -> html.Div:
    metric = m.metric
    kinds = [kind_option(k, m) for k in metric.period_kinds]
    groups = [{"label": "All women and babies" if g == ALL_GROUP else g, "value": g}
              for g in DIMENSIONS[m.dimension].all_groups]
    return html.Div(controls.card("Choose a view", dbc.Row([
        controls.labelled("Organisation", controls.org_menu(
            TRENDS_ORG, *menus.options(metric.levels, m.org), m.org),
            TRENDS_ORG, 4),
        controls.labelled("Metric", controls.dropdown(
            TRENDS_METRIC, controls.metric_options(), metric.id), TRENDS_METRIC, 4),
        controls.labelled("Periods", controls.dropdown(TRENDS_KIND, kinds, m.kind),
                          TRENDS_KIND, 4),
        controls.labelled("Breakdown", controls.dropdown(
            TRENDS_DIMENSION, controls.dimension_options(m.dimensions), m.dimension),
            TRENDS_DIMENSION, 4),
        controls.labelled("Group for the SPC chart", controls.dropdown(
            TRENDS_GROUP, groups, m.group), TRENDS_GROUP, 4),
        dbc.Col(dbc.Checklist(
            id=TRENDS_PROJECTION, switch=True, value=["1"] if m.projection else [],
            options=[{"label": "Show the projection (the trend carried forward)",
                      "value": "1"}]), md=4, className="mb-2 align-self-end"),
    ])), className="d-print-none")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = TrendsView.parse(query)
    m = model(view)
    note = merger_note(m)
    return html.Div([
        pagekit.heading("Trends", "Each group's figures over time, and whether a change is "
                        "real (statistical process control, Making Data Count)."),
        controls.notices(notices),
        controls_card(m),
        html.Details([html.Summary("About this page: how to read an SPC chart, and caveats"),
                      # The projection's section of the text goes with the projection.
                      dcc.Markdown(INTRO.read_text(encoding="utf-8").split("\n## ")[0])],
                     className="mb-3"),
        dbc.Alert(note, color="info") if note else None,
        series_section(m, f"{m.title}, {kind_words(m.kind)}"),
        projection_section(m),
        gap_section(m),
        spc_section(m),
        summary_section(m),
        html.P(html.Small(" ".join(m.metric.caveats)), className="text-muted mt-3")
        if m.metric.caveats else None,
    ])


FOLLOWED = viewstate.follow_controls({"org": TRENDS_ORG, "metric": TRENDS_METRIC,
                                      "dim": TRENDS_DIMENSION, "kind": TRENDS_KIND,
                                      "group": TRENDS_GROUP, "proj": TRENDS_PROJECTION},
                                     empty={"proj": "0"})


def _preamble(m: Trends, heading: str) -> list[str]:
    return pagekit.preamble(heading, m.metric.source, synthetic=m.synthetic)


DATA_ROW = "Data"
PROJECTION_ROW = "Projection (not data); 95% CI column: 95% prediction interval"


def series_csv(search: str) -> dict:
    """Every group's series for the view in ``search``, as the table on screen, then the
    projection table's rows (when shown), each row flagged in ``Row type``."""
    m = model(TrendsView.parse(viewstate.query_of(search))[0])
    metric = m.metric
    rows = series_rows(m.points, metric)
    preamble = _preamble(m, f"{metric.title}, {m.org_name}, {kind_words(m.kind)}")
    if not rows.is_empty():
        rows = rows.with_columns(**{"Row type": pl.lit(DATA_ROW)})
    projected, fits = m.projected, m.fits
    if not rows.is_empty() and not projected.is_empty():
        value = f"Value ({metric.unit})"
        ahead = projection_rows(projected, fits, metric).select(
            "Group", "Period", Numerator=pl.lit("z"), Denominator=pl.lit("z"),
            **{value: pl.col(f"Projection ({metric.unit})"),
               "95% CI": pl.col("95% prediction interval"), "Row type": pl.lit(PROJECTION_ROW)})
        rows = pl.concat([rows, ahead])
        preamble += ["z not applicable. Projection rows: each group's fitted trend carried "
                     "forward (log-linear quasi-Poisson), not data."]
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"trends-{metric.id}-{m.org}.csv", type="text/csv")


def gap_csv(search: str) -> dict:
    """The gap table for the view in ``search``, the trend test's sentences above it."""
    m = model(TrendsView.parse(viewstate.query_of(search))[0])
    return dict(content=pagekit.csv_text(gap_table(m), _preamble(m, gap_title(m))
                                         + gap_sentences(m)),
                filename=f"trends-gap-{m.metric.id}-{m.org}.csv", type="text/csv")


def spc_csv(search: str) -> dict:
    """The SPC chart's table for the view in ``search``."""
    m = model(TrendsView.parse(viewstate.query_of(search))[0])
    return dict(content=pagekit.csv_text(spc_rows(m.group_points, m.metric), _preamble(
        m, f"{m.metric.title}, {who(m)}, {m.org_name}, {kind_words(m.kind)}, SPC")),
        filename=f"trends-spc-{m.metric.id}-{m.org}.csv", type="text/csv")


@callback(Output(TRENDS_SERIES_DOWNLOAD, "data"), Input(TRENDS_SERIES_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_series_download(_clicks, search):
    return series_csv(search)


@callback(Output(TRENDS_GAP_DOWNLOAD, "data"), Input(TRENDS_GAP_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_gap_download(_clicks, search):
    return gap_csv(search)


@callback(Output(TRENDS_SPC_DOWNLOAD, "data"), Input(TRENDS_SPC_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_spc_download(_clicks, search):
    return spc_csv(search)
