"""Small pieces every page uses: a safe layout wrapper, headings, CSV downloads."""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import plotly.io.json
import polars as pl
from dash import dcc, html
from flask import has_app_context

from components import tables, viewstate
from data import queries, store

log = logging.getLogger(__name__)
MAX_LOGGED_CHARS = 80  # of each parameter name and value in the server log
MAX_LOGGED_PARAMETERS = 8
# Cells starting with these are read as formulas by spreadsheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_LAYOUTS: dict[str, Callable[..., object]] = {}


def _render(layout: Callable[..., object], query: dict) -> tuple[object, tuple[str, ...]]:
    """The layout for ``query`` and the link parameters it could not use (see ``unused``)."""
    with viewstate.refusals() as refused:
        try:
            component = layout(**query)
        except store.StoreError as error:
            log.error("store unavailable: %s", error)
            component = dbc.Alert(str(error), color="danger")
        except Exception:  # noqa: BLE001 - any failure becomes a notice, logged in full
            log.exception("layout failed for %s with %r", layout.__module__, query)
            component = dbc.Alert(
                "Sorry, this view could not be shown. The link may be damaged; try the "
                "page without its options.", color="danger")
    return component, unused(refused, query)


def _short(text: object) -> str:
    # repr keeps control characters and line breaks out of the log line.
    return repr(str(text)[:MAX_LOGGED_CHARS])


def unused(refused: viewstate.Refusals, query: dict) -> tuple[str, ...]:
    """``key='value'`` for each link parameter a page showed a notice about.

    Empty when no notice was shown. When the notice came from a check of the view as a
    whole rather than of one parameter, every parameter of the link is named.
    """
    if not refused.notices or not query:
        return ()
    named = list(dict.fromkeys(refused.parameters)) or list(query.items())
    return tuple(f"{_short(k)}={_short(v)}" for k, v in named[:MAX_LOGGED_PARAMETERS])


def _log_unused(module: str, parameters: tuple[str, ...]) -> None:
    if parameters:
        page = dash.page_registry.get(module, {}).get("path", module)
        log.warning("link parameters not used on %s: %s", page, ", ".join(parameters))


@queries.cached
def _view_json(build: str, module: str, query: tuple[tuple[str, str], ...]
               ) -> tuple[dict, tuple[str, ...]]:
    """A page's layout for one view, encoded once as the JSON Dash sends to the browser,
    and the link parameters it could not use (kept so a cached view still logs them)."""
    component, parameters = _render(_LAYOUTS[module], dict(query))
    return json.loads(plotly.io.json.to_json_plotly(component)), parameters


def _view(layout: Callable[..., object], query: dict, *, cache: bool
          ) -> tuple[object, tuple[str, ...]]:
    if cache and has_app_context():
        items = tuple(sorted((str(k), str(v)) for k, v in query.items()))
        try:
            build = queries.build_id()
        except store.StoreError:
            return _render(layout, query)
        return _view_json(build, layout.__module__, items)
    return _render(layout, query)


def safe_layout(layout: Callable[..., object] | None = None, *, cache: bool = True):
    """Render a friendly notice instead of an error page if a layout fails.

    Inside the web app the rendered layout is cached per store build, page and view (a page
    is a pure function of its URL and the store), so a view seen before costs a cache
    lookup instead of rebuilding its figures and tables. ``cache=False`` for pages whose
    content also depends on the clock. A view that shows a notice about its link logs a
    warning naming the page and the parameters it could not use, on every request.
    """
    if layout is None:
        return functools.partial(safe_layout, cache=cache)
    _LAYOUTS[layout.__module__] = layout

    @functools.wraps(layout)
    def wrapper(**query):
        component, parameters = _view(layout, query, cache=cache)
        # Every time, cached or not: a tampered link is worth a line per request.
        _log_unused(layout.__module__, parameters)
        return component

    return wrapper


def heading(title: str, lead: str) -> html.Div:
    # On paper the print header names the page and states the view, so this is not repeated.
    return html.Div([html.H1(title, className="h2"), html.P(lead, className="lead")],
                    className="mb-3 d-print-none")


def neutralise(text: str) -> str:
    """Prefix a quote so spreadsheets show a cell literally rather than run it as a formula.

    Lone "-" (the DATA.md symbol for zero) is kept.
    """
    if text and text != "-" and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def header_line(text: str) -> str:
    """``text`` as one ``#`` line above a CSV table, safe to open in a spreadsheet.

    The line stays readable text, but a spreadsheet splits it at its commas into cells, so
    each piece is neutralised as a cell would be; a piece opening with a double quote is too,
    since it would start a quoted cell that can hold a formula. Line breaks become spaces so
    that no text can start a line (a row) of its own.
    """
    first, *rest = " ".join(str(text).splitlines()).split(",")
    return "# " + ",".join([neutralise(first), *map(_header_piece, rest)])


def _header_piece(piece: str) -> str:
    if piece.startswith('"') or neutralise(piece) != piece:
        return "'" + piece
    return piece


def source_line(source: str) -> str:
    """"Source: MSDS", marked as synthetic when the published store is the demo."""
    return f"Source: {source}" + (" (synthetic demonstration data)"
                                  if queries.current().synthetic else "")


def preamble(heading: str, source: str, *notes: str) -> list[str]:
    """The ``#`` lines above a page's CSV: what it is, its source, any notes (the key to
    symbols is added by :func:`csv_text`)."""
    return [heading, source_line(source), *notes]


def csv_header(frame: pl.DataFrame, preamble: list[str] | None = None) -> list[str]:
    """The ``#`` lines above ``frame`` in a CSV: ``preamble``, then the key to the symbols
    its cells use (:func:`components.tables.symbol_key`), as its table on screen has."""
    key = tables.symbol_key(frame)
    return [*(preamble or []), key] if key else list(preamble or [])


def csv_text(frame: pl.DataFrame, preamble: list[str] | None = None) -> str:
    """CSV of ``frame`` with every string cell neutralised, under :func:`csv_header`'s
    ``#`` lines (:func:`header_line`)."""
    preamble = csv_header(frame, preamble)
    safe = frame.with_columns(
        pl.col(c).cast(pl.String).map_elements(neutralise, return_dtype=pl.String)
        for c in frame.columns
    )
    buffer = io.StringIO()
    for line in preamble or []:
        buffer.write(header_line(line) + "\n")
    buffer.write(safe.write_csv())
    return buffer.getvalue()


def download_button(button_id: str, download_id: str, label: str = "Download CSV") -> html.Div:
    return html.Div([
        dbc.Button(label, id=button_id, color="primary", outline=True, size="sm",
                   className="me-2"),
        dcc.Download(id=download_id),
    ], className="d-inline-block")


CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


def content_markdown(name: str, *, section: str | None = None,
                     class_name: str = "content") -> dcc.Markdown | None:
    """Long-form text from ``content/<name>.md`` so analysts can edit wording, not code.

    With ``section``, only the part under the ``## <section>`` heading (up to the next
    ``## ``) is returned, so one file can hold a page's intro, caveats and notes. None when
    the file or section is missing (logged), so a page still renders.
    """
    path = CONTENT_DIR / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        log.warning("content file missing: %s", path)
        return None
    if section is not None:
        parts = {}
        current = None
        for line in text.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                parts[current] = []
            elif current is not None:
                parts[current].append(line)
        if section not in parts:
            log.warning("section %r missing from %s", section, path)
            return None
        text = "\n".join(parts[section]).strip()
    return dcc.Markdown(text, className=class_name, link_target="_self")
