"""Board pack: what a trust's board reads, composed for printing as one numbered PDF.

Answers "what do we put in front of the board this month?". By default a board summary of
two to six pages, read in five minutes: the Annex 3 scorecard against England, the largest
significant gaps with their 95% CIs and the women or babies behind them, what changed since
a year earlier and one chart per headline gap (all from ``views.boardpack``, which the slide
deck reads too). With ``full=1`` the full pack: a contents page, the scorecard, what
changed, then a page per metric with the breakdowns by ethnicity and by deprivation, the
trend with SPC and the trust's place among all trusts (funnel plot and peer-group rank);
then ethnicity and deprivation together, and the trust's region on the map of England.
Reached from the Scorecard page and ``equalities export board-pack``.

URL parameters: ``org`` (a trust code), ``period`` (a period label, e.g. ``2024-25``; each
metric uses it where it publishes it, otherwise its own latest period), ``full`` (``1`` for
the full pack).
"""

import math
from dataclasses import dataclass
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from components import boardsummary as words
from components import (
    controls,
    crosstab,
    figures,
    gapwords,
    maps,
    pagekit,
    publiclink,
    tables,
    viewstate,
    whatchanged,
)
from components import format as fmt
from components import scorecard as card
from data import queries
from metrics import registry
from metrics.categories import (
    DIMENSIONS,
    ETHNICITY,
    ETHNICITY_BY_QUINTILE,
    MAP_DIMENSIONS,
    QUINTILE,
    TOTAL,
)
from views import boardpack as summary_model
from views import map as map_facts
from views.boardpack import pack_metrics, period_for
from web import layouts

dash.register_page(__name__, path="/board-pack", name="Board pack",
                   title="Board pack · Equalities", order=20,
                   canonical=lambda query: BoardPackView.parse(query)[0].search())

# Charts in a printed pack are pictures: no hover, no toolbar, lighter to draw; otherwise
# the shared config, so that nothing on them can send a chart off-site either.
STATIC = {**figures.CONFIG, "staticPlot": True, "displayModeBar": False}
SPC_KINDS = ("quarter", "financial_year", "calendar_year", "survey_year")

# Sizes for print: a sheet of A4 landscape holds about 700 px of height at the export's 96
# px per inch (inside its margins and footer), so no chart is drawn taller than that, and
# a chart in half a row is about 500 px wide.
PAGE_HEIGHT_PX = 640
HALF_PAGE_CHART_PX = 400
HALF_WIDTH_PX = 500
LINE_PX = 22  # a line of title or legend


def _lines(text: str, width_px: int, char_px: float) -> int:
    return max(1, math.ceil(len(text) * char_px / width_px))


def legend_lines(figure: go.Figure, width_px: int) -> int:
    """How many rows the figure's horizontal legend takes at ``width_px`` (an estimate
    from the entries' names at 12 px type)."""
    names = [t.name or "" for t in figure.data if t.showlegend is not False and t.name]
    if not names:
        return 0
    rows, used = 1, 0
    for name in dict.fromkeys(names):
        entry = 48 + 7 * len(name)
        if used and used + entry > width_px:
            rows, used = rows + 1, 0
        used += entry
    return rows


def sized_for_print(figure: go.Figure, height: int, width_px: int = HALF_WIDTH_PX
                    ) -> go.Figure:
    """``figure`` at ``height`` px for a sheet: its title pinned to the top and its legend in
    rows under the title, with a top margin that holds both, so neither is drawn across
    the other at the width it prints at."""
    title = figure.layout.title.text or ""
    top = 12 + LINE_PX * (_lines(title, width_px - 20, 9) + legend_lines(figure, width_px)) + 8
    return figure.update_layout(
        height=height,
        title=dict(y=1, yref="container", yanchor="top", pad=dict(t=10)),
        legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="bottom",
                    font=dict(size=12)),
        margin=dict(t=top))


def _default_trust() -> str:
    trusts = queries.organisations().filter(
        (pl.col("org_level") == "trust") & pl.col("closed").is_null()).sort("name")
    return trusts["org_code"][0]


@dataclass(frozen=True)
class BoardPackView:
    org: str
    period: str
    full: bool = False  # the full per-metric pack instead of the board summary

    @classmethod
    def parse(cls, query: dict) -> tuple["BoardPackView", list[str]]:
        notices: list[str] = []
        trusts = queries.organisations().filter(pl.col("org_level") == "trust")["org_code"]
        org = viewstate.choose(query, "org", trusts.to_list(), _default_trust(), notices,
                               "trust")
        period = viewstate.choose(query, "period", summary_model.pack_periods(),
                                  summary_model.default_period(), notices, "period")
        full = viewstate.choose(query, "full", ["0", "1"], "0", notices, "pack") == "1"
        return cls(org, period, full), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "period": self.period,
                                 "full": "1" if self.full else None})


def _source(metric: registry.Metric, period: str) -> str:
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return f"Source: {metric.source}, {period}.{synthetic}"


def _graph(figure) -> dcc.Graph:
    return dcc.Graph(figure=figure, config=STATIC, className="pack-graph")


def excess_line(view: BoardPackView, metric: registry.Metric, period: str,
                dimension: str) -> html.P | None:
    """The gap as a number of women or babies (metrics with a good direction only)."""
    if metric.polarity == registry.NO_JUDGEMENT:
        return None
    total = queries.excess(metric.id, view.org, period, dimension)["total"]
    said = fmt.excess_total_sentence(total, metric, dimension) or \
        f"Gap in numbers of {metric.subject}: not worked out. {total['reason']}"
    return html.P(said, className="small")


def breakdown_block(view: BoardPackView, metric: registry.Metric, period: str,
                    dimension: str) -> html.Div:
    frame = queries.breakdown(metric.id, view.org, period, dimension, "england")
    label = DIMENSIONS[dimension].label.lower()
    title = f"{metric.short_title} by {label}, {period}"
    gaps = fmt.gap_statements(frame, metric, dimension)
    return html.Div([
        _graph(sized_for_print(figures.breakdown_bars(
            frame, metric, title=title, source=_source(metric, period),
            comparator_label="England"), HALF_PAGE_CHART_PX - 60)),
        html.Ul([html.Li(g) for g in gaps], className="small") if gaps else html.P(
            f"No significant gap by {label} at the 95% level.", className="small"),
        excess_line(view, metric, period, dimension),
        tables.html_table(tables.breakdown_rows(frame, metric, "England"),
                          caption=f"{title}."),
    ])


def trend_block(view: BoardPackView, metric: registry.Metric) -> html.Div | None:
    kind = next((k for k in SPC_KINDS if k in metric.period_kinds), None)
    if kind is None:
        return None
    points, summaries = queries.trend(metric.id, view.org, kind, TOTAL)
    if points.is_empty():  # a real store may hold the metric for other trusts only
        return html.P(f"No figures over time for this trust ({metric.source}).",
                      className="small")
    summary = summaries.get("All", {})
    said = summary.get("meaning") if summary.get("available") else \
        "Too few periods for SPC limits (12 are needed)."
    # Periods without their months ("2024-25 Q1"), so the tilted labels fit a half page.
    short = pl.col("period").str.replace(r" \(.*\)$", "")
    points = points.with_columns(short, dimension=pl.lit(TOTAL))
    figure = figures.trend(points, metric,
                           title=f"{metric.short_title} over time, all {metric.subject}",
                           source=_source(metric, "all periods"), spc_group="All")
    projected, fits, _ = queries.projection(metric.id, view.org, kind, TOTAL)
    projected = projected.filter(pl.col("period").is_not_null()).with_columns(short) \
        if projected.height else projected
    figures.add_projection(figure, points, projected, metric)
    # A label every few periods, so that the tilted labels never run into each other.
    figure.update_xaxes(nticks=8, tickangle=-30)
    sized_for_print(figure, HALF_PAGE_CHART_PX - 20)
    return html.Div([
        _graph(figure),
        html.P(f"Statistical process control (latest point): {said}", className="small"),
        html.P(projection_line(metric, projected, fits.get("All")), className="small"),
        gap_closing_block(view, metric, kind),
    ])


def gap_closing_block(view: BoardPackView, metric: registry.Metric, kind: str) -> html.Div | None:
    """When each ethnic group's gap to White women would close at this pace (the Trends
    page's projection), where the store holds the trust's figures by ethnicity."""
    if ETHNICITY not in queries.dimensions_at(metric.id, "trust"):
        return None
    _, _, gaps = queries.projection(metric.id, view.org, kind, ETHNICITY)
    sentences = [gapwords.gap_sentence(group, gap, ETHNICITY, metric)
                 for group, gap in gaps.items()]
    if not sentences:
        return None
    return html.Div([
        html.P("When would each gap to White women close, if the trends continued? "
               "(projection, not data)", className="small fw-bold mb-1"),
        html.Ul([html.Li([html.Strong(answer), " ", detail]) for answer, detail in sentences],
                className="small"),
    ], className="pack-gaps")


def projection_line(metric: registry.Metric, projected: pl.DataFrame, fit: dict | None) -> str:
    """The last projected period in words, or why there is no projection."""
    if not fit or not fit["available"] or projected.is_empty():
        return f"No projection: {fit['reason'] if fit else 'no figures'}."
    row = projected.row(-1, named=True)
    d = metric.decimals
    return (f"Projection (not data): {fmt.value(metric, row['value'])} in {row['period']} "
            f"(95% prediction interval {fmt.number(row['lower95'], d)} to "
            f"{fmt.number(row['upper95'], d)}) if the trend over the last {fit['points']} "
            f"periods continued ({(fit['change_per_year'] - 1) * 100:+.1f}% a year).")


def benchmark_block(view: BoardPackView, metric: registry.Metric, period: str) -> html.Div:
    points = queries.benchmark(metric.id, period)
    england = queries.breakdown(metric.id, "ENG", period, TOTAL, "none")
    average = england["value"][0] if england.height else None
    row = points.filter(pl.col("org_code") == view.org)
    if row.height and row["rank_in_peer_group"][0] is not None:
        r = row.row(0, named=True)
        rank = (f"Ranked {r['rank_in_peer_group']} of {r['peers_ranked']} in its peer group "
                f"({r['peer_group']}); on the funnel plot against England, "
                f"{words.funnel_words(r['funnel'])}.")
    else:
        rank = "Not ranked: the trust's figure is suppressed or not available."
    return html.Div([
        _graph(funnel_for_print(figures.funnel(
            figures.plain_columns(points, "name"), queries.funnel(metric.id, period), metric,
            average=average, highlight=(view.org,),
            title=f"{metric.short_title}: all trusts, {period}",
            source=_source(metric, period)))),
        html.P(rank, className="small"),
    ])


def funnel_for_print(figure: go.Figure) -> go.Figure:
    """A funnel plot sized for half a sheet: the trust's name inside the plot area (written
    towards the middle, never past an edge) and England's label on a white ground, readable
    over the points."""
    for trace in figure.data:
        if trace.name == "Chosen trusts" and trace.x:
            xs = [x for trace_ in figure.data for x in (trace_.x or ()) if x is not None]
            middle = (min(xs) + max(xs)) / 2 if xs else 0
            trace.update(textposition="top left" if trace.x[0] > middle else "top right",
                         cliponaxis=False, textfont=dict(size=12))
    for annotation in figure.layout.annotations:
        if (annotation.text or "").startswith("England"):
            annotation.update(bgcolor="rgba(255,255,255,0.85)")
    return sized_for_print(figure, HALF_PAGE_CHART_PX - 20)


def metric_section(number: int, view: BoardPackView, metric: registry.Metric) -> html.Section:
    period = period_for(metric, view.period)
    heading = html.H2(f"{number}. {metric.title}", id=f"section-{metric.id}",
                      className="h4 page-break")
    if period is None:
        return html.Section([heading, html.P("No figures in this data store.")])
    dims = [d for d in (ETHNICITY, QUINTILE) if d in queries.dimensions_at(metric.id, "trust")]
    breakdowns = [dbc.Col(breakdown_block(view, metric, period, d), md=6) for d in dims]
    if len(dims) == 1:  # its table beside the chart, not under it: half a sheet saved
        block = breakdowns[0].children
        breakdowns = [dbc.Col(block.children[:-1], md=6), dbc.Col(block.children[-1], md=6)]
    if not dims:
        note = fmt.breakdowns_note(metric, "trust", queries.held_dimensions(metric.id)) or \
            "This data store holds no figures by ethnicity or deprivation for trusts."
        breakdowns = [dbc.Col(html.P(note, className="small"), md=12)]
    return html.Section([
        heading,
        html.P(f"{metric.source} · {period} · {metric.definition}", className="small mb-1"),
        # Caveats under the definition: at the end they would spill onto a sheet of their own.
        html.P(" ".join(metric.caveats), className="small text-muted") if metric.caveats
        else None,
        dbc.Row(breakdowns),
        dbc.Row([dbc.Col(trend_block(view, metric), md=6),
                 dbc.Col(benchmark_block(view, metric, period), md=6)]),
    ], className="pack-section")


def scorecard_section(view: BoardPackView) -> html.Section:
    frame = queries.scorecard(view.org)
    name = queries.org_name(view.org)
    rows = card.scorecard_rows(frame)
    return html.Section([
        html.H2("1. Annex 3 scorecard against England", id="section-scorecard",
                className="h4 page-break"),
        html.P([html.Strong(f"{name}: "), card.summary(frame)]),
        card.scorecard_table(frame, rows, caption=f"Annex 3 metrics: {name} against England, "
                             "latest period of each metric.", table_id="pack-scorecard",
                             links={}),
        card.rag_legend(),
        # Eight panels need a sheet of their own to stay readable.
        html.Div(_graph(card.dot_chart(frame, org_label="This trust",
                                       title=f"Annex 3 metrics: {figures.plain(name)}",
                                       source="Sources: MSDS, MBRRACE-UK, CQC, Performance "
                                       "dashboard.").update_layout(height=PAGE_HEIGHT_PX)),
                 className="page-break"),
    ], className="pack-section")


def changes_section(number: int, view: BoardPackView) -> html.Section:
    """The trust's most important changes since a year earlier, as on the Overview; each
    names its view by path and query, since a printed link cannot be followed."""
    found = queries.changes(view.org)
    items = [html.Li([change.sentence, html.Br(), html.Span(
        f"{change.page}: {publiclink.address(change.href)}",
        className="small text-muted text-break")],
        className="mb-2") for change in whatchanged.changes(found["changes"], view.org)]
    return html.Section([
        html.H2(f"{number}. {whatchanged.title(found['since'])}", id="section-changes",
                className="h4 page-break"),
        html.Ol(items) if items else html.P(whatchanged.NOTHING_CHANGED),
        html.P(f"{whatchanged.HOW} The latest period of each metric, whatever the pack's "
               f"period. {publiclink.note() or ''}", className="small text-muted"),
    ], className="pack-section")


def intersections_section(number: int, view: BoardPackView) -> html.Section:
    """Ethnicity and deprivation together for the trust, for the pack metric with the most
    published cells (the first in pack order on a tie)."""
    heading = html.H2(f"{number}. Ethnicity and deprivation together",
                      id="section-intersections", className="h4 page-break")
    choices = []
    for metric in pack_metrics():
        labels = queries.dimension_periods(metric.id, "trust", ETHNICITY_BY_QUINTILE)
        if labels:
            period = view.period if view.period in labels else labels[-1]
            frame = queries.breakdown(metric.id, view.org, period, ETHNICITY_BY_QUINTILE, "none")
            choices.append((frame.filter(pl.col("status") == "ok").height, metric, period, frame))
    if not choices:
        return html.Section([heading, html.P("The published statistics give no metric by "
                                             "ethnicity and deprivation together for trusts.")])
    _, metric, period, frame = max(choices, key=lambda c: c[0])
    title = f"{metric.short_title} by ethnicity and deprivation quintile, {period}"
    return html.Section([
        heading,
        html.P(f"{metric.title} (the metric with the most published cells for this trust). "
               f"{crosstab.summary(frame)}", className="small"),
        _graph(figures.intersection_heatmap(frame, metric, title=title,
                                            source=_source(metric, period))
               .update_layout(height=480)),
        tables.html_table(crosstab.cell_rows(frame, metric),
                          caption=f"{title}. Ratio to {crosstab.reference()} with its 95% "
                          "CI."),
    ], className="pack-section")


MAP_HEADING = "The trust's region on the map"


def map_choice() -> tuple[registry.Metric, str] | None:
    """The first pack metric published by ethnicity for regions, with that breakdown; else
    the first published by deprivation quintile."""
    return next(((m, d) for d in MAP_DIMENSIONS for m in pack_metrics()
                 if d in queries.dimensions_at(m.id, "region")), None)


def _place(rank: int, count: int) -> str:
    """"the highest", "the 2nd highest", "the 3rd lowest" (from the nearer end)."""
    high = rank <= (count + 1) // 2
    n = rank if high else count - rank + 1
    suffix = {2: "nd", 3: "rd"}.get(n, "th")  # at most seven regions: no 11th to 13th
    nth = "" if n == 1 else f"{n}{suffix} "
    return f"the {nth}{'highest' if high else 'lowest'}"


def region_line(region: str, regions: pl.DataFrame, selection: maps.MapSelection,
                metric: registry.Metric) -> str:
    """Where the trust's region sits: its gap and the rank of its ratio among the regions."""
    who = fmt.subject(selection.group, selection.dimension, metric)
    ref = fmt.subject(selection.reference, selection.dimension, metric)
    row = next((r for r in regions.iter_rows(named=True) if r["region"] == region), None)
    if row is None:
        return f"The trust's region ({region or 'not known'}) is not on the map."
    if row["status"] != "ok":
        return (f"The trust is in {region}, which has no ratio of {who} to {ref}: "
                f"{row['gap'][0].lower()}{row['gap'][1:]}.")
    ranked = regions.filter(pl.col("status") == "ok").sort("ratio", descending=True)
    rank = ranked["region"].to_list().index(region) + 1
    noun = "share" if metric.statistic == registry.PROPORTION else "rate"
    significant = "a significant gap" if row["gap_significant"] else "no significant gap"
    return (f"The trust is in {region}, where {who} had {row['ratio']:.2f} times the {noun} "
            f"of {ref} (95% CI {row['ratio_lower95']:.2f} to {row['ratio_upper95']:.2f}, "
            f"{significant}): {_place(rank, ranked.height)} ratio of the {ranked.height} "
            f"regions{' with one' if ranked.height < regions.height else ''}.")


def trust_line(org: str, trusts: pl.DataFrame, selection: maps.MapSelection,
               metric: registry.Metric) -> str:
    """The trust's own marker in words (its figure for all women against England)."""
    row = trusts.filter(pl.col("org_code") == org) if not trusts.is_empty() else trusts
    who = fmt.subject(selection.trust_group, selection.trust_dimension, metric)
    if row.is_empty():
        return f"The trust has no figure for {who} in {selection.period}."
    r = row.row(0, named=True)
    shown = ""
    if r["status"] == "ok" and not fmt.missing(r["value"]):
        shown = f" ({fmt.value(metric, r['value'])}, " \
                f"{fmt.interval(metric, r['lower95'], r['upper95'])})"
    where = "ringed on the map" if r["x"] is not None else "not on the map (position not known)"
    return f"For {who}, the trust{shown} is {r['words'][0].lower()}{r['words'][1:]}; it is {where}."


def map_section(number: int, view: BoardPackView) -> html.Section:
    """The Map page's view of :func:`map_choice` (Black compared with White women; the most
    deprived quintile with the least), the pack's trust ringed and named."""
    heading = html.H2(f"{number}. {MAP_HEADING}", id="section-map", className="h4 page-break")
    choice = map_choice()
    if choice is None:
        return html.Section([heading, html.P(
            "This data store publishes no metric of the pack by ethnicity or deprivation for "
            "regions, so there is no map.")])
    metric, dimension = choice
    period = period_for(metric, view.period)
    selection = maps.MapSelection(metric.id, period, dimension, maps.DEFAULT_GROUP[dimension],
                                  trust_breakdowns=queries.dimensions_at(metric.id, "trust"))
    facts = map_facts.facts(selection)
    regions = maps.region_rows(selection, facts)
    trusts = maps.trust_rows(selection, facts)
    region = queries.organisations().filter(pl.col("org_code") == view.org)["region"]
    region = region[0] if region.len() and region[0] else ""
    title = maps.title_of(selection, metric)
    # The map takes the page's width: its legend and colour scale sit beside England, and
    # its title and the boundaries' attribution fit on their lines. The table follows.
    return html.Section([
        heading,
        html.P([region_line(region, regions, selection, metric), " ",
                trust_line(view.org, trusts, selection, metric)]),
        _graph(maps.selection_map(selection, regions, trusts, metric, highlight=view.org,
                                  height=560, synthetic=facts.synthetic)),
        tables.html_table(maps.region_table(regions, selection, metric),
                          caption=f"{title}. Ratio and difference: {selection.group} "
                          f"compared with {selection.reference}, with 95% CIs."),
        html.P(" ".join(metric.caveats), className="small text-muted"),
    ], className="pack-section")


def contents(view: BoardPackView, metrics: tuple[registry.Metric, ...]) -> html.Section:
    name = queries.org_name(view.org)
    items = [html.Li(html.A("Annex 3 scorecard against England", href="#section-scorecard")),
             html.Li(html.A(whatchanged.title(queries.changes(view.org)["since"]),
                            href="#section-changes"))]
    items += [html.Li(html.A(m.title, href=f"#section-{m.id}")) for m in metrics]
    items += [html.Li(html.A("Ethnicity and deprivation together",
                             href="#section-intersections")),
              html.Li(html.A(MAP_HEADING, href="#section-map"))]
    return html.Section([
        html.H1(f"Board pack: {name}", className="h2"),
        html.P(f"Maternity and neonatal equalities and performance, {view.period}. "
               f"Generated {datetime.now():%d %B %Y}."),
        dbc.Alert("Synthetic demonstration data: the trust and every figure are invented.",
                  color="warning") if queries.current().synthetic else None,
        html.H2("Contents", className="h4"),
        html.Ol(items),
        pagekit.content_markdown("scorecard", section="Reading the scorecard",
                                 class_name="small"),
    ], className="pack-contents")


# -- the board summary (the default pack) ----------------------------------------------------

def headline_chart(gap: summary_model.Gap, synthetic: bool) -> go.Figure:
    """The breakdown behind a headline gap, against England, sized for half a sheet."""
    figure = figures.breakdown_bars(gap.frame, gap.metric, title=words.chart_title(gap),
                                    source=words.source(gap, synthetic),
                                    comparator_label="England")
    return sized_for_print(figure, HALF_PAGE_CHART_PX - 30)


def summary_intro(model: summary_model.BoardSummary) -> html.Section:
    """The first lines: whose pack, which period, and the three things to know."""
    return html.Section([
        html.H1(f"Board summary: {model.org_name}", className="h2"),
        html.P(f"Maternity and neonatal equalities and performance, {model.period}. "
               f"Generated {datetime.now():%d %B %Y}."),
        dbc.Alert("Synthetic demonstration data: the trust and every figure are invented.",
                  color="warning", className="py-1") if model.synthetic else None,
        html.H2("In brief", className="h5"),
        html.Ul([html.Li(point) for point in words.key_points(model)]),
    ], className="pack-contents")


def summary_scorecard(number: int, model: summary_model.BoardSummary) -> html.Section:
    rows = card.scorecard_rows(model.scorecard)
    return html.Section([
        html.H2(f"{number}. Annex 3 scorecard against England", id="section-scorecard",
                className="h4"),
        card.scorecard_table(model.scorecard, rows, caption=f"Annex 3 metrics: "
                             f"{model.org_name} against England, latest period of each "
                             "metric.", table_id="pack-scorecard", links={}),
        card.rag_legend(),
    ], className="pack-section")


def summary_gaps(number: int, model: summary_model.BoardSummary) -> html.Section:
    heading = html.H2(f"{number}. The largest gaps", id="section-gaps", className="h4")
    if not model.gaps:
        return html.Section([heading, html.P(
            "No group of women or babies fares significantly worse than its reference group "
            "in any metric (95% level).")], className="pack-section")
    shown = model.listed_gaps
    return html.Section([
        heading,
        html.P(f"The {len(shown)} largest of {len(model.gaps)} significant gaps (95% level) "
               "where a group fares worse than White women (ethnicity) or women in the least "
               "deprived fifth of areas (deprivation), ranked by how many times worse. The "
               "numbers of women or babies are how many more (or fewer) had the outcome than "
               "if the group had had the reference group's rate.", className="small"),
        tables.html_table(words.gap_rows(shown), caption="The largest significant gaps."),
    ], className="pack-section")


def summary_changes(number: int, model: summary_model.BoardSummary) -> html.Section:
    items = [html.Li([change.sentence, " ", html.Span(
        f"{change.page}: {publiclink.address(change.href)}",
        className="small text-muted text-break")]) for change in words.changes(model)]
    return html.Section([
        html.H2(f"{number}. {whatchanged.title(model.since)}", id="section-changes",
                className="h4"),
        html.Ol(items, className="small") if items else html.P(whatchanged.NOTHING_CHANGED),
        html.P(f"{whatchanged.HOW} {publiclink.note() or ''}", className="small text-muted"),
    ], className="pack-section")


def headline_block(gap: summary_model.Gap, synthetic: bool) -> html.Div:
    """One headline: its chart, the gap in words and in numbers of people."""
    people = words.people(gap)
    return html.Div([
        html.H3(words.heading(gap), className="h6 mb-1"),
        _graph(headline_chart(gap, synthetic)),
        html.P(words.statement(gap), className="small mb-1"),
        html.P(people, className="small mb-1") if people else None,
    ], className="pack-block")


def summary_headlines(number: int, model: summary_model.BoardSummary) -> html.Section | None:
    if not model.headlines:
        return None
    blocks = [dbc.Col(headline_block(gap, model.synthetic), width=6)
              for gap in model.headlines]
    return html.Section([
        html.H2(f"{number}. The headlines in charts", id="section-headlines",
                className="h4"),
        dbc.Row(blocks),
    ], className="pack-section")


def summary_footer(view: BoardPackView) -> html.P:
    return html.P([
        "Every metric, with its trend, SPC chart and funnel plot, is in the full pack: ",
        html.Span(words.pack_link(view.org, view.period, full=True), className="text-break"),
        ". Methods, definitions and caveats: the Data and definitions page."],
        className="small text-muted mt-2")


def board_summary(view: BoardPackView) -> html.Div:
    """The default pack: two to six pages for a board to read in five minutes."""
    model = summary_model.summary(view.org, view.period)
    return html.Div([
        summary_intro(model),
        summary_scorecard(1, model),
        summary_gaps(2, model),
        summary_changes(3, model),
        summary_headlines(4, model),
        summary_footer(view),
    ], className="board-pack board-summary")


def full_pack(view: BoardPackView) -> html.Div:
    metrics = pack_metrics()
    return html.Div([
        contents(view, metrics),
        scorecard_section(view),
        changes_section(2, view),
        *[metric_section(i, view, m) for i, m in enumerate(metrics, start=3)],
        intersections_section(len(metrics) + 3, view),
        map_section(len(metrics) + 4, view),
    ], className="board-pack board-full")


@layouts.safe_layout(cache=False)  # states its generation date
def layout(**query) -> html.Div:
    view, notices = BoardPackView.parse(query)
    return html.Div([controls.notices(notices),
                     full_pack(view) if view.full else board_summary(view)])
