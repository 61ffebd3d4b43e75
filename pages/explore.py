"""Explore: one organisation's metric by ethnicity or deprivation, with gaps and comparators.

Answers "where do outcomes differ between groups here, is the difference real, and how do
we compare with England or trusts like us?"

URL parameters: ``org`` (organisation code), ``metric`` (registry id), ``period`` (label),
``dim`` (total, ethnicity, deprivation_decile, deprivation_quintile), ``vs`` (england,
peer, none).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, pagekit, sourcepage, tables, viewstate
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, TOTAL

dash.register_page(__name__, path="/explore", name="Explore", title="Explore · Equalities",
                   order=1,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: ExploreView.parse(query)[0].search())

EXPLORE_ORG = "explore-org"
EXPLORE_METRIC = "explore-metric"
EXPLORE_PERIOD = "explore-period"
EXPLORE_DIMENSION = "explore-dimension"
EXPLORE_COMPARATOR = "explore-comparator"
EXPLORE_GRAPH = "explore-graph"
EXPLORE_DOWNLOAD_BUTTON = "explore-download-button"
EXPLORE_DOWNLOAD = "explore-download"
EXPLORE_EXCESS = "explore-excess"
EXPLORE_NOTHING = "explore-nothing"
EXPLORE_BREAKDOWNS = "explore-breakdowns"
EXPLORE_SUMMED = "explore-summed"
EXPLORE_ENGLAND_SUMMED = "explore-england-summed"
LEVELS = ("england", "region", "icb", "trust")
EXCESS_PREFIX = "Excess "
EXCESS_NOTE = (" Excess: the number who had the outcome minus the number expected at the "
               "reference group's rate (modelled, with 95% CI; negative means fewer).")


@dataclass(frozen=True)
class ExploreView:
    org: str
    metric: str
    period: str
    dimension: str
    comparator: str

    @classmethod
    def parse(cls, query: dict) -> tuple["ExploreView", list[str]]:
        notices: list[str] = []
        orgs = queries.organisations()["org_code"].to_list()
        org = viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")
        metric_id = viewstate.choose(query, "metric", list(registry.OUTCOMES), "pph_1500",
                                     notices, "metric")
        metric = registry.get(metric_id)
        level = queries.org_level(org)
        if level not in metric.levels:
            notices.append(f"{metric.title} is not published for this kind of organisation; "
                           "showing England.")
            org, level = "ENG", "england"
        labels = [p for kind in metric.period_kinds for p in queries.periods(metric_id, kind)]
        latest = queries.latest_period(metric_id) or ""
        period = viewstate.choose(query, "period", labels, latest, notices, "period")
        dimension = controls.choose_dimension(query, metric, level, notices,
                                               org_name=queries.org_name(org))
        comparator = viewstate.choose(query, "vs", list(controls.COMPARATORS), "england",
                                      notices, "comparison")
        if comparator == "peer" and level != "trust":
            comparator = "england"
        return cls(org, metric_id, period, dimension, comparator), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "vs": self.comparator})


def comparator_label(view: ExploreView) -> str | None:
    if view.comparator == "england":
        return None if view.org == "ENG" else "England"
    if view.comparator == "peer":
        return "Peer group"
    return None


def source_line(metric: registry.Metric, view: ExploreView) -> str:
    synthetic = " Synthetic demonstration data." if queries.current().synthetic else ""
    return f"Source: {metric.source}, {view.period}.{synthetic} Bars: 95% confidence intervals."


def people(metric: registry.Metric) -> str:
    return "babies" if metric.subject == "babies" else "women"


def excess_block(view: ExploreView, metric: registry.Metric) -> html.Div | None:
    """The gaps as numbers of women or babies: the total, then each known group."""
    if view.dimension == TOTAL:
        return None
    result = queries.excess(view.metric, view.org, view.period, view.dimension)
    heading = html.H3(f"The gaps in numbers of {people(metric)}", className="h6")
    if not result["available"]:
        return html.Div([heading, html.P(f"Not worked out: {result['reason']}",
                                         className="small text-muted")], className="mb-3")
    total = result["total"]
    said = fmt.excess_total_sentence(total, metric, view.dimension) or \
        f"Total: not worked out. {total['reason']}"
    lines = []
    for row in result["groups"].filter(pl.col("known") & ~pl.col("is_reference")).iter_rows(
            named=True):
        who = fmt.subject(row["group"], view.dimension, metric)
        lines.append(fmt.excess_short(row, metric, view.dimension)
                     or f"{who[0].upper()}{who[1:]}: not worked out ({row['status']})")
    known = "ethnicity" if view.dimension == ETHNICITY else "deprivation"
    return html.Div([
        heading,
        html.P(said, id=EXPLORE_EXCESS),
        html.Ul([html.Li(line) for line in lines], className="small mb-1"),
        html.P(html.Small([f"Modelled numbers over the period, not counts. The total counts "
                           f"{people(metric)} whose {known} is known. ",
                           html.A("How they are worked out", href="/data#methods")]),
               className="text-muted"),
    ], className="mb-3")


def table_rows(view: ExploreView, metric: registry.Metric, frame: pl.DataFrame) -> pl.DataFrame:
    """The on-screen table (and CSV): the breakdown and, where a metric has a good
    direction, each group's excess over the reference group's rate."""
    rows = tables.breakdown_rows(frame, metric, comparator_label(view))
    if view.dimension == TOTAL or rows.is_empty() or metric.polarity == registry.NO_JUDGEMENT:
        return rows
    result = queries.excess(view.metric, view.org, view.period, view.dimension)
    cells = {row["group"]: fmt.excess_cell(row) for row in result["groups"].iter_rows(named=True)}
    return rows.with_columns(pl.Series(f"{EXCESS_PREFIX}{people(metric)} (95% CI)",
                                       [cells.get(g, ":") for g in frame["group"]]))


def has_excess(rows: pl.DataFrame) -> bool:
    return any(c.startswith(EXCESS_PREFIX) for c in rows.columns)


def sii_block(view: ExploreView, metric: registry.Metric) -> html.Div | None:
    if not DIMENSIONS[view.dimension].ordered:
        return None
    result = queries.inequality(view.metric, view.org, view.period, view.dimension)
    if not result["available"]:
        return dbc.Alert(f"Slope index of inequality: not available. {result['reason']}",
                         color="light")
    unit = metric.unit
    return html.Div([
        html.H3("Inequality across deprivation", className="h6"),
        html.P([
            html.Strong(f"Slope index of inequality (SII): {result['sii']:,.2f} {unit} "),
            f"(95% CI {result['sii_lower']:,.2f} to {result['sii_upper']:,.2f}). ",
            "The modelled gap between the most and the least deprived ends of the population. ",
            html.Strong(f"Relative index (RII): {result['rii']:.2f} "),
            f"(95% CI {result['rii_lower']:.2f} to {result['rii_upper']:.2f}); "
            "above 1 means higher in the least deprived areas.",
        ]),
    ], className="mb-3")


def quality_warning(view: ExploreView) -> dbc.Alert | None:
    info = queries.completeness(view.org, view.period, view.dimension)
    if not info or not info["poor"]:
        return None
    what = "Ethnicity" if info["metric"] == "ethnicity_recorded" else "Deprivation"
    return dbc.Alert([html.Strong("Data quality warning: "),
                      f"{what} was recorded for only {info['value']:.1f}% of women here "
                      f"(below {info['threshold']:.0f}%), so this breakdown may be unreliable."],
                     color="warning")


def nothing_note(view: ExploreView, metric: registry.Metric, frame: pl.DataFrame) -> str:
    """Why there is no chart: every figure suppressed, or none held for this view."""
    org_name = queries.org_name(view.org)
    if not frame.is_empty() and frame["suppressed"].fill_null(False).any():
        return fmt.suppressed_note(org_name=org_name, period=view.period, groups=frame.height)
    return fmt.no_figure_note(metric, org_name=org_name, level=queries.org_level(view.org),
                              period=view.period,
                              levels=queries.figure_levels(view.metric, view.period),
                              left_out=queries.sum_left_out(view.metric, view.org, view.period))


def summed_line(view: ExploreView, frame: pl.DataFrame) -> html.P | None:
    """For an ICB / LMNS, region or England figure the store summed from trusts: how."""
    if not sourcepage.tabulated(frame):
        return None
    level = queries.org_level(view.org)
    summed = queries.summed_from_trusts(view.metric, level, view.period)
    if summed is None:
        return None
    return html.P(html.Small(fmt.summed_note(level, summed)), id=EXPLORE_SUMMED,
                  className="text-muted")


def england_line(view: ExploreView, metric: registry.Metric) -> html.P | None:
    """Compared with England: where the store holds no England figure for the period, that
    it is not compared; where England's figure is a sum of trusts, what it sums."""
    if view.comparator != "england" or view.org == "ENG":
        return None
    if "england" in queries.figure_levels(view.metric, view.period):
        note = queries.england_sum_note(view.metric, view.period)
        return html.P(fmt.england_summed_note(note), className="small",
                      id=EXPLORE_ENGLAND_SUMMED) if note else None
    return html.P(fmt.no_england_note(metric, view.period), className="small")


def england_preamble(view: ExploreView) -> list[str]:
    """For downloads: what England's figure is where the store summed it from trusts."""
    note = queries.england_sum_note(view.metric, view.period)
    shown = view.org == "ENG" or view.comparator == "england"
    return [note] if note and shown else []


def controls_card(view: ExploreView) -> dbc.Card:
    metric = registry.get(view.metric)
    level = queries.org_level(view.org)
    periods = [p for kind in metric.period_kinds for p in reversed(queries.periods(view.metric,
                                                                                    kind))]
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Organisation", controls.dropdown(
            EXPLORE_ORG, controls.org_options(queries.organisations(), metric.levels),
            view.org), EXPLORE_ORG, 4),
        controls.labelled("Metric", controls.dropdown(
            EXPLORE_METRIC, controls.metric_options(), view.metric), EXPLORE_METRIC, 4),
        controls.labelled("Period", controls.dropdown(
            EXPLORE_PERIOD, [{"label": p, "value": p} for p in periods], view.period),
            EXPLORE_PERIOD, 4),
        controls.labelled("Breakdown", controls.dropdown(
            # Where the store holds nothing here, the view's own breakdown, not an empty menu.
            EXPLORE_DIMENSION, controls.dimension_options(
                queries.dimensions_at(metric.id, level) or (view.dimension,)),
            view.dimension), EXPLORE_DIMENSION, 4),
        dbc.Col([
            html.Label("Compare with", htmlFor=EXPLORE_COMPARATOR, className="form-label fw-bold"),
            dbc.RadioItems(id=EXPLORE_COMPARATOR, inline=True, value=view.comparator,
                           options=[{"label": v, "value": k}
                                    for k, v in controls.COMPARATORS.items()
                                    if k != "peer" or level == "trust"]),
        ], md=8),
    ]))


@pagekit.safe_layout
def layout(**query) -> html.Div:
    view, notices = ExploreView.parse(query)
    metric = registry.get(view.metric)
    frame = queries.breakdown(view.metric, view.org, view.period, view.dimension,
                              view.comparator)
    org_name = queries.org_name(view.org)
    label = comparator_label(view)
    breakdown_label = DIMENSIONS[view.dimension].label.lower()
    title = f"{metric.title}: {org_name}, {view.period}" + (
        "" if view.dimension == TOTAL else f", by {breakdown_label}")
    level = queries.org_level(view.org)
    held = sourcepage.held_by_level(metric)
    breakdowns = fmt.breakdowns_note(metric, level, held)
    gaps = fmt.gap_statements(frame, metric, view.dimension)
    drawn = sourcepage.has_figures(frame)
    table_frame = table_rows(view, metric, frame)
    return html.Div([
        pagekit.heading("Explore", "How a metric differs between groups of women and babies, "
                        "with 95% confidence intervals and honest gap statements."),
        controls.notices(notices),
        controls_card(view),
        quality_warning(view),
        dbc.Alert(nothing_note(view, metric, frame), color="info", id=EXPLORE_NOTHING)
        if not drawn else None,
        dbc.Alert(breakdowns, color="info", id=EXPLORE_BREAKDOWNS) if breakdowns else None,
        dbc.Row([
            dbc.Col(dcc.Graph(
                id=EXPLORE_GRAPH, config=figures.CONFIG,
                figure=figures.breakdown_bars(frame, metric, title=figures.wrap(title, 90),
                                              source=source_line(metric, view),
                                              comparator_label=label)), lg=8)
            if drawn else None,
            dbc.Col([
                html.H2("What the figures say", className="h5") if drawn else None,
                html.Ul([html.Li(s) for s in gaps]) if gaps else html.P(
                    "No group differs significantly from the reference group at the 95% level."
                    if view.dimension != TOTAL else fmt.total_only_hint(metric, level, held))
                if drawn else None,
                england_line(view, metric) if drawn else None,
                summed_line(view, frame),
                excess_block(view, metric) if drawn else None,
                sii_block(view, metric) if drawn else None,
                html.P(html.Small(" ".join(metric.caveats)), className="text-muted"),
            ], lg=4 if drawn else 12),
        ]),
        html.Div([
            tables.html_table(table_frame, caption=f"{title}." + EXCESS_NOTE * has_excess(
                              table_frame),
                              table_id="explore-table"),
            pagekit.download_button(EXPLORE_DOWNLOAD_BUTTON, EXPLORE_DOWNLOAD),
        ], className="mt-2") if sourcepage.tabulated(frame) else None,
    ])


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(EXPLORE_ORG, "value"),
    Input(EXPLORE_METRIC, "value"),
    Input(EXPLORE_PERIOD, "value"),
    Input(EXPLORE_DIMENSION, "value"),
    Input(EXPLORE_COMPARATOR, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(org, metric, period, dimension, comparator, current):
    return viewstate.next_search(ExploreView, {"org": org, "metric": metric, "period": period,
                                               "dim": dimension, "vs": comparator}, current)


def download_csv(search: str) -> dict:
    """The on-screen table for the view in ``search`` as a CSV download."""
    view, _ = ExploreView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    frame = queries.breakdown(view.metric, view.org, view.period, view.dimension,
                              view.comparator)
    rows = table_rows(view, metric, frame)
    preamble = [f"{metric.title}, {queries.org_name(view.org)}, {view.period}",
                pagekit.source_line(metric.source), *england_preamble(view)]
    if has_excess(rows):
        preamble.append(EXCESS_NOTE.strip())
    return dict(content=pagekit.csv_text(rows, preamble), filename=f"explore-{view.metric}-"
                f"{view.org}.csv", type="text/csv")


@callback(Output(EXPLORE_DOWNLOAD, "data"), Input(EXPLORE_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
