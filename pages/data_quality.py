"""Data quality: how completely each trust records mothers' ethnicity and deprivation.

Answers "which trusts record ethnicity or deprivation too poorly for their breakdowns to be
trusted, and is the shortfall beyond chance?" Trusts below the reliability threshold
(``metrics.breakdown.COMPLETENESS_THRESHOLD``: 90% for ethnicity, 95% for deprivation) are
flagged in words; the funnel plot shows which differ from England by more than chance.

URL parameters: ``metric`` (ethnicity_recorded or deprivation_known), ``period`` (label),
``region`` (region code, optional filter), ``sort`` (lowest, highest, name, region, size).
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
from metrics.benchmark import polarity_word
from metrics.breakdown import COMPLETENESS_THRESHOLD
from metrics.categories import TOTAL

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

PAGE_METRICS = tuple(m for m in registry.METRICS_LIST if m.id in COMPLETENESS_THRESHOLD)
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
        return cls(metric_id, period, region, sort), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "region": None if self.region == ALL_REGIONS else self.region,
                                 "sort": None if self.sort == "lowest" else self.sort})

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


def source_line(metric: registry.Metric, period: str) -> str:
    synthetic = " Synthetic demonstration data." if queries.current().synthetic else ""
    return (f"Source: {metric.source}, {period}.{synthetic} Funnel limits around England's "
            "value: 95% (dashed) and 99.8% (solid).")


def chart_title(view: DataQualityView, metric: registry.Metric) -> str:
    where = f", {view.region_name} highlighted" if view.region_name else ""
    return f"{metric.title}: every trust, {view.period}{where}"


def caption(view: DataQualityView, metric: registry.Metric) -> str:
    where = view.region_name or "all regions"
    return (f"{metric.title} by trust, {view.period}, {where}; {SORTS[view.sort].lower()}. "
            "* suppressed (small numbers); : not available; - zero.")


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


@pagekit.safe_layout
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
        controls.notices(notices),
        controls_card(view),
        headline_block(frame, view),
        dcc.Graph(id=DATA_QUALITY_GRAPH, config=figures.CONFIG,
                  figure=figures.completeness_funnel(
                      everyone, queries.funnel(view.metric, view.period, TOTAL), metric,
                      average=england_value(view), threshold=view.threshold, focus=focus,
                      title=figures.wrap(chart_title(view, metric), 90),
                      source=source_line(metric, view.period))),
        html.Div([
            tables.html_table(table_rows(frame, view), caption=caption(view, metric),
                              table_id=DATA_QUALITY_TABLE)
            if frame.height else dbc.Alert(f"No trust in {view.region_name or 'England'} "
                                           f"has a figure for {view.period}.", color="info"),
            pagekit.download_button(DATA_QUALITY_DOWNLOAD_BUTTON, DATA_QUALITY_DOWNLOAD),
        ], className="mt-2 table-responsive"),
        pagekit.content_markdown("data_quality", section="About these figures",
                                 class_name="small mt-3"),
    ])


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(DATA_QUALITY_METRIC, "value"),
    Input(DATA_QUALITY_PERIOD, "value"),
    Input(DATA_QUALITY_REGION, "value"),
    Input(DATA_QUALITY_SORT, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, period, region, sort, current):
    return viewstate.next_search(DataQualityView, {"metric": metric, "period": period,
                                                   "region": region, "sort": sort}, current)


def download_csv(search: str) -> dict:
    """The trust table for the view in ``search`` as a CSV download."""
    view, _ = DataQualityView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = table_rows(selected_trusts(view), view)
    synthetic = " (synthetic demonstration data)" if queries.current().synthetic else ""
    preamble = [caption(view, metric), f"Source: {metric.source}{synthetic}",
                f"Threshold: below {view.threshold:g}% the breakdown is unreliable"]
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"data-quality-{view.metric}.csv", type="text/csv")


@callback(Output(DATA_QUALITY_DOWNLOAD, "data"),
          Input(DATA_QUALITY_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
