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

from components import controls, figures, ids, pagekit, tables, viewstate
from components import format as fmt
from data import queries
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
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
ALL_PEERS = "all"
DEFAULT_METRIC = "pph_1500"
INTRO = Path(__file__).resolve().parents[1] / "content" / "benchmark.md"
# PHE funnel labels as words for people: which limit a trust is beyond and on which side.
FUNNEL_WORDS = {"High (0.001)": ("Above the 99.8% limit", "high"),
                "High (0.025)": ("Above the 95% limit", "high"),
                "Low (0.001)": ("Below the 99.8% limit", "low"),
                "Low (0.025)": ("Below the 95% limit", "low"),
                "Not significant": ("Within the limits", None)}


def trust_metrics() -> list[str]:
    """Metrics published at trust level, the only ones trusts can be benchmarked on."""
    return [m.id for m in registry.OUTCOME_METRICS if "trust" in m.levels]


def trust_frame() -> pl.DataFrame:
    return queries.organisations().filter(pl.col("org_level") == "trust")


def peer_groups() -> list[str]:
    return sorted(trust_frame()["peer_group"].drop_nulls().unique().to_list())


def group_choices(dimension: str) -> list[str]:
    """The groups a funnel can show: all women, then each known group of the breakdown."""
    return [ALL_GROUP] + ([] if dimension == TOTAL else list(DIMENSIONS[dimension].groups))


def metric_periods(metric: registry.Metric) -> list[str]:
    """Every period of the metric, newest first within each kind."""
    return [p for kind in metric.period_kinds for p in reversed(queries.periods(metric.id, kind))]


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
        latest = queries.latest_period(metric_id) or ""
        period = viewstate.choose(query, "period", metric_periods(metric), latest, notices,
                                  "period")
        dimension = controls.choose_dimension(
            query, metric, notices, org_name="trusts",
            offered=queries.dimensions_at(metric.id, "trust"),
            stored=queries.stored_dimensions(metric.id, "trust"))
        group = viewstate.choose(query, "group", group_choices(dimension), ALL_GROUP, notices,
                                 "group")
        trusts = viewstate.choose_many(query, "trusts", trust_frame()["org_code"].to_list(),
                                       notices, "trust", MAX_TRUSTS)
        peer = viewstate.choose(query, "peer", [ALL_PEERS, *peer_groups()], ALL_PEERS, notices,
                                "peer group")
        return cls(metric_id, period, dimension, group, trusts, peer), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "dim": self.dimension, "group": self.group,
                                 "trusts": self.trusts,
                                 "peer": None if self.peer == ALL_PEERS else self.peer})

    @property
    def funnel_dimension(self) -> str:
        """The funnel's breakdown: the total for all women, else the chosen breakdown."""
        return TOTAL if self.group == ALL_GROUP else self.dimension


def source_line(metric: registry.Metric, period: str, what: str) -> str:
    """Source and period, then what the marks mean on a second line (fits A4 portrait)."""
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return f"Source: {metric.source}, {period}.{synthetic}<br>{what}"


def who(view: BenchmarkView, metric: registry.Metric) -> str:
    """The funnel's group in words: "all women", "Black women"."""
    return fmt.subject(view.group, view.funnel_dimension, metric)


def england_value(view: BenchmarkView) -> float | None:
    """England's figure for the funnel's group: the benchmark line and centre of the limits."""
    frame = queries.breakdown(view.metric, "ENG", view.period, view.funnel_dimension, "none")
    row = frame.filter(pl.col("group") == view.group)
    return None if row.is_empty() or fmt.missing(row["value"][0]) else row["value"][0]


# -- chosen trusts side by side ------------------------------------------------------------


def chosen_frames(view: BenchmarkView) -> list[tuple[str, str, pl.DataFrame]]:
    """(code, name, breakdown) for each chosen trust, in the order chosen."""
    return [(code, queries.org_name(code),
             queries.breakdown(view.metric, code, view.period, view.dimension, "none"))
            for code in view.trusts]


def multiples_rows(frames: list[tuple[str, str, pl.DataFrame]], metric: registry.Metric,
                   dimension: str) -> pl.DataFrame:
    """The side-by-side panels as a table: one row per trust and group, as on screen."""
    parts = [tables.breakdown_rows(frame, metric, None).select(
        pl.lit(name).alias("Trust"), pl.all()) for _, name, frame in frames
        if not frame.is_empty()]
    if not parts:
        return pl.DataFrame()
    rows = pl.concat(parts)
    # The total has no reference group, so no ratio to one.
    return rows.drop("Ratio to reference (95% CI)", strict=False) if dimension == TOTAL \
        else rows


def fit_panel_height(figure, panels: int, groups: int) -> None:
    """Size each row of panels to its number of bars (one bar for the total needs no 300
    pixels), keeping room for the titles and the source note."""
    rows = max(1, -(-panels // 4))
    figure.update_layout(height=140 + rows * max(150, 40 + 30 * groups))


def quality_warning(view: BenchmarkView) -> dbc.Alert | None:
    """A warning naming the chosen trusts whose recording makes the breakdown unreliable."""
    poor = [(code, info) for code in view.trusts
            if (info := queries.completeness(code, view.period, view.dimension))
            and info["poor"]]
    if not poor:
        return None
    what = "Ethnicity" if poor[0][1]["metric"] == "ethnicity_recorded" else "Deprivation"
    return dbc.Alert([
        html.Strong("Data quality warning: "),
        f"{what} was recorded for fewer than {poor[0][1]['threshold']:.0f}% of women at these "
        "trusts, so their breakdown may be unreliable:",
        html.Ul([html.Li(f"{queries.org_name(code)}: {info['value']:.1f}%")
                 for code, info in poor], className="mb-0"),
    ], color="warning")


def multiples_section(view: BenchmarkView, metric: registry.Metric) -> html.Section:
    heading = html.H2("Chosen trusts side by side", className="h4 mt-3")
    if not view.trusts:
        return html.Section([heading, dbc.Alert(
            f"Choose up to {MAX_TRUSTS} trusts in “Trusts to compare” above to see them side by "
            f"side by {DIMENSIONS[view.dimension].label.lower()}, on one shared scale. The "
            "funnel plot and rank table below show every trust.", color="info")])
    frames = chosen_frames(view)
    # Trusts with no row at all (not suppressed ones, which their panel labels) get named.
    missing = [name for _, name, frame in frames if frame.is_empty()
               or (frame["value"].is_null().all() and not frame["suppressed"].any())]
    by = DIMENSIONS[view.dimension].label.lower() if view.dimension != TOTAL else \
        fmt.subject(ALL_GROUP, TOTAL, metric)
    title = f"{metric.title}, {view.period}: chosen trusts, {by}"
    figure = figures.small_multiples(
        [(name, frame) for _, name, frame in frames], metric, title=figures.wrap(title, 90),
        source=source_line(metric, view.period, "Bars: 95% confidence intervals; "
                           "all panels share one scale."))
    fit_panel_height(figure, sum(not f.is_empty() for _, _, f in frames),
                     max((f.height for _, _, f in frames), default=1))
    rows = multiples_rows(frames, metric, view.dimension)
    return html.Section([
        heading,
        quality_warning(view),
        html.P("No figures to show for " + ", ".join(missing) + " in this period: the trust "
               "did not report (it may have merged or closed).",
               className="text-muted") if missing else None,
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


def funnel_words(label: str | None, status: str, metric: registry.Metric) -> str:
    """A trust's funnel position in words, with the metric's polarity: "Above the 99.8%
    limit (worse)"; suppressed trusts say so."""
    if status == "suppressed":
        return "Suppressed (small numbers)"
    if label is None or label not in FUNNEL_WORDS:
        return "No data"
    words, side = FUNNEL_WORDS[label]
    if side is None or metric.polarity == registry.NO_JUDGEMENT:
        return words
    high, low = polarity_word(metric)
    return f"{words} ({high if side == 'high' else low})"


def funnel_counts(frame: pl.DataFrame) -> dict[str, int]:
    """How many trusts carry each PHE funnel label, and how many are suppressed."""
    counts = {label: 0 for label in FUNNEL_WORDS}
    for label, n in frame.group_by("funnel").len().iter_rows():
        if label in counts:
            counts[label] = n
    counts["suppressed"] = frame.filter(pl.col("status") == "suppressed").height
    counts["no data"] = frame.filter(pl.col("status") == "no data").height
    counts["trusts"] = frame.height
    return counts


def _trusts(n: int) -> str:
    return f"{n} trust" if n == 1 else f"{n} trusts"


def funnel_sentence(frame: pl.DataFrame, metric: registry.Metric, view: BenchmarkView,
                    average: float | None) -> str:
    """What the funnel shows and how many trusts lie beyond its limits, in one paragraph."""
    c = funnel_counts(frame)
    plotted = c["trusts"] - c["suppressed"] - c["no data"]
    if plotted == 0:
        return (f"No trust has a published figure for {who(view, metric)} in {view.period}: "
                f"all {c['trusts']} are suppressed because of small numbers or did not report.")
    high, low = polarity_word(metric)
    judged = metric.polarity != registry.NO_JUDGEMENT
    benchmark = f"England's {fmt.value(metric, average)}" if average is not None else \
        "the average of the trusts shown"
    held_back = f" ({_trusts(c['suppressed'])} suppressed because of small numbers)" \
        if c["suppressed"] else ""
    return (
        f"The funnel plot compares the figure for {who(view, metric)} in each of "
        f"{_trusts(plotted)}{held_back} with {benchmark}, allowing for each trust's size. "
        f"{_trusts(c['High (0.001)'])} {'is' if c['High (0.001)'] == 1 else 'are'} above the "
        f"99.8% limit and {c['High (0.025)']} more above the 95% limit"
        f"{f' (higher: {high})' if judged else ''}; "
        f"{_trusts(c['Low (0.001)'])} {'is' if c['Low (0.001)'] == 1 else 'are'} below the "
        f"99.8% limit and {c['Low (0.025)']} more below the 95% limit"
        f"{f' (lower: {low})' if judged else ''}; "
        f"{c['Not significant']} {'is' if c['Not significant'] == 1 else 'are'} within the limits."
    )


def rank_rows(frame: pl.DataFrame, metric: registry.Metric, peer: str) -> pl.DataFrame:
    """The rank table as shown and downloaded, as text: the metric's decimals and thousands
    commas; suppressed cells hold ``*``, unavailable ``:`` and zero counts ``-``."""
    if peer != ALL_PEERS:
        frame = frame.filter(pl.col("peer_group") == peer)
    frame = frame.sort(pl.col("rank_overall"), pl.col("name"), nulls_last=True)

    def count(n, suppressed) -> str:
        if fmt.missing(n):
            return "*" if suppressed else ":"
        return "-" if n == 0 else f"{int(n):,}"

    rows = []
    for row in frame.iter_rows(named=True):
        hidden = row["status"] == "suppressed"
        shown = not hidden and not fmt.missing(row["value"])
        rows.append({
            "Code": row["org_code"],
            "Trust": row["name"],
            "Region": row["region"] or ":",
            "ICB": row["icb"] or ":",
            "Peer group": row["peer_group"] or ":",
            f"Value ({metric.unit})": fmt.number(row["value"], metric.decimals) if shown
            else ("*" if hidden else ":"),
            "95% CI": fmt.interval(metric, row["lower95"], row["upper95"]).removeprefix(
                "95% CI ") if shown else ("*" if hidden else ":"),
            "Numerator": count(row["numerator"], row["suppressed"]),
            "Denominator": count(row["denominator"], row["suppressed"]),
            "Funnel plot": funnel_words(row["funnel"], row["status"], metric),
            "Rank in peer group": f"{row['rank_in_peer_group']:,}" if shown else
            ("*" if hidden else ":"),
            "Trusts ranked in peer group": f"{row['peers_ranked']:,}",
        })
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows \
        else pl.DataFrame()


RANK_TABLE_MAX = tables.PAGE_ROWS_MAX


def shown_rank_rows(rows: pl.DataFrame, chosen: tuple[str, ...],
                    limit: int = RANK_TABLE_MAX) -> tuple[pl.DataFrame, str]:
    """The rank table's rows for the page, and a sentence saying what was left out.

    Up to ``limit`` rows show whole. A longer table (a store of many trusts) shows the
    ``limit / 2`` first and last ranked trusts and the chosen ones, in rank order, so that
    the page stays small; the CSV download holds every row."""
    if rows.height <= limit:
        return rows, ""
    half = limit // 2
    ranked = pl.col("Rank in peer group").str.contains(r"^\d")
    place = pl.int_range(pl.len()).over(ranked)  # position among the ranked (or unranked)
    is_chosen = pl.col("Code").is_in(list(chosen))
    keep = rows.filter((ranked & ((place < half) | (place >= ranked.sum() - half)))
                       | is_chosen)
    chosen_too = " and the chosen ones" if rows.select(is_chosen.any()).item() else ""
    note = (f"Showing the {half} first and {half} last ranked trusts{chosen_too}: "
            f"{keep.height:,} of {rows.height:,}. The download holds all {rows.height:,} "
            f"({rows.height - keep.height:,} not shown here).")
    return keep, note


def rank_table(rows: pl.DataFrame, view: BenchmarkView, caption: str) -> html.Div:
    """The sortable rank table, the chosen trusts' rows highlighted."""
    return tables.sortable_table(
        rows, caption=caption, table_id=BENCHMARK_RANK_TABLE, label="Rank table of trusts",
        row_classes=["chosen" if code in view.trusts else "" for code in rows["Code"]])


def short_name(name: str) -> str:
    """A trust's name without the "NHS (Foundation) Trust" tail, for labels on a chart."""
    for tail in (" NHS Foundation Trust", " NHS Trust"):
        if name.endswith(tail):
            return name.removesuffix(tail)
    return name


def stagger_labels(figure) -> None:
    """Put the chosen trusts' name labels alternately above and below their points, from the
    highest value down, so that two trusts with similar values label away from each other."""
    for trace in figure.data:
        if trace.name == "Chosen trusts" and trace.y:
            order = sorted(range(len(trace.y)), key=lambda i: -trace.y[i])
            places = [""] * len(order)
            for rank, i in enumerate(order):
                places[i] = "top center" if rank % 2 == 0 else "bottom center"
            trace.textposition = places


def funnel_section(view: BenchmarkView, metric: registry.Metric) -> html.Section:
    frame = queries.benchmark(view.metric, view.period, view.funnel_dimension, view.group)
    curve = queries.funnel(view.metric, view.period, view.funnel_dimension, view.group)
    average = england_value(view)
    group_words = who(view, metric)
    title = f"{metric.title}, {group_words}: all trusts, {view.period}"
    # Trust names are data: escaped, so that Plotly draws them as written.
    points = figures.plain_columns(frame.with_columns(
        funnel=pl.Series([funnel_words(lab, st, metric) for lab, st in
                          zip(frame["funnel"], frame["status"], strict=True)], dtype=pl.String),
        name=pl.col("name").map_elements(short_name, return_dtype=pl.String),
    ), "name")
    figure = figures.funnel(points, curve, metric, average=average, highlight=view.trusts,
                            title=figures.wrap(title, 90), source=source_line(
                                metric, view.period, "Limits: 95% (dashed) and 99.8% (solid) "
                                "around England's value."))
    stagger_labels(figure)
    rows, left_out = shown_rank_rows(rank_rows(frame, metric, view.peer), view.trusts)
    which = f"trusts in the peer group “{view.peer}”" if view.peer != ALL_PEERS else \
        "all trusts"
    first = "best" if metric.polarity != registry.NO_JUDGEMENT else "highest"
    caption = (f"{metric.title}, {group_words}: {which}, {view.period}, {first} first "
               f"(rank 1 = {first}). Select a column heading to sort.")
    return html.Section([
        html.H2("All trusts: funnel plot", className="h4 mt-4"),
        html.P(funnel_sentence(frame, metric, view, average), id=BENCHMARK_FUNNEL_SUMMARY),
        html.Div(dcc.Graph(id=BENCHMARK_FUNNEL, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        html.H2("Rank table", className="h4 mt-4"),
        dbc.Row(controls.labelled("Show the peer group", controls.dropdown(
            BENCHMARK_PEER, [{"label": "All trusts", "value": ALL_PEERS}]
            + [{"label": p, "value": p} for p in peer_groups()], view.peer),
            BENCHMARK_PEER, 6), className="d-print-none"),
        html.P(f"Chosen trusts are highlighted in bold. Ranks are within each trust's peer "
               f"group of similar size. {left_out}".strip(), className="small text-muted mb-2"),
        rank_table(rows, view, caption) if not rows.is_empty() else
        dbc.Alert("No trusts in this peer group have figures for this period.", color="light"),
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


def trust_picker(options: list[dict], chosen: tuple[str, ...]):
    picker = controls.dropdown(BENCHMARK_TRUSTS, options, list(chosen), multi=True,
                               clearable=True, placeholder="Type a trust's name")
    picker.labels = PICKER_LABELS
    return picker


def controls_card(view: BenchmarkView) -> html.Div:
    metric = registry.get(view.metric)
    # Every option is a trust, so the level suffix the shared options carry is noise here.
    trusts = [o | {"label": o["label"].replace(" (Trust)", "")}
              for o in controls.org_options(queries.organisations(), ("trust",))]
    metrics = [m for m in registry.OUTCOME_METRICS if m.id in trust_metrics()]
    groups = [{"label": ("All women and babies" if g == ALL_GROUP else g), "value": g}
              for g in group_choices(view.dimension)]
    return html.Div(controls.card("Choose a view", dbc.Row([
        controls.labelled("Metric", controls.dropdown(
            BENCHMARK_METRIC, controls.metric_options(tuple(metrics)), view.metric),
            BENCHMARK_METRIC, 5),
        controls.labelled("Period", controls.dropdown(
            BENCHMARK_PERIOD, [{"label": p, "value": p} for p in metric_periods(metric)],
            view.period), BENCHMARK_PERIOD, 3),
        controls.labelled("Breakdown", controls.dropdown(
            BENCHMARK_DIMENSION,
            controls.dimension_options(queries.dimensions_at(metric.id, "trust")),
            view.dimension), BENCHMARK_DIMENSION, 4),
        controls.labelled(f"Trusts to compare ({len(view.trusts)} of up to {MAX_TRUSTS} "
                          "chosen)", trust_picker(trusts, view.trusts), BENCHMARK_TRUSTS, 8),
        controls.labelled("Group for the funnel and rank table", controls.dropdown(
            BENCHMARK_GROUP, groups, view.group), BENCHMARK_GROUP, 4),
    ])), className="d-print-none")


def intro() -> dcc.Markdown:
    return dcc.Markdown(INTRO.read_text(encoding="utf-8"), className="mb-2")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = BenchmarkView.parse(query)
    metric = registry.get(view.metric)
    return html.Div([
        pagekit.heading("Benchmark", "Trusts side by side, a funnel plot of every trust "
                        "against England and a rank table within peer groups."),
        controls.notices(notices),
        controls_card(view),
        html.Details([html.Summary("About this page: how to read the funnel plot, and caveats"),
                      intro()], className="mb-3"),
        multiples_section(view, metric),
        funnel_section(view, metric),
        html.P(html.Small(" ".join(metric.caveats)), className="text-muted mt-3")
        if metric.caveats else None,
    ])


@callback(
    Output(ids.PAGE_URL, "search", allow_duplicate=True),
    Input(BENCHMARK_METRIC, "value"),
    Input(BENCHMARK_PERIOD, "value"),
    Input(BENCHMARK_DIMENSION, "value"),
    Input(BENCHMARK_GROUP, "value"),
    Input(BENCHMARK_TRUSTS, "value"),
    Input(BENCHMARK_PEER, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def update_url(metric, period, dimension, group, trusts, peer, current):
    chosen = ",".join(trusts) if isinstance(trusts, (list, tuple)) else trusts
    return viewstate.next_search(BenchmarkView, {
        "metric": metric, "period": period, "dim": dimension, "group": group,
        "trusts": chosen, "peer": peer}, current)


def _preamble(metric: registry.Metric, heading: str) -> list[str]:
    return pagekit.preamble(heading, metric.source, synthetic=queries.current().synthetic)


def multiples_csv(search: str) -> dict:
    """The side-by-side table for the view in ``search`` as a CSV download."""
    view, _ = BenchmarkView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    rows = multiples_rows(chosen_frames(view), metric, view.dimension)
    return dict(content=pagekit.csv_text(rows, _preamble(
        metric, f"{metric.title}, {view.period}, chosen trusts by "
                f"{DIMENSIONS[view.dimension].label.lower()}")),
        filename=f"benchmark-{view.metric}-trusts.csv", type="text/csv")


def rank_csv(search: str) -> dict:
    """The rank table for the view in ``search`` as a CSV download, in the order shown."""
    view, _ = BenchmarkView.parse(viewstate.query_of(search))
    metric = registry.get(view.metric)
    frame = queries.benchmark(view.metric, view.period, view.funnel_dimension, view.group)
    rows = rank_rows(frame, metric, view.peer)
    peer = f", peer group {view.peer}" if view.peer != ALL_PEERS else ""
    return dict(content=pagekit.csv_text(rows, _preamble(
        metric, f"{metric.title}, {who(view, metric)}, all trusts, {view.period}{peer}")),
        filename=f"benchmark-{view.metric}-ranks.csv", type="text/csv")


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
