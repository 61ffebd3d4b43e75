"""Map: where in England a group's gap to the reference group is largest, region by region,
with every trust placed and compared with England.

Answers "in which regions do women of one ethnic group, or from the most deprived areas,
fare differently from the reference group, and which trusts stand out against England?"

URL parameters: ``metric`` (registry id with regional breakdowns), ``period`` (label),
``dim`` (ethnicity, deprivation_quintile), ``group`` (the group compared with the reference
group: White women; the least deprived quintile), ``trusts`` (``group`` to show the chosen
group's figure at each trust where trusts' breakdowns are published; all women otherwise).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, maps, pagekit, tables, viewstate
from components import format as fmt
from data import geo
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY
from views import map as map_facts
from web import layouts

dash.register_page(__name__, path="/map", name="Map", title="Map · Equalities", order=3,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: MapView.parse(query)[0].search())

MAP_METRIC = "map-metric"
MAP_PERIOD = "map-period"
MAP_DIMENSION = "map-dimension"
MAP_GROUP = "map-group"
MAP_TRUSTS = "map-trusts"
MAP_GRAPH = "map-graph"
MAP_SUMMARY = "map-summary"
MAP_REGION_TABLE = "map-region-table"
MAP_REGION_DOWNLOAD_BUTTON = "map-region-download-button"
MAP_REGION_DOWNLOAD = "map-region-download"
MAP_TRUST_TABLE = "map-trust-table"
MAP_TRUST_DOWNLOAD_BUTTON = "map-trust-download-button"
MAP_TRUST_DOWNLOAD = "map-trust-download"

DEFAULT_METRIC = "pph_1500"
# What the trust points show: all women (most trusts have a figure) or the chosen group
# (many small groups are suppressed at trust level).
TRUSTS_SHOW = {"all": "All women and babies", "group": "The chosen group"}


def map_metrics() -> list[str]:
    """Metrics published for regions by ethnicity or deprivation quintile."""
    return list(map_facts.choices().metrics)


def metric_periods(metric: registry.Metric) -> list[str]:
    """Every period of the metric, newest first within each kind."""
    return list(map_facts.choices().periods.get(metric.id, ()))


def group_choices(dimension: str) -> list[str]:
    """The known groups of the breakdown other than its reference group."""
    return [g for g in DIMENSIONS[dimension].groups if g != DIMENSIONS[dimension].reference]


@dataclass(frozen=True)
class MapView(maps.MapSelection):
    """The map's selection as held in the URL."""

    @classmethod
    def parse(cls, query: dict) -> tuple["MapView", list[str]]:
        notices: list[str] = []
        offered = map_facts.choices()
        choices = offered.metrics
        metric_id = viewstate.choose(query, "metric", choices,
                                     DEFAULT_METRIC if DEFAULT_METRIC in choices else
                                     (choices or [DEFAULT_METRIC])[0], notices,
                                     "metric with regional breakdowns")
        period = viewstate.choose(query, "period", offered.periods.get(metric_id, ()),
                                  offered.latest.get(metric_id, ""), notices, "period")
        dims = offered.region_dimensions.get(metric_id, ())
        dimension = viewstate.choose(query, "dim", dims, (dims or (ETHNICITY,))[0], notices,
                                     "breakdown")
        group = viewstate.choose(query, "group", group_choices(dimension),
                                 maps.DEFAULT_GROUP[dimension], notices, "group")
        trusts = viewstate.choose(query, "points", list(TRUSTS_SHOW), "all", notices,
                                  "choice for the trust points")
        return cls(metric_id, period, dimension, group, trusts,
                   offered.trust_dimensions.get(metric_id, ())), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "group": self.group,
                                 "points": None if self.trusts == "all" else self.trusts})


# -- trusts -------------------------------------------------------------------------------


POSITION_WORDS = {geo.ILLUSTRATIVE: "Illustrative (fictional trust)",
                  geo.FROM_FILE: "Trust locations file", None: "Not known (not drawn)"}


def trust_table(rows: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """The trusts as shown (text) and downloaded, by region then name."""
    if rows.is_empty():
        return pl.DataFrame()
    d = metric.decimals
    out = []
    for r in rows.sort("region", "name", nulls_last=True).iter_rows(named=True):
        hidden = r["status"] == "suppressed"
        shown = not hidden and not fmt.missing(r["value"])
        out.append({
            "Code": r["org_code"], "Trust": r["name"], "Region": r["region"] or ":",
            f"Value ({metric.unit})": fmt.number(r["value"], d) if shown
            else ("*" if hidden else ":"),
            "95% CI": maps.ci_range(r["lower95"], r["upper95"], d) if shown
            else ("*" if hidden else ":"),
            "Denominator": fmt.count_cell(r["denominator"], r["suppressed"]),
            "Compared with England": r["words"],
            "Position on the map": POSITION_WORDS[r["position"]],
        })
    return pl.DataFrame(out)


def shown_trust_rows(rows: pl.DataFrame, differs: set[str]) -> tuple[pl.DataFrame, str]:
    """The trust table's rows for the page and a sentence saying what was left out: up to
    ``tables.PAGE_ROWS_MAX`` show whole; of a longer table (a store of many trusts) the
    trusts that differ from England (codes ``differs``) come first, then the others, each
    by region then name. The CSV download holds every row."""
    limit, n = tables.PAGE_ROWS_MAX, rows.height
    if n <= limit:
        return rows, ""
    first = pl.col("Code").is_in(list(differs))
    shown = pl.concat([rows.filter(first), rows.filter(~first)]).head(limit)
    count = len(differs & set(rows["Code"]))
    which = (f"the {count:,} that differ from England first, then the others by region and "
             "name" if count < limit else
             f"{limit} of the {count:,} that differ from England, by region and name")
    return shown, (f"Showing {limit} of {n:,} trusts: {which}. The download holds all "
                   f"{n:,} ({n - limit:,} not shown here).")


def differing(trusts: pl.DataFrame) -> set[str]:
    """Codes of the trusts whose figure is outside England's limits (above or below)."""
    if trusts.is_empty():
        return set()
    return set(trusts.filter(pl.col("side").is_in(["above", "below"]))["org_code"])


def trust_section(trust_frame: pl.DataFrame, differs: set[str], caption: str
                  ) -> html.Details | html.P:
    """Every trust as a sortable table (as many rows as a page holds) and its download."""
    if trust_frame.is_empty():
        return html.P("No trust has figures for this period.")
    rows, left_out = shown_trust_rows(trust_frame, differs)
    n = trust_frame.height
    return html.Details([
        html.Summary(f"Show every trust as a table ({n:,} rows) and download"
                     if not left_out else
                     f"Show the trusts as a table ({rows.height:,} of {n:,} rows) and download "
                     "every one"),
        html.P(left_out, className="small text-muted mb-2") if left_out else None,
        tables.sortable_table(rows, table_id=MAP_TRUST_TABLE,
                              label="Every trust compared with England", caption=caption),
        pagekit.download_button(MAP_TRUST_DOWNLOAD_BUTTON, MAP_TRUST_DOWNLOAD),
    ])


# -- page -----------------------------------------------------------------------------------


def summary(rows: pl.DataFrame, trusts: pl.DataFrame, view: MapView,
            metric: registry.Metric) -> str:
    """The map in one paragraph: how many regions have a significant gap each way, how many
    have none or no figure, and how many trusts lie beyond England's limits."""
    who = fmt.subject(view.group, view.dimension, metric)
    ref = fmt.subject(view.reference, view.dimension, metric)
    ok = rows.filter(pl.col("status") == "ok")
    higher = ok.filter(pl.col("gap_significant") & (pl.col("ratio") > 1)).height
    lower = ok.filter(pl.col("gap_significant") & (pl.col("ratio") < 1)).height
    counts = {"no significant gap": ok.height - higher - lower,
              "no figure to compare (suppressed or not available)": rows.height - ok.height}
    noun = "share" if metric.statistic == registry.PROPORTION else "rate"
    gaps = [f"a significantly {side} {noun} in {n} of {rows.height} regions"
            for side, n in (("higher", higher), ("lower", lower)) if n]
    rest = [f"{n} {'region' if n == 1 else 'regions'} had {what}" for what, n in counts.items()
            if n]
    if not gaps:  # every region with a figure has no significant gap: say that once
        rest = rest[1:] if counts["no significant gap"] else rest
    text = (f"Compared with {ref}, {who} had {' and '.join(gaps)}" if gaps else
            f"No region showed a significant gap between {who} and {ref}")
    text += "".join(f"; {r}" for r in rest) + "."
    if not trusts.is_empty():
        who_trusts = fmt.subject(view.trust_group, view.trust_dimension, metric)
        text += (f" For {who_trusts}, {len(differing(trusts)):,} of {trusts.height:,} trusts "
                 "lie beyond England's 95% limits.")
    return text


def controls_card(view: MapView) -> html.Div:
    metric = registry.get(view.metric)
    choices = map_metrics()
    metrics = tuple(m for m in registry.OUTCOME_METRICS if m.id in choices)
    dims = map_facts.choices().region_dimensions.get(metric.id, ())
    return html.Div(controls.card("Choose a view", dbc.Row([
        controls.labelled("Metric", controls.dropdown(
            MAP_METRIC, controls.metric_options(metrics), view.metric), MAP_METRIC, 5),
        controls.labelled("Period", controls.dropdown(
            MAP_PERIOD, [{"label": p, "value": p} for p in metric_periods(metric)],
            view.period), MAP_PERIOD, 3),
        controls.labelled("Breakdown", controls.dropdown(
            MAP_DIMENSION, controls.dimension_options(tuple(dims)), view.dimension),
            MAP_DIMENSION, 4),
        controls.labelled(f"Group compared with {view.reference}", controls.dropdown(
            MAP_GROUP, [{"label": g, "value": g} for g in group_choices(view.dimension)],
            view.group), MAP_GROUP, 5),
        dbc.Col([
            html.Label("Trust points show", htmlFor=MAP_TRUSTS, className="form-label fw-bold"),
            dbc.RadioItems(id=MAP_TRUSTS, inline=True, value=view.trusts,
                           options=[{"label": v, "value": k} for k, v in TRUSTS_SHOW.items()]),
        ], md=7, className="mb-2"),
    ])), className="d-print-none")


@layouts.safe_layout
def layout(**query) -> html.Div:
    if not map_metrics():
        return html.Div([
            pagekit.heading("Map", "Where in England a group's gap to the reference group is "
                            "largest, region by region."),
            dbc.Alert(["No file in this data store publishes regional figures by ethnicity or "
                       "by deprivation, so there is no gap between groups to map. ",
                       dcc.Link("Explore", href="/explore"), " shows what is published."],
                      color="info"),
        ])
    view, notices = MapView.parse(query)
    metric = registry.get(view.metric)
    facts = map_facts.facts(view)
    regions = maps.region_rows(view, facts)
    trusts = maps.trust_rows(view, facts)
    unplaced = trusts.filter(pl.col("x").is_null()).height if not trusts.is_empty() else 0
    region_frame = maps.region_table(regions, view, metric)
    trust_frame = trust_table(trusts, metric)
    title = maps.title_of(view, metric)
    trust_who = fmt.subject(view.trust_group, view.trust_dimension, metric)
    return html.Div([
        pagekit.heading("Map", "Where in England a group's gap to the reference group is "
                        "largest, region by region, with every trust compared with England."),
        controls.notices(notices),
        controls_card(view),
        html.Details([html.Summary("About this map: how to read it, and where the boundaries "
                                   "come from"),
                      pagekit.content_markdown("map")], className="mb-3"),
        dbc.Alert(f"{metric.source} does not publish this breakdown for trusts, so the trust "
                  f"points show {trust_who}.", color="info")
        if view.trusts == "group" and view.group_unpublished_for_trusts else None,
        dbc.Row([
            dbc.Col(dcc.Graph(id=MAP_GRAPH, config=figures.CONFIG,
                              figure=maps.selection_map(view, regions, trusts, metric,
                                                        synthetic=facts.synthetic)),
                    lg=8, style={"breakInside": "avoid"}),
            dbc.Col([
                html.H2("What the map says", className="h5"),
                html.P(summary(regions, trusts, view, metric), id=MAP_SUMMARY),
                html.P(f"Trust points show {trust_who}.", className="small"),
                html.P(f"{unplaced} trusts have no known position and are listed in the "
                       "trust table only.", className="small text-muted") if unplaced else None,
                html.P(html.Small(" ".join(metric.caveats)), className="text-muted")
                if metric.caveats else None,
            ], lg=4),
        ]),
        html.H2("Regions", className="h4 mt-3"),
        tables.html_table(region_frame, caption=f"{title}. Ratio and difference: "
                          f"{view.group} compared with {view.reference}, with 95% confidence "
                          "intervals.",
                          table_id=MAP_REGION_TABLE),
        pagekit.download_button(MAP_REGION_DOWNLOAD_BUTTON, MAP_REGION_DOWNLOAD),
        html.H2("Trusts", className="h4 mt-4"),
        trust_section(trust_frame, differing(trusts),
                      f"{metric.title}, {trust_who}, every trust compared with England, "
                      f"{view.period}. Select a column heading to sort."),
    ])


FOLLOWED = viewstate.follow_controls({"metric": MAP_METRIC, "period": MAP_PERIOD,
                                      "dim": MAP_DIMENSION, "group": MAP_GROUP,
                                      "points": MAP_TRUSTS})


def _preamble(metric: registry.Metric, heading: str) -> list[str]:
    return pagekit.preamble(heading, metric.source, f"Boundaries: {geo.ATTRIBUTION}",
                            synthetic=map_facts.choices().synthetic)


def region_csv(search: str) -> dict:
    """The regions table for the view in ``search`` as a CSV download."""
    view, _ = MapView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = maps.region_table(maps.region_rows(view, map_facts.facts(view)), view, metric)
    return dict(content=pagekit.csv_text(rows, _preamble(metric, maps.title_of(view, metric))),
                filename=f"map-{view.metric}-regions.csv", type="text/csv")


def trust_csv(search: str) -> dict:
    """The trusts table for the view in ``search`` as a CSV download."""
    view, _ = MapView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = trust_table(maps.trust_rows(view, map_facts.facts(view)), metric)
    who = fmt.subject(view.trust_group, view.trust_dimension, metric)
    return dict(content=pagekit.csv_text(rows, _preamble(
        metric, f"{metric.title}, {who}, every trust compared with England, {view.period}")),
        filename=f"map-{view.metric}-trusts.csv", type="text/csv")


@callback(Output(MAP_REGION_DOWNLOAD, "data"), Input(MAP_REGION_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_region_download(_clicks, search):
    return region_csv(search)


@callback(Output(MAP_TRUST_DOWNLOAD, "data"), Input(MAP_TRUST_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_trust_download(_clicks, search):
    return trust_csv(search)
