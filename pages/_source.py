"""Pages of one source's metrics by group (Mortality for MBRRACE-UK, Experience for CQC).

Both pages answer the same question for different publishers: how do groups differ, is the
gap real, and how has the national figure moved? This module holds their shared view, layout,
downloads and callbacks; each page module supplies a :class:`SourcePage` and its view class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from data.schema import PERIOD_KINDS
from metrics import registry
from metrics.categories import DIMENSIONS, TOTAL
from web import menus


@dataclass(frozen=True)
class SourcePage:
    """What differs between the source pages: the publisher, ids and words."""

    source: str
    slug: str  # id prefix, content file and download name, e.g. "mortality"
    title: str
    lead: str
    context_heading: str  # above the chart over time when it holds England's series
    context_heading_local: str = "Context: over time"  # when the store holds no England series

    @property
    def metrics(self) -> tuple[registry.Metric, ...]:
        return tuple(m for m in registry.METRICS_LIST if m.source == self.source)

    def id(self, part: str) -> str:
        """Component id of ``part`` on this page, e.g. ``mortality-metric``."""
        return f"{self.slug}-{part}"


def period_labels(metric: registry.Metric) -> list[str]:
    """Every period the store holds for ``metric``, oldest first, kind by kind."""
    return [p for kind in metric.period_kinds for p in queries.periods(metric.id, kind)]


@dataclass(frozen=True)
class SourceView:
    """A source page's view; subclasses set ``page``."""

    page: ClassVar[SourcePage]
    metric: str
    org: str
    period: str
    dimension: str

    @classmethod
    def parse(cls, query: dict) -> tuple[SourceView, list[str]]:
        notices: list[str] = []
        metric_id = viewstate.choose(query, "metric", [m.id for m in cls.page.metrics],
                                     cls.page.metrics[0].id, notices, "metric")
        metric = registry.get(metric_id)
        orgs = queries.organisations()["org_code"].to_list()
        org = viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")
        level = queries.org_level(org)
        if level not in metric.levels:
            notices.append(f"{cls.page.source} does not publish “{metric.title}” for "
                           f"{queries.org_name(org)}; showing England.")
            org, level = "ENG", "england"
        labels = period_labels(metric)
        period = viewstate.choose(query, "period", labels, labels[-1] if labels else "",
                                  notices, "period")
        dimension = controls.choose_dimension(
            query, metric, notices, org_name=queries.org_name(org),
            offered=queries.dimensions_at(metric.id, level),
            stored=queries.stored_dimensions(metric.id, level))
        return cls(metric_id, org, period, dimension), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "org": self.org,
                                 "period": self.period, "dim": self.dimension})


def comparator(view: SourceView) -> tuple[str, str | None]:
    """(comparator for the query, its label): England unless England is shown."""
    return ("none", None) if view.org == "ENG" else ("england", "England")


def source_line(metric: registry.Metric, period: str) -> str:
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return f"Source: {metric.source}, {period}.{synthetic} Lines: 95% confidence intervals."


def breakdown_frame(view: SourceView) -> pl.DataFrame:
    return queries.breakdown(view.metric, view.org, view.period, view.dimension,
                             comparator(view)[0])


def breakdown_title(view: SourceView, metric: registry.Metric) -> str:
    by = DIMENSIONS[view.dimension].label.lower()
    return (f"{metric.title}: {queries.org_name(view.org)}, {view.period}" +
            ("" if view.dimension == TOTAL else f", by {by}"))


def trend_points(view: SourceView) -> pl.DataFrame:
    return queries.totals_with_england(view.metric, view.org,
                                       queries.period_kind_of(view.metric, view.period))


def trend_title(view: SourceView, metric: registry.Metric,
                points: pl.DataFrame | None = None) -> str:
    """The over-time chart's title, naming the series drawn (England first)."""
    if points is None:
        points = trend_points(view)
    names = points["group"].unique(maintain_order=True).to_list() if not points.is_empty() \
        else [queries.org_name(view.org)]
    return f"{metric.title} over time: {fmt.join_words(names)}, all {metric.subject}"


def level_note(view: SourceView, metric: registry.Metric) -> dbc.Alert | None:
    """Which breakdowns the store holds, where some are missing for this organisation, and
    where to find them if another level has them."""
    level = queries.org_level(view.org)
    held = queries.breakdowns_by_level(metric.id)
    note = fmt.breakdowns_note(metric, level, held)
    if not note:
        return None
    choose = fmt.choose_levels_words(fmt.breakdown_levels(metric, level, held))
    return dbc.Alert(f"{note} {choose}".strip(), color="info", id=view.page.id("breakdowns"))


def period_note(view: SourceView, metric: registry.Metric) -> str:
    kind = queries.period_kind_of(view.metric, view.period)
    return f"Period: {PERIOD_KINDS.get(kind, kind)}, {view.period}."


def has_figures(frame: pl.DataFrame) -> bool:
    """Whether a breakdown or series has any value to draw."""
    return not frame.is_empty() and frame["value"].is_not_null().any()


def tabulated(frame: pl.DataFrame) -> bool:
    """Whether a breakdown has a row worth a table: a value, or one marked suppressed (a
    row of ":" for an organisation the store holds nothing for would repeat the note)."""
    return has_figures(frame) or (not frame.is_empty()
                                  and frame["suppressed"].fill_null(False).any())


def empty_note(frame: pl.DataFrame, view: SourceView) -> dbc.Alert | None:
    """Why there is no chart: every figure suppressed, or none held for this view."""
    if has_figures(frame):
        return None
    metric = registry.get(view.metric)
    org_name = queries.org_name(view.org)
    if not frame.is_empty() and frame["suppressed"].fill_null(False).any():
        said = fmt.suppressed_note(org_name=org_name, period=view.period, groups=frame.height)
    else:
        said = fmt.no_figure_note(metric, org_name=org_name, level=queries.org_level(view.org),
                                  period=view.period,
                                  levels=queries.figure_levels(view.metric, view.period),
                                  left_out=queries.sum_left_out(view.metric, view.org,
                                                                view.period))
    return dbc.Alert(said, color="info", id=view.page.id("nothing"))


def summed_line(view: SourceView, frame: pl.DataFrame) -> html.P | None:
    """For an ICB / LMNS, region or England figure the store summed from trusts: how."""
    if not tabulated(frame):
        return None
    level = queries.org_level(view.org)
    summed = queries.summed_from_trusts(view.metric, level, view.period)
    if summed is None:
        return None
    return html.P(html.Small(fmt.summed_note(level, summed)), className="text-muted",
                  id=view.page.id("summed"))


def trend_note(view: SourceView, metric: registry.Metric, points: pl.DataFrame) -> str | None:
    """What the over-time chart cannot show: every series, or England's."""
    kind = queries.period_kind_of(view.metric, view.period)
    england = queries.org_name("ENG")
    if not has_figures(points):
        who = fmt.join_words(list(dict.fromkeys([england, queries.org_name(view.org)])))
        return (f"Nothing to draw over time: this data store holds no "
                f"{fmt.title_words(metric)} figures for {who} "
                f"({PERIOD_KINDS.get(kind, kind).lower()}).")
    if not has_figures(points.filter(pl.col("group") == england)):
        return (f"This data store holds no England figures for {fmt.title_words(metric)}, so "
                "there is no national series to set beside this one.")
    summed = [p for p in queries.england_sum_notes(view.metric)
              if p in set(points["period"].cast(pl.String).to_list())]
    if summed:
        return fmt.england_series_note(summed)
    return None


def controls_card(view: SourceView) -> dbc.Card:
    metric = registry.get(view.metric)
    level = queries.org_level(view.org)
    periods = list(reversed(period_labels(metric)))
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Measure", controls.dropdown(
            view.page.id("metric"), controls.metric_options(view.page.metrics), view.metric),
            view.page.id("metric"), 6),
        controls.labelled("Organisation", controls.org_menu(
            view.page.id("org"), *menus.options(metric.levels, view.org), view.org),
            view.page.id("org"), 6),
        controls.labelled("Period", controls.dropdown(
            view.page.id("period"), [{"label": p, "value": p} for p in periods], view.period),
            view.page.id("period"), 6),
        controls.labelled("Breakdown", controls.dropdown(
            view.page.id("dimension"),
            # Where the store holds nothing here, the view's own breakdown, not an empty menu.
            controls.dimension_options(queries.dimensions_at(metric.id, level)
                                       or (view.dimension,)),
            view.dimension), view.page.id("dimension"), 6),
    ]))


def findings(frame: pl.DataFrame, view: SourceView, metric: registry.Metric) -> html.Div:
    level = queries.org_level(view.org)
    gaps = fmt.gap_statements(frame, metric, view.dimension)
    drawn = has_figures(frame)
    if not drawn:
        said = None  # the note above the chart's place says why
    elif gaps:
        said = html.Ul([html.Li(s) for s in gaps])
    elif view.dimension == TOTAL:
        said = html.P(fmt.total_only_hint(metric, level, queries.breakdowns_by_level(metric.id)))
    else:
        said = html.P("No group differs significantly from the reference group at the 95% "
                      "level.")
    england = view.org != "ENG" and drawn and \
        "england" not in queries.figure_levels(view.metric, view.period)
    summed = queries.england_sum_note(view.metric, view.period) \
        if view.org != "ENG" and drawn and not england else None
    return html.Div([
        html.H2("What the figures say", className="h5") if drawn else None,
        said,
        html.P(fmt.no_england_note(metric, view.period), className="small") if england else None,
        html.P(fmt.england_summed_note(summed), className="small",
               id=view.page.id("england-summed")) if summed else None,
        summed_line(view, frame),
        html.P(html.Small([period_note(view, metric), " ", metric.definition, " ",
                           " ".join(metric.caveats)]), className="text-muted"),
    ])


def _nothing_held(view: SourceView, notices: list[str], heading: html.Div) -> html.Div:
    """The page when the store holds no figure for the metric (or for the whole source)."""
    page = view.page
    if not any(period_labels(m) for m in page.metrics):
        return html.Div([heading, controls.notices(notices), dbc.Alert(
            f"This data store holds no {page.source} figures, so there is nothing to show "
            "here.", color="info")])
    metric = registry.get(view.metric)
    held = [m.title for m in page.metrics if period_labels(m)]
    return html.Div([heading, controls.notices(notices), controls_card(view), dbc.Alert(
        f"This data store holds no figures for {fmt.title_words(metric)}. It holds "
        f"{page.source} figures for {fmt.join_words(held)}: choose one under “Measure”.",
        color="info", id=page.id("nothing"))])


def page_layout(view_class: type[SourceView], query: dict) -> html.Div:
    """The whole page for ``query``: breakdown, findings, table and the context over time.
    Charts are drawn only where the store holds figures; otherwise a note says what it
    holds and where."""
    view, notices = view_class.parse(query)
    page = view.page
    heading = pagekit.heading(page.title, page.lead)
    if not view.period:
        return _nothing_held(view, notices, heading)
    metric = registry.get(view.metric)
    frame = breakdown_frame(view)
    _, label = comparator(view)
    title = breakdown_title(view, metric)
    points = trend_points(view)
    drawn = has_figures(frame)
    over_time = has_figures(points)
    england_series = over_time and has_figures(
        points.filter(pl.col("group") == queries.org_name("ENG")))
    context_title = trend_title(view, metric, points)
    note = trend_note(view, metric, points)
    return html.Div([
        heading,
        controls.notices(notices),
        controls_card(view),
        empty_note(frame, view),
        level_note(view, metric),
        dbc.Row([
            dbc.Col(dcc.Graph(id=page.id("graph"), config=figures.CONFIG,
                              figure=figures.breakdown_bars(
                                  frame, metric, title=figures.wrap(title, 80),
                                  source=source_line(metric, view.period),
                                  comparator_label=label)), lg=8) if drawn else None,
            dbc.Col(findings(frame, view, metric), lg=4 if drawn else 12),
        ]),
        html.Div([
            tables.html_table(tables.breakdown_rows(frame, metric, label),
                              caption=f"{title}.", table_id=page.id("table")),
            pagekit.download_button(page.id("download-button"), page.id("download")),
        ], className="mt-2 table-responsive") if tabulated(frame) else None,
        html.H2(page.context_heading if england_series else page.context_heading_local,
                className="h4 mt-4"),
        html.P(note, className="small", id=page.id("trend-note")) if note else None,
        dbc.Row(dbc.Col(dcc.Graph(id=page.id("trend-graph"), config=figures.CONFIG,
                                  figure=figures.trend(
                                      figures.plain_columns(points, "group"), metric,
                                      title=figures.wrap(context_title, 80),
                                      source=source_line(metric, "all periods"),
                                      height=400)), lg=8)) if over_time else None,
        html.Div([
            tables.html_table(tables.trend_context_rows(points, metric),
                              caption=f"{context_title}.",
                              table_id=page.id("trend-table")),
            pagekit.download_button(page.id("trend-download-button"),
                                    page.id("trend-download")),
        ], className="mt-2 table-responsive") if over_time else None,
        pagekit.content_markdown(page.slug, section="About these figures",
                                 class_name="small mt-3"),
    ])


def _preamble(metric: registry.Metric, title: str) -> list[str]:
    return pagekit.preamble(title, metric.source, synthetic=queries.current().synthetic)


def download_csv(view_class: type[SourceView], search: str) -> dict:
    """The breakdown table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = tables.breakdown_rows(breakdown_frame(view), metric, comparator(view)[1])
    note = queries.england_sum_note(view.metric, view.period)
    preamble = _preamble(metric, breakdown_title(view, metric)) + ([note] if note else [])
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"{view.page.slug}-{view.metric}-{view.org}.csv", type="text/csv")


def download_trend_csv(view_class: type[SourceView], search: str) -> dict:
    """The over-time table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    points = trend_points(view)
    rows = tables.trend_context_rows(points, metric)
    notes = [note for period, note in queries.england_sum_notes(view.metric).items()
             if "period" in points.columns and period in set(points["period"].to_list())]
    return dict(content=pagekit.csv_text(rows, _preamble(metric, trend_title(view, metric))
                                         + notes),
                filename=f"{view.page.slug}-{view.metric}-over-time.csv", type="text/csv")


def callbacks(view_class: type[SourceView]):
    """Register the page's callbacks (controls to URL, the two downloads); return
    ``(followed controls, download_csv, download_trend_csv)`` for the page."""
    page = view_class.page

    followed = viewstate.follow_controls({"metric": page.id("metric"), "org": page.id("org"),
                                          "period": page.id("period"),
                                          "dim": page.id("dimension")})

    def breakdown(search: str) -> dict:
        return download_csv(view_class, search)

    def over_time(search: str) -> dict:
        return download_trend_csv(view_class, search)

    @callback(Output(page.id("download"), "data"), Input(page.id("download-button"), "n_clicks"),
              State(ids.URL, "search"), prevent_initial_call=True)
    def on_download(_clicks, search):
        return breakdown(search)

    @callback(Output(page.id("trend-download"), "data"),
              Input(page.id("trend-download-button"), "n_clicks"),
              State(ids.URL, "search"), prevent_initial_call=True)
    def on_trend_download(_clicks, search):
        return over_time(search)

    return followed, breakdown, over_time
