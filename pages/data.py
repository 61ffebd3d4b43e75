"""Data and definitions: the data files behind the dashboard, what every metric and column
means, how the figures are calculated, where the data come from and what this store holds.

Answers "can I have the data, what exactly does this figure mean, and how was it worked
out?"

URL parameters: ``metric`` (registry id, or ``all``): the metric whose data files the
download buttons give; ``local`` (the name of a local file kept on this server with
``equalities ingest --local``): the kept file shown beside the national figures. An uploaded
file is not in the URL and is not kept: it stays in the browser tab, which sends it again
with each request that needs it.
"""

import io
import logging
import zipfile
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html, no_update

from components import controls, ids, localdata, pagekit, tables, viewstate
from components import definitions as defs
from data import queries
from data.ingest.errors import IngestError
from data.local import compare, parse, store
from metrics import registry
from metrics.disclosure import SYMBOL_NOT_AVAILABLE
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
DATA_LOCAL_UPLOAD = "data-local-upload"
DATA_LOCAL_NOTICE = "data-local-notice"
DATA_LOCAL_RESULT = "data-local-result"
DATA_LOCAL_GRAPH = "data-local-graph"  # type of the pattern-matching ids of the charts
DATA_LOCAL_INDICATORS = "data-local-indicators"
DATA_LOCAL_TEMPLATE_BUTTON = "data-local-template-button"
DATA_LOCAL_TEMPLATE_DOWNLOAD = "data-local-template-download"
DATA_LOCAL_DOWNLOAD_BUTTON = "data-local-download-button"
DATA_LOCAL_DOWNLOAD = "data-local-download"
DATA_LOCAL_DOWNLOAD_NOTICE = "data-local-download-notice"
DATA_LOCAL_HELP = "data-local-help"
DATA_KEPT_TABLE = "data-kept-table"
DATA_KEPT_FILE = "data-kept-file"
DATA_KEPT_RESULT = "data-kept-result"
DATA_KEPT_GRAPH = "data-kept-graph"
DATA_KEPT_INDICATORS = "data-kept-indicators"
DATA_KEPT_DOWNLOAD_BUTTON = "data-kept-download-button"
DATA_KEPT_DOWNLOAD = "data-kept-download"
DATA_KEPT_DOWNLOAD_NOTICE = "data-kept-download-notice"
ALL_METRICS = "all"
DEFAULT_METRIC = "pph_1500"
SECTIONS = (("downloads", "Download the data"), ("local", "Your local data"),
            ("definitions", "Definitions"),
            ("methods", "Methods"), ("sources", "Sources, lag times, limitations and mergers"),
            ("store", "About this data store"))
log = logging.getLogger(__name__)
ZIP_NOTE = ("One CSV file per metric in a zip file, which can take up to about 20 seconds "
            "to prepare.")


@dataclass(frozen=True)
class DataView:
    metric: str
    local: str = ""  # a kept local file's name, or "" for none

    @classmethod
    def parse(cls, query: dict) -> tuple["DataView", list[str]]:
        notices: list[str] = []
        metric = viewstate.choose(query, "metric", [ALL_METRICS, *registry.METRICS],
                                  DEFAULT_METRIC, notices, "metric")
        local = str(query.get("local") or "")
        if local and local not in store.names():
            notices.append(f"Unknown local file “{local[:60]}”: no file of that name is kept "
                           "on this server, so none is shown.")
            local = ""
        return cls(metric, local), notices

    def search(self) -> str:
        return viewstate.search({"metric": self.metric, "local": self.local})


# -- downloads (plain functions, called by the callbacks and the tests) ---------------------


def _preamble(what: str, metric: registry.Metric | None = None) -> list[str]:
    """A download's first lines (the CSV writer adds the key to the symbols it uses)."""
    manifest = queries.current().manifest
    lines = [f"{what}. Data store: {manifest.get('title', 'unknown')}, built "
             f"{manifest.get('built_at', '?')}."]
    if queries.current().synthetic:
        lines.append("SYNTHETIC DEMONSTRATION DATA: every organisation and figure is invented.")
    if metric is not None:
        lines.append(f"Source: {metric.source}. Unit: {metric.unit}.")
        # England rows the store summed from trusts (no file gives them): what they are.
        lines += [f"{period}: {note}"
                  for period, note in queries.england_sum_notes(metric.id).items()]
    return lines


def counts_csv(metric_id: str) -> str:
    """The counts table of one metric as published (disclosure control applied), as CSV."""
    metric = registry.get(metric_id)
    frame = defs.published_counts(defs.download_order(queries.download_counts(metric_id)))
    return defs.large_csv_text(frame, _preamble(f"Counts: {metric.title} ({metric.id})",
                                                metric))


def values_csv(metric_id: str) -> str:
    """Every cell of one metric with its value and 95% / 99.8% confidence intervals, as CSV."""
    metric = registry.get(metric_id)
    frame = defs.published_values(defs.download_order(queries.download_values(metric_id)),
                                  metric)
    preamble = _preamble(f"Values with confidence intervals: {metric.title} ({metric.id})",
                         metric)
    preamble.append(f"Confidence intervals: {defs.CI_WORDS[metric.statistic]}.")
    return defs.large_csv_text(frame, preamble)


def _zip(make, stem: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for metric in registry.METRICS_LIST:
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
    frame = defs.published_organisations(queries.organisations())
    preamble = _preamble("Organisations") + [
        "An empty cell means the field does not apply (for example, no closing date)."]
    return dict(content=pagekit.csv_text(frame, preamble), filename="equalities-organisations.csv",
                type="text/csv")


def definitions_download() -> dict:
    return dict(content=pagekit.csv_text(defs.metric_definitions(queries.held_by_metric()),
                                         ["Metric definitions, from the metric registry"]),
                filename="equalities-metric-definitions.csv", type="text/csv")


def columns_download() -> dict:
    frame = pl.concat([defs.column_definitions(), defs.values_column_definitions()])
    return dict(content=pagekit.csv_text(frame, ["Columns of the data files"]),
                filename="equalities-columns.csv", type="text/csv")


# -- layout ---------------------------------------------------------------------------------


def _section(anchor: str, title: str, *children) -> html.Section:
    return html.Section([html.H2(title, id=anchor, className="h3 mt-4 pt-2"), *children],
                        className="mb-4", **{"aria-labelledby": anchor})


def contents() -> html.Nav:
    return html.Nav([
        html.H2("On this page", className="h6 mb-1"),
        html.Ul([html.Li(html.A(title, href=f"#{anchor}")) for anchor, title in SECTIONS],
                className="mb-0"),
    ], className="page-contents mb-3", **{"aria-label": "On this page"})


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


def downloads_section(view: DataView) -> html.Section:
    rows = queries.download_rows()
    everything = view.metric == ALL_METRICS
    if everything:
        count = sum(rows.values())
        what = "all metrics"
        note = " once unzipped. " + ZIP_NOTE
    else:
        count = rows.get(view.metric, 0)
        what = registry.get(view.metric).title.lower()
        note = "."
    orgs = queries.organisations().height
    options = [{"label": "All metrics (zip files)", "value": ALL_METRICS},
               *controls.metric_options()]
    return _section("downloads", "Download the data", html.P(
        "Every figure on this dashboard comes from two tables: the counts (one row per "
        "organisation, period, breakdown and group) and the organisations. Download them "
        "here. The files are made when you press a button, from the same store the charts "
        "use."),
        controls.card("Choose the metric for the data files", dbc.Row([
            controls.labelled("Metric", controls.dropdown(DATA_METRIC, options, view.metric),
                              DATA_METRIC, 8),
        ])),
        dbc.Row([
            _file_card("Counts as published",
                       f"Numerators, denominators and publishers' values for {what}, after "
                       "disclosure control: exactly what the dashboard draws on.",
                       defs.size_words(count, "counts") + note,
                       DATA_COUNTS_BUTTON, DATA_COUNTS_DOWNLOAD, "Download counts"),
            _file_card("Values with confidence intervals",
                       f"The same cells for {what} with each value and its 95% and 99.8% "
                       "confidence intervals, worked out as the charts do.",
                       defs.size_words(count, "values") + note,
                       DATA_VALUES_BUTTON, DATA_VALUES_DOWNLOAD, "Download values"),
            _file_card("Organisations",
                       "England, regions, ICBs / LMNSs and trusts: codes, names, peer groups, "
                       "sizes and mergers.",
                       defs.size_words(orgs, "organisations") + ".",
                       DATA_ORGS_BUTTON, DATA_ORGS_DOWNLOAD, "Download organisations"),
        ]),
        html.H3("Symbols in the files", className="h5 mt-2"),
        html.P([
            "Cells that do not hold an ordinary number carry the symbols used in NHS "
            "statistical publications, listed below. We use them for zero too, writing ",
            html.Code("-"), ", so that the files read the same way as the tables on screen "
            "and as the statistics they come from, and every cell that is not a plain count "
            "stands out. When you load a file into a spreadsheet or statistical software, "
            "read ", html.Code("*"), ", ", html.Code(":"), " and ", html.Code("z"),
            " as missing and ", html.Code("-"), " as 0. The first lines of each file start "
            "with ", html.Code("#"), " and describe it (source, whether the data are "
            "synthetic, the symbols); skip them when loading, for example with ",
            html.Code('pandas.read_csv(path, comment="#")'), " or ",
            html.Code('read.csv(path, comment.char = "#")'), ". Below national level no "
            "count of 1 to 7 people appears in any file, and any cell that begins like a "
            "spreadsheet formula is prefixed with an apostrophe so it is shown, not run.",
        ]),
        defs.table(defs.symbols_table(), caption="Symbols used in the downloaded files",
                   table_id=DATA_SYMBOLS_TABLE, class_name="w-auto", key=False),
    )


def definitions_section() -> html.Section:
    definitions = defs.metric_definitions(queries.held_by_metric())
    columns = defs.column_definitions()

    def columns_of(table: str) -> pl.DataFrame:
        return columns.filter(pl.col("Table") == table).drop("Table")

    return _section("definitions", "Definitions", html.P(
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
                "(null) in the store, the CSV files write ", html.Code("*"), " if it was "
                "withheld and ", html.Code(":"), " if it was not published."]),
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


def sources_section() -> html.Section:
    mergers = defs.merger_sentences(queries.organisations())
    limitations = defs.metric_limitations()
    return _section(
        "sources", "Sources, lag times, limitations and mergers",
        defs.table(defs.sources_table(), caption="Where the data come from and how long "
                   "after the period they are published"),
        defs.content_sections("sources"),
        html.H3("Limitations of particular metrics", className="h5 mt-3"),
        html.Ul([html.Li([html.Strong(f"{title}: "), text]) for title, text in limitations]),
        html.H3("Mergers and closures", className="h5 mt-3"),
        html.Ul([html.Li(s) for s in mergers]) if mergers else html.P(
            "No organisation in this data store has closed or merged."),
        html.P("A closed organisation keeps its own figures up to its closing date; later "
               "figures belong to its successor, so a successor's series has a step where "
               "the merged services join it.", className="small text-muted")
        if mergers else None,
    )


def local_section(view: DataView) -> html.Section:
    limit = parse.megabytes(parse.UPLOAD_MAX_BYTES)
    return _section(
        "local", "Your local data",
        pagekit.content_markdown("local_data", section="Intro"),
        pagekit.content_markdown("local_data", section="Where your data go"),
        html.Div(pagekit.download_button(DATA_LOCAL_TEMPLATE_BUTTON, DATA_LOCAL_TEMPLATE_DOWNLOAD,
                                         "Download the template (CSV)"), className="mb-2"),
        dcc.Upload(
            html.Div([html.Strong("Drag your CSV file here, or click to choose it"), html.Br(),
                      html.Span(f"CSV UTF-8, up to {limit} and {parse.MAX_ROWS:,} rows",
                                className="small")]),
            id=DATA_LOCAL_UPLOAD, accept=".csv", max_size=parse.UPLOAD_MAX_BYTES,
            multiple=False, className="local-upload", className_active="local-upload-active",
            className_reject="local-upload-reject"),
        # Filled in by the browser (assets/local-upload.js) when it turns a file away.
        html.Div(id=DATA_LOCAL_NOTICE, className="local-notice small mt-1", role="status",
                 **{"data-max-bytes": str(parse.UPLOAD_MAX_BYTES)}),
        dcc.Loading(html.Div(id=DATA_LOCAL_RESULT, className="mt-3"), type="dot",
                    color="#005EB8", delay_show=300),
        html.Details([
            html.Summary("How to fill in the template: columns, rules, small numbers and "
                         "methods", className="fw-bold"),
            *(part for name in ("Columns", "Rules", "Small numbers and methods")
              for part in (html.H3(name, className="h6 mt-3"),
                           pagekit.content_markdown("local_data", section=name,
                                                    class_name="content local-help"))),
        ], id=DATA_LOCAL_HELP, className="mb-2 px-2 py-1 bg-white border rounded"),
        *kept_part(view),
    )


KEPT_COLUMNS = ("Flag", "Name", "Rows", "Organisations", "Metrics", "Ingested", "Status")


def kept_table(kept: list[store.Kept]) -> pl.DataFrame:
    """The kept local files: name, size, when ingested, and whether each can be read."""
    def count(number: int | None) -> str:
        return SYMBOL_NOT_AVAILABLE if number is None else f"{number:,}"

    return pl.DataFrame([{
        "Flag": localdata.LOCAL, "Name": k.name,
        "Rows": count(k.data.rows if k.data else None),
        "Organisations": count(k.count("organisation")), "Metrics": count(k.count("metric")),
        "Ingested": defs.when_words(k.ingested.isoformat()),
        "Status": f"Cannot be shown: {k.problem}" if k.problem else "Ready",
    } for k in kept], schema=dict.fromkeys(KEPT_COLUMNS, pl.String))


def kept_part(view: DataView) -> list:
    """The local files kept on this server, a choice of one, and its comparison."""
    kept = store.listing()
    parts = [html.H3([localdata.badge(), " Local files kept on this server"],
                     className="h5 mt-4"),
             pagekit.content_markdown("local_data", section="Files kept on this server")]
    if not kept:
        return [*parts, html.P("No local files are kept on this server.", className="small")]
    chosen = next((k for k in kept if k.name == view.local), None)
    options = [{"label": k.name, "value": k.name} for k in kept]
    return [
        *parts,
        tables.html_table(kept_table(kept), table_id=DATA_KEPT_TABLE,
                          caption="Local files kept on this server"),
        dbc.Row(controls.labelled(
            "Show a kept file beside the national figures",
            controls.dropdown(DATA_KEPT_FILE, options, view.local or None, clearable=True,
                              placeholder="Choose a kept file"), DATA_KEPT_FILE, 6)),
        html.Div(kept_view(chosen) if chosen else None, id=DATA_KEPT_RESULT, className="mt-2"),
    ]


# -- local data (plain functions, called by the callbacks and the tests) ---------------------


def _local_source(file: str) -> str:
    manifest = queries.current().manifest
    return (f"Local: your file {file} (not official statistics). National: "
            f"{manifest.get('title', 'the data store')}.")


def _comparison_view(data: parse.LocalData, *, held: str, graph_type: str,
                     indicators_id: str, button_id: str, download_id: str,
                     notice_id: str) -> html.Div:
    """A local file's figures beside the national ones, with the download of the table."""
    download = html.Div([
        pagekit.download_button(button_id, download_id, "Download the comparison (CSV)"),
        html.Span(id=notice_id, className="small", role="status"),
    ], className="mb-2")
    return localdata.result_view(data, compare.compare(data.counts),
                                 source=_local_source(data.file), held=held,
                                 graph_type=graph_type, indicators_id=indicators_id,
                                 download=download)


def _comparison_file(data: parse.LocalData) -> dict:
    """The comparison table of a local file as a CSV download."""
    result = compare.compare(data.counts)
    stem = data.file.rsplit(".", 1)[0]
    content = localdata.comparison_csv(
        result.cells, file=data.file, store_title=queries.current().manifest.get("title", ""),
        synthetic=queries.current().synthetic, left_out=result.left_out)
    return dict(content=content, filename=f"equalities-local-{stem}.csv", type="text/csv")


def _uploaded(contents, filename) -> parse.LocalData:
    """The upload validated; :class:`IngestError` when refused."""
    file = parse.display_name(filename)
    raw = parse.from_data_url(contents, file, max_bytes=parse.UPLOAD_MAX_BYTES)
    return parse.parse(raw, file)


UPLOAD_HELD = ("Worked out from the file in this browser tab: the server keeps no copy, and "
               "it is never added to the national data.")


def upload(contents, filename) -> html.Div:
    """The view of an uploaded file: its figures, or its problems."""
    try:
        data = _uploaded(contents, filename)
    except IngestError as error:
        log.info("local upload refused: %s", error.summary())
        return localdata.problems_view(error)
    return _comparison_view(data, held=UPLOAD_HELD, graph_type=DATA_LOCAL_GRAPH,
                            indicators_id=DATA_LOCAL_INDICATORS,
                            button_id=DATA_LOCAL_DOWNLOAD_BUTTON,
                            download_id=DATA_LOCAL_DOWNLOAD, notice_id=DATA_LOCAL_DOWNLOAD_NOTICE)


NO_UPLOAD = "No file is uploaded in this tab: choose your CSV file above, then download."


def local_download(contents, filename) -> tuple:
    """The comparison table of the uploaded file as CSV, or a notice. The browser sends the
    file again with the click, so any server process can answer."""
    if contents is None:
        return no_update, NO_UPLOAD
    try:
        data = _uploaded(contents, filename)
    except IngestError as error:
        return no_update, (f"{error.file} could not be used: {error.problems[0].message}. "
                           "Upload it again.")
    return _comparison_file(data), ""


def kept_view(kept: store.Kept) -> html.Div:
    """The comparison view of a kept local file, or why it cannot be shown."""
    if kept.data is None:
        return html.Div([html.Strong(f"{kept.name} cannot be shown: "), kept.problem],
                        className="alert alert-danger", role="alert")
    held = (f"Kept on this server (ingested {defs.when_words(kept.ingested.isoformat())}) "
            "apart from the national store, and never added to the national data.")
    return _comparison_view(kept.data, held=held, graph_type=DATA_KEPT_GRAPH,
                            indicators_id=DATA_KEPT_INDICATORS,
                            button_id=DATA_KEPT_DOWNLOAD_BUTTON, download_id=DATA_KEPT_DOWNLOAD,
                            notice_id=DATA_KEPT_DOWNLOAD_NOTICE)


def kept_download(search: str | None) -> tuple:
    """The comparison table of the kept file in ``search`` as CSV, or a notice."""
    view, _ = DataView.parse(viewstate.query_of(search))
    if not view.local:
        return no_update, "This file is no longer kept on this server."
    try:
        data = store.read(view.local)
    except store.DamagedFile as error:
        return no_update, f"{error}."
    return _comparison_file(data), ""


def template_download() -> dict:
    return dict(content=parse.TEMPLATE.read_text(encoding="utf-8"),
                filename="equalities-local-data-template.csv", type="text/csv")


def store_section() -> html.Section:
    fields = defs.manifest_fields(queries.current().manifest)
    frame = pl.DataFrame({"Field": list(fields), "Value": list(fields.values())})
    return _section("store", "About this data store",
                    html.P("What the data store this dashboard is reading says about itself."),
                    defs.table(frame, caption="Data store information", row_headers=True,
                               table_id=DATA_STORE_TABLE, class_name="w-auto"))


# Not cached: the local files kept on this server change without a new store build.
@layouts.safe_layout(cache=False)
def layout(**query) -> html.Div:
    view, notices = DataView.parse(query)
    synthetic = queries.current().synthetic
    return html.Div([
        pagekit.heading("Data and definitions",
                        "The data behind the dashboard, what every metric and column means, "
                        "and how the figures are worked out."),
        controls.notices(notices),
        dbc.Alert([html.Strong("Synthetic demonstration data. "),
                   "The files below hold invented figures for fictional trusts. Do not use "
                   "them as facts about real organisations."], color="warning")
        if synthetic else None,
        contents(),
        downloads_section(view),
        local_section(view),
        definitions_section(),
        _section("methods", "Methods", defs.content_sections("methods")),
        sources_section(),
        store_section(),
    ], style=defs.CODE_STYLE)


# -- callbacks ------------------------------------------------------------------------------


@callback(Output(ids.PAGE_URL, "search", allow_duplicate=True), Input(DATA_METRIC, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def update_url(metric, current):
    return viewstate.next_search(DataView, {**viewstate.query_of(current), "metric": metric},
                                 current)


@callback(Output(ids.PAGE_URL, "search", allow_duplicate=True), Input(DATA_KEPT_FILE, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def update_kept_url(name, current):
    return viewstate.next_search(DataView, {**viewstate.query_of(current), "local": name},
                                 current)


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


@callback(Output(DATA_LOCAL_RESULT, "children"), Input(DATA_LOCAL_UPLOAD, "contents"),
          State(DATA_LOCAL_UPLOAD, "filename"), prevent_initial_call=True)
def on_upload(contents, filename):
    if contents is None:
        return no_update
    return upload(contents, filename)


# The file stays in the upload component, so the download sends it again and no server
# process has to remember it.
@callback(Output(DATA_LOCAL_DOWNLOAD, "data"), Output(DATA_LOCAL_DOWNLOAD_NOTICE, "children"),
          Input(DATA_LOCAL_DOWNLOAD_BUTTON, "n_clicks"), State(DATA_LOCAL_UPLOAD, "contents"),
          State(DATA_LOCAL_UPLOAD, "filename"), prevent_initial_call=True)
def on_local_download(_clicks, contents, filename):
    return local_download(contents, filename)


@callback(Output(DATA_KEPT_DOWNLOAD, "data"), Output(DATA_KEPT_DOWNLOAD_NOTICE, "children"),
          Input(DATA_KEPT_DOWNLOAD_BUTTON, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def on_kept_download(_clicks, search):
    return kept_download(search)


@callback(Output(DATA_LOCAL_TEMPLATE_DOWNLOAD, "data"),
          Input(DATA_LOCAL_TEMPLATE_BUTTON, "n_clicks"), prevent_initial_call=True)
def on_template(_clicks):
    return template_download()
