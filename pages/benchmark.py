"""Benchmark: trusts (or ICBs, or regions) side by side, a funnel plot and a rank table.

Answers "how do we compare with England, with the trusts of our ICB or region and with
trusts like us, for all women and for each group, and which stand out by more than chance?"

URL parameters: ``metric`` (registry id, published at trust level), ``period`` (label),
``compare`` (the units compared: ``trust``, the default, ``icb`` or ``region``, as the
metric is published), ``dim`` (breakdown of the side-by-side panels: total, ethnicity,
deprivation_decile, deprivation_quintile, as published for those units), ``group`` (the group
the funnel plot and rank table show; ``All`` for all women), ``trusts`` (comma-separated codes
of the units chosen, up to 8), ``within`` (the scope of the funnel and rank table: a peer
group's name, or an ICB's or region's code; every unit when absent; ``peer`` is read as it
too, from older links), ``od`` (funnel limits: ``phi`` or ``tau2`` widened for
over-dispersion; the standard PHE limits when absent).
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
from components.benchmark import UNIT_WORDS
from metrics import registry
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from views import benchmark as models
from views.benchmark import (
    ALL_PEERS,
    LEVELS,
    LIMITS,
    STANDARD,
    TRUST,
    Benchmark,
    group_choices,
    trust_metrics,
)
from web import layouts, menus

dash.register_page(__name__, path="/benchmark", name="Benchmark",
                   title="Benchmark · Equalities", order=2,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: BenchmarkView.parse(query)[0].search())

BENCHMARK_METRIC = "benchmark-metric"
BENCHMARK_PERIOD = "benchmark-period"
BENCHMARK_DIMENSION = "benchmark-dimension"
BENCHMARK_GROUP = "benchmark-group"
BENCHMARK_TRUSTS = "benchmark-trusts"
BENCHMARK_PEER = "benchmark-peer"  # the scope: every unit, a peer group, an ICB, a region
BENCHMARK_LEVEL = "benchmark-level"
BENCHMARK_LIMITS = "benchmark-limits"
BENCHMARK_DISPERSION = "benchmark-dispersion"
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
    trusts: tuple[str, ...]  # codes of the chosen units, of ``level``
    scope: str
    level: str = TRUST
    limits: str = STANDARD

    @classmethod
    def parse(cls, query: dict) -> tuple["BenchmarkView", list[str]]:
        notices: list[str] = []
        metric_id = viewstate.choose(query, "metric", trust_metrics(), DEFAULT_METRIC, notices,
                                     "metric for trusts")
        metric = registry.get(metric_id)
        offer = models.choices(metric_id)
        period = viewstate.choose(query, "period", offer.periods, offer.latest, notices,
                                  "period")
        level = viewstate.choose(query, "compare", offer.levels, TRUST, notices,
                                 "units to compare")
        offered, stored = offer.dimensions_at(level)
        dimension = controls.choose_dimension(query, metric, notices,
                                              org_name=LEVELS[level], offered=offered,
                                              stored=stored)
        group = viewstate.choose(query, "group", group_choices(dimension), ALL_GROUP, notices,
                                 "group")
        trusts = viewstate.choose_many(_without_other_levels(query, offer, level), "trusts",
                                       offer.units_at(level)["org_code"].to_list(), notices,
                                       UNIT_WORDS[level][0], MAX_TRUSTS)
        scope = viewstate.choose(_scope_query(query, offer, level), "within",
                                 [s.value for s in offer.scopes(level)], ALL_PEERS, notices,
                                 f"choice of {LEVELS[level]} to show")
        limits = viewstate.choose(query, "od", list(LIMITS), STANDARD, notices,
                                  "kind of funnel limits")
        return cls(metric_id, period, dimension, group, trusts, scope, level, limits), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "period": self.period,
                                 "compare": None if self.level == TRUST else self.level,
                                 "dim": self.dimension, "group": self.group,
                                 "trusts": self.trusts,
                                 "within": None if self.scope == ALL_PEERS else self.scope,
                                 "od": None if self.limits == STANDARD else self.limits})

    @property
    def funnel_dimension(self) -> str:
        return models.funnel_dimension(self.dimension, self.group)


def _scope_query(query: dict, offer: models.Choices, level: str) -> dict:
    """``query`` with its scope as ``within``: a link from before the scope held ICBs and
    regions names a peer group as ``peer``; a scope of trusts (a peer group, an ICB) kept
    from before the units compared changed is dropped without a notice."""
    raw = query.get("within") or query.get("peer")
    if isinstance(raw, str) and level != TRUST and \
            raw not in {s.value for s in offer.scopes(level)} and \
            raw in {s.value for s in offer.scopes(TRUST)}:
        raw = None
    return query | {"within": raw}


def _without_other_levels(query: dict, offer: models.Choices, level: str) -> dict:
    """``query`` without the chosen codes of units of another level: chosen before the
    units compared changed, they are dropped without a notice."""
    raw = query.get("trusts")
    if not isinstance(raw, str):
        return query
    elsewhere = set(offer.units.filter(pl.col("org_level") != level)["org_code"])
    return query | {"trusts": ",".join(c for c in raw.split(",") if c.strip() not in elsewhere)}


def model(view: BenchmarkView) -> Benchmark:
    """The page's one call into the seam for a parsed view."""
    return models.benchmark(view.metric, view.period, view.dimension, view.group,
                            view.trusts, view.scope, view.level, view.limits)


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
                                   m.dimension, m.level)


def multiples_title(m: Benchmark) -> str:
    by = DIMENSIONS[m.dimension].label.lower() if m.dimension != TOTAL else \
        fmt.subject(ALL_GROUP, TOTAL, m.metric)
    return f"{m.metric.title}, {m.period}: chosen {m.units_word}, {by}"


def quality_warning(m: Benchmark) -> dbc.Alert | None:
    """A warning naming the chosen units whose recording makes the breakdown unreliable."""
    poor = m.poorly_recorded
    if not poor:
        return None
    first = poor[0].completeness
    what = "Ethnicity" if first["metric"] == "ethnicity_recorded" else "Deprivation"
    return dbc.Alert([
        html.Strong("Data quality warning: "),
        f"{what} was recorded for fewer than {first['threshold']:.0f}% of women at these "
        f"{m.units_word}, so their breakdown may be unreliable:",
        html.Ul([html.Li(f"{c.name}: {c.completeness['value']:.1f}%") for c in poor],
                className="mb-0"),
    ], color="warning")


def picker_label(m: Benchmark) -> str:
    """The chosen units' control: "Trusts to compare (2 of up to 8 chosen)"."""
    return f"{m.units_word[0].upper()}{m.units_word[1:]} to compare"


def multiples_section(m: Benchmark) -> html.Section:
    heading = html.H2(f"Chosen {m.units_word} side by side", className="h4 mt-3")
    if not m.chosen:
        return html.Section([heading, dbc.Alert(
            f"Choose up to {MAX_TRUSTS} {m.units_word} in “{picker_label(m)}” above to see "
            f"them side by side by {DIMENSIONS[m.dimension].label.lower()}, on one shared "
            f"scale. The funnel plot and rank table below show {m.scope.name}.",
            color="info")])
    title = multiples_title(m)
    figure = figures.small_multiples(
        [(c.name, c.frame) for c in m.chosen], m.metric, title=figures.wrap(title, 90),
        england=m.england_groups, source=source_line(
            m, "Bars: 95% confidence intervals; blue ticks: England; all panels share one "
               "scale."))
    builders.fit_panel_height(figure, sum(not c.frame.is_empty() for c in m.chosen),
                              max(c.frame.height for c in m.chosen))
    rows = multiples_rows(m)
    return html.Section([
        heading,
        quality_warning(m),
        html.P("No figures to show for " + ", ".join(m.unreported) + " in this period: the "
               f"{UNIT_WORDS[m.level][0]} did not report (it may have merged or closed).",
               className="text-muted") if m.unreported else None,
        html.Div(dcc.Graph(id=BENCHMARK_MULTIPLES, figure=figure, config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        # The table view is long (units x groups), so it folds away under the chart.
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
    return builders.rank_rows(m.peer_ranked, m.metric, m.level)


def funnel_sentence(m: Benchmark) -> str:
    return builders.funnel_sentence(m.funnel_counts, m.metric, who=who(m), period=m.period,
                                    england=m.england, level=m.level)


def dispersion_sentence(m: Benchmark) -> str:
    """How much more the units vary than chance, and what the limits drawn make of it."""
    return builders.dispersion_words(m.dispersion, m.metric, method=m.limits_method,
                                     level=m.level)


def limits_words(m: Benchmark) -> str:
    """What the funnel's lines are: "Limits: 95% (dashed) and 99.8% (solid) around
    England's value[, widened for over-dispersion (phi)]" (the average of the trusts shown
    where England has no figure, as for a network's local indicators)."""
    widened = f", widened for over-dispersion ({m.limits_method.replace('tau2', 'tau²')})" \
        if m.adjusted and m.dispersion is not None else ""
    centre = "England's value" if m.england is not None else "the average of the trusts shown"
    return f"Limits: 95% (dashed) and 99.8% (solid) around {centre}{widened}."


def funnel_title(m: Benchmark) -> str:
    return f"{m.metric.title}, {who(m)}: {m.scope.name}, {m.period}"


def funnel_figure(m: Benchmark):
    figure = figures.funnel(
        builders.funnel_points(m.in_scope, m.metric), m.limits, m.metric, average=m.england,
        highlight=m.trusts, title=figures.wrap(funnel_title(m), 90),
        source=source_line(m, limits_words(m)), units=UNIT_WORDS[m.level])
    builders.place_labels(figure)
    return figure


def rank_table(m: Benchmark) -> list:
    """The note on what the table holds, and the sortable table (chosen units marked)."""
    rows, left_out = builders.shown_rank_rows(rank_rows(m), m.trusts)
    first = "best" if m.metric.polarity != registry.NO_JUDGEMENT else "highest"
    caption = (f"{m.metric.title}, {who(m)}: {m.scope.name}, {m.period}, {first} first "
               f"(rank 1 = {first}). Select a column heading to sort.")
    ranks = "Ranks are within each trust's peer group of similar size." \
        if m.level == TRUST else f"Ranks are among all {m.units_word}."
    return [
        html.P(f"Chosen {m.units_word} are highlighted in bold. {ranks} {left_out}".strip(),
               className="small text-muted mb-2"),
        tables.sortable_table(
            rows, caption=caption, table_id=BENCHMARK_RANK_TABLE,
            label=f"Rank table of {m.units_word}",
            row_classes=["chosen" if code in m.trusts else "" for code in rows["Code"]])
        if not rows.is_empty() else
        dbc.Alert(f"No {m.units_word} in {m.scope.name} have figures for this period.",
                  color="light"),
    ]


def limits_control(m: Benchmark) -> dbc.Row:
    return dbc.Row(dbc.Col([
        html.Label("Funnel limits", htmlFor=BENCHMARK_LIMITS, className="form-label fw-bold"),
        dbc.RadioItems(id=BENCHMARK_LIMITS, inline=True, value=m.limits_method,
                       options=[{"label": label, "value": value}
                                for value, label in LIMITS.items()]),
    ]), className="d-print-none")


def funnel_section(m: Benchmark) -> html.Section:
    return html.Section([
        html.H2(f"{m.scope.name[0].upper()}{m.scope.name[1:]}: funnel plot",
                className="h4 mt-4"),
        limits_control(m),
        html.P(funnel_sentence(m), id=BENCHMARK_FUNNEL_SUMMARY),
        html.P(dispersion_sentence(m), id=BENCHMARK_DISPERSION, className="small"),
        html.Div(dcc.Graph(id=BENCHMARK_FUNNEL, figure=funnel_figure(m), config=figures.CONFIG),
                 style=NO_PAGE_BREAK),
        html.H2("Rank table", className="h4 mt-4"),
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
                 "clear_selection": "Clear selection", "no_options_found": "None found"}


def trust_picker(m: Benchmark) -> html.Div:
    """The chosen units' menu, sent with the chosen ones only: the browser fills in every
    unit of the level from the menus file (``web.menus``), labelled without the level."""
    return controls.org_menu(
        BENCHMARK_TRUSTS, *menus.options((m.level,), *m.trusts, named=False), list(m.trusts),
        multi=True, clearable=True, labels=PICKER_LABELS,
        placeholder=f"Type {'an' if m.level == 'icb' else 'a'} {UNIT_WORDS[m.level][0]}'s name",
        closeOnSelect=False,  # several units are picked in one go
        optionHeight=controls.option_height(m.choices.units_at(m.level).height))


def controls_card(m: Benchmark) -> html.Div:
    metrics = [metric for metric in registry.outcome_metrics() if metric.id in trust_metrics()]
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
            BENCHMARK_DIMENSION, controls.dimension_options(m.choices.dimensions_at(m.level)[0]),
            m.dimension), BENCHMARK_DIMENSION, 4),
        dbc.Col([
            html.Label("Compare", htmlFor=BENCHMARK_LEVEL, className="form-label fw-bold"),
            dbc.RadioItems(id=BENCHMARK_LEVEL, inline=True, value=m.level,
                           options=[{"label": LEVELS[level][0].upper() + LEVELS[level][1:],
                                     "value": level} for level in m.choices.levels]),
        ], md=4, className="mb-2"),
        controls.labelled("Show in the funnel and rank table", controls.dropdown(
            BENCHMARK_PEER, [{"label": s.label, "value": s.value}
                             for s in m.choices.scopes(m.level)], m.scope.value),
            BENCHMARK_PEER, 8),
        controls.labelled(f"{picker_label(m)} ({len(m.trusts)} of up to {MAX_TRUSTS} "
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
        pagekit.heading("Benchmark", "Trusts, ICBs or regions side by side, a funnel plot "
                        "against England and a rank table, for England, a region, an ICB or "
                        "a peer group."),
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
    "metric": BENCHMARK_METRIC, "period": BENCHMARK_PERIOD, "compare": BENCHMARK_LEVEL,
    "dim": BENCHMARK_DIMENSION, "group": BENCHMARK_GROUP, "trusts": BENCHMARK_TRUSTS,
    "within": BENCHMARK_PEER, "od": BENCHMARK_LIMITS})


def _model_of(search: str) -> Benchmark:
    return model(BenchmarkView.parse(viewstate.query_of(search))[0])


def _preamble(m: Benchmark, heading: str, *notes: str) -> list[str]:
    return pagekit.preamble(heading, m.metric.source, *notes, synthetic=m.synthetic)


def multiples_csv(search: str) -> dict:
    """The side-by-side table for the view in ``search`` as a CSV download."""
    m = _model_of(search)
    heading = (f"{m.metric.title}, {m.period}, chosen {m.units_word} by "
               f"{DIMENSIONS[m.dimension].label.lower()}")
    return dict(content=pagekit.csv_text(multiples_rows(m), _preamble(m, heading)),
                filename=f"benchmark-{m.metric.id}-{m.units_word.lower()}.csv",
                type="text/csv")


def rank_csv(search: str) -> dict:
    """The rank table for the view in ``search`` as a CSV download, in the order shown,
    with the funnel's limits and the over-dispersion estimate above it."""
    m = _model_of(search)
    heading = f"{m.metric.title}, {who(m)}, {m.scope.name}, {m.period}"
    return dict(content=pagekit.csv_text(rank_rows(m), _preamble(
                    m, heading, f"Funnel plot column: {limits_words(m)}",
                    dispersion_sentence(m))),
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
