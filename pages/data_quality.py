"""Data quality: how completely each trust records mothers' ethnicity and deprivation.

Answers "which trusts record ethnicity or deprivation too poorly for their breakdowns to be
trusted, and is the shortfall beyond chance?" Trusts below the reliability threshold
(``metrics.breakdown.COMPLETENESS_THRESHOLD``: 90% for ethnicity, 95% for deprivation) are
flagged in words; the funnel plot shows which differ from England by more than chance.
Below that, "Who is booked": the population profile of one organisation beside England
(each ethnic group's and deprivation decile's or quintile's share of the women booked), a
description of who is served with no judgement of any share.

URL parameters: ``metric`` (ethnicity_recorded or deprivation_known), ``period`` (label),
``region`` (region code, optional filter), ``sort`` (lowest, highest, name, region, size),
``org`` (organisation of the profile; default England), ``pdim`` (deprivation_quintile or
deprivation_decile, the profile's deprivation breakdown).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import completeness, controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from components import profile as profile_kit
from data import queries
from metrics import registry
from metrics.breakdown import COMPLETENESS_THRESHOLD
from metrics.categories import DECILE, DIMENSIONS, QUINTILE
from views.data_quality import (
    ALL_REGIONS,
    PAGE_METRICS,
    PROFILE,
    DataQuality,
    Profile,
    data_quality,
    regions,
)
from web import layouts, menus

dash.register_page(__name__, path="/data-quality", name="Data quality",
                   title="Data quality · Equalities", order=7,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: DataQualityView.parse(query)[0].search())

DATA_QUALITY_METRIC = "data-quality-metric"
DATA_QUALITY_PERIOD = "data-quality-period"
DATA_QUALITY_REGION = "data-quality-region"
DATA_QUALITY_SORT = "data-quality-sort"
DATA_QUALITY_HEADLINE = "data-quality-headline"
DATA_QUALITY_GRAPH = "data-quality-graph"
DATA_QUALITY_TABLE = "data-quality-table"
DATA_QUALITY_DOWNLOAD_BUTTON = "data-quality-download-button"
DATA_QUALITY_DOWNLOAD = "data-quality-download"
DATA_QUALITY_PROFILE = "data-quality-profile"
DATA_QUALITY_PROFILE_ORG = "data-quality-profile-org"
DATA_QUALITY_PROFILE_DEPRIVATION = "data-quality-profile-deprivation"
DATA_QUALITY_PROFILE_GRAPH = "data-quality-profile-graph"
DATA_QUALITY_PROFILE_TABLE = "data-quality-profile-table"
DATA_QUALITY_PROFILE_DOWNLOAD_BUTTON = "data-quality-profile-download-button"
DATA_QUALITY_PROFILE_DOWNLOAD = "data-quality-profile-download"

PROFILE_DEPRIVATION = (QUINTILE, DECILE)
SORTS = {
    "lowest": "Lowest completeness first",
    "highest": "Highest completeness first",
    "name": "Trust name (A to Z)",
    "region": "Region, then lowest first",
    "size": "Most women booked first",
}
TABLE_MAX = tables.PAGE_ROWS_MAX


@dataclass(frozen=True)
class DataQualityView:
    metric: str
    period: str
    region: str
    sort: str
    org: str = "ENG"
    deprivation: str = QUINTILE

    @classmethod
    def parse(cls, query: dict) -> tuple["DataQualityView", list[str]]:
        notices: list[str] = []
        metric_id = viewstate.choose(query, "metric", [m.id for m in PAGE_METRICS],
                                     PAGE_METRICS[0].id, notices, "measure")
        metric = registry.get(metric_id)
        labels = [p for kind in metric.period_kinds for p in queries.periods(metric_id, kind)]
        latest = queries.latest_period(metric_id) or ""
        period = viewstate.choose(query, "period", labels, latest,
                                  notices, "period")
        region = viewstate.choose(query, "region", [ALL_REGIONS, *regions()["org_code"]],
                                  ALL_REGIONS, notices, "region")
        sort = viewstate.choose(query, "sort", list(SORTS), "lowest", notices, "sort order")
        orgs = queries.organisations().filter(pl.col("org_level").is_in(list(PROFILE.levels)))
        org = viewstate.choose(query, "org", orgs["org_code"].to_list(), "ENG", notices,
                               "organisation")
        deprivation = viewstate.choose(query, "pdim", list(PROFILE_DEPRIVATION), QUINTILE,
                                       notices, "deprivation breakdown")
        return cls(metric_id, period, region, sort, org, deprivation), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "region": None if self.region == ALL_REGIONS else self.region,
                                 "sort": None if self.sort == "lowest" else self.sort,
                                 "org": None if self.org == "ENG" else self.org,
                                 "pdim": None if self.deprivation == QUINTILE
                                 else self.deprivation})


def model(view: DataQualityView) -> DataQuality:
    """The page's one call into the seam for a parsed view."""
    return data_quality(view.metric, view.period, view.region, view.sort, view.org,
                        view.deprivation)


def table_rows(m: DataQuality, limit: int | None = None) -> pl.DataFrame:
    """The trust table as shown on screen (the first ``limit`` trusts) and downloaded
    (every trust)."""
    trusts = m.selected if limit is None else m.selected.head(limit)
    return completeness.trust_rows(trusts, m.metric, m.threshold)


def headline_block(m: DataQuality) -> html.Div:
    lead, details = completeness.headline_sentences(
        m.headline, m.metric, threshold=m.threshold, period=m.period,
        region_name=m.region_name, england=m.england)
    return html.Div([
        html.P(html.Strong(lead), className="lead mb-1"),
        html.P(" ".join(details), className="mb-0"),
        html.P(f"{' '.join(m.metric.caveats)} The women whose group is not recorded may "
               "differ from those whose group is, so gaps can be hidden or exaggerated.",
               className="small text-muted mb-0"),
    ], id=DATA_QUALITY_HEADLINE, className="mb-3 p-3 bg-white border rounded")


def left_out(trusts: int) -> str:
    """The caption's note when the table lists only the first ``TABLE_MAX`` trusts."""
    if trusts <= TABLE_MAX:
        return ""
    return (f" Showing the first {TABLE_MAX} of {trusts:,} trusts in this order; choose a "
            "region or another order, or download the CSV, for the rest.")


def source_line(m: DataQuality) -> str:
    return (f"Source: {m.metric.source}, {m.period}.{fmt.synthetic_note(m.synthetic)} Funnel "
            "limits around England's value: 95% (dashed) and 99.8% (solid).")


def chart_title(m: DataQuality) -> str:
    where = f", {m.region_name} highlighted" if m.region_name else ""
    return f"{m.metric.title}: every trust, {m.period}{where}"


def caption(m: DataQuality) -> str:
    where = m.region_name or "all regions"
    return f"{m.metric.title} by trust, {m.period}, {where}; {SORTS[m.sort].lower()}."


def controls_card(m: DataQuality) -> dbc.Card:
    region_options = [{"label": "All regions", "value": ALL_REGIONS}] + [
        {"label": name, "value": code} for code, name in m.regions.iter_rows()]
    return controls.card("Choose a view", dbc.Row([
        dbc.Col(html.Fieldset([
            html.Legend("Measure", className="form-label fw-bold fs-6 mb-2"),
            dbc.RadioItems(id=DATA_QUALITY_METRIC, value=m.metric.id, options=[
                {"label": f"{metric.title} (threshold {COMPLETENESS_THRESHOLD[metric.id]:g}%)",
                 "value": metric.id} for metric in PAGE_METRICS]),
        ]), md=6, className="mb-2"),
        controls.labelled("Period", controls.dropdown(
            DATA_QUALITY_PERIOD, [{"label": p, "value": p} for p in m.periods], m.period),
            DATA_QUALITY_PERIOD, 6),
        controls.labelled("Region", controls.dropdown(
            DATA_QUALITY_REGION, region_options, m.region), DATA_QUALITY_REGION, 6),
        controls.labelled("Sort the table by", controls.dropdown(
            DATA_QUALITY_SORT, [{"label": v, "value": k} for k, v in SORTS.items()],
            m.sort), DATA_QUALITY_SORT, 6),
    ]))


def trust_table(m: DataQuality) -> html.Div:
    return html.Div([
        tables.html_table(table_rows(m, TABLE_MAX),
                          caption=caption(m) + left_out(m.selected.height),
                          table_id=DATA_QUALITY_TABLE)
        if m.selected.height else dbc.Alert(f"No trust in {m.region_name or 'England'} "
                                            f"has a figure for {m.period}.", color="info"),
        pagekit.download_button(DATA_QUALITY_DOWNLOAD_BUTTON, DATA_QUALITY_DOWNLOAD),
    ], className="mt-2 table-responsive")


# -- who is booked (the population profile) -------------------------------------------------


def profile_rows(p: Profile) -> pl.DataFrame:
    return profile_kit.profile_rows(p.frames, PROFILE)


def profile_source(p: Profile, synthetic: bool) -> str:
    return f"Source: {PROFILE.source}, {p.period}.{fmt.synthetic_note(synthetic)}"


def profile_caption(p: Profile) -> str:
    beside = "" if p.org == "ENG" else ", beside England"
    return (f"Women booked by ethnicity and {DIMENSIONS[p.deprivation].label.lower()}: "
            f"{p.org_name}, {p.period or ''}{beside}. Share of all women booked, "
            "the not known groups included.")


def profile_controls(p: Profile) -> dbc.Row:
    return dbc.Row([
        controls.labelled("Organisation", controls.org_menu(
            DATA_QUALITY_PROFILE_ORG, *menus.options(PROFILE.levels, p.org), p.org),
            DATA_QUALITY_PROFILE_ORG, 6),
        dbc.Col(html.Fieldset([
            html.Legend("Deprivation in", className="form-label fw-bold fs-6 mb-2"),
            dbc.RadioItems(id=DATA_QUALITY_PROFILE_DEPRIVATION, value=p.deprivation,
                           inline=True, options=[
                               {"label": "Quintiles" if d == QUINTILE else "Deciles",
                                "value": d} for d in PROFILE_DEPRIVATION]),
        ]), md=6, className="mb-2"),
    ])


def profile_graph(p: Profile, dimension: str, frame: pl.DataFrame, source: str) -> dcc.Graph:
    return dcc.Graph(id={"type": DATA_QUALITY_PROFILE_GRAPH, "dimension": dimension},
                     config=figures.CONFIG, figure=profile_kit.profile_figure(
                         frame, PROFILE, dimension=dimension, org_code=p.org,
                         org_name=p.org_name, period=p.period, source=source))


def profile_section(m: DataQuality) -> html.Section:
    """"Who is booked": the chosen organisation's profile beside England's."""
    p = m.profile
    parts: list = [html.H2("Who is booked", className="h4 mt-4"),
                   pagekit.content_markdown("data_quality", section="Who is booked",
                                            class_name="small")]
    if not p.frames:
        parts.append(dbc.Alert("This data store holds no count of women booked by group for "
                               f"{p.org_name}, so there is no profile to show.", color="info"))
        return html.Section(parts, id=DATA_QUALITY_PROFILE)
    if p.period != m.period:
        parts.append(html.P(f"Shown for {p.period}, the latest period with a profile.",
                            className="small"))
    source = profile_source(p, m.synthetic)
    parts += [
        profile_controls(p),
        dbc.Row([dbc.Col(profile_graph(p, dimension, frame, source), lg=6)
                 for dimension, frame, _england in p.frames]),
        html.Div([
            tables.html_table(profile_rows(p), caption=profile_caption(p),
                              table_id=DATA_QUALITY_PROFILE_TABLE),
            pagekit.download_button(DATA_QUALITY_PROFILE_DOWNLOAD_BUTTON,
                                    DATA_QUALITY_PROFILE_DOWNLOAD),
        ], className="mt-2 table-responsive"),
    ]
    return html.Section(parts, id=DATA_QUALITY_PROFILE)


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = DataQualityView.parse(query)
    heading = pagekit.heading(
        "Data quality", "How completely each trust records mothers' ethnicity and "
        "deprivation at booking. Where recording is poor, breakdowns by group are unreliable.")
    if not view.period:
        return html.Div([heading, controls.notices(notices), dbc.Alert(
            "This data store holds no completeness figures, so there is nothing to show here.",
            color="info")])
    m = model(view)
    return html.Div([
        heading,
        html.P(["Below the trust table: ", html.A("who is booked", href=f"#{DATA_QUALITY_PROFILE}"),
                ", each group's share of the women an organisation books, beside England."],
               className="mb-3"),
        controls.notices(notices),
        controls_card(m),
        headline_block(m),
        dcc.Graph(id=DATA_QUALITY_GRAPH, config=figures.CONFIG,
                  figure=figures.completeness_funnel(
                      figures.plain_columns(m.trusts, "name"), m.funnel, m.metric,
                      average=m.england, threshold=m.threshold, focus=m.focus,
                      title=figures.wrap(chart_title(m), 90), source=source_line(m))),
        trust_table(m),
        profile_section(m),
        pagekit.content_markdown("data_quality", section="About these figures",
                                 class_name="small mt-3"),
    ])


FOLLOWED = viewstate.follow_controls(
    {"metric": DATA_QUALITY_METRIC, "period": DATA_QUALITY_PERIOD,
     "region": DATA_QUALITY_REGION, "sort": DATA_QUALITY_SORT}, keep=True)
# The profile's controls are absent when the store holds no profile, so they write the URL
# in a callback of their own.
PROFILE_FOLLOWED = viewstate.follow_controls(
    {"org": DATA_QUALITY_PROFILE_ORG, "pdim": DATA_QUALITY_PROFILE_DEPRIVATION}, keep=True)


def download_csv(search: str) -> dict:
    """The trust table for the view in ``search`` as a CSV download."""
    m = model(DataQualityView.parse(viewstate.query_of(search))[0])
    preamble = [caption(m), pagekit.source_line(m.metric.source, m.synthetic),
                f"Threshold: below {m.threshold:g}% the breakdown is unreliable"]
    return dict(content=pagekit.csv_text(table_rows(m), preamble),
                filename=f"data-quality-{m.metric.id}.csv", type="text/csv")


@callback(Output(DATA_QUALITY_DOWNLOAD, "data"),
          Input(DATA_QUALITY_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)


def download_profile_csv(search: str) -> dict:
    """The profile table for the view in ``search`` as a CSV download."""
    m = model(DataQualityView.parse(viewstate.query_of(search))[0])
    preamble = [profile_caption(m.profile), pagekit.source_line(PROFILE.source, m.synthetic),
                "A description of who is booked, not an outcome: no share is better or worse"]
    return dict(content=pagekit.csv_text(profile_rows(m.profile), preamble),
                filename=f"who-is-booked-{m.profile.org}.csv", type="text/csv")


@callback(Output(DATA_QUALITY_PROFILE_DOWNLOAD, "data"),
          Input(DATA_QUALITY_PROFILE_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_profile_download(_clicks, search):
    return download_profile_csv(search)
