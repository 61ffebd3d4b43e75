"""Overview: the latest value of every metric for England or one organisation, the change
over a year, how it compares with England and the largest significant gaps by ethnicity and
deprivation, each linking into the explorer. Above the cards: the ethnic gaps in the
Performance dashboard's outcomes as numbers of women and babies, and what changed since a
year earlier (gaps that opened or closed, SPC signals), each linking to its view.

URL parameters: ``org`` (organisation code; default England).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from components import controls, ids, pagekit, viewstate, whatchanged
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, TOTAL
from web import layouts

dash.register_page(__name__, path="/", name="Overview", title="Overview · Equalities", order=0,
                   # The view in canonical form, for export headings.
                   canonical=lambda query: OverviewView.parse(query)[0].search())

OVERVIEW_ORG = "overview-org"
OVERVIEW_EXCESS = "overview-excess"
OVERVIEW_CHANGES = "overview-changes"
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


def _change_line(card: dict, metric: registry.Metric) -> html.P | None:
    previous = card["previous"]
    if not previous or fmt.missing(previous.get("value")) or card["change"] == "none":
        return None
    arrow, words = CHANGE_WORDS[card["change"]]
    significance = "" if card["change"] == "flat" else " (significant change)"
    return html.P([html.Span(arrow, className="me-1", **{"aria-hidden": "true"}),
                   f"{words.capitalize()} {previous['period']} "
                   f"({fmt.value(metric, previous['value'])}){significance}."],
                  className="small mb-1")


def methods_link() -> html.A:
    return html.A("How these are worked out", href="/data#methods")


def excess_card(org: str) -> dbc.Card | None:
    """Each Annex 3 outcome's ethnic gap as a number of women or babies, where every group
    has figures (England; rarely a trust, whose small groups are suppressed)."""
    level = queries.org_level(org)
    sentences = []
    for metric in registry.ANNEX3_METRICS:
        period = queries.latest_period(metric.id)
        if ETHNICITY not in queries.dimensions_at(metric.id, level) or not period:
            continue
        result = queries.excess(metric.id, org, period, ETHNICITY)
        text = fmt.excess_total_sentence(result["total"], metric, ETHNICITY, period)
        if text:
            href = "/explore" + viewstate.search({"org": org, "metric": metric.id,
                                                 "period": period, "dim": ETHNICITY})
            sentences.append(html.Li([text, " ", html.A(
                f"{metric.short_title} by ethnicity", href=href)]))
    if not sentences:
        return None
    return dbc.Card(dbc.CardBody([
        html.H2("The ethnic gaps in numbers", className="h5 card-title"),
        html.Ul(sentences, className="mb-1"),
        html.P(html.Small(["Modelled numbers, counting women and babies whose ethnicity is "
                           "known; they describe the size of a gap, not its cause. ",
                           methods_link()]), className="text-muted mb-0"),
    ]), id=OVERVIEW_EXCESS, className="shadow-sm mb-3")


def changes_card(org: str) -> dbc.Card:
    found = queries.changes(org)
    items = [html.Li([change.sentence, " ", html.A(f"Open in {change.page}", href=change.href)],
                     className="mb-1") for change in whatchanged.changes(found["changes"], org)]
    return dbc.Card(dbc.CardBody([
        html.H2(whatchanged.title(found["since"]), className="h5 card-title"),
        html.Ol(items, className="mb-1") if items else html.P(whatchanged.NOTHING_CHANGED),
        html.P(html.Small([whatchanged.HOW, " ", methods_link()]), className="text-muted mb-0"),
    ]), id=OVERVIEW_CHANGES, className="shadow-sm mb-3")


def metric_card(card: dict, org: str) -> dbc.Col:
    metric = registry.get(card["metric"])
    row = card["latest"]
    level = queries.org_level(org)
    if row["status"] == "suppressed":
        headline = html.P("Suppressed (small numbers)", className="metric-value")
    elif fmt.missing(row["value"]):
        headline = html.P("No data for this period", className="metric-value")
    else:
        headline = html.P([fmt.value(metric, row["value"]),
                           html.Span(f" {fmt.interval(metric, row['lower95'], row['upper95'])}",
                                     className="metric-ci")], className="metric-value")
    compare = None
    if org != "ENG" and row.get("vs_comparator"):
        words = fmt.comparison(row["vs_comparator"], "England")
        compare = html.P(f"Compared with England: {words}.", className="small mb-1")
    gaps = []
    for gap in card["gaps"]:
        ref = next((g for g in [gap] if g), None)
        text = fmt.gap_statement(ref | {"reference_value": None}, metric, gap["dimension"])
        if text:
            gaps.append(html.Li(text))
    dims = queries.dimensions_at(metric.id, level)
    dim = ETHNICITY if ETHNICITY in dims else (dims or (TOTAL,))[0]
    href = "/explore" + viewstate.search({"org": org, "metric": metric.id, "period": card["period"],
                                         "dim": dim})
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.H2(metric.title, className="h6 card-title"),
        html.P(f"{metric.source} · {card['period']}", className="small text-muted mb-1"),
        headline,
        _change_line(card, metric),
        compare,
        html.Ul(gaps, className="small gap-list") if gaps else html.P(
            "No significant gap by ethnicity or deprivation." if metric.breakdowns != ("total",)
            and len(dims) > 1 else "No breakdown by group is published at this level.",
            className="small text-muted"),
        dcc.Link(f"Explore {metric.short_title.lower()}", href=href, className="small"),
    ]), className="h-100 shadow-sm metric-card"), md=6, xl=4, className="mb-3")


@layouts.safe_layout
def layout(**query) -> html.Div:
    view, notices = OverviewView.parse(query)
    cards = queries.overview(view.org)
    by_section: dict[str, list] = {}
    for card in cards:
        by_section.setdefault(registry.get(card["metric"]).section, []).append(card)
    name = queries.org_name(view.org)
    return html.Div([
        pagekit.heading(f"Overview: {name}",
                        "The latest figure for every metric, whether it has changed over a year, "
                        "and the largest statistically significant gaps between groups."),
        controls.notices(notices),
        controls.card("Choose an organisation", dbc.Row(controls.labelled(
            "Organisation", controls.dropdown(
                OVERVIEW_ORG, controls.org_options(queries.organisations(),
                                                   ("england", "region", "icb", "trust")),
                view.org), OVERVIEW_ORG, 6))),
        excess_card(view.org),
        changes_card(view.org),
        *[html.Section([html.H2(section, className="h4 mt-2"),
                        dbc.Row([metric_card(c, view.org) for c in section_cards])])
          for section, section_cards in by_section.items()],
    ])


@callback(Output(ids.PAGE_URL, "search", allow_duplicate=True), Input(OVERVIEW_ORG, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def update_url(org, current):
    return viewstate.next_search(OverviewView, {"org": org}, current)
