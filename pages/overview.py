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
from dash import dcc, html

from components import controls, pagekit, viewstate, whatchanged
from components import format as fmt
from data import queries
from metrics.categories import ETHNICITY
from views.overview import Card, Overview, overview
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
            "Organisation", controls.dropdown(
                OVERVIEW_ORG, controls.org_options(m.organisations,
                                                   ("england", "region", "icb", "trust")),
                view.org), OVERVIEW_ORG, 6))),
        excess_card(m),
        changes_card(m),
        *[html.Section([html.H2(section, className="h4 mt-2"),
                        dbc.Row([metric_card(card, view.org) for card in cards])])
          for section, cards in m.sections.items()],
    ])


FOLLOWED = viewstate.follow_controls({"org": OVERVIEW_ORG})
