"""Pages of one source's metrics by group (Mortality for MBRRACE-UK, Experience for CQC).

Both pages answer the same question for different publishers: how do groups differ, is the
gap real, and how has the national figure moved? This module holds their shared view, layout
and downloads; each page module supplies a :class:`SourcePage` and its own callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from components import controls, figures, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from data.schema import PERIOD_KINDS
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, TOTAL


@dataclass(frozen=True)
class SourcePage:
    """What differs between the source pages: the publisher, ids and words."""

    source: str
    slug: str  # id prefix, content file and download name, e.g. "mortality"
    title: str
    lead: str
    context_heading: str

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
        dims = queries.dimensions_at(metric.id, level)
        default_dim = ETHNICITY if ETHNICITY in dims else (dims or (TOTAL,))[0]
        wanted = query.get("dim")
        if wanted in DIMENSIONS and wanted not in dims:
            notices.append(f"{cls.page.source} does not publish “{metric.title}” by "
                           f"{DIMENSIONS[wanted].label.lower()} for this organisation; showing "
                           f"{DIMENSIONS[default_dim].label.lower()}.")
            query = query | {"dim": default_dim}
        dimension = viewstate.choose(query, "dim", dims, default_dim, notices, "breakdown")
        return cls(metric_id, org, period, dimension), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "org": self.org,
                                 "period": self.period, "dim": self.dimension})


def comparator(view: SourceView) -> tuple[str, str | None]:
    """(comparator for the query, its label): England unless England is shown."""
    return ("none", None) if view.org == "ENG" else ("england", "England")


def source_line(metric: registry.Metric, period: str) -> str:
    synthetic = " Synthetic demonstration data." if queries.current().synthetic else ""
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


def trend_title(view: SourceView, metric: registry.Metric) -> str:
    who = "England" if view.org == "ENG" else f"England and {queries.org_name(view.org)}"
    return f"{metric.title} over time: {who}, all {metric.subject}"


def level_note(view: SourceView, metric: registry.Metric) -> dbc.Alert | None:
    """Why breakdowns are missing for this organisation, where they are."""
    note = fmt.published_levels_note(metric, queries.org_level(view.org))
    return dbc.Alert(f"{note} Choose England or a region to see the gaps between groups.",
                     color="info") if note else None


def period_note(view: SourceView, metric: registry.Metric) -> str:
    kind = queries.period_kind_of(view.metric, view.period)
    return f"Period: {PERIOD_KINDS.get(kind, kind)}, {view.period}."


def empty_note(frame: pl.DataFrame, view: SourceView) -> dbc.Alert | None:
    if frame.is_empty() or frame["value"].is_null().all():
        suppressed = frame.height and frame["suppressed"].fill_null(False).all()
        which = "the figure is" if frame.height == 1 else "every group is"
        every = f"{which} suppressed (small numbers)" if suppressed else "there is no figure"
        return dbc.Alert(f"Nothing to show for {queries.org_name(view.org)} in {view.period}: "
                         f"{every}. Try a longer period or a larger organisation.",
                         color="info")
    return None


def controls_card(view: SourceView) -> dbc.Card:
    metric = registry.get(view.metric)
    level = queries.org_level(view.org)
    periods = list(reversed(period_labels(metric)))
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Measure", controls.dropdown(
            view.page.id("metric"), controls.metric_options(view.page.metrics), view.metric),
            view.page.id("metric"), 6),
        controls.labelled("Organisation", controls.dropdown(
            view.page.id("org"), controls.org_options(queries.organisations(), metric.levels),
            view.org), view.page.id("org"), 6),
        controls.labelled("Period", controls.dropdown(
            view.page.id("period"), [{"label": p, "value": p} for p in periods], view.period),
            view.page.id("period"), 6),
        controls.labelled("Breakdown", controls.dropdown(
            view.page.id("dimension"),
            controls.dimension_options(queries.dimensions_at(metric.id, level)),
            view.dimension), view.page.id("dimension"), 6),
    ]))


def findings(frame: pl.DataFrame, view: SourceView, metric: registry.Metric) -> html.Div:
    gaps = fmt.gap_statements(frame, metric, view.dimension)
    if gaps:
        said = html.Ul([html.Li(s) for s in gaps])
    elif view.dimension == TOTAL:
        said = html.P("Choose a breakdown to see gaps between groups." if
                      len(queries.dimensions_at(metric.id, queries.org_level(view.org))) > 1 else
                      "Breakdowns are not published for this organisation.")
    else:
        said = html.P("No group differs significantly from the reference group at the 95% "
                      "level.")
    return html.Div([
        html.H2("What the figures say", className="h5"),
        said,
        html.P(html.Small([period_note(view, metric), " ", metric.definition, " ",
                           " ".join(metric.caveats)]), className="text-muted"),
    ])


def page_layout(view_class: type[SourceView], query: dict) -> html.Div:
    """The whole page for ``query``: breakdown, findings, table and the national context."""
    view, notices = view_class.parse(query)
    page = view.page
    heading = pagekit.heading(page.title, page.lead)
    if not view.period:
        return html.Div([heading, controls.notices(notices), dbc.Alert(
            f"This data store holds no {page.source} figures, so there is nothing to show "
            "here.", color="info")])
    metric = registry.get(view.metric)
    frame = breakdown_frame(view)
    _, label = comparator(view)
    title = breakdown_title(view, metric)
    points = trend_points(view)
    return html.Div([
        heading,
        controls.notices(notices),
        controls_card(view),
        level_note(view, metric),
        empty_note(frame, view),
        dbc.Row([
            dbc.Col(dcc.Graph(id=page.id("graph"), config=figures.CONFIG,
                              figure=figures.breakdown_bars(
                                  frame, metric, title=figures.wrap(title, 80),
                                  source=source_line(metric, view.period),
                                  comparator_label=label)), lg=8),
            dbc.Col(findings(frame, view, metric), lg=4),
        ]),
        html.Div([
            tables.html_table(tables.breakdown_rows(frame, metric, label),
                              caption=f"{title}. * suppressed (small numbers); : not "
                              "available; - zero.", table_id=page.id("table")),
            pagekit.download_button(page.id("download-button"), page.id("download")),
        ], className="mt-2 table-responsive"),
        html.H2(page.context_heading, className="h4 mt-4"),
        dbc.Row(dbc.Col(dcc.Graph(id=page.id("trend-graph"), config=figures.CONFIG,
                                  figure=figures.trend(
                                      points, metric, title=figures.wrap(
                                          trend_title(view, metric), 80),
                                      source=source_line(metric, "all periods"),
                                      height=400)), lg=8)),
        html.Div([
            tables.html_table(tables.trend_context_rows(points, metric),
                              caption=f"{trend_title(view, metric)}. * suppressed (small "
                              "numbers); : not available; - zero.",
                              table_id=page.id("trend-table")),
            pagekit.download_button(page.id("trend-download-button"),
                                    page.id("trend-download")),
        ], className="mt-2 table-responsive"),
        pagekit.content_markdown(page.slug, section="About these figures",
                                 class_name="small mt-3"),
    ])


def _preamble(metric: registry.Metric, title: str) -> list[str]:
    synthetic = " (synthetic demonstration data)" if queries.current().synthetic else ""
    return [title, f"Source: {metric.source}{synthetic}",
            "Symbols: * suppressed (small numbers), : not available, - zero"]


def download_csv(view_class: type[SourceView], search: str) -> dict:
    """The breakdown table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = tables.breakdown_rows(breakdown_frame(view), metric, comparator(view)[1])
    return dict(content=pagekit.csv_text(rows, _preamble(metric, breakdown_title(view, metric))),
                filename=f"{view.page.slug}-{view.metric}-{view.org}.csv", type="text/csv")


def download_trend_csv(view_class: type[SourceView], search: str) -> dict:
    """The over-time table for the view in ``search`` as a CSV download."""
    view, _ = view_class.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = tables.trend_context_rows(trend_points(view), metric)
    return dict(content=pagekit.csv_text(rows, _preamble(metric, trend_title(view, metric))),
                filename=f"{view.page.slug}-{view.metric}-over-time.csv", type="text/csv")
