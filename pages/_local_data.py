"""Your local data, a part of the Data and definitions page (``pages/downloads.py``): a local
file's figures beside the national ones, for equity audits.

A file uploaded in the browser is not kept: it stays in the tab, which sends it again with
each request that needs it, so any server process can answer. Files kept on this server
(``equalities ingest --local``) are listed, and the one named by the page's ``local`` URL
parameter is shown. The local files change without a new store build, so nothing here is
cached.
"""

from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html, no_update

from components import controls, ids, localdata, pagekit, tables, viewstate
from components import definitions as defs
from data.ingest.errors import IngestError
from data.local import compare, parse, store
from metrics.disclosure import SYMBOL_NOT_AVAILABLE
from views import downloads as models
from views.downloads import ALL_METRICS, Downloads

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
KEPT_COLUMNS = ("Flag", "Name", "Rows", "Organisations", "Metrics", "Ingested", "Status")
UPLOAD_HELD = ("Worked out from the file in this browser tab: the server keeps no copy, and "
               "it is never added to the national data.")
NO_UPLOAD = "No file is uploaded in this tab: choose your CSV file above, then download."
log = logging.getLogger(__name__)


def kept_name(query: dict, notices: list[str]) -> str:
    """The kept local file the ``local`` parameter names, or "" (with a notice when no file
    of that name is kept)."""
    local = str(query.get("local") or "")
    if local and local not in store.names():
        notices.append(f"Unknown local file “{local[:60]}”: no file of that name is kept "
                       "on this server, so none is shown.")
        return ""
    return local


# -- layout ---------------------------------------------------------------------------------


def section_parts(local: str, national: Downloads) -> list:
    """The upload area, how to fill in the template, and the kept files (``local`` the one
    chosen, or ""; ``national`` the page's model, for the national store's facts)."""
    limit = parse.megabytes(parse.UPLOAD_MAX_BYTES)
    return [
        pagekit.content_markdown("local_data", section="Intro"),
        pagekit.content_markdown("local_data", section="Where your data go"),
        html.Div(pagekit.download_button(DATA_LOCAL_TEMPLATE_BUTTON, DATA_LOCAL_TEMPLATE_DOWNLOAD,
                                         "Download the template (CSV)"), className="mb-2"),
        html.Div(dcc.Upload(
            html.Div([html.Strong("Drag your CSV file here, or click to choose it"), html.Br(),
                      html.Span(f"CSV UTF-8, up to {limit} and {parse.MAX_ROWS:,} rows",
                                className="small")]),
            id=DATA_LOCAL_UPLOAD, accept=".csv", max_size=parse.UPLOAD_MAX_BYTES,
            multiple=False, className="local-upload", className_active="local-upload-active",
            className_reject="local-upload-reject"),
            **{"data-upload-label": "Choose a local data CSV file to upload"}),
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
        *kept_part(local, national),
    ]


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


def kept_part(local: str, national: Downloads) -> list:
    """The local files kept on this server, a choice of one, and its comparison."""
    kept = store.listing()
    parts = [html.H3([localdata.badge(), " Local files kept on this server"],
                     className="h5 mt-4"),
             pagekit.content_markdown("local_data", section="Files kept on this server")]
    if not kept:
        return [*parts, html.P("No local files are kept on this server.", className="small")]
    chosen = next((k for k in kept if k.name == local), None)
    options = [{"label": k.name, "value": k.name} for k in kept]
    return [
        *parts,
        tables.html_table(kept_table(kept), table_id=DATA_KEPT_TABLE,
                          caption="Local files kept on this server"),
        dbc.Row(controls.labelled(
            "Show a kept file beside the national figures",
            controls.dropdown(DATA_KEPT_FILE, options, local or None, clearable=True,
                              placeholder="Choose a kept file"), DATA_KEPT_FILE, 6)),
        html.Div(kept_view(chosen, national) if chosen else None, id=DATA_KEPT_RESULT,
                 className="mt-2"),
    ]


# -- comparisons (plain functions, called by the callbacks and the tests) --------------------


def _national() -> Downloads:
    """The national store's facts (its title, whether it is synthetic), from the page's model."""
    return models.downloads(ALL_METRICS)


def _comparison_view(data: parse.LocalData, national: Downloads, *, held: str,
                     graph_type: str, indicators_id: str, button_id: str, download_id: str,
                     notice_id: str) -> html.Div:
    """A local file's figures beside the national ones, with the download of the table."""
    download = html.Div([
        pagekit.download_button(button_id, download_id, "Download the comparison (CSV)"),
        html.Span(id=notice_id, className="small", role="status"),
    ], className="mb-2")
    title = national.manifest.get("title", "the data store")
    source = f"Local: your file {data.file} (not official statistics). National: {title}."
    return localdata.result_view(data, compare.compare(data.counts), source=source,
                                 held=held, graph_type=graph_type,
                                 indicators_id=indicators_id, download=download)


def _comparison_file(data: parse.LocalData) -> dict:
    """The comparison table of a local file as a CSV download."""
    result = compare.compare(data.counts)
    stem = data.file.rsplit(".", 1)[0]
    national = _national()
    content = localdata.comparison_csv(
        result.cells, file=data.file, store_title=national.manifest.get("title", ""),
        synthetic=national.synthetic, left_out=result.left_out)
    return dict(content=content, filename=f"equalities-local-{stem}.csv", type="text/csv")


def _uploaded(contents, filename) -> parse.LocalData:
    """The upload validated; :class:`IngestError` when refused."""
    file = parse.display_name(filename)
    raw = parse.from_data_url(contents, file, max_bytes=parse.UPLOAD_MAX_BYTES)
    return parse.parse(raw, file)


def upload(contents, filename) -> html.Div:
    """The view of an uploaded file: its figures, or its problems."""
    try:
        data = _uploaded(contents, filename)
    except IngestError as error:
        log.info("local upload refused: %s", error.summary())
        return localdata.problems_view(error)
    return _comparison_view(data, _national(), held=UPLOAD_HELD, graph_type=DATA_LOCAL_GRAPH,
                            indicators_id=DATA_LOCAL_INDICATORS,
                            button_id=DATA_LOCAL_DOWNLOAD_BUTTON,
                            download_id=DATA_LOCAL_DOWNLOAD, notice_id=DATA_LOCAL_DOWNLOAD_NOTICE)


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


def kept_view(kept: store.Kept, national: Downloads) -> html.Div:
    """The comparison view of a kept local file, or why it cannot be shown."""
    if kept.data is None:
        return html.Div([html.Strong(f"{kept.name} cannot be shown: "), kept.problem],
                        className="alert alert-danger", role="alert")
    held = (f"Kept on this server (ingested {defs.when_words(kept.ingested.isoformat())}) "
            "apart from the national store, and never added to the national data.")
    return _comparison_view(kept.data, national, held=held, graph_type=DATA_KEPT_GRAPH,
                            indicators_id=DATA_KEPT_INDICATORS,
                            button_id=DATA_KEPT_DOWNLOAD_BUTTON, download_id=DATA_KEPT_DOWNLOAD,
                            notice_id=DATA_KEPT_DOWNLOAD_NOTICE)


def kept_download(search: str | None) -> tuple:
    """The comparison table of the kept file in ``search`` as CSV, or a notice."""
    local = kept_name(viewstate.query_of(search), [])
    if not local:
        return no_update, "This file is no longer kept on this server."
    try:
        data = store.read(local)
    except store.DamagedFile as error:
        return no_update, f"{error}."
    return _comparison_file(data), ""


def template_download() -> dict:
    return dict(content=parse.TEMPLATE.read_text(encoding="utf-8"),
                filename="equalities-local-data-template.csv", type="text/csv")


# -- callbacks ------------------------------------------------------------------------------


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
