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
from dash import html

from metrics import registry
from pages import _source as source
from pages._source import SourcePage, SourceView, breakdown_frame, trend_points
from web import layouts

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


class MortalityView(SourceView):
    page = PAGE


@layouts.safe_layout
def layout(**query) -> html.Div:
    return source.page_layout(MortalityView, query)


FOLLOWED, download_csv, download_trend_csv = source.callbacks(MortalityView)
