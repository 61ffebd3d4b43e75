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
from metrics import registry
from metrics.categories import TOTAL
from views.source import Source, period_labels, source
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
        labels = period_labels(metric_id)
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

    def model(self) -> Source:
        """The view's model: what its charts, tables, sentences and downloads show."""
        return source(self.metric, self.org, self.period, self.dimension)


def breakdown_frame(view: SourceView) -> pl.DataFrame:
    return view.model().frame


def trend_points(view: SourceView) -> pl.DataFrame:
    return view.model().points


def source_line(m: Source, period: str) -> str:
    return (f"Source: {m.metric.source}, {period}.{fmt.synthetic_note(m.synthetic)} "
            "Lines: 95% confidence intervals.")


def trend_title(m: Source) -> str:
    """The over-time chart's title, naming the series drawn (England first)."""
    return (f"{m.metric.title} over time: {fmt.join_words(m.series)}, "
            f"all {m.metric.subject}")


def level_note(m: Source, page: SourcePage) -> dbc.Alert | None:
    """Which breakdowns the store holds, where some are missing for this organisation, and
    where to find them if another level has them."""
    note = fmt.breakdowns_note(m.metric, m.level, m.held)
    if not note:
        return None
    choose = fmt.choose_levels_words(fmt.breakdown_levels(m.metric, m.level, m.held))
    return dbc.Alert(f"{note} {choose}".strip(), color="info", id=page.id("breakdowns"))


def empty_note(m: Source, page: SourcePage) -> dbc.Alert | None:
    """Why there is no chart: every figure suppressed, or none held for this view."""
    if m.drawn:
        return None
    if m.withheld:
        said = fmt.suppressed_note(org_name=m.org_name, period=m.period, groups=m.frame.height)
    else:
        said = fmt.no_figure_note(m.metric, org_name=m.org_name, level=m.level,
                                  period=m.period, levels=m.figure_levels, left_out=m.left_out)
    return dbc.Alert(said, color="info", id=page.id("nothing"))


def summed_line(m: Source, page: SourcePage) -> html.P | None:
    """For an ICB / LMNS, region or England figure the store summed from trusts: how."""
    if not m.tabulated or m.summed is None:
        return None
    return html.P(html.Small(fmt.summed_note(m.level, m.summed)), className="text-muted",
                  id=page.id("summed"))


def trend_note(m: Source) -> str | None:
    """What the over-time chart cannot show: every series, or England's."""
    if not m.over_time:
        who = fmt.join_words(list(dict.fromkeys([m.england_name, m.org_name])))
        return (f"Nothing to draw over time: this data store holds no "
                f"{fmt.title_words(m.metric)} figures for {who} "
                f"({m.kind_words.lower()}).")
    if not m.england_series:
        return (f"This data store holds no England figures for {fmt.title_words(m.metric)}, "
                "so there is no national series to set beside this one.")
    if m.summed_periods:
        return fmt.england_series_note(list(m.summed_periods))
    return None


def controls_card(view: SourceView, periods: tuple[str, ...], dimensions: tuple[str, ...],
                  levels: tuple[str, ...]) -> dbc.Card:
    """The view's controls: ``periods`` and ``dimensions`` on offer, newest period first,
    organisations of ``levels``."""
    page = view.page
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Measure", controls.dropdown(
            page.id("metric"), controls.metric_options(page.metrics), view.metric),
            page.id("metric"), 6),
        controls.labelled("Organisation", controls.org_menu(
            page.id("org"), *menus.options(levels, view.org), view.org),
            page.id("org"), 6),
        controls.labelled("Period", controls.dropdown(
            page.id("period"), [{"label": p, "value": p} for p in periods], view.period),
            page.id("period"), 6),
        controls.labelled("Breakdown", controls.dropdown(
            page.id("dimension"),
            # Where the store holds nothing here, the view's own breakdown, not an empty menu.
            controls.dimension_options(dimensions or (view.dimension,)),
            view.dimension), page.id("dimension"), 6),
    ]))


def findings(m: Source, page: SourcePage) -> html.Div:
    gaps = fmt.gap_statements(m.frame, m.metric, m.dimension)
    if not m.drawn:
        said = None  # the note above the chart's place says why
    elif gaps:
        said = html.Ul([html.Li(s) for s in gaps])
    elif m.dimension == TOTAL:
        said = html.P(fmt.total_only_hint(m.metric, m.level, m.held))
    else:
        said = html.P("No group differs significantly from the reference group at the 95% "
                      "level.")
    compared = m.org != "ENG" and m.drawn
    england = compared and "england" not in m.figure_levels
    summed = m.england_note if compared and not england else None
    return html.Div([
        html.H2("What the figures say", className="h5") if m.drawn else None,
        said,
        html.P(fmt.no_england_note(m.metric, m.period), className="small") if england else None,
        html.P(fmt.england_summed_note(summed), className="small",
               id=page.id("england-summed")) if summed else None,
        summed_line(m, page),
        html.P(html.Small([f"Period: {m.kind_words}, {m.period}.", " ", m.metric.definition,
                           " ", " ".join(m.metric.caveats)]), className="text-muted"),
    ])


def _nothing_held(view: SourceView, notices: list[str], heading: html.Div) -> html.Div:
    """The page when the store holds no figure for the metric (or for the whole source)."""
    page = view.page
    held = [m.title for m in page.metrics if period_labels(m.id)]
    if not held:
        return html.Div([heading, controls.notices(notices), dbc.Alert(
            f"This data store holds no {page.source} figures, so there is nothing to show "
            "here.", color="info")])
    metric = registry.get(view.metric)
    return html.Div([heading, controls.notices(notices),
                     controls_card(view, (), (), metric.levels), dbc.Alert(
        f"This data store holds no figures for {fmt.title_words(metric)}. It holds "
        f"{page.source} figures for {fmt.join_words(held)}: choose one under “Measure”.",
        color="info", id=page.id("nothing"))])


def page_layout(view_class: type[SourceView], query: dict) -> html.Div:
    """The whole page for ``query``: breakdown, findings, table and the context over time,
    all from the view's model. Charts are drawn only where the store holds figures;
    otherwise a note says what it holds and where."""
    view, notices = view_class.parse(query)
    page = view.page
    heading = pagekit.heading(page.title, page.lead)
    if not view.period:
        return _nothing_held(view, notices, heading)
    m = view.model()
    context_title = trend_title(m)
    note = trend_note(m)
    return html.Div([
        heading,
        controls.notices(notices),
        controls_card(view, m.periods, m.dimensions, m.metric.levels),
        empty_note(m, page),
        level_note(m, page),
        dbc.Row([
            dbc.Col(dcc.Graph(id=page.id("graph"), config=figures.CONFIG,
                              figure=figures.breakdown_bars(
                                  m.frame, m.metric, title=figures.wrap(m.title, 80),
                                  source=source_line(m, m.period),
                                  comparator_label=m.comparator_label)), lg=8)
            if m.drawn else None,
            dbc.Col(findings(m, page), lg=4 if m.drawn else 12),
        ]),
        html.Div([
            tables.html_table(tables.breakdown_rows(m.frame, m.metric, m.comparator_label),
                              caption=f"{m.title}.", table_id=page.id("table")),
            pagekit.download_button(page.id("download-button"), page.id("download")),
        ], className="mt-2 table-responsive") if m.tabulated else None,
        html.H2(page.context_heading if m.england_series else page.context_heading_local,
                className="h4 mt-4"),
        html.P(note, className="small", id=page.id("trend-note")) if note else None,
        dbc.Row(dbc.Col(dcc.Graph(id=page.id("trend-graph"), config=figures.CONFIG,
                                  figure=figures.trend(
                                      figures.plain_columns(m.points, "group"), m.metric,
                                      title=figures.wrap(context_title, 80),
                                      source=source_line(m, "all periods"),
                                      height=400)), lg=8)) if m.over_time else None,
        html.Div([
            tables.html_table(tables.trend_context_rows(m.points, m.metric),
                              caption=f"{context_title}.",
                              table_id=page.id("trend-table")),
            pagekit.download_button(page.id("trend-download-button"),
                                    page.id("trend-download")),
        ], className="mt-2 table-responsive") if m.over_time else None,
        pagekit.content_markdown(page.slug, section="About these figures",
                                 class_name="small mt-3"),
    ])


def _preamble(m: Source, title: str) -> list[str]:
    return pagekit.preamble(title, m.metric.source, synthetic=m.synthetic)


def download_csv(view_class: type[SourceView], search: str) -> dict:
    """The breakdown table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    m = view.model()
    rows = tables.breakdown_rows(m.frame, m.metric, m.comparator_label)
    preamble = _preamble(m, m.title) + ([m.england_note] if m.england_note else [])
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"{view.page.slug}-{view.metric}-{view.org}.csv", type="text/csv")


def download_trend_csv(view_class: type[SourceView], search: str) -> dict:
    """The over-time table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    m = view.model()
    rows = tables.trend_context_rows(m.points, m.metric)
    return dict(content=pagekit.csv_text(rows, _preamble(m, trend_title(m))
                                         + list(m.summed_periods.values())),
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
