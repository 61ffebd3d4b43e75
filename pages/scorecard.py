"""Scorecard: the Annex 3 performance metrics for one trust against England.

Answers "on the Performance dashboard's measures, where is this trust significantly better
or worse than England, and is it changing?" RAG is statistical (the trust's 95% confidence
interval against England's value, as Fingertips), not a target.

URL parameters: ``org`` (a trust's code, or ``ENG`` for national values without a
comparison; default the first open trust alphabetically).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, pagekit, viewstate, viewwords
from components import format as fmt
from components import scorecard as card
from data import queries
from metrics import registry
from web import layouts

dash.register_page(__name__, path="/scorecard", name="Scorecard",
                   title="Scorecard · Equalities", order=4,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: ScorecardView.parse(query)[0].search())

SCORECARD_ORG = "scorecard-org"
SCORECARD_BOARD_PACK = "scorecard-board-pack"
SCORECARD_GRAPH = "scorecard-graph"
SCORECARD_TABLE = "scorecard-table"
SCORECARD_DOWNLOAD_BUTTON = "scorecard-download-button"
SCORECARD_DOWNLOAD = "scorecard-download"
SCORECARD_ENGLAND_NOTES = "scorecard-england-notes"
LEVELS = ("england", "trust")


def default_trust() -> str:
    """The first open trust by name (a trust, because the scorecard compares with England)."""
    trusts = queries.organisations().filter(
        (pl.col("org_level") == "trust") & pl.col("closed").is_null()).sort("name")
    return trusts["org_code"][0] if trusts.height else "ENG"


@dataclass(frozen=True)
class ScorecardView:
    org: str

    @classmethod
    def parse(cls, query: dict) -> tuple["ScorecardView", list[str]]:
        notices: list[str] = []
        orgs = queries.organisations()
        choices = orgs.filter(pl.col("org_level").is_in(LEVELS))["org_code"].to_list()
        default = default_trust()
        raw = query.get("org")
        if raw and raw in orgs["org_code"].to_list() and raw not in choices:
            notices.append(f"The scorecard compares a trust with England; "
                           f"{queries.org_name(str(raw))} is not a trust, so showing "
                           f"{queries.org_name(default)} instead.")
            return cls(default), notices
        return cls(viewstate.choose(query, "org", choices, default, notices,
                                    "organisation")), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org})

    @property
    def benchmark_only(self) -> bool:
        """England is the benchmark itself: national values, no comparison."""
        return self.org == "ENG"


def links(view: ScorecardView, frame: pl.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """Per metric, links into Explore (same period) and Trends with it pre-selected."""
    out = {}
    for row in frame.iter_rows(named=True):
        metric = registry.get(row["metric"])
        explore = viewstate.search({"org": view.org, "metric": metric.id,
                                    "period": row.get("period")})
        trends = viewstate.search({"org": view.org, "metric": metric.id})
        out[metric.id] = [("Explore", f"/explore{explore}"), ("Trends", f"/trends{trends}")]
    return out


def source_line(view: ScorecardView) -> str:
    synthetic = fmt.synthetic_note(queries.current().synthetic)
    return (f"Sources: {', '.join(dict.fromkeys(m.source for m in registry.ANNEX3_METRICS))}; "
            f"latest period of each metric.{synthetic} Lines: 95% confidence intervals.")


def caption(view: ScorecardView) -> str:
    who = queries.org_name(view.org)
    against = "national values" if view.benchmark_only else "against England"
    return f"Annex 3 performance metrics: {who}, {against}, latest period of each metric."


def closure_notice(org: str) -> dbc.Alert | None:
    row = queries.organisations().filter(pl.col("org_code") == org).row(0, named=True)
    if not row.get("closed"):
        return None
    successor = row.get("successor_code")
    merged = f", merging into {queries.org_name(successor)}" if successor else ""
    return dbc.Alert(f"{row['name']} closed in {row['closed']:%B %Y}{merged}. Its figures "
                     "stop then, so its latest periods are older than England's.",
                     color="info")


def download_csv(search: str) -> dict:
    """The on-screen scorecard table for the view in ``search`` as a CSV download."""
    view, _ = ScorecardView.parse(viewstate.query_of(search))
    frame = queries.scorecard(view.org)
    rows = card.scorecard_rows(frame, benchmark_only=view.benchmark_only)
    preamble = [caption(view),
                "RAG is statistical: green significantly better than England, amber similar, "
                "red significantly worse (95% confidence interval), grey not compared",
                source_line(view), *card.england_notes(frame)]
    return dict(content=pagekit.csv_text(rows, preamble),
                filename=f"scorecard-{view.org}.csv", type="text/csv")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = ScorecardView.parse(query)
    frame = queries.scorecard(view.org)
    name = queries.org_name(view.org)
    rows = card.scorecard_rows(frame, benchmark_only=view.benchmark_only)
    england_notes = card.england_notes(frame)
    title = (f"Annex 3 metrics: {name}" + ("" if view.benchmark_only else
                                             " against England"))
    lead = ("The Maternity and Neonatal Performance Dashboard measures (Annex 3) for one trust "
            "against England, rated by statistics rather than targets.")
    return html.Div([
        pagekit.heading("Scorecard", lead),
        controls.notices(notices),
        controls.card("Choose a trust", dbc.Row(controls.labelled(
            "Trust (or England for national values)", controls.dropdown(
                SCORECARD_ORG, controls.org_options(queries.organisations(), LEVELS), view.org),
            SCORECARD_ORG, 8))),
        html.Div([
            html.A("Download the board pack (PDF, every metric)", id=SCORECARD_BOARD_PACK,
                   href=viewwords.export_href("/board-pack", f"?org={view.org}", "pdf"),
                   className="btn btn-primary btn-sm"),
            html.Span(" A contents page, this scorecard and a page per metric with breakdowns, "
                      "trends and benchmarks; takes about 10 seconds.", className="small"),
        ], className="mb-3") if not view.benchmark_only else None,
        closure_notice(view.org),
        card.empty_notice(frame, name),
        dbc.Alert("England is the benchmark, so it is not rated: these are the national "
                  "values each trust is compared with. Choose a trust to see its ratings.",
                  color="info") if view.benchmark_only else None,
        html.P([html.Strong(f"{name}: "), card.summary(frame, benchmark_only=view.benchmark_only)],
               className="lead mb-2"),
        dbc.Row([
            dbc.Col(dcc.Graph(id=SCORECARD_GRAPH, config=figures.CONFIG, figure=card.dot_chart(
                frame, org_label="England" if view.benchmark_only else "This trust",
                title=figures.wrap(title, 60),
                source=source_line(view), benchmark_only=view.benchmark_only)), lg=8),
            dbc.Col([
                card.rag_legend(),
                pagekit.content_markdown("scorecard", section="Reading the scorecard",
                                         class_name="small"),
            ], lg=4),
        ]),
        html.Div([
            card.scorecard_table(frame, rows, caption=caption(view), table_id=SCORECARD_TABLE,
                                 links=links(view, frame)),
            html.Ul([html.Li(note) for note in england_notes], id=SCORECARD_ENGLAND_NOTES,
                    className="small text-muted") if england_notes else None,
            pagekit.download_button(SCORECARD_DOWNLOAD_BUTTON, SCORECARD_DOWNLOAD),
        ], className="mt-2 table-responsive"),
        html.Details([
            html.Summary("Annex 3 definitions", className="h6"),
            card.definitions(),
        ], className="mt-3"),
        pagekit.content_markdown("scorecard", section="About the data", class_name="small mt-3"),
    ])


@callback(Output(ids.PAGE_URL, "search", allow_duplicate=True), Input(SCORECARD_ORG, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def update_url(org, current):
    return viewstate.next_search(ScorecardView, {"org": org}, current)


@callback(Output(SCORECARD_DOWNLOAD, "data"), Input(SCORECARD_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
