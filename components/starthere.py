"""The Overview's "Start here": one line for each of the three people the dashboard serves,
with links into the pages that answer their question, carrying the chosen organisation."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import viewstate


@dataclass(frozen=True)
class Path:
    """One person's way in: their question, what to do first, and where to go."""

    who: str
    question: str
    first: str  # "" when the chosen organisation already fits
    steps: tuple[tuple[str, str], ...]  # (link text, href)


def _href(path: str, **params: str | None) -> str:
    return path + viewstate.search(params)


def paths(org: str, level: str | None, icb: str | None, region: str | None) -> list[Path]:
    """The three ways in for the organisation ``org`` (its ``level``, and the codes of the
    ICB and region it belongs to, None where it has none)."""
    trust = org if level == "trust" else None
    here = None if org == "ENG" else org
    area = icb or here
    return [
        Path("Trust analyst", "How does my trust compare?",
             "" if trust else "Choose your trust above, then",
             (("Explore it by group", _href("/explore", org=here)),
              ("Benchmark it against all trusts", _href("/benchmark", trusts=trust)))),
        Path("LMNS or ICB equity lead", "Where are the gaps in my area?",
             "" if icb else "Choose your ICB above, then",
             (("Explore the ICB by group" if icb else "Explore it by group",
               _href("/explore", org=area)),
              ("Ethnicity and deprivation together", _href("/intersections", org=area)),
              ("Data quality", _href("/data-quality", org=area,
                                     region=region if icb else None)))),
        Path("Board report", "A board pack for my trust",
             "" if trust else "Choose your trust above, then",
             (("Scorecard against England", _href("/scorecard", org=trust)),
              ("Board pack", _href("/board-pack", org=trust)))),
    ]


def card(found: list[Path], card_id: str) -> dbc.Card:
    """The paths side by side (stacked on a phone), each a question and its links."""
    def column(path: Path) -> dbc.Col:
        links = [item for n, (text, href) in enumerate(path.steps)
                 for item in ((" · " if n else ""), dcc.Link(text, href=href))]
        lead = f"{path.first}: " if path.first else ""
        return dbc.Col([
            html.H3(path.question, className="h6 mb-1"),
            html.P([html.Span(f"{path.who}. ", className="text-muted"), lead, *links],
                   className="small mb-2"),
        ], md=4)

    return dbc.Card(dbc.CardBody([
        html.H2("Start here", className="h5 card-title"),
        dbc.Row([column(path) for path in found]),
    ]), id=card_id, className="shadow-sm mb-3")
