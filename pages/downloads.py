"""Data and definitions: the data files behind the dashboard, what every metric and column
means, how the figures are calculated, where the data come from and what this store holds,
and local data beside the national figures (``pages/_local_data.py``).

Answers "can I have the data, what exactly does this figure mean, and how was it worked
out?"

URL parameters: ``metric`` (registry id, or ``all``): the metric whose data files the
download buttons give; ``local`` (the name of a local file kept on this server with
``equalities ingest --local``): the kept file shown beside the national figures. An uploaded
file is not in the URL and is not kept: it stays in the browser tab, which sends it again
with each request that needs it.
"""

import io
import zipfile
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from components import controls, ids, pagekit, viewstate
from components import definitions as defs
from components import format as fmt
from metrics import registry
from metrics.disclosure import (
    SYMBOL_NOT_APPLICABLE,
    SYMBOL_NOT_AVAILABLE,
    SYMBOL_SUPPRESSED,
    SYMBOL_ZERO,
)
from pages import _local_data as local
from views import downloads as models
from views.downloads import ALL_METRICS, Downloads
from web import layouts

dash.register_page(__name__, path="/data", name="Data and definitions",
                   title="Data and definitions · Equalities", order=8)

DATA_METRIC = "data-metric"
DATA_COUNTS_BUTTON = "data-counts-button"
DATA_COUNTS_DOWNLOAD = "data-counts-download"
DATA_VALUES_BUTTON = "data-values-button"
DATA_VALUES_DOWNLOAD = "data-values-download"
DATA_ORGS_BUTTON = "data-orgs-button"
DATA_ORGS_DOWNLOAD = "data-orgs-download"
DATA_DEFINITIONS_BUTTON = "data-definitions-button"
DATA_DEFINITIONS_DOWNLOAD = "data-definitions-download"
DATA_COLUMNS_BUTTON = "data-columns-button"
DATA_COLUMNS_DOWNLOAD = "data-columns-download"
DATA_SUMMARY_TABLE = "data-summary-table"
DATA_COUNTS_COLUMNS_TABLE = "data-counts-columns"
DATA_ORGS_COLUMNS_TABLE = "data-organisations-columns"
DATA_VALUES_COLUMNS_TABLE = "data-values-columns"
DATA_SYMBOLS_TABLE = "data-symbols"
DATA_STORE_TABLE = "data-store"
DEFAULT_METRIC = "pph_1500"
SECTIONS = (("downloads", "Download the data"), ("local", "Your local data"),
            ("definitions", "Definitions"),
            ("methods", "Methods"), ("sources", "Sources, lag times, limitations and mergers"),
            ("store", "About this data store"))
ZIP_NOTE = ("One CSV file per metric in a zip file, which can take up to about 20 seconds "
            "to prepare.")


@dataclass(frozen=True)
class DataView:
    metric: str
    local: str = ""  # a kept local file's name, or "" for none

    @classmethod
    def parse(cls, query: dict) -> tuple["DataView", list[str]]:
        notices: list[str] = []
        metric = viewstate.choose(query, "metric", [ALL_METRICS, *registry.metrics()],
                                  DEFAULT_METRIC, notices, "metric")
        return cls(metric, local.kept_name(query, notices)), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "local": self.local})


def model(view: DataView) -> Downloads:
    """The page's one call into the seam for a parsed view (the kept local files are read
    apart: they change without a new store build)."""
    return models.downloads(view.metric)


# -- downloads (plain functions, called by the callbacks and the tests) ---------------------


def preamble(m: Downloads, what: str, metric: registry.Metric | None = None) -> list[str]:
    """A download's first lines (the CSV writer adds the key to the symbols it uses)."""
    lines = [f"{what}. Data store: {m.store_title}, built {m.built_at}."]
    if m.synthetic:
        lines.append(pagekit.synthetic_line("every organisation and figure is invented."))
    if metric is not None:
        lines.append(f"Source: {metric.source}. Unit: {metric.unit}.")
        # England rows the store summed from trusts (no file gives them): what they are.
        lines += [f"{period}: {note}" for period, note in m.england_notes.items()]
    return lines


def counts_csv(metric_id: str) -> str:
    """The counts table of one metric as published (disclosure control applied), as CSV."""
    m = models.downloads(metric_id)
    metric = m.chosen
    frame = defs.published_counts(defs.download_order(models.file_cells("counts", metric_id)))
    return pagekit.csv_text(frame, preamble(m, f"Counts: {metric.title} ({metric_id})", metric))


def values_csv(metric_id: str) -> str:
    """Every cell of one metric with its value and 95% / 99.8% confidence intervals, as CSV."""
    m = models.downloads(metric_id)
    metric = m.chosen
    frame = defs.published_values(defs.download_order(models.file_cells("values", metric_id)),
                                  metric)
    lines = preamble(m, f"Values with confidence intervals: {metric.title} ({metric_id})",
                     metric)
    return pagekit.csv_text(frame, [*lines, f"Confidence intervals: "
                                            f"{defs.CI_WORDS[metric.statistic]}."])


def _zip(make, stem: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for metric in registry.all_metrics():
            archive.writestr(f"{stem}-{metric.id}.csv", make(metric.id))
    return buffer.getvalue()


def download(kind: str, search: str | None) -> dict:
    """The ``counts`` or ``values`` file for the metric in ``search`` (a zip for all)."""
    view, _ = DataView.parse(viewstate.query_of(search))
    make = {"counts": counts_csv, "values": values_csv}[kind]
    stem = f"equalities-{kind}"
    if view.metric == ALL_METRICS:
        content = _zip(make, stem)
        return dcc.send_bytes(content, f"{stem}-all-metrics.zip", type="application/zip")
    return dict(content=make(view.metric), filename=f"{stem}-{view.metric}.csv",
                type="text/csv")


def organisations_download() -> dict:
    """The organisations file (the same whichever metric is chosen)."""
    m = models.downloads(DEFAULT_METRIC)
    frame = defs.published_organisations(m.organisations)
    lines = preamble(m, "Organisations") + [
        "An empty cell means the field does not apply (for example, no closing date)."]
    return dict(content=pagekit.csv_text(frame, lines), filename="equalities-organisations.csv",
                type="text/csv")


def definitions_download() -> dict:
    """The metric definitions as on screen (the same whichever metric is chosen)."""
    m = models.downloads(DEFAULT_METRIC)
    return dict(content=pagekit.csv_text(defs.metric_definitions(m.held),
                                         ["Metric definitions, from the metric registry"]),
                filename="equalities-metric-definitions.csv", type="text/csv")


def columns_download() -> dict:
    frame = pl.concat([defs.column_definitions(), defs.values_column_definitions()])
    return dict(content=pagekit.csv_text(frame, ["Columns of the data files"]),
                filename="equalities-columns.csv", type="text/csv")


# -- layout ---------------------------------------------------------------------------------


def _file_card(title: str, text: str, size: str, button_id: str, download_id: str,
               label: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.H3(title, className="h6 card-title"),
        html.P(text, className="small mb-2"),
        html.P(size, className="small text-muted mb-2"),
        busy(pagekit.download_button(button_id, download_id, label), download_id),
    ]), className="h-100 shadow-sm"), md=4, className="mb-3")


def busy(children, download_id: str) -> dcc.Loading:
    """A spinner over a download button while its file is being made (large files take
    seconds); the button stays visible so keyboard focus is not lost."""
    return dcc.Loading(children, type="dot", delay_show=300, color="#005EB8",
                       target_components={download_id: "data"},
                       overlay_style={"visibility": "visible", "opacity": 0.6})


def file_cards(m: Downloads) -> dbc.Row:
    """The three data files, each with what it holds, its size and its button."""
    what = "all metrics" if m.everything else m.chosen.title.lower()
    note = " once unzipped. " + ZIP_NOTE if m.everything else "."
    return dbc.Row([
        _file_card("Counts as published",
                   f"Numerators, denominators and publishers' values for {what}, after "
                   "disclosure control: exactly what the dashboard draws on.",
                   defs.size_words(m.file_rows, "counts") + note,
                   DATA_COUNTS_BUTTON, DATA_COUNTS_DOWNLOAD, "Download counts"),
        _file_card("Values with confidence intervals",
                   f"The same cells for {what} with each value and its 95% and 99.8% "
                   "confidence intervals, worked out as the charts do.",
                   defs.size_words(m.file_rows, "values") + note,
                   DATA_VALUES_BUTTON, DATA_VALUES_DOWNLOAD, "Download values"),
        _file_card("Organisations",
                   "England, regions, ICBs / LMNSs and trusts: codes, names, peer groups, "
                   "sizes and mergers.",
                   defs.size_words(m.organisations.height, "organisations") + ".",
                   DATA_ORGS_BUTTON, DATA_ORGS_DOWNLOAD, "Download organisations"),
    ])


def downloads_section(m: Downloads) -> html.Section:
    options = [{"label": "All metrics (zip files)", "value": ALL_METRICS},
               *controls.metric_options()]
    return pagekit.section("downloads", "Download the data", html.P(
        "Every figure on this dashboard comes from two tables: the counts (one row per "
        "organisation, period, breakdown and group) and the organisations. Download them "
        "here. The files are made when you press a button, from the same store the charts "
        "use."),
        controls.card("Choose the metric for the data files", dbc.Row([
            controls.labelled("Metric", controls.dropdown(DATA_METRIC, options, m.metric),
                              DATA_METRIC, 8),
        ])),
        file_cards(m),
        html.H3("Symbols in the files", className="h5 mt-2"),
        html.P([
            "Cells that do not hold an ordinary number carry the symbols used in NHS "
            "statistical publications, listed below. We use them for zero too, writing ",
            html.Code(SYMBOL_ZERO), ", so that the files read the same way as the tables on "
            "screen and as the statistics they come from, and every cell that is not a plain "
            "count stands out. When you load a file into a spreadsheet or statistical "
            "software, read ", html.Code(SYMBOL_SUPPRESSED), ", ",
            html.Code(SYMBOL_NOT_AVAILABLE), " and ", html.Code(SYMBOL_NOT_APPLICABLE),
            " as missing and ", html.Code(SYMBOL_ZERO), " as 0. The first lines of each file "
            "start with ", html.Code("#"), " and describe it (source, whether the data are "
            "synthetic, the symbols); skip them when loading, for example with ",
            html.Code('pandas.read_csv(path, comment="#")'), " or ",
            html.Code('read.csv(path, comment.char = "#")'), ". Below national level no "
            "count of 1 to 7 people appears in any file, and any cell that begins like a "
            "spreadsheet formula is prefixed with an apostrophe so it is shown, not run.",
        ]),
        defs.table(defs.symbols_table(), caption="Symbols used in the downloaded files",
                   table_id=DATA_SYMBOLS_TABLE, class_name="w-auto", key=False),
    )


def definitions_section(m: Downloads) -> html.Section:
    definitions = defs.metric_definitions(m.held)
    columns = defs.column_definitions()

    def columns_of(table: str) -> pl.DataFrame:
        return columns.filter(pl.col("Table") == table).drop("Table")

    return pagekit.section("definitions", "Definitions", html.P(
        "What each metric counts, how its uncertainty is worked out and where it is "
        "published. The table lists every metric; open a metric below for its full "
        "definition."),
        defs.table(definitions.select(defs.SUMMARY_COLUMNS), table_id=DATA_SUMMARY_TABLE,
                   caption=f"The {definitions.height} metrics in this dashboard"),
        html.H3("Full definitions", className="h5 mt-3"),
        defs.metric_details(definitions),
        html.Div(pagekit.download_button(DATA_DEFINITIONS_BUTTON, DATA_DEFINITIONS_DOWNLOAD,
                                         "Download metric definitions"), className="mt-2"),
        html.H3("Columns of the data files", className="h5 mt-4"),
        html.P(["The counts and organisations files have the columns of the store's tables "
                "(Parquet files in the store folder), in this order. Where a count is empty "
                "(null) in the store, the CSV files write ", html.Code(SYMBOL_SUPPRESSED),
                " if it was withheld and ", html.Code(SYMBOL_NOT_AVAILABLE),
                " if it was not published."]),
        defs.table(columns_of("counts"), table_id=DATA_COUNTS_COLUMNS_TABLE,
                   caption="Counts file (counts.parquet)", nowrap=2),
        defs.table(columns_of("organisations"), table_id=DATA_ORGS_COLUMNS_TABLE,
                   caption="Organisations file (organisations.parquet)", nowrap=2),
        defs.table(defs.values_column_definitions().drop("Table"),
                   table_id=DATA_VALUES_COLUMNS_TABLE, nowrap=2,
                   caption="Values file: columns added to metric, organisation, period, "
                   "breakdown, group, numerator, denominator and suppressed"),
        pagekit.download_button(DATA_COLUMNS_BUTTON, DATA_COLUMNS_DOWNLOAD,
                                "Download column definitions"),
    )


def sources_section(m: Downloads) -> html.Section:
    mergers = defs.merger_sentences(m.organisations)
    return pagekit.section(
        "sources", "Sources, lag times, limitations and mergers",
        defs.table(defs.sources_table(), caption="Where the data come from and how long "
                   "after the period they are published"),
        defs.content_sections("sources"),
        html.H3("Limitations of particular metrics", className="h5 mt-3"),
        html.Ul([html.Li([html.Strong(f"{title}: "), text])
                 for title, text in defs.metric_limitations()]),
        html.H3("Mergers and closures", className="h5 mt-3"),
        html.Ul([html.Li(s) for s in mergers]) if mergers else html.P(
            "No organisation in this data store has closed or merged."),
        html.P("A closed organisation keeps its own figures up to its closing date; later "
               "figures belong to its successor, so a successor's series has a step where "
               "the merged services join it.", className="small text-muted")
        if mergers else None,
    )


def store_section(m: Downloads) -> html.Section:
    fields = defs.manifest_fields(m.manifest)
    frame = pl.DataFrame({"Field": list(fields), "Value": list(fields.values())})
    return pagekit.section("store", "About this data store",
                    html.P("What the data store this dashboard is reading says about itself."),
                    defs.table(frame, caption="Data store information", row_headers=True,
                               table_id=DATA_STORE_TABLE, class_name="w-auto"))


# Not cached: the local files kept on this server change without a new store build.
@layouts.safe_layout(cache=False)
def layout(**query) -> html.Div:
    view, notices = DataView.parse(query)
    m = model(view)
    return html.Div([
        pagekit.heading("Data and definitions",
                        "The data behind the dashboard, what every metric and column means, "
                        "and how the figures are worked out."),
        controls.notices(notices),
        dbc.Alert([html.Strong(f"{fmt.SYNTHETIC} "),
                   "The files below hold invented figures for fictional trusts. Do not use "
                   "them as facts about real organisations."], color="warning")
        if m.synthetic else None,
        pagekit.contents(SECTIONS),
        downloads_section(m),
        pagekit.section("local", "Your local data", *local.section_parts(view.local, m)),
        definitions_section(m),
        pagekit.section("methods", "Methods", defs.content_sections("methods")),
        sources_section(m),
        store_section(m),
    ], style=defs.CODE_STYLE)


# -- callbacks ------------------------------------------------------------------------------


FOLLOWED = viewstate.follow_controls({"metric": DATA_METRIC}, keep=True)
# The kept files' menu is absent when none is kept, so it writes the URL on its own.
KEPT_FOLLOWED = viewstate.follow_controls({"local": local.DATA_KEPT_FILE}, keep=True)


@callback(Output(DATA_COUNTS_DOWNLOAD, "data"), Input(DATA_COUNTS_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_counts(_clicks, search):
    return download("counts", search)


@callback(Output(DATA_VALUES_DOWNLOAD, "data"), Input(DATA_VALUES_BUTTON, "n_clicks"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_values(_clicks, search):
    return download("values", search)


@callback(Output(DATA_ORGS_DOWNLOAD, "data"), Input(DATA_ORGS_BUTTON, "n_clicks"),
          prevent_initial_call=True)
def on_organisations(_clicks):
    return organisations_download()


@callback(Output(DATA_DEFINITIONS_DOWNLOAD, "data"), Input(DATA_DEFINITIONS_BUTTON, "n_clicks"),
          prevent_initial_call=True)
def on_definitions(_clicks):
    return definitions_download()


@callback(Output(DATA_COLUMNS_DOWNLOAD, "data"), Input(DATA_COLUMNS_BUTTON, "n_clicks"),
          prevent_initial_call=True)
def on_columns(_clicks):
    return columns_download()
