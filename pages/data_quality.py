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

from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from components import profile as profile_kit
from data import queries
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.breakdown import COMPLETENESS_THRESHOLD
from metrics.categories import DECILE, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from web import layouts

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

PAGE_METRICS = tuple(m for m in registry.METRICS_LIST if m.id in COMPLETENESS_THRESHOLD)
PROFILE = registry.PROFILE_METRICS[0]  # women booked, by group
PROFILE_DEPRIVATION = (QUINTILE, DECILE)
ALL_REGIONS = "all"
SORTS = {
    "lowest": "Lowest completeness first",
    "highest": "Highest completeness first",
    "name": "Trust name (A to Z)",
    "region": "Region, then lowest first",
    "size": "Most women booked first",
}
# PHE funnel labels as words: which limit a trust is beyond, and on which side.
FUNNEL_WORDS = {"High (0.001)": ("Above the 99.8% limit", "high"),
                "High (0.025)": ("Above the 95% limit", "high"),
                "Low (0.001)": ("Below the 99.8% limit", "low"),
                "Low (0.025)": ("Below the 95% limit", "low"),
                "Not significant": ("Within the limits", None)}


def regions() -> pl.DataFrame:
    """Region codes and names, by name."""
    return queries.organisations().filter(pl.col("org_level") == "region").select(
        "org_code", "name").sort("name")


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

    @property
    def threshold(self) -> float:
        return COMPLETENESS_THRESHOLD[self.metric]

    @property
    def region_name(self) -> str | None:
        return None if self.region == ALL_REGIONS else queries.org_name(self.region)


def all_trusts(view: DataQualityView) -> pl.DataFrame:
    """Every trust's completeness, CI and funnel label against England for the period."""
    return queries.benchmark(view.metric, view.period, TOTAL)


def selected_trusts(view: DataQualityView) -> pl.DataFrame:
    """The trusts of the view's region (all when none is chosen), in the view's order."""
    frame = all_trusts(view)
    if view.region_name is not None:
        frame = frame.filter(pl.col("region") == view.region_name)
    return sort_trusts(frame, view.sort)


def sort_trusts(frame: pl.DataFrame, sort: str) -> pl.DataFrame:
    """``frame`` in the order ``sort`` names; trusts without a figure always come last."""
    order = {
        "lowest": (["value", "name"], [False, False]),
        "highest": (["value", "name"], [True, False]),
        "name": (["name"], [False]),
        "region": (["region", "value", "name"], [False, False, False]),
        "size": (["denominator", "name"], [True, False]),
    }[sort]
    return frame.sort(*order[0], descending=order[1], nulls_last=True)


def england_value(view: DataQualityView) -> float | None:
    frame = queries.breakdown(view.metric, "ENG", view.period, TOTAL, "none")
    return frame["value"][0] if frame.height else None


def funnel_words(label: str | None, status: str, metric: registry.Metric) -> str:
    """A trust's funnel position in words, with the metric's polarity."""
    if status == "suppressed":
        return "*"
    if label is None or label not in FUNNEL_WORDS:
        return ":"
    words, side = FUNNEL_WORDS[label]
    if side is None:
        return words
    high, low = polarity_word(metric)
    return f"{words} ({high if side == 'high' else low})"


def threshold_words(value: float | None, status: str, threshold: float) -> str:
    """"Below 90%" or "Meets 90%": the flag in words, never colour alone."""
    if status == "suppressed":
        return "*"
    if fmt.missing(value):
        return ":"
    return f"Below {threshold:g}%" if value < threshold else f"Meets {threshold:g}%"


def table_rows(frame: pl.DataFrame, view: DataQualityView) -> pl.DataFrame:
    """The trust table as shown on screen and downloaded (DATA.md symbols)."""
    metric = registry.get(view.metric)
    out = []
    for row in frame.iter_rows(named=True):
        shown = row["status"] == "ok"
        symbol = "*" if row["status"] == "suppressed" else ":"
        out.append({
            "Trust": row["name"],
            "Region": row["region"] or ":",
            "ICB / LMNS": row["icb"] or ":",
            "Peer group": row["peer_group"] or ":",
            "Women booked": fmt.count_cell(row["denominator"], row["suppressed"]),
            "Recorded": fmt.count_cell(row["numerator"], row["suppressed"]),
            f"{metric.short_title} (%)": fmt.number(row["value"], metric.decimals)
            if shown else symbol,
            "95% CI": f"{fmt.number(row['lower95'], metric.decimals)} to "
                      f"{fmt.number(row['upper95'], metric.decimals)}" if shown else symbol,
            "Against England (funnel)": funnel_words(row["funnel"], row["status"], metric),
            f"Threshold ({view.threshold:g}%)": threshold_words(row["value"], row["status"],
                                                                view.threshold),
        })
    return pl.DataFrame(out) if out else pl.DataFrame()


def headline(frame: pl.DataFrame, view: DataQualityView) -> dict:
    """Counts behind the headline: trusts with a figure, below the threshold, without one,
    and the lowest trust."""
    shown = frame.filter(pl.col("value").is_not_null())
    below = shown.filter(pl.col("value") < view.threshold).sort("value")
    return {"trusts": frame.height, "shown": shown.height, "below": below.height,
            "missing": frame.height - shown.height,
            "lowest": below.row(0, named=True) if below.height else None}


def headline_block(frame: pl.DataFrame, view: DataQualityView) -> html.Div:
    metric = registry.get(view.metric)
    counts = headline(frame, view)
    where = f" in {view.region_name}" if view.region_name else ""
    eng = england_value(view)
    if not counts["shown"]:
        lead = f"No trust{where} has a figure for {view.period}."
    elif counts["below"]:
        lead = (f"{counts['below']} of {counts['shown']} trusts{where} are below the "
                f"{view.threshold:g}% threshold for {metric.short_title.lower()} in "
                f"{view.period}.")
    else:
        lead = (f"Every one of the {counts['shown']} trusts{where} meets the "
                f"{view.threshold:g}% threshold for {metric.short_title.lower()} in "
                f"{view.period}.")
    details = []
    if counts["lowest"]:
        low = counts["lowest"]
        details.append(f"Lowest: {low['name']}, {fmt.value(metric, low['value'])}.")
    if eng is not None:
        details.append(f"England: {fmt.value(metric, eng)}.")
    if counts["missing"]:
        details.append(f"{counts['missing']} trusts have no figure (suppressed or not "
                       "submitted).")
    return html.Div([
        html.P(html.Strong(lead), className="lead mb-1"),
        html.P(" ".join(details), className="mb-0"),
        html.P(f"{' '.join(metric.caveats)} The women whose group is not recorded may "
               "differ from those whose group is, so gaps can be hidden or exaggerated.",
               className="small text-muted mb-0"),
    ], id=DATA_QUALITY_HEADLINE, className="mb-3 p-3 bg-white border rounded")


TABLE_MAX = tables.PAGE_ROWS_MAX


def left_out(trusts: int) -> str:
    """The caption's note when the table lists only the first ``TABLE_MAX`` trusts."""
    if trusts <= TABLE_MAX:
        return ""
    return (f" Showing the first {TABLE_MAX} of {trusts:,} trusts in this order; choose a "
            "region or another order, or download the CSV, for the rest.")


def source_line(metric: registry.Metric, period: str) -> str:
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return (f"Source: {metric.source}, {period}.{synthetic} Funnel limits around England's "
            "value: 95% (dashed) and 99.8% (solid).")


def chart_title(view: DataQualityView, metric: registry.Metric) -> str:
    where = f", {view.region_name} highlighted" if view.region_name else ""
    return f"{metric.title}: every trust, {view.period}{where}"


def caption(view: DataQualityView, metric: registry.Metric) -> str:
    where = view.region_name or "all regions"
    return f"{metric.title} by trust, {view.period}, {where}; {SORTS[view.sort].lower()}."


def controls_card(view: DataQualityView) -> dbc.Card:
    metric = registry.get(view.metric)
    periods = [p for kind in metric.period_kinds for p in reversed(queries.periods(metric.id,
                                                                                    kind))]
    region_options = [{"label": "All regions", "value": ALL_REGIONS}] + [
        {"label": name, "value": code} for code, name in regions().iter_rows()]
    return controls.card("Choose a view", dbc.Row([
        dbc.Col(html.Fieldset([
            html.Legend("Measure", className="form-label fw-bold fs-6 mb-2"),
            dbc.RadioItems(id=DATA_QUALITY_METRIC, value=view.metric, options=[
                {"label": f"{m.title} (threshold {COMPLETENESS_THRESHOLD[m.id]:g}%)",
                 "value": m.id} for m in PAGE_METRICS]),
        ]), md=6, className="mb-2"),
        controls.labelled("Period", controls.dropdown(
            DATA_QUALITY_PERIOD, [{"label": p, "value": p} for p in periods], view.period),
            DATA_QUALITY_PERIOD, 6),
        controls.labelled("Region", controls.dropdown(
            DATA_QUALITY_REGION, region_options, view.region), DATA_QUALITY_REGION, 6),
        controls.labelled("Sort the table by", controls.dropdown(
            DATA_QUALITY_SORT, [{"label": v, "value": k} for k, v in SORTS.items()],
            view.sort), DATA_QUALITY_SORT, 6),
    ]))


# -- who is booked (the population profile) -------------------------------------------------


def profile_period(view: DataQualityView) -> str | None:
    """The view's period when the store holds the profile for it, else the profile's
    latest period (None when the store holds no profile)."""
    held = [p for kind in PROFILE.period_kinds for p in queries.periods(PROFILE.id, kind)]
    return view.period if view.period in held else queries.latest_period(PROFILE.id)


def profile_frames(view: DataQualityView, period: str
                   ) -> list[tuple[str, pl.DataFrame, pl.DataFrame | None]]:
    """Per breakdown the store holds for the organisation: (dimension, its profile with
    England's share as comparator, England's own profile, or None for England)."""
    level = queries.org_level(view.org)
    held = queries.dimensions_at(PROFILE.id, level)
    out = []
    for dimension in (ETHNICITY, view.deprivation):
        if dimension in held:
            england = None if view.org == "ENG" else queries.breakdown(
                PROFILE.id, "ENG", period, dimension, "none")
            out.append((dimension, queries.breakdown(PROFILE.id, view.org, period, dimension,
                                                     "england"), england))
    return out


def profile_source(period: str) -> str:
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return f"Source: {PROFILE.source}, {period}.{synthetic}"


def profile_caption(view: DataQualityView, period: str) -> str:
    beside = "" if view.org == "ENG" else ", beside England"
    return (f"Women booked by ethnicity and {DIMENSIONS[view.deprivation].label.lower()}: "
            f"{queries.org_name(view.org)}, {period}{beside}. Share of all women booked, "
            "the not known groups included.")


def profile_controls(view: DataQualityView) -> dbc.Row:
    return dbc.Row([
        controls.labelled("Organisation", controls.dropdown(
            DATA_QUALITY_PROFILE_ORG, controls.org_options(queries.organisations(),
                                                           PROFILE.levels), view.org),
            DATA_QUALITY_PROFILE_ORG, 6),
        dbc.Col(html.Fieldset([
            html.Legend("Deprivation in", className="form-label fw-bold fs-6 mb-2"),
            dbc.RadioItems(id=DATA_QUALITY_PROFILE_DEPRIVATION, value=view.deprivation,
                           inline=True, options=[
                               {"label": "Quintiles" if d == QUINTILE else "Deciles",
                                "value": d} for d in PROFILE_DEPRIVATION]),
        ]), md=6, className="mb-2"),
    ])


def profile_section(view: DataQualityView) -> html.Section:
    """"Who is booked": the chosen organisation's profile beside England's."""
    period = profile_period(view)
    parts: list = [html.H2("Who is booked", className="h4 mt-4"),
                   pagekit.content_markdown("data_quality", section="Who is booked",
                                            class_name="small")]
    frames = profile_frames(view, period) if period else []
    if not frames:
        parts.append(dbc.Alert("This data store holds no count of women booked by group for "
                               f"{queries.org_name(view.org)}, so there is no profile to "
                               "show.", color="info"))
        return html.Section(parts, id=DATA_QUALITY_PROFILE)
    name = queries.org_name(view.org)
    if period != view.period:
        parts.append(html.P(f"Shown for {period}, the latest period with a profile.",
                            className="small"))
    parts.append(profile_controls(view))
    parts.append(dbc.Row([
        dbc.Col(dcc.Graph(id={"type": DATA_QUALITY_PROFILE_GRAPH, "dimension": dimension},
                          config=figures.CONFIG,
                          figure=profile_kit.profile_figure(
                              frame, PROFILE, dimension=dimension, org_code=view.org,
                              org_name=name, period=period, source=profile_source(period))),
                lg=6)
        for dimension, frame, _england in frames]))
    parts.append(html.Div([
        tables.html_table(profile_kit.profile_rows(frames, PROFILE),
                          caption=profile_caption(view, period),
                          table_id=DATA_QUALITY_PROFILE_TABLE),
        pagekit.download_button(DATA_QUALITY_PROFILE_DOWNLOAD_BUTTON,
                                DATA_QUALITY_PROFILE_DOWNLOAD),
    ], className="mt-2 table-responsive"))
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
    metric = registry.get(view.metric)
    everyone = all_trusts(view)
    frame = selected_trusts(view)
    focus = tuple(frame["org_code"]) if view.region_name else None
    return html.Div([
        heading,
        html.P(["Below the trust table: ", html.A("who is booked", href=f"#{DATA_QUALITY_PROFILE}"),
                ", each group's share of the women an organisation books, beside England."],
               className="mb-3"),
        controls.notices(notices),
        controls_card(view),
        headline_block(frame, view),
        dcc.Graph(id=DATA_QUALITY_GRAPH, config=figures.CONFIG,
                  figure=figures.completeness_funnel(
                      figures.plain_columns(everyone, "name"),
                      queries.funnel(view.metric, view.period, TOTAL), metric,
                      average=england_value(view), threshold=view.threshold, focus=focus,
                      title=figures.wrap(chart_title(view, metric), 90),
                      source=source_line(metric, view.period))),
        html.Div([
            tables.html_table(table_rows(frame.head(TABLE_MAX), view),
                              caption=caption(view, metric) + left_out(frame.height),
                              table_id=DATA_QUALITY_TABLE)
            if frame.height else dbc.Alert(f"No trust in {view.region_name or 'England'} "
                                           f"has a figure for {view.period}.", color="info"),
            pagekit.download_button(DATA_QUALITY_DOWNLOAD_BUTTON, DATA_QUALITY_DOWNLOAD),
        ], className="mt-2 table-responsive"),
        profile_section(view),
        pagekit.content_markdown("data_quality", section="About these figures",
                                 class_name="small mt-3"),
    ])


@callback(
    Output(ids.PAGE_URL, "search", allow_duplicate=True),
    Input(DATA_QUALITY_METRIC, "value"),
    Input(DATA_QUALITY_PERIOD, "value"),
    Input(DATA_QUALITY_REGION, "value"),
    Input(DATA_QUALITY_SORT, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, period, region, sort, current):
    return viewstate.next_search(DataQualityView, viewstate.query_of(current) | {
        "metric": metric, "period": period, "region": region, "sort": sort}, current)


# The profile's controls are absent when the store holds no profile, so they write the URL
# in a callback of their own.
@callback(
    Output(ids.PAGE_URL, "search", allow_duplicate=True),
    Input(DATA_QUALITY_PROFILE_ORG, "value"),
    Input(DATA_QUALITY_PROFILE_DEPRIVATION, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_profile_url(org, deprivation, current):
    return viewstate.next_search(DataQualityView, viewstate.query_of(current) | {
        "org": org, "pdim": deprivation}, current)


def download_csv(search: str) -> dict:
    """The trust table for the view in ``search`` as a CSV download."""
    view, _ = DataQualityView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = table_rows(selected_trusts(view), view)
    preamble = [caption(view, metric), pagekit.source_line(
        metric.source, queries.current().synthetic),
                f"Threshold: below {view.threshold:g}% the breakdown is unreliable"]
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"data-quality-{view.metric}.csv", type="text/csv")


@callback(Output(DATA_QUALITY_DOWNLOAD, "data"),
          Input(DATA_QUALITY_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)


def download_profile_csv(search: str) -> dict:
    """The profile table for the view in ``search`` as a CSV download."""
    view, _ = DataQualityView.parse(viewstate.query_of(search))
    period = profile_period(view)
    frames = profile_frames(view, period) if period else []
    rows = profile_kit.profile_rows(frames, PROFILE)
    preamble = [profile_caption(view, period or ""), pagekit.source_line(
        PROFILE.source, queries.current().synthetic),
                "A description of who is booked, not an outcome: no share is better or worse"]
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"who-is-booked-{view.org}.csv", type="text/csv")


@callback(Output(DATA_QUALITY_PROFILE_DOWNLOAD, "data"),
          Input(DATA_QUALITY_PROFILE_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_profile_download(_clicks, search):
    return download_profile_csv(search)
