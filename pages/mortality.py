"""Mortality: stillbirths, neonatal deaths and maternal deaths (MBRRACE-UK) by ethnicity and
deprivation, with 95% confidence intervals, gap statements and England's trend for context.

Answers "are babies and mothers in some groups more likely to die, is the gap real, and is
the national rate changing?" MBRRACE-UK publishes breakdowns by ethnicity and deprivation for
England and regions only; ICBs and trusts have totals, and maternal deaths are published for
England only, as 3-year rolling rates.

URL parameters: ``metric`` (an MBRRACE-UK metric id), ``org`` (England or a region; an ICB or
trust where the metric is published for it, total only), ``period`` (label), ``dim`` (total,
ethnicity, deprivation_quintile).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from data.schema import PERIOD_KINDS
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, TOTAL

dash.register_page(__name__, path="/mortality", name="Mortality",
                   title="Mortality · Equalities", order=5)

SOURCE = registry.MBRRACE
PAGE_METRICS = tuple(m for m in registry.METRICS_LIST if m.source == SOURCE)

MORTALITY_METRIC = "mortality-metric"
MORTALITY_ORG = "mortality-org"
MORTALITY_PERIOD = "mortality-period"
MORTALITY_DIMENSION = "mortality-dimension"
MORTALITY_GRAPH = "mortality-graph"
MORTALITY_TABLE = "mortality-table"
MORTALITY_DOWNLOAD_BUTTON = "mortality-download-button"
MORTALITY_DOWNLOAD = "mortality-download"
MORTALITY_TREND_GRAPH = "mortality-trend-graph"
MORTALITY_TREND_TABLE = "mortality-trend-table"
MORTALITY_TREND_DOWNLOAD_BUTTON = "mortality-trend-download-button"
MORTALITY_TREND_DOWNLOAD = "mortality-trend-download"



def period_labels(metric: registry.Metric) -> list[str]:
    """Every period the store holds for ``metric``, oldest first, kind by kind."""
    return [p for kind in metric.period_kinds for p in queries.periods(metric.id, kind)]


@dataclass(frozen=True)
class MortalityView:
    metric: str
    org: str
    period: str
    dimension: str

    @classmethod
    def parse(cls, query: dict) -> tuple["MortalityView", list[str]]:
        notices: list[str] = []
        metric_id = viewstate.choose(query, "metric", [m.id for m in PAGE_METRICS],
                                     PAGE_METRICS[0].id, notices, "metric")
        metric = registry.get(metric_id)
        orgs = queries.organisations()["org_code"].to_list()
        org = viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")
        level = queries.org_level(org)
        if level not in metric.levels:
            notices.append(f"{SOURCE} does not publish “{metric.title}” for "
                           f"{queries.org_name(org)}; showing England.")
            org, level = "ENG", "england"
        labels = period_labels(metric)
        period = viewstate.choose(query, "period", labels, labels[-1] if labels else "",
                                  notices, "period")
        dims = metric.dimensions_at(level)
        default_dim = ETHNICITY if ETHNICITY in dims else dims[0]
        wanted = query.get("dim")
        if wanted in DIMENSIONS and wanted not in dims:
            notices.append(f"{SOURCE} does not publish “{metric.title}” by "
                           f"{DIMENSIONS[wanted].label.lower()} for this organisation; showing "
                           f"{DIMENSIONS[default_dim].label.lower()}.")
            query = query | {"dim": default_dim}
        dimension = viewstate.choose(query, "dim", dims, default_dim, notices, "breakdown")
        return cls(metric_id, org, period, dimension), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "org": self.org,
                                 "period": self.period, "dim": self.dimension})


def comparator(view: MortalityView) -> tuple[str, str | None]:
    """(comparator for the query, its label): England unless England is shown."""
    return ("none", None) if view.org == "ENG" else ("england", "England")


def source_line(metric: registry.Metric, period: str) -> str:
    synthetic = " Synthetic demonstration data." if queries.current().synthetic else ""
    return f"Source: {metric.source}, {period}.{synthetic} Lines: 95% confidence intervals."


def breakdown_frame(view: MortalityView) -> pl.DataFrame:
    return queries.breakdown(view.metric, view.org, view.period, view.dimension,
                             comparator(view)[0])


def breakdown_title(view: MortalityView, metric: registry.Metric) -> str:
    by = DIMENSIONS[view.dimension].label.lower()
    return (f"{metric.title}: {queries.org_name(view.org)}, {view.period}" +
            ("" if view.dimension == TOTAL else f", by {by}"))


def trend_points(view: MortalityView) -> pl.DataFrame:
    return queries.totals_with_england(view.metric, view.org,
                                       queries.period_kind_of(view.metric, view.period))


def trend_title(view: MortalityView, metric: registry.Metric) -> str:
    who = "England" if view.org == "ENG" else f"England and {queries.org_name(view.org)}"
    return f"{metric.title} over time: {who}, all {metric.subject}"


def level_note(view: MortalityView, metric: registry.Metric) -> dbc.Alert | None:
    """Why breakdowns are missing for this organisation, where they are."""
    note = fmt.published_levels_note(metric, queries.org_level(view.org))
    return dbc.Alert(f"{note} Choose England or a region to see the gaps between groups.",
                     color="info") if note else None


def period_note(view: MortalityView, metric: registry.Metric) -> str:
    kind = queries.period_kind_of(view.metric, view.period)
    return f"Period: {PERIOD_KINDS.get(kind, kind)}, {view.period}."


def empty_note(frame: pl.DataFrame, view: MortalityView) -> dbc.Alert | None:
    if frame.is_empty() or frame["value"].is_null().all():
        suppressed = frame.height and frame["suppressed"].fill_null(False).all()
        which = "the figure is" if frame.height == 1 else "every group is"
        every = f"{which} suppressed (small numbers)" if suppressed else "there is no figure"
        return dbc.Alert(f"Nothing to show for {queries.org_name(view.org)} in {view.period}: "
                         f"{every}. Try a longer period or a larger organisation.",
                         color="info")
    return None


def controls_card(view: MortalityView) -> dbc.Card:
    metric = registry.get(view.metric)
    level = queries.org_level(view.org)
    periods = list(reversed(period_labels(metric)))
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Measure", controls.dropdown(
            MORTALITY_METRIC, controls.metric_options(PAGE_METRICS), view.metric),
            MORTALITY_METRIC, 6),
        controls.labelled("Organisation", controls.dropdown(
            MORTALITY_ORG, controls.org_options(queries.organisations(), metric.levels),
            view.org), MORTALITY_ORG, 6),
        controls.labelled("Period", controls.dropdown(
            MORTALITY_PERIOD, [{"label": p, "value": p} for p in periods], view.period),
            MORTALITY_PERIOD, 6),
        controls.labelled("Breakdown", controls.dropdown(
            MORTALITY_DIMENSION, controls.dimension_options(metric.dimensions_at(level)),
            view.dimension), MORTALITY_DIMENSION, 6),
    ]))


def findings(frame: pl.DataFrame, view: MortalityView, metric: registry.Metric) -> html.Div:
    gaps = fmt.gap_statements(frame, metric, view.dimension)
    if gaps:
        said = html.Ul([html.Li(s) for s in gaps])
    elif view.dimension == TOTAL:
        said = html.P("Choose a breakdown to see gaps between groups." if
                      len(metric.dimensions_at(queries.org_level(view.org))) > 1 else
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


@pagekit.safe_layout
def layout(**query) -> html.Div:
    view, notices = MortalityView.parse(query)
    heading = pagekit.heading(
        "Mortality", "Stillbirths, neonatal deaths and maternal deaths by ethnicity and "
        "deprivation (MBRRACE-UK), with 95% confidence intervals.")
    if not view.period:
        return html.Div([heading, controls.notices(notices), dbc.Alert(
            f"This data store holds no {SOURCE} figures, so there is nothing to show here.",
            color="info")])
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
            dbc.Col(dcc.Graph(id=MORTALITY_GRAPH, config=figures.CONFIG,
                              figure=figures.breakdown_bars_readable(
                                  frame, metric, title=figures.wrap(title, 80),
                                  source=source_line(metric, view.period),
                                  comparator_label=label)), lg=8),
            dbc.Col(findings(frame, view, metric), lg=4),
        ]),
        html.Div([
            tables.html_table(tables.breakdown_rows(frame, metric, label),
                              caption=f"{title}. * suppressed (small numbers); : not "
                              "available.", table_id=MORTALITY_TABLE),
            pagekit.download_button(MORTALITY_DOWNLOAD_BUTTON, MORTALITY_DOWNLOAD),
        ], className="mt-2 table-responsive"),
        html.H2("Context: the national rate over time", className="h4 mt-4"),
        dbc.Row(dbc.Col(dcc.Graph(id=MORTALITY_TREND_GRAPH, config=figures.CONFIG,
                                  figure=figures.trend_context(
                                      points, metric, title=figures.wrap(
                                          trend_title(view, metric), 80),
                                      source=source_line(metric, "all periods"))), lg=8)),
        html.Div([
            tables.html_table(tables.trend_context_rows(points, metric),
                              caption=f"{trend_title(view, metric)}. * suppressed (small "
                              "numbers); : not available; - zero.",
                              table_id=MORTALITY_TREND_TABLE),
            pagekit.download_button(MORTALITY_TREND_DOWNLOAD_BUTTON, MORTALITY_TREND_DOWNLOAD),
        ], className="mt-2 table-responsive"),
        pagekit.content_markdown("mortality", section="About these figures",
                                 class_name="small mt-3"),
    ])


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(MORTALITY_METRIC, "value"),
    Input(MORTALITY_ORG, "value"),
    Input(MORTALITY_PERIOD, "value"),
    Input(MORTALITY_DIMENSION, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, org, period, dimension, current):
    return viewstate.next_search(MortalityView, {"metric": metric, "org": org,
                                                 "period": period, "dim": dimension}, current)


def _preamble(metric: registry.Metric, title: str) -> list[str]:
    synthetic = " (synthetic demonstration data)" if queries.current().synthetic else ""
    return [title, f"Source: {metric.source}{synthetic}",
            "Symbols: * suppressed (small numbers), : not available, - zero"]


def download_csv(search: str) -> dict:
    """The breakdown table for the view in ``search`` as a CSV download."""
    view, _ = MortalityView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = tables.breakdown_rows(breakdown_frame(view), metric, comparator(view)[1])
    preamble = _preamble(metric, breakdown_title(view, metric))
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"mortality-{view.metric}-{view.org}.csv", type="text/csv")


def download_trend_csv(search: str) -> dict:
    """The over-time table for the view in ``search`` as a CSV download."""
    view, _ = MortalityView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = tables.trend_context_rows(trend_points(view), metric)
    preamble = _preamble(metric, trend_title(view, metric))
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"mortality-{view.metric}-over-time.csv", type="text/csv")


@callback(Output(MORTALITY_DOWNLOAD, "data"), Input(MORTALITY_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)


@callback(Output(MORTALITY_TREND_DOWNLOAD, "data"),
          Input(MORTALITY_TREND_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_trend_download(_clicks, search):
    return download_trend_csv(search)
