"""About: what the dashboard is for and who it serves, the data it is showing, how to run
it, the accessibility statement and privacy.

Answers "what is this, can I trust it, can I use it, and what does it do with my visit?"

URL parameters: none (unknown parameters are ignored with a notice).
"""

from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from commands import COMMANDS, sentence
from components import controls, pagekit, viewstate
from components import definitions as defs
from components import format as fmt
from data import queries
from web import layouts

# No canonical view: About notices every parameter it is given, so it is drawn each time.
dash.register_page(__name__, path="/about", name="About", title="About · Equalities", order=9)

ABOUT_COMMANDS_TABLE = "about-commands"
ABOUT_STORIES = "about-stories"
SECTIONS = (("purpose", "What it is for"), ("users", "Who it is for"),
            ("data", "The data"), ("running", "Running the dashboard"),
            ("accessibility", "Accessibility statement"), ("privacy", "Privacy"))
# What each story planted in the demo data shows, for people (keys from the manifest).
STORY_WORDS = {
    "pph_gap_closes": "the gap in severe postpartum haemorrhage between Black and White "
    "women closes after an intervention",
    "very_small_unit": "a very small maternity unit, where most breakdowns are suppressed",
    "pph_outlier": "a clear outlier on the funnel plot for severe postpartum haemorrhage",
    "merger_successor": "a trust that took over another in a merger",
    "merged_away": "a trust that closed when it merged into another",
    "poor_ethnicity_recording": "poor recording of ethnicity, so its ethnicity breakdowns "
    "carry a warning",
}


@dataclass(frozen=True)
class AboutView:
    """The About page has no options; the class keeps the page shape of every other page."""

    @classmethod
    def parse(cls, query: dict) -> tuple["AboutView", list[str]]:
        unknown = sorted(k for k in query if query[k] not in (None, ""))
        notices = [f"This page has no options; ignored {', '.join(k[:20] for k in unknown[:5])}."
                   ] if unknown else []
        return cls(), notices

    def search(self) -> str:
        return viewstate.search({})


def cli_commands() -> pl.DataFrame:
    """Every ``equalities`` command and what it does (the list the command line is built
    from)."""
    rows = [{"Command": f"`equalities {name}`", "What it does": sentence(name)}
            for name in COMMANDS]
    return pl.DataFrame(rows, schema={"Command": pl.String, "What it does": pl.String})


def story_items(manifest: dict, names: dict[str, str]) -> list[html.Li]:
    """One item per organisation with a planted story, linking to its overview."""
    items = []
    for code, stories in sorted((manifest.get("stories") or {}).items()):
        words = "; ".join(STORY_WORDS.get(s, s.replace("_", " ")) for s in stories)
        items.append(html.Li([dcc.Link(f"{names.get(code, code)} ({code})",
                                       href=f"/?org={code}"), f": {words}."]))
    return items


def data_section() -> html.Section:
    store = queries.current()
    manifest = store.manifest
    orgs = store.organisations
    trusts = orgs.filter(pl.col("org_level") == "trust").height
    names = dict(zip(orgs["org_code"], orgs["name"], strict=True))
    period = manifest.get("period") or {}
    which = (f"This copy is showing “{manifest.get('title', 'unknown')}”: {trusts} trusts, "
             f"data from {period.get('start', '?')} to {period.get('end', '?')}, built "
             f"{defs.when_words(manifest.get('built_at'))}.")
    if store.synthetic:
        status = dbc.Alert([html.Strong(f"{fmt.SYNTHETIC} "), which,
                            " Every trust, ICB and figure is invented; no figure describes a "
                            "real organisation."], color="warning")
        demo = [pagekit.content_markdown("about", section="Demonstration data"),
                html.H3("Situations planted in the demonstration data", className="h5"),
                html.Ul(story_items(manifest, names), id=ABOUT_STORIES)]
    else:
        status = dbc.Alert(which, color="info")
        demo = []
    return pagekit.section("data", "The data", status,
                    pagekit.content_markdown("about", section="Sources"), *demo)


def running_section() -> html.Section:
    return pagekit.section(
        "running", "Running the dashboard",
        html.P(["The dashboard is one Python program with a command, ", html.Code("equalities"),
                ". It reads a data store folder: the one given with ", html.Code("--data-dir"),
                ", or ", html.Code("EQUALITIES_DATA_DIR"), ", or ", html.Code("data/store"),
                " in the project. These are its commands:"]),
        defs.table(cli_commands(), caption="Commands of the equalities program",
                   table_id=ABOUT_COMMANDS_TABLE, class_name="w-auto", nowrap=1),
        html.P(["For example, ", html.Code("equalities build-demo"), " then ",
                html.Code("equalities serve --port 8050"), " builds the demonstration store "
                "and serves the dashboard at http://127.0.0.1:8050. The ",
                dcc.Link("Data and definitions", href="/data"), " page documents every file "
                "and column of the store."]),
    )


@layouts.safe_layout
def layout(**query) -> html.Div:
    _view, notices = AboutView.parse(query)
    return html.Div([
        pagekit.heading("About this dashboard",
                        "What it is for, who it is for, the data it shows, how accessible it "
                        "is and what it does with your visit."),
        controls.notices(notices),
        pagekit.contents(SECTIONS),
        pagekit.section("purpose", "What it is for",
                 pagekit.content_markdown("about", section="What it is for")),
        pagekit.section("users", "Who it is for",
                 pagekit.content_markdown("about", section="Who it is for")),
        data_section(),
        running_section(),
        pagekit.section("accessibility", "Accessibility statement",
                 defs.content_sections("accessibility")),
        pagekit.section("privacy", "Privacy", pagekit.content_markdown("about", section="Privacy")),
    ], style=defs.CODE_STYLE)
