"""The page frame: header, navigation, synthetic-data banner, footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import format as fmt
from components import ids, publiclink

NAV_ORDER = ("/", "/explore", "/benchmark", "/map", "/trends", "/intersections",
             "/scorecard", "/mortality", "/experience", "/data-quality", "/returns", "/data",
             "/about")


def header(manifest: dict) -> html.Header:
    return html.Header([html.Div(
        className="nhs-header",
        children=dbc.Container(
            fluid="xl",
            className="d-flex align-items-center gap-3 py-2",
            children=[
                html.Span("NHS", className="nhs-logo", **{"aria-hidden": "true"}),
                html.Div([
                    html.P("Maternity and Neonatal Equalities", className="nhs-header__title"),
                    html.P("Where care and outcomes differ by ethnicity and deprivation, "
                           "whether the gap is real, and whether it is closing",
                           className="nhs-header__tagline"),
                ]),
            ],
        ),
    ), synthetic_banner(manifest)])


def nav_id(path: str) -> str:
    """The id of the navigation link to ``path``."""
    return "nav-" + (path.strip("/") or "overview")


def navigation() -> html.Nav:
    """The main navigation; each page's layout sets the links' addresses to carry its view
    (``web.follow``), and which one is current."""
    pages = {p["path"]: p for p in dash.page_registry.values()}
    links = [
        dbc.NavItem(dbc.NavLink(pages[path]["name"], href=path, id=nav_id(path), active=False))
        for path in NAV_ORDER if path in pages
    ]
    return html.Nav(
        className="nhs-nav",
        **{"aria-label": "Main"},
        children=dbc.Container(dbc.Nav(links, className="flex-wrap"), fluid="xl"),
    )


def synthetic_banner(manifest: dict) -> html.Div | None:
    if not manifest.get("synthetic"):
        return None
    return html.Div(
        className="synthetic-banner",
        role="note",
        children=dbc.Container(
            [html.Strong(f"{fmt.SYNTHETIC} "),
             "Every trust, ICB and figure here is invented and calibrated to national "
             "published rates. No figure describes a real organisation."],
            fluid="xl",
        ),
    )


def footer(manifest: dict) -> html.Footer:
    period = manifest.get("period", {})
    network = (manifest.get("local") or {}).get("network", {}).get("name")
    local = f"Local indicators: provider returns approved by {network}. " if network else ""
    return html.Footer(
        className="nhs-footer",
        children=dbc.Container(fluid="xl", children=[
            html.P([
                "Sources: Maternity Services Data Set (NHS England), MBRRACE-UK, CQC maternity "
                "survey, Maternity and Neonatal Performance Dashboard (Annex 3). ",
                local,
                f"Store: {manifest.get('title', 'unknown')}",
                f", data {period.get('start', '?')} to {period.get('end', '?')}",
                f", built {manifest.get('built_at', '?')}.",
            ]),
            html.P([dcc.Link("Methods and definitions", href="/data"), " · ",
                    dcc.Link("About and accessibility", href="/about")]),
        ]),
    )


EXPORT_PDF = "export-pdf"
EXPORT_PNG = "export-png"
EXPORT_PPTX = "export-pptx"
# The files a view exports to: kind -> (link id, words on the link).
EXPORTS = {"pdf": (EXPORT_PDF, "PDF (A4)"), "png": (EXPORT_PNG, "PNG image"),
           "pptx": (EXPORT_PPTX, "PowerPoint")}
PRINT_HEADER = "print-header"


def export_bar(hrefs: dict[str, str]) -> html.Div:
    """Buttons that download the current view composed for print (``hrefs``: export kind ->
    its address, kinds of ``EXPORTS``)."""
    return html.Div(
        className="export-bar d-flex justify-content-end gap-2 mb-2",
        children=[
            html.Span("Export this view:", className="small align-self-center"),
            *(html.A(label, id=link_id, href=hrefs[kind],
                     className="btn btn-sm btn-outline-primary export-link")
              for kind, (link_id, label) in EXPORTS.items() if kind in hrefs),
        ],
    )


def see_also(links: list[tuple[str, str]]) -> html.Nav | None:
    """Links from a view to the same selection on other pages (``web.follow.see_also``)."""
    if not links:
        return None
    items = [dcc.Link(label, href=href, className="me-3") for label, href in links]
    return html.Nav([html.Span("See also: ", className="me-1"), *items],
                    className="see-also small mb-2", **{"aria-label": "This view elsewhere"})


def print_header(title: str, lines: list[tuple[str, str]], link: str, generated: str,
                 manifest: dict) -> html.Div:
    """What a printed or exported page starts with: what, for whom, when, from where."""
    period = manifest.get("period", {})
    synthetic = [html.P("SYNTHETIC DATA: invented figures for fictional trusts, for "
                        "demonstration only.", className="print-synthetic")] \
        if manifest.get("synthetic") else []
    return html.Div(id=PRINT_HEADER, className="print-only print-header", children=[
        *synthetic,
        html.P("Maternity and Neonatal Equalities", className="print-kicker"),
        html.P(title, className="print-title"),
        html.P(" · ".join(f"{label}: {value}" for label, value in lines)),
        html.P(f"Generated {generated}. Data store: {manifest.get('title', '')}, covering "
               f"{period.get('start', '?')} to {period.get('end', '?')}. "
               f"Reproduce this view: {publiclink.printed(link)}", className="small"),
    ])


def frame(manifest: dict | None, error: str | None = None) -> html.Div:
    """The whole page: the router's ``page_container`` inside the NHS frame."""
    manifest = manifest or {}
    main = dash.page_container if error is None else dbc.Alert(error, color="danger")
    return html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        html.A("Skip to main content", href="#main", className="skip-link"),
        header(manifest),
        navigation(),
        html.Div("SYNTHETIC DATA", className="watermark", **{"aria-hidden": "true"})
        if manifest.get("synthetic") else None,
        # Each page's print heading and export links come with its layout (web.layouts).
        html.Main(id="main", className="container-xl py-3", tabIndex="-1", children=main),
        footer(manifest),
    ])
