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

import dash
from dash import Input, Output, State, callback, html

from components import ids, pagekit, sourcepage, viewstate
from components.sourcepage import SourcePage, SourceView, breakdown_frame, trend_points
from metrics import registry

dash.register_page(__name__, path="/mortality", name="Mortality", title="Mortality · Equalities",
                   order=5,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: MortalityView.parse(query)[0].search())

PAGE = SourcePage(
    source=registry.MBRRACE,
    slug="mortality",
    title="Mortality",
    lead="Stillbirths, neonatal deaths and maternal deaths by ethnicity and deprivation "
         "(MBRRACE-UK), with 95% confidence intervals.",
    context_heading="Context: the national rate over time",
)
PAGE_METRICS = PAGE.metrics
# Used by tests and callers that pick views directly.
__all__ = ["breakdown_frame", "trend_points", "layout", "download_csv"]
MORTALITY_METRIC = PAGE.id("metric")
MORTALITY_ORG = PAGE.id("org")
MORTALITY_PERIOD = PAGE.id("period")
MORTALITY_DIMENSION = PAGE.id("dimension")
MORTALITY_DOWNLOAD_BUTTON = PAGE.id("download-button")
MORTALITY_DOWNLOAD = PAGE.id("download")
MORTALITY_TREND_DOWNLOAD_BUTTON = PAGE.id("trend-download-button")
MORTALITY_TREND_DOWNLOAD = PAGE.id("trend-download")


class MortalityView(SourceView):
    page = PAGE


@pagekit.safe_layout
def layout(**query) -> html.Div:
    return sourcepage.page_layout(MortalityView, query)


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


def download_csv(search: str) -> dict:
    return sourcepage.download_csv(MortalityView, search)


def download_trend_csv(search: str) -> dict:
    return sourcepage.download_trend_csv(MortalityView, search)


@callback(Output(MORTALITY_DOWNLOAD, "data"), Input(MORTALITY_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)


@callback(Output(MORTALITY_TREND_DOWNLOAD, "data"),
          Input(MORTALITY_TREND_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_trend_download(_clicks, search):
    return download_trend_csv(search)
