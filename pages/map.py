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
from dash.dash_table.Format import Format, Group, Scheme

from components import controls, figures, ids, maps, pagekit, tables, viewstate
from components import format as fmt
from data import geo, queries
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import ALL_GROUP, DIMENSIONS, ETHNICITY, QUINTILE, TOTAL

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

MAP_DIMENSIONS = (ETHNICITY, QUINTILE)
DEFAULT_METRIC = "pph_1500"
# The group each breakdown opens on: the one the equity letters single out.
DEFAULT_GROUP = {ETHNICITY: "Black", QUINTILE: "Q1 (most deprived)"}
# What the trust points show: all women (most trusts have a figure) or the chosen group
# (many small groups are suppressed at trust level).
TRUSTS_SHOW = {"all": "All women and babies", "group": "The chosen group"}
GAP_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95", "difference", "difference_lower95",
               "difference_upper95")
# Why a region has no ratio, in a few words for the map and in full for the table.
REGION_STATUS = {
    "suppressed": ("suppressed", "Suppressed (small numbers)"),
    "no data": ("no data", "No data for this group"),
    "reference suppressed": ("reference suppressed",
                             "Not available: the reference group is suppressed"),
    "not available": ("not available", "Not available"),
}


def map_metrics() -> list[str]:
    """Metrics published for regions by ethnicity or deprivation quintile."""
    return [m.id for m in registry.METRICS_LIST
            if any(d in queries.dimensions_at(m.id, "region") for d in MAP_DIMENSIONS)]


def metric_periods(metric: registry.Metric) -> list[str]:
    """Every period of the metric, newest first within each kind."""
    return [p for kind in metric.period_kinds for p in reversed(queries.periods(metric.id, kind))]


def group_choices(dimension: str) -> list[str]:
    """The known groups of the breakdown other than its reference group."""
    return [g for g in DIMENSIONS[dimension].groups if g != DIMENSIONS[dimension].reference]


@dataclass(frozen=True)
class MapView:
    metric: str
    period: str
    dimension: str
    group: str
    trusts: str

    @classmethod
    def parse(cls, query: dict) -> tuple["MapView", list[str]]:
        notices: list[str] = []
        choices = map_metrics()
        metric_id = viewstate.choose(query, "metric", choices,
                                     DEFAULT_METRIC if DEFAULT_METRIC in choices else
                                     (choices or [DEFAULT_METRIC])[0], notices,
                                     "metric with regional breakdowns")
        metric = registry.get(metric_id)
        period = viewstate.choose(query, "period", metric_periods(metric),
                                  queries.latest_period(metric_id) or "", notices, "period")
        dims = [d for d in MAP_DIMENSIONS if d in queries.dimensions_at(metric_id, "region")]
        dimension = viewstate.choose(query, "dim", dims, (dims or [ETHNICITY])[0], notices,
                                     "breakdown")
        group = viewstate.choose(query, "group", group_choices(dimension),
                                 DEFAULT_GROUP[dimension], notices, "group")
        trusts = viewstate.choose(query, "points", list(TRUSTS_SHOW), "all", notices,
                                  "choice for the trust points")
        return cls(metric_id, period, dimension, group, trusts), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "group": self.group,
                                 "points": None if self.trusts == "all" else self.trusts})

    @property
    def reference(self) -> str:
        return DIMENSIONS[self.dimension].reference or ""

    @property
    def group_unpublished_for_trusts(self) -> bool:
        """MBRRACE-UK and CQC publish totals only for trusts."""
        return self.dimension not in queries.dimensions_at(self.metric, "trust")

    @property
    def trust_dimension(self) -> str:
        """The trust points' breakdown: the chosen one if asked for and published for
        trusts, else all women."""
        wanted = self.trusts == "group" and not self.group_unpublished_for_trusts
        return self.dimension if wanted else TOTAL

    @property
    def trust_group(self) -> str:
        return self.group if self.trust_dimension != TOTAL else ALL_GROUP


def region_orgs() -> pl.DataFrame:
    return queries.organisations().filter(pl.col("org_level") == "region").sort("name")


# -- regions ------------------------------------------------------------------------------


def _status(row: dict | None, reference: dict | None) -> str:
    if row is None or row["status"] == "no data":
        return "no data"
    if row["status"] == "suppressed":
        return "suppressed"
    if fmt.missing(row["ratio"]):
        return "reference suppressed" if reference and reference["status"] == "suppressed" \
            else "not available"
    return "ok"


def gap_words(status: str, ratio, significant: bool | None, metric: registry.Metric) -> str:
    """The region's gap in words: "Higher, significant (worse)", "No significant gap"."""
    if status != "ok":
        return REGION_STATUS[status][1]
    if not significant:
        return "No significant gap"
    high, low = polarity_word(metric)
    side, word = ("Higher", high) if ratio > 1 else ("Lower", low)
    judged = metric.polarity != registry.NO_JUDGEMENT
    return f"{side}, significant" + (f" ({word})" if judged else "")


def region_rows(view: MapView) -> pl.DataFrame:
    """One row per region: the group's and the reference group's values, the ratio and
    difference between them with 95% CIs, and the gap in words. A region whose group (or
    reference group) is suppressed has no figures, only its status."""
    metric = registry.get(view.metric)
    out = []
    for code, name in region_orgs().select("org_code", "name").iter_rows():
        frame = queries.breakdown(view.metric, code, view.period, view.dimension, "none")
        rows = {r["group"]: r for r in frame.iter_rows(named=True)}
        row, reference = rows.get(view.group), rows.get(view.reference)
        status = _status(row, reference)
        ok = status == "ok"
        # The group's own value stands even when the reference group's is suppressed.
        shown = row is not None and row["status"] == "ok"
        out.append({
            "org_code": code, "region": name, "status": status,
            "short_status": REGION_STATUS.get(status, ("", ""))[0],
            **{k: row[k] if shown else None for k in ("value", "lower95", "upper95")},
            **{k: row[k] if ok else None for k in GAP_COLUMNS},
            "reference_value": reference["value"] if reference else None,
            "reference_status": reference["status"] if reference else "no data",
            "gap_significant": bool(row["gap_significant"]) if ok else None,
            "gap": gap_words(status, row["ratio"] if ok else None,
                             row["gap_significant"] if ok else None, metric),
        })
    return pl.DataFrame(out, schema_overrides={"gap_significant": pl.Boolean})


def _ci(lower, upper, decimals: int) -> str:
    return f"{fmt.number(lower, decimals)} to {fmt.number(upper, decimals)}"


def region_table(rows: pl.DataFrame, view: MapView, metric: registry.Metric) -> pl.DataFrame:
    """The regions as shown and downloaded, largest ratio first, then those without one."""
    d = metric.decimals
    unit = metric.unit

    def value(v, status):
        return "*" if status == "suppressed" else fmt.number(v, d) if not fmt.missing(v) \
            else ":"

    out = []
    for r in rows.sort(pl.col("ratio").is_null(), pl.col("ratio"), descending=[False, True],
                       nulls_last=True).iter_rows(named=True):
        ok = r["status"] == "ok"
        group_ok = not fmt.missing(r["value"])
        out.append({
            "Region": r["region"],
            f"{view.group} ({unit})": value(r["value"], r["status"]),
            f"{view.group} 95% CI": _ci(r["lower95"], r["upper95"], d) if group_ok
            else ("*" if r["status"] == "suppressed" else ":"),
            f"{view.reference} ({unit})": value(r["reference_value"], r["reference_status"]),
            "Ratio (95% CI)": f"{fmt.number(r['ratio'], 2)} "
                              f"({_ci(r['ratio_lower95'], r['ratio_upper95'], 2)})" if ok
            else ("*" if r["status"] in ("suppressed", "reference suppressed") else ":"),
            f"Difference ({unit}, 95% CI)": f"{fmt.number(r['difference'], d)} "
            f"({_ci(r['difference_lower95'], r['difference_upper95'], d)})" if ok
            else ("*" if r["status"] in ("suppressed", "reference suppressed") else ":"),
            "Gap": r["gap"],
        })
    return pl.DataFrame(out)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def region_hover(row: dict, view: MapView, metric: registry.Metric) -> str:
    who = capital(fmt.subject(view.group, view.dimension, metric))
    ref = capital(fmt.subject(view.reference, view.dimension, metric))
    lines = [f"<b>{row['region']}</b>"]
    if row["status"] == "ok":
        lines += [f"{who}: {fmt.value(metric, row['value'])}",
                  f"{ref}: {fmt.value(metric, row['reference_value'])}",
                  f"Ratio {row['ratio']:.2f} (95% CI {row['ratio_lower95']:.2f} to "
                  f"{row['ratio_upper95']:.2f})", row["gap"]]
    else:
        lines.append(row["gap"])
    return "<br>".join(lines)


# -- trusts -------------------------------------------------------------------------------


def trust_comparison(label: str | None, status: str, metric: registry.Metric
                     ) -> tuple[str, str, str]:
    """(colour key of ``theme.COMPARISON``, side, words) for a trust's PHE funnel label
    against England: above or below the 95% or 99.8% limit, within, or not compared. The
    side ("above", "below", "within", "none") sets the marker's shape, the key its colour."""
    if status == "suppressed":
        return "not compared", "none", "Suppressed (small numbers)"
    if not label:
        return "not compared", "none", "No data"
    if label == "Not significant":
        return "similar", "within", "Within England's limits (similar)"
    high, low = polarity_word(metric)
    above = label.startswith("High")
    limit = "99.8%" if "0.001" in label else "95%"
    word = high if above else low
    judged = metric.polarity != registry.NO_JUDGEMENT
    return word, "above" if above else "below", (
        f"{'Above' if above else 'Below'} England's {limit} limit"
        + (f" ({word})" if judged else ""))


def legend_name(key: str, side: str, metric: registry.Metric) -> str:
    """A marker group's name in the legend: "Above England's limits (worse)"."""
    if side in ("above", "below"):
        judged = metric.polarity != registry.NO_JUDGEMENT
        return f"{side.title()} England's limits" + (f" ({key})" if judged else "")
    return "Within England's limits" if side == "within" else "Suppressed or no figure"


def trust_rows(view: MapView) -> pl.DataFrame:
    """Every trust with a figure for the view: value, 95% CI, comparison with England,
    its births (the metric's denominator for all women) and its position, if known."""
    metric = registry.get(view.metric)
    frame = queries.benchmark(view.metric, view.period, view.trust_dimension, view.trust_group)
    totals = queries.benchmark(view.metric, view.period, TOTAL, ALL_GROUP).select(
        "org_code", size="denominator", size_suppressed="suppressed")
    frame = frame.join(totals, on="org_code", how="left")
    positions = geo.trust_positions(frame.select("org_code", "region").iter_rows())
    out = []
    for r in frame.iter_rows(named=True):
        key, side, words = trust_comparison(r["funnel"], r["status"], metric)
        x, y, source = positions.get(r["org_code"], (None, None, None))
        out.append(r | {"comparison": key, "side": side, "words": words, "x": x, "y": y,
                        "position": source,
                        "size": None if r["size_suppressed"] else r["size"]})
    return pl.DataFrame(out, infer_schema_length=None) if out else pl.DataFrame()


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
            "95% CI": _ci(r["lower95"], r["upper95"], d) if shown else ("*" if hidden else ":"),
            "Denominator": fmt.count_cell(r["denominator"], r["suppressed"]),
            "Compared with England": r["words"],
            "Position on the map": POSITION_WORDS[r["position"]],
        })
    return pl.DataFrame(out)


def map_trusts(rows: pl.DataFrame, view: MapView, metric: registry.Metric) -> pl.DataFrame:
    """The placed trusts as the figure draws them (position, size, colour key, hover)."""
    if rows.is_empty():
        return pl.DataFrame()
    placed = rows.filter(pl.col("x").is_not_null())
    who = fmt.subject(view.trust_group, view.trust_dimension, metric)
    hover = [maps.trust_hover(r["name"], r["region"], metric, capital(who), r["value"],
                              r["lower95"], r["upper95"], r["words"],
                              f"{metric.denominator}: {fmt.count(r['size'])}"
                              if not fmt.missing(r["size"]) else "")
             for r in placed.iter_rows(named=True)]
    legend = [legend_name(k, s, metric) for k, s in zip(placed["comparison"], placed["side"],
                                                        strict=True)]
    return placed.select("x", "y", "size", "comparison", "side").with_columns(
        legend=pl.Series(legend, dtype=pl.String), hover=pl.Series(hover, dtype=pl.String))


# -- page -----------------------------------------------------------------------------------


def short_group(group: str) -> str:
    """"Q1 (most deprived)" -> "Q1"; ethnic groups unchanged."""
    return group.split(" (")[0]


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
        beyond = trusts.filter(~pl.col("comparison").is_in(["similar", "not compared"]))
        who_trusts = fmt.subject(view.trust_group, view.trust_dimension, metric)
        text += (f" For {who_trusts}, {beyond.height} of {trusts.height} trusts lie beyond "
                 "England's 95% limits.")
    return text


def title_of(view: MapView, metric: registry.Metric) -> str:
    return (f"{metric.title}: {short_group(view.group)} compared with "
            f"{short_group(view.reference)}, by NHS England region, {view.period}")


def source_line(metric: registry.Metric, view: MapView) -> str:
    synthetic = " Synthetic demonstration data; trust positions are illustrative." \
        if queries.current().synthetic else ""
    return (f"Source: {metric.source}, {view.period}.{synthetic}<br>"
            f"Boundaries: {geo.ATTRIBUTION}.")


def figure_for(view: MapView, regions: pl.DataFrame, trusts: pl.DataFrame,
               metric: registry.Metric):
    regions = regions.with_columns(hover=pl.Series(
        [region_hover(r, view, metric) for r in regions.iter_rows(named=True)],
        dtype=pl.String))
    kind = "ratio of shares" if metric.statistic == registry.PROPORTION else "rate ratio"
    return maps.region_map(
        regions, map_trusts(trusts, view, metric), metric, outlines={
            r["region"]: o for r in regions.iter_rows(named=True)
            if (o := geo.region_for(r["region"])) is not None},
        scale_title=f"{short_group(view.group)} ÷ {short_group(view.reference)}<br>({kind}; "
                    "1 = no gap)",
        title=figures.wrap(title_of(view, metric), 80), source=source_line(metric, view))


def controls_card(view: MapView) -> html.Div:
    metric = registry.get(view.metric)
    choices = map_metrics()
    metrics = tuple(m for m in registry.METRICS_LIST if m.id in choices)
    dims = [d for d in MAP_DIMENSIONS if d in queries.dimensions_at(metric.id, "region")]
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


# Trust table columns kept as numbers on screen so that sorting is numeric (the CSV and the
# symbols match the text table); symbols sort after every number.
NUMERIC = {"Denominator": 0}
SYMBOLS = ("*", ":", "-")


def sortable_trusts(frame: pl.DataFrame, metric: registry.Metric):
    """The trust table as a sortable table: compact to send, numbers sorting as numbers."""
    value_column = f"Value ({metric.unit})"
    numbers = NUMERIC | {value_column: metric.decimals}

    def cell(column: str, text: str):
        if column in numbers and text not in SYMBOLS:
            return float(text.replace(",", ""))
        return text

    table = tables.sortable_table(frame, table_id=MAP_TRUST_TABLE,
                                  page_size=max(frame.height, 1))
    table.data = [{k: cell(k, v) for k, v in row.items()} for row in frame.to_dicts()]
    table.columns = [
        {"name": c, "id": c, "type": "numeric",
         "format": Format(precision=numbers[c], scheme=Scheme.fixed, group=Group.yes)}
        if c in numbers else {"name": c, "id": c} for c in frame.columns]
    table.sort_as_null = list(SYMBOLS)
    return table


@pagekit.safe_layout
def layout(**query) -> html.Div:
    view, notices = MapView.parse(query)
    metric = registry.get(view.metric)
    regions = region_rows(view)
    trusts = trust_rows(view)
    unplaced = trusts.filter(pl.col("x").is_null()).height if not trusts.is_empty() else 0
    region_frame = region_table(regions, view, metric)
    trust_frame = trust_table(trusts, metric)
    title = title_of(view, metric)
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
                              figure=figure_for(view, regions, trusts, metric)),
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
                          "intervals. * suppressed (small numbers); : not available.",
                          table_id=MAP_REGION_TABLE),
        pagekit.download_button(MAP_REGION_DOWNLOAD_BUTTON, MAP_REGION_DOWNLOAD),
        html.H2("Trusts", className="h4 mt-4"),
        html.Details([
            html.Summary(f"Show every trust as a table ({trust_frame.height} rows) and "
                         "download"),
            html.P(f"{metric.title}, {trust_who}, every trust compared with England, "
                   f"{view.period}. * suppressed (small numbers); : not available; - zero. "
                   "Select a column heading to sort.", className="fw-bold mb-1 mt-2"),
            sortable_trusts(trust_frame, metric),
            pagekit.download_button(MAP_TRUST_DOWNLOAD_BUTTON, MAP_TRUST_DOWNLOAD),
        ]) if not trust_frame.is_empty() else html.P("No trust has figures for this period."),
    ])


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(MAP_METRIC, "value"),
    Input(MAP_PERIOD, "value"),
    Input(MAP_DIMENSION, "value"),
    Input(MAP_GROUP, "value"),
    Input(MAP_TRUSTS, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, period, dimension, group, trusts, current):
    return viewstate.next_search(MapView, {"metric": metric, "period": period,
                                           "dim": dimension, "group": group,
                                           "points": trusts}, current)


def _preamble(metric: registry.Metric, heading: str) -> list[str]:
    return [heading, f"Source: {metric.source}" + (" (synthetic demonstration data)"
                                                   if queries.current().synthetic else ""),
            f"Boundaries: {geo.ATTRIBUTION}",
            "Symbols: * suppressed (small numbers), : not available, - zero"]


def region_csv(search: str) -> dict:
    """The regions table for the view in ``search`` as a CSV download."""
    view, _ = MapView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = region_table(region_rows(view), view, metric)
    return dict(content=pagekit.csv_text(rows, _preamble(metric, title_of(view, metric))),
                filename=f"map-{view.metric}-regions.csv", type="text/csv")


def trust_csv(search: str) -> dict:
    """The trusts table for the view in ``search`` as a CSV download."""
    view, _ = MapView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = trust_table(trust_rows(view), metric)
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
