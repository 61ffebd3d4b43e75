"""Board pack: every metric for one trust, composed for printing as one numbered PDF.

Answers "what do we put in front of the board this month?": a contents page, the Annex 3
scorecard against England, what changed since a year earlier, then a page per metric with
the breakdowns by ethnicity and by deprivation, the trend with SPC and the trust's place
among all trusts (funnel plot and peer-group rank); then ethnicity and deprivation together,
and the trust's region on the map of England. Reached from the Scorecard page and
``equalities export board-pack``.

URL parameters: ``org`` (a trust code), ``period`` (a period label, e.g. ``2024-25``; each
metric uses it where it publishes it, otherwise its own latest period).
"""

from dataclasses import dataclass
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from components import (
    controls,
    crosstab,
    figures,
    gapwords,
    maps,
    pagekit,
    tables,
    viewstate,
    whatchanged,
)
from components import format as fmt
from components import scorecard as card
from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, ETHNICITY_BY_QUINTILE, QUINTILE, TOTAL
from views import map as map_facts
from web import layouts

dash.register_page(__name__, path="/board-pack", name="Board pack",
                   title="Board pack · Equalities", order=20,
                   canonical=lambda query: BoardPackView.parse(query)[0].search())

# Charts in a printed pack are pictures: no hover, no toolbar, lighter to draw; otherwise
# the shared config, so that nothing on them can send a chart off-site either.
STATIC = {**figures.CONFIG, "staticPlot": True, "displayModeBar": False}
SPC_KINDS = ("quarter", "financial_year", "calendar_year", "survey_year")


def pack_metrics(level: str = "trust") -> tuple[registry.Metric, ...]:
    """Metrics published at ``level``: Annex 3 first, then the rest in registry order."""
    at_level = [m for m in registry.OUTCOME_METRICS if level in m.levels]
    return tuple(sorted(at_level, key=lambda m: not m.annex3))


def _default_trust() -> str:
    trusts = queries.organisations().filter(
        (pl.col("org_level") == "trust") & pl.col("closed").is_null()).sort("name")
    return trusts["org_code"][0]


def _all_periods() -> list[str]:
    return sorted({p for m in pack_metrics() for p in queries.periods(m.id)})


@dataclass(frozen=True)
class BoardPackView:
    org: str
    period: str

    @classmethod
    def parse(cls, query: dict) -> tuple["BoardPackView", list[str]]:
        notices: list[str] = []
        trusts = queries.organisations().filter(pl.col("org_level") == "trust")["org_code"]
        org = viewstate.choose(query, "org", trusts.to_list(), _default_trust(), notices,
                               "trust")
        years = sorted({p for m in pack_metrics() for p in queries.periods(m.id, "financial_year")})
        known = _all_periods()
        latest = years[-1] if years else (known[-1] if known else "")
        period = viewstate.choose(query, "period", known, latest, notices, "period")
        return cls(org, period), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "period": self.period})


def period_for(metric: registry.Metric, wanted: str) -> str | None:
    """``wanted`` where the metric publishes it, else the metric's latest period."""
    if wanted in queries.periods(metric.id):
        return wanted
    return queries.latest_period(metric.id)


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
        _graph(figures.breakdown_bars(frame, metric, title=title, source=_source(metric, period),
                                      comparator_label="England")),
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
                           source=_source(metric, "all periods"), spc_group="All", height=480)
    projected, fits, _ = queries.projection(metric.id, view.org, kind, TOTAL)
    projected = projected.filter(pl.col("period").is_not_null()).with_columns(short) \
        if projected.height else projected
    figures.add_projection(figure, points, projected, metric)
    # Room above the plot for the legend's rows, below the title.
    figure.update_layout(margin=dict(t=150), legend=dict(y=1.02))
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
                f"({r['peer_group']}); funnel plot: {r['funnel'] or 'not assessed'}.")
    else:
        rank = "Not ranked: the trust's figure is suppressed or not available."
    return html.Div([
        _graph(figures.funnel(figures.plain_columns(points, "name"),
                              queries.funnel(metric.id, period), metric,
                              average=average, highlight=(view.org,),
                              title=f"{metric.short_title}: all trusts, {period}",
                              source=_source(metric, period))),
        html.P(rank, className="small"),
    ])


def metric_section(number: int, view: BoardPackView, metric: registry.Metric) -> html.Section:
    period = period_for(metric, view.period)
    heading = html.H2(f"{number}. {metric.title}", id=f"section-{metric.id}",
                      className="h4 page-break")
    if period is None:
        return html.Section([heading, html.P("No figures in this data store.")])
    dims = [d for d in (ETHNICITY, QUINTILE) if d in queries.dimensions_at(metric.id, "trust")]
    breakdowns = [dbc.Col(breakdown_block(view, metric, period, d), md=6) for d in dims]
    if not dims:
        note = fmt.breakdowns_note(metric, "trust", queries.held_dimensions(metric.id)) or \
            "This data store holds no figures by ethnicity or deprivation for trusts."
        breakdowns = [dbc.Col(html.P(note, className="small"), md=12)]
    return html.Section([
        heading,
        html.P(f"{metric.source} · {period} · {metric.definition}", className="small"),
        dbc.Row(breakdowns),
        dbc.Row([dbc.Col(trend_block(view, metric), md=6),
                 dbc.Col(benchmark_block(view, metric, period), md=6)]),
        html.P(" ".join(metric.caveats), className="small text-muted"),
    ], className="pack-section")


def scorecard_section(view: BoardPackView) -> html.Section:
    frame = queries.scorecard(view.org)
    name = queries.org_name(view.org)
    rows = card.scorecard_rows(frame)
    return html.Section([
        html.H2("1. Annex 3 scorecard against England", id="section-scorecard",
                className="h4 page-break"),
        html.P([html.Strong(f"{name}: "), card.summary(frame)]),
        _graph(card.dot_chart(frame, org_label="This trust",
                              title=f"Annex 3 metrics: {figures.plain(name)}",
                              source="Sources: MSDS, MBRRACE-UK, CQC, Performance dashboard.")),
        card.scorecard_table(frame, rows, caption=f"Annex 3 metrics: {name} against England, "
                             "latest period of each metric.", table_id="pack-scorecard",
                             links={}),
        card.rag_legend(),
    ])


def changes_section(number: int, view: BoardPackView) -> html.Section:
    """The trust's most important changes since a year earlier, as on the Overview; each
    names its view by path and query, since a printed link cannot be followed."""
    found = queries.changes(view.org)
    items = [html.Li([change.sentence, html.Br(), html.Span(
        f"{change.page}: {change.href}", className="small text-muted text-break")],
        className="mb-2") for change in whatchanged.changes(found["changes"], view.org)]
    return html.Section([
        html.H2(f"{number}. {whatchanged.title(found['since'])}", id="section-changes",
                className="h4 page-break"),
        html.Ol(items) if items else html.P(whatchanged.NOTHING_CHANGED),
        html.P(f"{whatchanged.HOW} The latest period of each metric, whatever the pack's "
               "period.", className="small text-muted"),
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
                                            source=_source(metric, period))),
        tables.html_table(crosstab.cell_rows(frame, metric),
                          caption=f"{title}. Ratio to {crosstab.reference()} with its 95% "
                          "CI."),
    ], className="pack-section")


MAP_HEADING = "The trust's region on the map"


def map_choice() -> tuple[registry.Metric, str] | None:
    """The first pack metric published by ethnicity for regions, with that breakdown; else
    the first published by deprivation quintile."""
    return next(((m, d) for d in maps.MAP_DIMENSIONS for m in pack_metrics()
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
                                  height=600, synthetic=facts.synthetic)),
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


@layouts.safe_layout(cache=False)  # states its generation date
def layout(**query) -> html.Div:
    view, notices = BoardPackView.parse(query)
    metrics = pack_metrics()
    return html.Div([
        controls.notices(notices),
        contents(view, metrics),
        scorecard_section(view),
        changes_section(2, view),
        *[metric_section(i, view, m) for i, m in enumerate(metrics, start=3)],
        intersections_section(len(metrics) + 3, view),
        map_section(len(metrics) + 4, view),
    ], className="board-pack")
