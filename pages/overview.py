"""Overview: the latest value of every metric for England or one organisation, the change
over a year, how it compares with England and the largest significant gaps by ethnicity and
deprivation, each linking into the explorer. Above the cards: "Start here" (a way in for a
trust analyst, an LMNS or ICB equity lead and a board report, carrying the organisation), the
headline gaps in one picture (every metric's most affected group against the reference group
by ethnicity and by deprivation: a forest plot, its table and CSV), the ethnic gaps in the
Performance dashboard's outcomes as numbers of women and babies, and what changed since a
year earlier (gaps that opened or closed, SPC signals), each linking to its view.

URL parameters: ``org`` (organisation code; default England).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import (
    controls,
    figures,
    headlinegaps,
    ids,
    pagekit,
    starthere,
    tables,
    viewstate,
    whatchanged,
)
from components import format as fmt
from data import queries
from metrics.categories import ETHNICITY
from views.overview import Card, Overview, overview
from web import layouts, menus

dash.register_page(__name__, path="/", name="Overview", title="Overview · Equalities", order=0,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: OverviewView.parse(query)[0].search())

OVERVIEW_ORG = "overview-org"
OVERVIEW_EXCESS = "overview-excess"
OVERVIEW_CHANGES = "overview-changes"
OVERVIEW_START = "overview-start"
OVERVIEW_GAPS = "overview-gaps"
OVERVIEW_GAPS_SUMMARY = "overview-gaps-summary"
OVERVIEW_GAPS_GRAPH = "overview-gaps-graph"
OVERVIEW_GAPS_TABLE = "overview-gaps-table"
OVERVIEW_GAPS_DOWNLOAD_BUTTON = "overview-gaps-download-button"
OVERVIEW_GAPS_DOWNLOAD = "overview-gaps-download"
GAPS_MIN_WIDTH_PX = 720
CHANGE_WORDS = {"up": ("▲", "higher than"), "down": ("▼", "lower than"),
                "flat": ("▶", "similar to"), "none": ("", "")}


@dataclass(frozen=True)
class OverviewView:
    org: str

    @classmethod
    def parse(cls, query: dict) -> tuple["OverviewView", list[str]]:
        notices: list[str] = []
        orgs = queries.organisations()["org_code"].to_list()
        return cls(viewstate.choose(query, "org", orgs, "ENG", notices, "organisation")), notices

    def search(self) -> str:
        return viewstate.search({"org": None if self.org == "ENG" else self.org})


def model(view: OverviewView) -> Overview:
    """The page's one call into the seam for a parsed view."""
    return overview(view.org)


def explore_href(org: str, metric_id: str, period: str, dimension: str) -> str:
    return "/explore" + viewstate.search({"org": org, "metric": metric_id, "period": period,
                                         "dim": dimension})


def methods_link() -> html.A:
    return html.A("How these are worked out", href="/data#methods")


def excess_sentences(m: Overview) -> list[tuple[str, str, str]]:
    """(sentence, link text, link) for each ethnic gap worked out as a number of people."""
    out = []
    for gap in m.ethnic_gaps:
        text = fmt.excess_total_sentence(gap.total, gap.metric, ETHNICITY, gap.period)
        if text:
            out.append((text, f"{gap.metric.short_title} by ethnicity",
                        explore_href(m.org, gap.metric.id, gap.period, ETHNICITY)))
    return out


def excess_card(m: Overview) -> dbc.Card | None:
    """Each Annex 3 outcome's ethnic gap as a number of women or babies, where every group
    has figures (England; rarely a trust, whose small groups are suppressed)."""
    sentences = excess_sentences(m)
    if not sentences:
        return None
    return dbc.Card(dbc.CardBody([
        html.H2("The ethnic gaps in numbers", className="h5 card-title"),
        html.Ul([html.Li([text, " ", html.A(label, href=href)])
                 for text, label, href in sentences], className="mb-1"),
        html.P(html.Small(["Modelled numbers, counting women and babies whose ethnicity is "
                           "known; they describe the size of a gap, not its cause. ",
                           methods_link()]), className="text-muted mb-0"),
    ]), id=OVERVIEW_EXCESS, className="shadow-sm mb-3")


def start_here(m: Overview) -> dbc.Card:
    return starthere.card(starthere.paths(m.org, m.level, **m.area), OVERVIEW_START)


# -- the headline gaps -----------------------------------------------------------------------


def gaps_title(m: Overview) -> str:
    return f"Headline gaps between groups: {m.org_name}, latest period of each metric"


def gaps_source(m: Overview) -> str:
    """Sources, and what the marks mean on a second line (fits A4 portrait)."""
    return (f"Source: {headlinegaps.sources(m.gaps)}.{fmt.synthetic_note(m.synthetic)}<br>"
            f"Most affected group against {headlinegaps.references(m.gaps)}; bars: 95% CIs.")


def gaps_table_rows(m: Overview) -> pl.DataFrame:
    """The chart as a table, as shown and downloaded."""
    return headlinegaps.table_rows(m.gaps)


def totals_only_note(m: Overview) -> html.P | None:
    if not m.totals_only:
        return None
    names = fmt.join_words([metric.short_title for metric in m.totals_only])
    return html.P(html.Small(f"Not broken down by group here, so not in the chart: {names}."),
                  className="text-muted mb-1")


def gaps_section(m: Overview) -> html.Section:
    heading = html.H2("The headline gaps in one picture", className="h4 mt-2")
    if m.gaps.is_empty():
        return html.Section([heading, html.P(
            f"No metric is published by ethnicity or deprivation for {m.org_name}, so there "
            "are no gaps between groups to show.", id=OVERVIEW_GAPS_SUMMARY)], id=OVERVIEW_GAPS)
    rows = gaps_table_rows(m)
    title = gaps_title(m)
    return html.Section([
        heading,
        html.P(headlinegaps.sentence(m.gap_counts, m.largest_gap), id=OVERVIEW_GAPS_SUMMARY),
        # On a phone the chart keeps room for its plot beside its row names, drawn as on a
        # desktop (two-line title), and scrolls sideways in its box, which the keyboard
        # can reach.
        html.Div(dcc.Graph(id=OVERVIEW_GAPS_GRAPH, config=figures.CONFIG, figure=figures.forest(
            headlinegaps.forest_rows(m.gaps), title=figures.wrap(title, 80),
            source=gaps_source(m), x_title="Ratio to the reference group (log scale)"),
            style={"minWidth": f"{GAPS_MIN_WIDTH_PX}px"}),
            style={"overflowX": "auto", "breakInside": "avoid"}, tabIndex="0", role="region",
            **{"aria-label": "Forest plot of the headline gaps"}),
        totals_only_note(m),
        html.Details([html.Summary("How to read this chart"),
                      pagekit.content_markdown("overview", section="Headline gaps")],
                     className="mb-1"),
        html.Details([
            html.Summary(f"Show the chart as a table ({rows.height} rows) and download"),
            tables.html_table(rows, caption=f"{title}. Ratio of the most affected group's "
                              "value to the reference group's, with its 95% CI.",
                              table_id=OVERVIEW_GAPS_TABLE),
            pagekit.download_button(OVERVIEW_GAPS_DOWNLOAD_BUTTON, OVERVIEW_GAPS_DOWNLOAD),
        ], className="mb-3"),
    ], id=OVERVIEW_GAPS)


def changes_card(m: Overview) -> dbc.Card:
    items = [html.Li([change.sentence, " ", html.A(f"Open in {change.page}", href=change.href)],
                     className="mb-1") for change in whatchanged.changes(m.changes, m.org)]
    return dbc.Card(dbc.CardBody([
        html.H2(whatchanged.title(m.since), className="h5 card-title"),
        html.Ol(items, className="mb-1") if items else html.P(whatchanged.NOTHING_CHANGED),
        html.P(html.Small([whatchanged.HOW, " ", methods_link()]), className="text-muted mb-0"),
    ]), id=OVERVIEW_CHANGES, className="shadow-sm mb-3")


def headline(card: Card) -> html.P:
    row = card.latest
    if row["status"] == "suppressed":
        return html.P("Suppressed (small numbers)", className="metric-value")
    if fmt.missing(row["value"]):
        return html.P("No data for this period", className="metric-value")
    return html.P([fmt.value(card.metric, row["value"]),
                   html.Span(f" {fmt.interval(card.metric, row['lower95'], row['upper95'])}",
                             className="metric-ci")], className="metric-value")


def change_line(card: Card) -> html.P | None:
    previous = card.previous
    if not previous or fmt.missing(previous.get("value")) or card.change == "none":
        return None
    arrow, words = CHANGE_WORDS[card.change]
    significance = "" if card.change == "flat" else " (significant change)"
    return html.P([html.Span(arrow, className="me-1", **{"aria-hidden": "true"}),
                   f"{words.capitalize()} {previous['period']} "
                   f"({fmt.value(card.metric, previous['value'])}){significance}."],
                  className="small mb-1")


def compare_line(card: Card, org: str) -> html.P | None:
    if org == "ENG" or not card.latest.get("vs_comparator"):
        return None
    words = fmt.comparison(card.latest["vs_comparator"], "England")
    return html.P(f"Compared with England: {words}.", className="small mb-1")


def gap_sentences(card: Card) -> list[str]:
    """The card's largest significant gaps in words (no reference value: the card is short)."""
    said = (fmt.gap_statement(gap | {"reference_value": None}, card.metric, gap["dimension"])
            for gap in card.gaps)
    return [text for text in said if text]


def metric_card(card: Card, org: str) -> dbc.Col:
    metric = card.metric
    gaps = gap_sentences(card)
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.H2(metric.title, className="h6 card-title"),
        html.P(f"{metric.source} · {card.period}", className="small text-muted mb-1"),
        headline(card),
        change_line(card),
        compare_line(card, org),
        html.Ul([html.Li(text) for text in gaps], className="small gap-list") if gaps else
        html.P("No significant gap by ethnicity or deprivation." if card.broken_down
               else "No breakdown by group is published at this level.",
               className="small text-muted"),
        dcc.Link(f"Explore {metric.short_title.lower()}", className="small",
                 href=explore_href(org, metric.id, card.period, card.explore_dimension)),
    ]), className="h-100 shadow-sm metric-card"), md=6, xl=4, className="mb-3")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = OverviewView.parse(query)
    m = model(view)
    return html.Div([
        pagekit.heading(f"Overview: {m.org_name}",
                        "The latest figure for every metric, whether it has changed over a year, "
                        "and the largest statistically significant gaps between groups."),
        controls.notices(notices),
        controls.card("Choose an organisation", dbc.Row(controls.labelled(
            "Organisation", controls.org_menu(
                OVERVIEW_ORG, *menus.options(("england", "region", "icb", "trust"), view.org),
                view.org), OVERVIEW_ORG, 6))),
        start_here(m),
        gaps_section(m),
        excess_card(m),
        changes_card(m),
        *[html.Section([html.H2(section, className="h4 mt-2"),
                        dbc.Row([metric_card(card, view.org) for card in cards])])
          for section, cards in m.sections.items()],
    ])


FOLLOWED = viewstate.follow_controls({"org": OVERVIEW_ORG})


def download_csv(search: str) -> dict:
    """The headline gaps' table for the view in ``search`` as a CSV download."""
    m = model(OverviewView.parse(viewstate.query_of(search))[0])
    preamble = pagekit.preamble(gaps_title(m), headlinegaps.sources(m.gaps),
                                synthetic=m.synthetic)
    return dict(content=pagekit.csv_text(gaps_table_rows(m), preamble),
                filename=f"overview-gaps-{m.org}.csv", type="text/csv")


@callback(Output(OVERVIEW_GAPS_DOWNLOAD, "data"),
          Input(OVERVIEW_GAPS_DOWNLOAD_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def on_download(_clicks, search):
    return download_csv(search)
