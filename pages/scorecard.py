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
from dash import Input, Output, State, callback, dcc, html

from components import controls, figures, ids, pagekit, viewstate, viewwords
from components import format as fmt
from components import scorecard as card
from views import scorecard as models
from views.scorecard import LEVELS, Scorecard
from web import layouts, menus

dash.register_page(__name__, path="/scorecard", name="Scorecard",
                   title="Scorecard · Equalities", order=4,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: ScorecardView.parse(query)[0].search())

SCORECARD_ORG = "scorecard-org"
SCORECARD_BOARD_PACK = "scorecard-board-pack"
SCORECARD_FULL_PACK = "scorecard-full-pack"
SCORECARD_SLIDES = "scorecard-slides"
SCORECARD_GRAPH = "scorecard-graph"
SCORECARD_TABLE = "scorecard-table"
SCORECARD_DOWNLOAD_BUTTON = "scorecard-download-button"
SCORECARD_DOWNLOAD = "scorecard-download"
SCORECARD_ENGLAND_NOTES = "scorecard-england-notes"
RAG_NOTE = ("RAG is statistical: green significantly better than England, amber similar, red "
            "significantly worse (95% confidence interval), grey not compared")


def default_trust() -> str:
    """The first open trust by name (a trust, because the scorecard compares with England)."""
    return models.choices().default


@dataclass(frozen=True)
class ScorecardView:
    org: str

    @classmethod
    def parse(cls, query: dict) -> tuple["ScorecardView", list[str]]:
        notices: list[str] = []
        offer = models.choices()
        raw = query.get("org")
        if isinstance(raw, str) and raw in offer.names and raw not in offer.offered:
            notices.append(f"The scorecard compares a trust with England; "
                           f"{offer.names[raw]} is not a trust, so showing "
                           f"{offer.names[offer.default]} instead.")
            return cls(offer.default), notices
        return cls(viewstate.choose(query, "org", offer.offered, offer.default, notices,
                                    "organisation")), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org})


def model(view: ScorecardView) -> Scorecard:
    """The page's one call into the seam for a parsed view."""
    return models.scorecard(view.org)


def links(m: Scorecard) -> dict[str, list[tuple[str, str]]]:
    """Per metric, links into Explore (same period) and Trends with it pre-selected."""
    out = {}
    for metric, period in m.frame.select("metric", "period").iter_rows():
        explore = viewstate.search({"org": m.org, "metric": metric, "period": period})
        trends = viewstate.search({"org": m.org, "metric": metric})
        out[metric] = [("Explore", f"/explore{explore}"), ("Trends", f"/trends{trends}")]
    return out


def source_line(m: Scorecard) -> str:
    return (f"Sources: {', '.join(m.sources)}; latest period of each metric."
            f"{fmt.synthetic_note(m.synthetic)} Lines: 95% confidence intervals.")


def caption(m: Scorecard) -> str:
    against = "national values" if m.benchmark_only else "against England"
    return f"Annex 3 performance metrics: {m.org_name}, {against}, latest period of each metric."


def closure_notice(m: Scorecard) -> dbc.Alert | None:
    if not m.closed:
        return None
    merged = f", merging into {m.successor}" if m.successor else ""
    return dbc.Alert(f"{m.org_name} closed in {m.closed:%B %Y}{merged}. Its figures stop "
                     "then, so its latest periods are older than England's.", color="info")


def table_rows(m: Scorecard):
    """The scorecard table as shown and downloaded."""
    return card.scorecard_rows(m.frame, benchmark_only=m.benchmark_only)


def download_csv(search: str) -> dict:
    """The on-screen scorecard table for the view in ``search`` as a CSV download."""
    m = model(ScorecardView.parse(viewstate.query_of(search))[0])
    preamble = [caption(m), RAG_NOTE, source_line(m), *card.england_notes(m.frame)]
    return dict(content=pagekit.csv_text(table_rows(m), preamble),
                filename=f"scorecard-{m.org}.csv", type="text/csv")


def board_pack_link(m: Scorecard) -> html.Div | None:
    if m.benchmark_only:
        return None
    return html.Div([
        html.A("Download the board summary (PDF)", id=SCORECARD_BOARD_PACK,
               href=viewwords.export_href("/board-pack", f"?org={m.org}", "pdf"),
               className="btn btn-primary btn-sm me-2 export-link"),
        html.A("The summary as PowerPoint", id=SCORECARD_SLIDES,
               href=viewwords.export_href("/board-pack", f"?org={m.org}", "pptx"),
               className="btn btn-outline-primary btn-sm me-2 export-link"),
        html.A("The full pack (PDF, every metric)", id=SCORECARD_FULL_PACK,
               href=viewwords.export_href("/board-pack", f"?org={m.org}&full=1", "pdf"),
               className="btn btn-outline-primary btn-sm export-link"),
        html.P("The summary is a five-minute read for a board: this scorecard, the largest "
               "significant gaps and what changed, in a few pages. The full pack adds a page "
               "per metric with its breakdowns, trend and benchmark. Each takes a few seconds "
               "to draw.", className="small mt-1"),
    ], className="mb-3")


def chart(m: Scorecard) -> dcc.Graph:
    title = f"Annex 3 metrics: {m.org_name}" + ("" if m.benchmark_only else " against England")
    return dcc.Graph(id=SCORECARD_GRAPH, config=figures.CONFIG, figure=card.dot_chart(
        m.frame, org_label="England" if m.benchmark_only else "This trust",
        title=figures.wrap(title, 60), source=source_line(m), benchmark_only=m.benchmark_only))


def table_block(m: Scorecard) -> html.Div:
    """The table with its links, what England's summed figures are, and the download."""
    notes = card.england_notes(m.frame)
    return html.Div([
        card.scorecard_table(m.frame, table_rows(m), caption=caption(m),
                             table_id=SCORECARD_TABLE, links=links(m)),
        html.Ul([html.Li(note) for note in notes], id=SCORECARD_ENGLAND_NOTES,
                className="small text-muted") if notes else None,
        pagekit.download_button(SCORECARD_DOWNLOAD_BUTTON, SCORECARD_DOWNLOAD),
    ], className="mt-2 table-responsive")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = ScorecardView.parse(query)
    m = model(view)
    lead = ("The Maternity and Neonatal Performance Dashboard measures (Annex 3) for one trust "
            "against England, rated by statistics rather than targets.")
    return html.Div([
        pagekit.heading("Scorecard", lead),
        controls.notices(notices),
        controls.card("Choose a trust", dbc.Row(controls.labelled(
            "Trust (or England for national values)", controls.org_menu(
                SCORECARD_ORG, *menus.options(LEVELS, m.org), m.org),
            SCORECARD_ORG, 8))),
        board_pack_link(m),
        closure_notice(m),
        card.empty_notice(m.frame, m.org_name),
        dbc.Alert("England is the benchmark, so it is not rated: these are the national "
                  "values each trust is compared with. Choose a trust to see its ratings.",
                  color="info") if m.benchmark_only else None,
        html.P([html.Strong(f"{m.org_name}: "),
                card.summary(m.frame, benchmark_only=m.benchmark_only)], className="lead mb-2"),
        dbc.Row([
            dbc.Col(chart(m), lg=8),
            dbc.Col([
                card.rag_legend(),
                pagekit.content_markdown("scorecard", section="Reading the scorecard",
                                         class_name="small"),
            ], lg=4),
        ]),
        table_block(m),
        html.Details([
            html.Summary("Annex 3 definitions", className="h6"),
            card.definitions(),
        ], className="mt-3"),
        pagekit.content_markdown("scorecard", section="About the data", class_name="small mt-3"),
    ])


FOLLOWED = viewstate.follow_controls({"org": SCORECARD_ORG})


@callback(Output(SCORECARD_DOWNLOAD, "data"), Input(SCORECARD_DOWNLOAD_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
