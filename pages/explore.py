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

from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, TOTAL
from views import has_withheld
from views.explore import Explore, explore
from web import layouts, menus

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
        metric_id = viewstate.choose(query, "metric", list(registry.outcomes()), "pph_1500",
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
        dimension = controls.choose_dimension(
            query, metric, notices, org_name=queries.org_name(org),
            offered=queries.dimensions_at(metric.id, level),
            stored=queries.stored_dimensions(metric.id, level))
        comparator = viewstate.choose(query, "vs", list(controls.COMPARATORS), "england",
                                      notices, "comparison")
        if comparator == "peer" and level != "trust":
            comparator = "england"
        return cls(org, metric_id, period, dimension, comparator), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "vs": self.comparator})


def comparator_label(view: ExploreView) -> str | None:
    """The comparator's name in the chart and table (the model's, for a view)."""
    return model(view).comparator_label


def model(view: ExploreView) -> Explore:
    """The page's one call into the seam for a parsed view."""
    return explore(view.org, view.metric, view.period, view.dimension, view.comparator)


def source_line(m: Explore) -> str:
    return (f"Source: {m.metric.source}, {m.period}.{fmt.synthetic_note(m.synthetic)} "
            "Bars: 95% confidence intervals.")


def excess_block(m: Explore) -> html.Div | None:
    """The gaps as numbers of women or babies: the total, then each known group."""
    if m.excess is None:
        return None
    heading = html.H3(f"The gaps in numbers of {m.people}", className="h6")
    if not m.excess["available"]:
        return html.Div([heading, html.P(f"Not worked out: {m.excess['reason']}",
                                         className="small text-muted")], className="mb-3")
    total = m.excess["total"]
    said = fmt.excess_total_sentence(total, m.metric, m.dimension) or \
        f"Total: not worked out. {total['reason']}"
    lines = []
    for row in m.excess["groups"].filter(pl.col("known") & ~pl.col("is_reference")).iter_rows(
            named=True):
        who = fmt.subject(row["group"], m.dimension, m.metric)
        lines.append(fmt.excess_short(row, m.metric, m.dimension)
                     or f"{who[0].upper()}{who[1:]}: not worked out ({row['status']})")
    known = "ethnicity" if m.dimension == ETHNICITY else "deprivation"
    return html.Div([
        heading,
        html.P(said, id=EXPLORE_EXCESS),
        html.Ul([html.Li(line) for line in lines], className="small mb-1"),
        html.P(html.Small([f"Modelled numbers over the period, not counts. The total counts "
                           f"{m.people} whose {known} is known. ",
                           html.A("How they are worked out", href="/data#methods")]),
               className="text-muted"),
    ], className="mb-3")


def table_rows(m: Explore) -> pl.DataFrame:
    """The on-screen table (and CSV): the breakdown and, where a metric has a good
    direction, each group's excess over the reference group's rate."""
    rows = tables.breakdown_rows(m.frame, m.metric, m.comparator_label)
    if m.excess is None or rows.is_empty() or m.metric.polarity == registry.NO_JUDGEMENT:
        return rows
    cells = {row["group"]: fmt.excess_cell(row) for row in m.excess["groups"].iter_rows(
        named=True)}
    return rows.with_columns(pl.Series(f"{EXCESS_PREFIX}{m.people} (95% CI)",
                                       [cells.get(g, ":") for g in m.frame["group"]]))


def has_excess(rows: pl.DataFrame) -> bool:
    return any(c.startswith(EXCESS_PREFIX) for c in rows.columns)


def sii_block(m: Explore) -> html.Div | None:
    result = m.inequality
    if result is None:
        return None
    if not result["available"]:
        return dbc.Alert(f"Slope index of inequality: not available. {result['reason']}",
                         color="light")
    unit = m.metric.unit
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


def quality_warning(m: Explore) -> dbc.Alert | None:
    info = m.completeness
    if not info or not info["poor"]:
        return None
    what = "Ethnicity" if info["metric"] == "ethnicity_recorded" else "Deprivation"
    return dbc.Alert([html.Strong("Data quality warning: "),
                      f"{what} was recorded for only {info['value']:.1f}% of women here "
                      f"(below {info['threshold']:.0f}%), so this breakdown may be unreliable."],
                     color="warning")


def nothing_note(m: Explore) -> str:
    """Why there is no chart: every figure suppressed, or none held for this view."""
    if has_withheld(m.frame):
        return fmt.suppressed_note(org_name=m.org_name, period=m.period,
                                   groups=m.frame.height)
    return fmt.no_figure_note(m.metric, org_name=m.org_name, level=m.level, period=m.period,
                              levels=m.figure_levels, left_out=m.left_out)


def summed_line(m: Explore) -> html.P | None:
    """For an ICB / LMNS, region or England figure the store summed from trusts: how."""
    if not m.tabulated or m.summed is None:
        return None
    return html.P(html.Small(fmt.summed_note(m.level, m.summed)), id=EXPLORE_SUMMED,
                  className="text-muted")


def england_line(m: Explore) -> html.P | None:
    """Compared with England: where the store holds no England figure for the period, that
    it is not compared; where England's figure is a sum of trusts, what it sums."""
    if m.comparator != "england" or m.org == "ENG":
        return None
    if "england" in m.figure_levels:
        return html.P(fmt.england_summed_note(m.england_note), className="small",
                      id=EXPLORE_ENGLAND_SUMMED) if m.england_note else None
    return html.P(fmt.no_england_note(m.metric, m.period), className="small")


def preamble(m: Explore, rows: pl.DataFrame) -> list[str]:
    """The CSV's lines above the table: what, where and when, its source and notes."""
    england = [m.england_note] if m.england_note and m.england_shown else []
    excess = [EXCESS_NOTE.strip()] if has_excess(rows) else []
    return [f"{m.metric.title}, {m.org_name}, {m.period}",
            pagekit.source_line(m.metric.source, m.synthetic), *england, *excess]


def controls_card(m: Explore) -> dbc.Card:
    return controls.card("Choose a view", dbc.Row([
        controls.labelled("Organisation", controls.org_menu(
            EXPLORE_ORG, *menus.options(m.metric.levels, m.org), m.org),
            EXPLORE_ORG, 4),
        controls.labelled("Metric", controls.dropdown(
            EXPLORE_METRIC, controls.metric_options(), m.metric.id), EXPLORE_METRIC, 4),
        controls.labelled("Period", controls.dropdown(
            EXPLORE_PERIOD, [{"label": p, "value": p} for p in m.periods], m.period),
            EXPLORE_PERIOD, 4),
        controls.labelled("Breakdown", controls.dropdown(
            # Where the store holds nothing here, the view's own breakdown, not an empty menu.
            EXPLORE_DIMENSION, controls.dimension_options(m.dimensions or (m.dimension,)),
            m.dimension), EXPLORE_DIMENSION, 4),
        dbc.Col([
            html.Label("Compare with", htmlFor=EXPLORE_COMPARATOR, className="form-label fw-bold"),
            dbc.RadioItems(id=EXPLORE_COMPARATOR, inline=True, value=m.comparator,
                           options=[{"label": v, "value": k}
                                    for k, v in controls.COMPARATORS.items()
                                    if k != "peer" or m.level == "trust"]),
        ], md=8),
    ]))


def findings(m: Explore) -> list:
    """The words beside the chart: the gaps, England, how a sum was made, the excess and
    the SII."""
    gaps = fmt.gap_statements(m.frame, m.metric, m.dimension)
    said = html.Ul([html.Li(s) for s in gaps]) if gaps else html.P(
        "No group differs significantly from the reference group at the 95% level."
        if m.dimension != TOTAL else fmt.total_only_hint(m.metric, m.level, m.held))
    return [html.H2("What the figures say", className="h5"), said, england_line(m),
            summed_line(m), excess_block(m), sii_block(m)]


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = ExploreView.parse(query)
    m = model(view)
    breakdowns = fmt.breakdowns_note(m.metric, m.level, m.held)
    table = table_rows(m)
    return html.Div([
        pagekit.heading("Explore", "How a metric differs between groups of women and babies, "
                        "with 95% confidence intervals and honest gap statements."),
        controls.notices(notices),
        controls_card(m),
        quality_warning(m),
        dbc.Alert(nothing_note(m), color="info", id=EXPLORE_NOTHING) if not m.drawn else None,
        dbc.Alert(breakdowns, color="info", id=EXPLORE_BREAKDOWNS) if breakdowns else None,
        dbc.Row([
            dbc.Col(dcc.Graph(
                id=EXPLORE_GRAPH, config=figures.CONFIG,
                figure=figures.breakdown_bars(m.frame, m.metric,
                                              title=figures.wrap(m.title, 90),
                                              source=source_line(m),
                                              comparator_label=m.comparator_label)), lg=8)
            if m.drawn else None,
            dbc.Col([*(findings(m) if m.drawn else [summed_line(m)]),
                     html.P(html.Small(" ".join(m.metric.caveats)), className="text-muted")],
                    lg=4 if m.drawn else 12),
        ]),
        html.Div([
            tables.html_table(table, caption=f"{m.title}." + EXCESS_NOTE * has_excess(table),
                              table_id="explore-table"),
            pagekit.download_button(EXPLORE_DOWNLOAD_BUTTON, EXPLORE_DOWNLOAD),
        ], className="mt-2") if m.tabulated else None,
    ])


FOLLOWED = viewstate.follow_controls({"org": EXPLORE_ORG, "metric": EXPLORE_METRIC,
                                      "period": EXPLORE_PERIOD, "dim": EXPLORE_DIMENSION,
                                      "vs": EXPLORE_COMPARATOR})


def download_csv(search: str) -> dict:
    """The on-screen table for the view in ``search`` as a CSV download."""
    view, _ = ExploreView.parse(viewstate.query_of(search))
    m = model(view)
    rows = table_rows(m)
    return dict(content=pagekit.csv_text(rows, preamble(m, rows)),
                filename=f"explore-{m.metric.id}-{m.org}.csv", type="text/csv")


@callback(Output(EXPLORE_DOWNLOAD, "data"), Input(EXPLORE_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
