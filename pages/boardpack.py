"""Board pack: every metric for one trust, composed for printing as one numbered PDF.

Answers "what do we put in front of the board this month?": a contents page, the Annex 3
scorecard against England, then a page per metric with the breakdowns by ethnicity and by
deprivation, the trend with SPC and the trust's place among all trusts (funnel plot and
peer-group rank). Reached from the Scorecard page and ``equalities export board-pack``.

URL parameters: ``org`` (a trust code), ``period`` (a period label, e.g. ``2024-25``; each
metric uses it where it publishes it, otherwise its own latest period).
"""

from dataclasses import dataclass
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from components import controls, crosstab, figures, pagekit, tables, viewstate
from components import format as fmt
from components import scorecard as card
from data import queries
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, ETHNICITY_BY_QUINTILE, QUINTILE, TOTAL

dash.register_page(__name__, path="/board-pack", name="Board pack",
                   title="Board pack · Equalities", order=20,
                   canonical=lambda query: BoardPackView.parse(query)[0].search())

# Charts in a printed pack are pictures: no hover, no toolbar, lighter to draw.
STATIC = {"staticPlot": True, "displayModeBar": False}
SPC_KINDS = ("quarter", "financial_year", "calendar_year", "survey_year")


def pack_metrics(level: str = "trust") -> tuple[registry.Metric, ...]:
    """Metrics published at ``level``: Annex 3 first, then the rest in registry order."""
    at_level = [m for m in registry.METRICS_LIST if level in m.levels]
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
    synthetic = " Synthetic demonstration data." if queries.current().synthetic else ""
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
                          caption=f"{title}. * suppressed; : not available; - zero."),
    ])


def trend_block(view: BoardPackView, metric: registry.Metric) -> html.Div | None:
    kind = next((k for k in SPC_KINDS if k in metric.period_kinds), None)
    if kind is None:
        return None
    points, summaries = queries.trend(metric.id, view.org, kind, TOTAL)
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
    ])


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
        _graph(figures.funnel(points, queries.funnel(metric.id, period), metric,
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
        breakdowns = [dbc.Col(html.P(f"{metric.source} does not publish this metric by "
                                     "ethnicity or deprivation for trusts.", className="small"),
                              md=12)]
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
        _graph(card.dot_chart(frame, org_label="This trust", title=f"Annex 3 metrics: {name}",
                              source="Sources: MSDS, MBRRACE-UK, CQC, Performance dashboard.")),
        card.scorecard_table(frame, rows, caption=f"Annex 3 metrics: {name} against England, "
                             "latest period of each metric.", table_id="pack-scorecard",
                             links={}),
        card.rag_legend(),
    ])


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
                          caption=f"{title}. Ratio to {crosstab.reference()} with its 95% CI; "
                          "* suppressed; : not available; - zero."),
    ], className="pack-section")


def contents(view: BoardPackView, metrics: tuple[registry.Metric, ...]) -> html.Section:
    name = queries.org_name(view.org)
    items = [html.Li(html.A("Annex 3 scorecard against England", href="#section-scorecard"))]
    items += [html.Li(html.A(m.title, href=f"#section-{m.id}")) for m in metrics]
    items.append(html.Li(html.A("Ethnicity and deprivation together",
                                href="#section-intersections")))
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


@pagekit.safe_layout(cache=False)  # states its generation date
def layout(**query) -> html.Div:
    view, notices = BoardPackView.parse(query)
    metrics = pack_metrics()
    return html.Div([
        controls.notices(notices),
        contents(view, metrics),
        scorecard_section(view),
        *[metric_section(i, view, m) for i, m in enumerate(metrics, start=2)],
        intersections_section(len(metrics) + 2, view),
    ], className="board-pack")
