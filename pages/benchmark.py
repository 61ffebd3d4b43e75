"""Benchmark: trusts side by side, a funnel plot of every trust and a rank table.

Answers "how do we compare with England and with trusts like us, for all women and for each
group, and which trusts stand out by more than chance?"

URL parameters: ``metric`` (registry id, published at trust level), ``period`` (label),
``dim`` (breakdown of the side-by-side panels: total, ethnicity, deprivation_decile,
deprivation_quintile, as published for trusts), ``group`` (the group the funnel plot and rank
table show; ``All`` for all women), ``trusts`` (comma-separated trust codes, up to 8),
``peer`` (peer group that filters the rank table).
"""

from dataclasses import dataclass
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import benchmark as builders
from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from metrics import registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from views import benchmark as models
from views.benchmark import ALL_PEERS, Benchmark, group_choices, trust_metrics
from web import layouts

dash.register_page(__name__, path="/benchmark", name="Benchmark",
                   title="Benchmark · Equalities", order=2,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: BenchmarkView.parse(query)[0].search())

BENCHMARK_METRIC = "benchmark-metric"
BENCHMARK_PERIOD = "benchmark-period"
BENCHMARK_DIMENSION = "benchmark-dimension"
BENCHMARK_GROUP = "benchmark-group"
BENCHMARK_TRUSTS = "benchmark-trusts"
BENCHMARK_PEER = "benchmark-peer"
BENCHMARK_MULTIPLES = "benchmark-multiples"
BENCHMARK_MULTIPLES_TABLE = "benchmark-multiples-table"
BENCHMARK_MULTIPLES_DOWNLOAD_BUTTON = "benchmark-multiples-download-button"
BENCHMARK_MULTIPLES_DOWNLOAD = "benchmark-multiples-download"
BENCHMARK_FUNNEL = "benchmark-funnel"
BENCHMARK_FUNNEL_SUMMARY = "benchmark-funnel-summary"
BENCHMARK_RANK_TABLE = "benchmark-rank-table"
BENCHMARK_RANK_DOWNLOAD_BUTTON = "benchmark-rank-download-button"
BENCHMARK_RANK_DOWNLOAD = "benchmark-rank-download"

MAX_TRUSTS = 8
NO_PAGE_BREAK = {"breakInside": "avoid"}  # a chart printed whole on one sheet
DEFAULT_METRIC = "pph_1500"
INTRO = Path(__file__).resolve().parents[1] / "content" / "benchmark.md"


@dataclass(frozen=True)
class BenchmarkView:
    metric: str
    period: str
    dimension: str
    group: str
    trusts: tuple[str, ...]
    peer: str

    @classmethod
    def parse(cls, query: dict) -> tuple["BenchmarkView", list[str]]:
        notices: list[str] = []
        metric_id = viewstate.choose(query, "metric", trust_metrics(), DEFAULT_METRIC, notices,
                                     "metric for trusts")
        metric = registry.get(metric_id)
        offer = models.choices(metric_id)
        period = viewstate.choose(query, "period", offer.periods, offer.latest, notices,
                                  "period")
        dimension = controls.choose_dimension(query, metric, notices, org_name="trusts",
                                              offered=offer.dimensions, stored=offer.stored)
        group = viewstate.choose(query, "group", group_choices(dimension), ALL_GROUP, notices,
                                 "group")
        trusts = viewstate.choose_many(query, "trusts", offer.trusts["org_code"].to_list(),
                                       notices, "trust", MAX_TRUSTS)
        peer = viewstate.choose(query, "peer", [ALL_PEERS, *offer.peer_groups], ALL_PEERS,
                                notices, "peer group")
        return cls(metric_id, period, dimension, group, trusts, peer), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "group": self.group,
                                 "trusts": self.trusts,
                                 "peer": None if self.peer == ALL_PEERS else self.peer})

    @property
    def funnel_dimension(self) -> str:
        return models.funnel_dimension(self.dimension, self.group)


def model(view: BenchmarkView) -> Benchmark:
    """The page's one call into the seam for a parsed view."""
    return models.benchmark(view.metric, view.period, view.dimension, view.group,
                            view.trusts, view.peer)


def source_line(m: Benchmark, what: str) -> str:
    """Source and period, then what the marks mean on a second line (fits A4 portrait)."""
    return f"Source: {m.metric.source}, {m.period}.{fmt.synthetic_note(m.synthetic)}<br>{what}"


def who(m: Benchmark) -> str:
    """The funnel's group in words: "all women", "Black women"."""
    return fmt.subject(m.group, m.funnel_dimension, m.metric)


# -- chosen trusts side by side ------------------------------------------------------------


def multiples_rows(m: Benchmark) -> pl.DataFrame:
    """The side-by-side table as shown and downloaded."""
    return builders.multiples_rows([(c.name, c.frame) for c in m.chosen], m.metric,
                                   m.dimension)


def multiples_title(m: Benchmark) -> str:
    by = DIMENSIONS[m.dimension].label.lower() if m.dimension != TOTAL else \
        fmt.subject(ALL_GROUP, TOTAL, m.metric)
    return f"{m.metric.title}, {m.period}: chosen trusts, {by}"


def quality_warning(m: Benchmark) -> dbc.Alert | None:
    """A warning naming the chosen trusts whose recording makes the breakdown unreliable."""
    poor = m.poorly_recorded
    if not poor:
        return None
    first = poor[0].completeness
    what = "Ethnicity" if first["metric"] == "ethnicity_recorded" else "Deprivation"
    return dbc.Alert([
        html.Strong("Data quality warning: "),
        f"{what} was recorded for fewer than {first['threshold']:.0f}% of women at these "
        "trusts, so their breakdown may be unreliable:",
        html.Ul([html.Li(f"{c.name}: {c.completeness['value']:.1f}%") for c in poor],
                className="mb-0"),
    ], color="warning")


def multiples_section(m: Benchmark) -> html.Section:
    heading = html.H2("Chosen trusts side by side", className="h4 mt-3")
    if not m.chosen:
        return html.Section([heading, dbc.Alert(
            f"Choose up to {MAX_TRUSTS} trusts in “Trusts to compare” above to see them side by "
            f"side by {DIMENSIONS[m.dimension].label.lower()}, on one shared scale. The "
            "funnel plot and rank table below show every trust.", color="info")])
    title = multiples_title(m)
    figure = figures.small_multiples(
        [(c.name, c.frame) for c in m.chosen], m.metric, title=figures.wrap(title, 90),
        source=source_line(m, "Bars: 95% confidence intervals; all panels share one scale."))
    builders.fit_panel_height(figure, sum(not c.frame.is_empty() for c in m.chosen),
                              max(c.frame.height for c in m.chosen))
    rows = multiples_rows(m)
    return html.Section([
        heading,
        quality_warning(m),
        html.P("No figures to show for " + ", ".join(m.unreported) + " in this period: the "
               "trust did not report (it may have merged or closed).",
               className="text-muted") if m.unreported else None,
        html.Div(dcc.Graph(id=BENCHMARK_MULTIPLES, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        # The table view is long (trusts x groups), so it folds away under the chart.
        html.Details([
            html.Summary(f"Show the chart as a table ({rows.height} rows) and download"),
            tables.html_table(rows, caption=f"{title}.", table_id=BENCHMARK_MULTIPLES_TABLE),
            pagekit.download_button(BENCHMARK_MULTIPLES_DOWNLOAD_BUTTON,
                                    BENCHMARK_MULTIPLES_DOWNLOAD),
        ], className="mt-2") if not rows.is_empty() else None,
    ])


# -- funnel plot and rank table ------------------------------------------------------------


def rank_rows(m: Benchmark) -> pl.DataFrame:
    """The whole rank table (the download; the page may show fewer rows)."""
    return builders.rank_rows(m.peer_ranked, m.metric)


def funnel_sentence(m: Benchmark) -> str:
    return builders.funnel_sentence(m.funnel_counts, m.metric, who=who(m), period=m.period,
                                    england=m.england)


def funnel_figure(m: Benchmark):
    title = f"{m.metric.title}, {who(m)}: all trusts, {m.period}"
    figure = figures.funnel(
        builders.funnel_points(m.ranked, m.metric), m.limits, m.metric, average=m.england,
        highlight=m.trusts, title=figures.wrap(title, 90), source=source_line(
            m, "Limits: 95% (dashed) and 99.8% (solid) around England's value."))
    builders.stagger_labels(figure)
    return figure


def rank_table(m: Benchmark) -> list:
    """The note on what the table holds, and the sortable table (chosen trusts marked)."""
    rows, left_out = builders.shown_rank_rows(rank_rows(m), m.trusts)
    which = f"trusts in the peer group “{m.peer}”" if m.peer != ALL_PEERS else "all trusts"
    first = "best" if m.metric.polarity != registry.NO_JUDGEMENT else "highest"
    caption = (f"{m.metric.title}, {who(m)}: {which}, {m.period}, {first} first "
               f"(rank 1 = {first}). Select a column heading to sort.")
    return [
        html.P(f"Chosen trusts are highlighted in bold. Ranks are within each trust's peer "
               f"group of similar size. {left_out}".strip(), className="small text-muted mb-2"),
        tables.sortable_table(
            rows, caption=caption, table_id=BENCHMARK_RANK_TABLE, label="Rank table of trusts",
            row_classes=["chosen" if code in m.trusts else "" for code in rows["Code"]])
        if not rows.is_empty() else
        dbc.Alert("No trusts in this peer group have figures for this period.", color="light"),
    ]


def funnel_section(m: Benchmark) -> html.Section:
    return html.Section([
        html.H2("All trusts: funnel plot", className="h4 mt-4"),
        html.P(funnel_sentence(m), id=BENCHMARK_FUNNEL_SUMMARY),
        html.Div(dcc.Graph(id=BENCHMARK_FUNNEL, figure=funnel_figure(m), config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        html.H2("Rank table", className="h4 mt-4"),
        dbc.Row(controls.labelled("Show the peer group", controls.dropdown(
            BENCHMARK_PEER, [{"label": "All trusts", "value": ALL_PEERS}]
            + [{"label": p, "value": p} for p in m.choices.peer_groups], m.peer),
            BENCHMARK_PEER, 6), className="d-print-none"),
        *rank_table(m),
        html.Div(pagekit.download_button(BENCHMARK_RANK_DOWNLOAD_BUTTON,
                                         BENCHMARK_RANK_DOWNLOAD), className="mt-2"),
    ])


# -- page ------------------------------------------------------------------------------------


# Dash 4's multi-select names its button "2 selected A, B" but shows "A, B 2 selected",
# which fails WCAG 2.5.3 (label in name, axe label-content-name-mismatch); the count is in
# the label above instead. Dash replaces, not merges, ``labels``, so every key is given.
PICKER_LABELS = {"select_all": "Select all", "deselect_all": "Deselect all",
                 "selected_count": "", "search": "Search", "clear_search": "Clear search",
                 "clear_selection": "Clear selection", "no_options_found": "No trusts found"}


def trust_picker(m: Benchmark):
    # Every option is a trust, so the level suffix the shared options carry is noise here.
    options = [o | {"label": o["label"].replace(" (Trust)", "")}
               for o in controls.org_options(m.choices.trusts, ("trust",))]
    picker = controls.dropdown(BENCHMARK_TRUSTS, options, list(m.trusts), multi=True,
                               clearable=True, placeholder="Type a trust's name")
    picker.labels = PICKER_LABELS
    return picker


def controls_card(m: Benchmark) -> html.Div:
    metrics = [metric for metric in registry.OUTCOME_METRICS if metric.id in trust_metrics()]
    groups = [{"label": ("All women and babies" if g == ALL_GROUP else g), "value": g}
              for g in group_choices(m.dimension)]
    return html.Div(controls.card("Choose a view", dbc.Row([
        controls.labelled("Metric", controls.dropdown(
            BENCHMARK_METRIC, controls.metric_options(tuple(metrics)), m.metric.id),
            BENCHMARK_METRIC, 5),
        controls.labelled("Period", controls.dropdown(
            BENCHMARK_PERIOD, [{"label": p, "value": p} for p in m.choices.periods],
            m.period), BENCHMARK_PERIOD, 3),
        controls.labelled("Breakdown", controls.dropdown(
            BENCHMARK_DIMENSION, controls.dimension_options(m.choices.dimensions),
            m.dimension), BENCHMARK_DIMENSION, 4),
        controls.labelled(f"Trusts to compare ({len(m.trusts)} of up to {MAX_TRUSTS} "
                          "chosen)", trust_picker(m), BENCHMARK_TRUSTS, 8),
        controls.labelled("Group for the funnel and rank table", controls.dropdown(
            BENCHMARK_GROUP, groups, m.group), BENCHMARK_GROUP, 4),
    ])), className="d-print-none")


def intro() -> dcc.Markdown:
    return dcc.Markdown(INTRO.read_text(encoding="utf-8"), className="mb-2")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = BenchmarkView.parse(query)
    m = model(view)
    return html.Div([
        pagekit.heading("Benchmark", "Trusts side by side, a funnel plot of every trust "
                        "against England and a rank table within peer groups."),
        controls.notices(notices),
        controls_card(m),
        html.Details([html.Summary("About this page: how to read the funnel plot, and caveats"),
                      intro()], className="mb-3"),
        multiples_section(m),
        funnel_section(m),
        html.P(html.Small(" ".join(m.metric.caveats)), className="text-muted mt-3")
        if m.metric.caveats else None,
    ])


FOLLOWED = viewstate.follow_controls({
    "metric": BENCHMARK_METRIC, "period": BENCHMARK_PERIOD, "dim": BENCHMARK_DIMENSION,
    "group": BENCHMARK_GROUP, "trusts": BENCHMARK_TRUSTS, "peer": BENCHMARK_PEER})


def _model_of(search: str) -> Benchmark:
    return model(BenchmarkView.parse(viewstate.query_of(search))[0])


def _preamble(m: Benchmark, heading: str) -> list[str]:
    return pagekit.preamble(heading, m.metric.source, synthetic=m.synthetic)


def multiples_csv(search: str) -> dict:
    """The side-by-side table for the view in ``search`` as a CSV download."""
    m = _model_of(search)
    heading = (f"{m.metric.title}, {m.period}, chosen trusts by "
               f"{DIMENSIONS[m.dimension].label.lower()}")
    return dict(content=pagekit.csv_text(multiples_rows(m), _preamble(m, heading)),
                filename=f"benchmark-{m.metric.id}-trusts.csv", type="text/csv")


def rank_csv(search: str) -> dict:
    """The rank table for the view in ``search`` as a CSV download, in the order shown."""
    m = _model_of(search)
    peer = f", peer group {m.peer}" if m.peer != ALL_PEERS else ""
    heading = f"{m.metric.title}, {who(m)}, all trusts, {m.period}{peer}"
    return dict(content=pagekit.csv_text(rank_rows(m), _preamble(m, heading)),
                filename=f"benchmark-{m.metric.id}-ranks.csv", type="text/csv")


@callback(Output(BENCHMARK_MULTIPLES_DOWNLOAD, "data"),
          Input(BENCHMARK_MULTIPLES_DOWNLOAD_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def on_multiples_download(_clicks, search):
    return multiples_csv(search)


@callback(Output(BENCHMARK_RANK_DOWNLOAD, "data"),
          Input(BENCHMARK_RANK_DOWNLOAD_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def on_rank_download(_clicks, search):
    return rank_csv(search)
