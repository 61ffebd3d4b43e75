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
from dash import html

from metrics import registry
from pages import _source as source
from pages._source import SourcePage, SourceView, breakdown_frame, trend_points
from web import layouts

dash.register_page(__name__, path="/experience", name="Experience",
                   title="Experience · Equalities", order=6,
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


class ExperienceView(SourceView):
    page = PAGE


@layouts.safe_layout
def layout(**query) -> html.Div:
    return source.page_layout(ExperienceView, query)


FOLLOWED, download_csv, download_trend_csv = source.callbacks(ExperienceView)
