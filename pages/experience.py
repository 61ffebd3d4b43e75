"""Experience: the CQC maternity survey's questions on being listened to and on complaints,
by ethnicity and deprivation, with 95% confidence intervals, gap statements and England's
trend for context.

Answers "do women in some groups feel less listened to, or more often consider complaining,
and is the gap real?" Breakdowns by ethnicity and deprivation are for England and regions;
trusts have totals only. Periods are survey years (women giving birth in February).

URL parameters: ``metric`` (a CQC survey metric id), ``org`` (England or a region; a trust,
total only), ``period`` (survey year label), ``dim`` (total, ethnicity, deprivation_quintile).
"""

import dash
from dash import Input, Output, State, callback, html

from components import ids, pagekit, sourcepage, viewstate
from components.sourcepage import SourcePage, SourceView, breakdown_frame, trend_points
from metrics import registry

dash.register_page(__name__, path="/experience", name="Experience", title="Experience · Equalities",
                   order=6,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: ExperienceView.parse(query)[0].search())

PAGE = SourcePage(
    source=registry.CQC,
    slug="experience",
    title="Experience",
    lead="What women say about their care in the CQC maternity survey, by ethnicity and "
         "deprivation, with 95% confidence intervals.",
    context_heading="Context: the national figure over time",
)
PAGE_METRICS = PAGE.metrics
# Used by tests and callers that pick views directly.
__all__ = ["breakdown_frame", "trend_points", "layout", "download_csv"]
EXPERIENCE_METRIC = PAGE.id("metric")
EXPERIENCE_ORG = PAGE.id("org")
EXPERIENCE_PERIOD = PAGE.id("period")
EXPERIENCE_DIMENSION = PAGE.id("dimension")
EXPERIENCE_DOWNLOAD_BUTTON = PAGE.id("download-button")
EXPERIENCE_DOWNLOAD = PAGE.id("download")
EXPERIENCE_TREND_DOWNLOAD_BUTTON = PAGE.id("trend-download-button")
EXPERIENCE_TREND_DOWNLOAD = PAGE.id("trend-download")


class ExperienceView(SourceView):
    page = PAGE


@pagekit.safe_layout
def layout(**query) -> html.Div:
    return sourcepage.page_layout(ExperienceView, query)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(EXPERIENCE_METRIC, "value"),
    Input(EXPERIENCE_ORG, "value"),
    Input(EXPERIENCE_PERIOD, "value"),
    Input(EXPERIENCE_DIMENSION, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, org, period, dimension, current):
    return viewstate.next_search(ExperienceView, {"metric": metric, "org": org,
                                              "period": period, "dim": dimension}, current)


def download_csv(search: str) -> dict:
    return sourcepage.download_csv(ExperienceView, search)


def download_trend_csv(search: str) -> dict:
    return sourcepage.download_trend_csv(ExperienceView, search)


@callback(Output(EXPERIENCE_DOWNLOAD, "data"), Input(EXPERIENCE_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)


@callback(Output(EXPERIENCE_TREND_DOWNLOAD, "data"),
          Input(EXPERIENCE_TREND_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_trend_download(_clicks, search):
    return download_trend_csv(search)
