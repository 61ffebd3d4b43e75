"""Intersections: ethnicity and deprivation together, for one metric, organisation and period.

Answers "is a gap between ethnic groups there in every deprivation quintile, or does
deprivation add to it?": a heat map of each ethnic group × deprivation quintile cell's ratio to
White women in the least deprived quintile, with its significance, and every cell in a table.
Where the store holds no cross-tabulation for the metric and organisation (the published
statistics mostly give ethnicity and deprivation separately), the page says so.

URL parameters: ``org`` (organisation code), ``metric`` (registry id; the menu offers the
metrics whose cross-tabulation the store holds), ``period`` (label of a period with the
cross-tabulation; default the latest).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, crosstab, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from views.intersections import CROSS, Intersections, intersections
from web import layouts, menus

dash.register_page(__name__, path="/intersections", name="Intersections",
                   title="Intersections · Equalities", order=3.5,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: IntersectionsView.parse(query)[0].search())

INTERSECTIONS_ORG = "intersections-org"
INTERSECTIONS_METRIC = "intersections-metric"
INTERSECTIONS_PERIOD = "intersections-period"
INTERSECTIONS_GRAPH = "intersections-graph"
INTERSECTIONS_SUMMARY = "intersections-summary"
INTERSECTIONS_TABLE = "intersections-table"
INTERSECTIONS_NOT_PUBLISHED = "intersections-not-published"
INTERSECTIONS_DOWNLOAD_BUTTON = "intersections-download-button"
INTERSECTIONS_DOWNLOAD = "intersections-download"

PREFERRED_METRIC = "pph_1500"  # the default view, where the store holds its cross-tabulation
LEVEL_WORDS = {"england": "for England", "region": "for regions", "icb": "for ICBs / LMNSs",
               "trust": "for trusts"}


def default_metric() -> str:
    held = queries.metrics_holding(CROSS)
    return PREFERRED_METRIC if PREFERRED_METRIC in held or not held else held[0]


@dataclass(frozen=True)
class IntersectionsView:
    org: str
    metric: str
    period: str

    @classmethod
    def parse(cls, query: dict) -> tuple["IntersectionsView", list[str]]:
        notices: list[str] = []
        orgs = queries.organisations()["org_code"].to_list()
        org = viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")
        metric_id = viewstate.choose(query, "metric", list(registry.outcomes()), default_metric(),
                                     notices, "metric")
        metric = registry.get(metric_id)
        level = queries.org_level(org)
        if level not in metric.levels:
            notices.append(f"{metric.title} is not published for this kind of organisation; "
                           "showing England.")
            org, level = "ENG", "england"
        labels = queries.dimension_periods(metric_id, level, CROSS)
        period = viewstate.choose(query, "period", labels, labels[-1] if labels else "",
                                  notices, "period")
        return cls(org, metric_id, period), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "metric": self.metric, "period": self.period})


def model(view: IntersectionsView) -> Intersections:
    """The page's one call into the seam for a parsed view."""
    return intersections(view.org, view.metric, view.period)


def source_line(m: Intersections) -> str:
    return (f"Source: {m.metric.source}, {m.period}.{fmt.synthetic_note(m.synthetic)}<br>Cells: "
            f"ratio to {crosstab.reference()}; bold with ▲/▼: 95% CI of the ratio excludes 1; "
            "grey *: suppressed; grey :, no figures.")


def quality_warnings(m: Intersections) -> list[dbc.Alert]:
    """A warning for each of ethnicity and deprivation recorded too rarely to rely on."""
    return [dbc.Alert([html.Strong("Data quality warning: "),
                       f"{what} was recorded for only {info['value']:.1f}% of women here "
                       f"(below {info['threshold']:.0f}%), so these cells may be unreliable."],
                      color="warning") for what, info in m.poor_recording]


def controls_card(m: Intersections) -> html.Div:
    return html.Div(controls.card("Choose a view", dbc.Row([
        controls.labelled("Organisation", controls.org_menu(
            INTERSECTIONS_ORG, *menus.options(m.metric.levels, m.org), m.org),
            INTERSECTIONS_ORG, 4),
        # The menu offers the metrics with the cross-tabulation, and the one shown if it has none.
        controls.labelled("Metric", controls.dropdown(
            INTERSECTIONS_METRIC, controls.metric_options(m.offered), m.metric.id),
            INTERSECTIONS_METRIC, 4),
        controls.labelled("Period", controls.dropdown(
            INTERSECTIONS_PERIOD, [{"label": p, "value": p} for p in m.periods],
            m.period or None, placeholder="None with this breakdown"),
            INTERSECTIONS_PERIOD, 4),
    ])), className="d-print-none")


def publisher_sentence(metric: registry.Metric, where: str) -> str:
    """The publisher gives no cross-tabulation here (the first sentence of
    :func:`components.crosstab.not_published`, which goes on to claim breakdowns that a
    store may not hold)."""
    publisher = crosstab.PUBLISHERS.get(metric.source, metric.source)
    return (f"{publisher} does not publish {fmt.title_words(metric)} by ethnicity and "
            f"deprivation together {where}, so there is nothing to show here.")


def separately_sentence(m: Intersections) -> str:
    """What Explore can show instead, from what the store holds for the metric."""
    metric, level, held = m.metric, m.level, m.breakdowns
    here = [d for d in held.get(level or "", ()) if d != TOTAL]
    if ETHNICITY in here and any(d in here for d in (QUINTILE, DECILE)):
        return "Explore shows it by ethnicity and by deprivation separately."
    if here:
        return f"Explore shows it by {fmt.join_words([DIMENSIONS[d].label.lower() for d in here])}."
    if not any(held.values()):
        return f"This data store holds no figures for {fmt.title_words(metric)}."
    elsewhere = fmt.breakdown_levels(metric, level, held)
    if elsewhere:
        levels = fmt.join_words([fmt.PUBLISHED_LEVELS[lv] for lv in elsewhere])
        return (f"This data store holds it by group for {levels} only; Explore shows "
                f"{'the total' if held.get(level or '') else 'what it holds'} here.")
    return ("This data store holds it as totals only, with no breakdown by ethnicity or "
            "deprivation; Explore shows the totals.")


def not_published(m: Intersections) -> dbc.Alert:
    where = LEVEL_WORDS.get(m.level or "", "here")
    explore = "/explore?" + urlencode({"org": m.org, "metric": m.metric.id})
    return dbc.Alert([publisher_sentence(m.metric, where), " ", separately_sentence(m), " ",
                      dcc.Link("Open Explore for this metric", href=explore,
                               className="alert-link"), "."],
                     color="info", id=INTERSECTIONS_NOT_PUBLISHED)


def table_rows(m: Intersections) -> pl.DataFrame:
    """Every cell as on screen and in the CSV (none where the store holds no cells)."""
    return crosstab.cell_rows(m.cells, m.metric) if m.held else pl.DataFrame()


def heatmap_section(m: Intersections) -> html.Div:
    return html.Div([
        *quality_warnings(m),
        html.P(crosstab.summary(m.cells), id=INTERSECTIONS_SUMMARY),
        dcc.Graph(id=INTERSECTIONS_GRAPH, config=figures.CONFIG,
                  figure=figures.intersection_heatmap(
                      m.cells, m.metric, title=figures.wrap(m.title, 100),
                      source=source_line(m))),
        html.Div([
            tables.html_table(table_rows(m), caption=f"{m.title}. Ratio to "
                              f"{crosstab.reference()} with its 95% CI; ▲/▼ significantly "
                              "higher or lower.", table_id=INTERSECTIONS_TABLE),
            pagekit.download_button(INTERSECTIONS_DOWNLOAD_BUTTON, INTERSECTIONS_DOWNLOAD),
        ], className="mt-2"),
    ])


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = IntersectionsView.parse(query)
    m = model(view)
    return html.Div([
        pagekit.heading("Intersections", "Ethnicity and deprivation together: each ethnic "
                        "group in each deprivation quintile, compared with White women in "
                        "the least deprived areas."),
        controls.notices(notices),
        controls_card(m),
        html.Details([html.Summary("About this page: how to read the heat map, and caveats"),
                      pagekit.content_markdown("intersections")], className="mb-3"),
        heatmap_section(m) if m.held else not_published(m),
        html.P(html.Small(" ".join(m.metric.caveats)), className="text-muted mt-3")
        if m.metric.caveats else None,
    ])


FOLLOWED = viewstate.follow_controls({"org": INTERSECTIONS_ORG, "metric": INTERSECTIONS_METRIC,
                                      "period": INTERSECTIONS_PERIOD})


def download_csv(search: str) -> dict:
    """The table on screen for the view in ``search`` as a CSV download."""
    m = model(IntersectionsView.parse(viewstate.query_of(search))[0])
    preamble = pagekit.preamble(m.title, m.metric.source, synthetic=m.synthetic)
    return dict(content=pagekit.csv_text(table_rows(m), preamble),
                filename=f"intersections-{m.metric.id}-{m.org}.csv", type="text/csv")


@callback(Output(INTERSECTIONS_DOWNLOAD, "data"),
          Input(INTERSECTIONS_DOWNLOAD_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
