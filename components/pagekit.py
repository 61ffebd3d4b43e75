"""Small pieces every page uses: headings, Markdown content, CSV downloads."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from components import format as fmt
from components import tables

log = logging.getLogger(__name__)
# Cells starting with these are read as formulas by spreadsheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SYNTHETIC_WORDS = fmt.SYNTHETIC.rstrip(".")  # "Synthetic demonstration data"


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


def source_line(source: str, synthetic: bool) -> str:
    """"Source: MSDS", marked as synthetic for the demo store."""
    return f"Source: {source}" + (f" ({_SYNTHETIC_WORDS.lower()})" if synthetic else "")


def synthetic_line(detail: str) -> str:
    """The warning line above a file of synthetic data: "SYNTHETIC DEMONSTRATION DATA:
    ``detail``"."""
    return f"{_SYNTHETIC_WORDS.upper()}: {detail}"


def preamble(heading: str, source: str, *notes: str, synthetic: bool) -> list[str]:
    """The ``#`` lines above a page's CSV: what it is, its source, any notes (the key to
    symbols is added by :func:`csv_text`)."""
    return [heading, source_line(source, synthetic), *notes]


def csv_header(frame: pl.DataFrame, preamble: list[str] | None = None) -> list[str]:
    """The ``#`` lines above ``frame`` in a CSV: ``preamble``, then the key to the symbols
    its cells use (:func:`components.tables.symbol_key`), as its table on screen has."""
    key = tables.symbol_key(frame)
    return [*(preamble or []), key] if key else list(preamble or [])


def csv_text(frame: pl.DataFrame, preamble: list[str] | None = None) -> str:
    """The one CSV writer: ``frame`` with every cell neutralised (:func:`neutralise`), under
    :func:`csv_header`'s ``#`` lines (:func:`header_line`).

    Each column's distinct values are neutralised once and mapped back, so a 200,000-row
    data file takes a fraction of a second.
    """
    buffer = io.StringIO()
    for line in csv_header(frame, preamble):
        buffer.write(header_line(line) + "\n")
    buffer.write(frame.with_columns(_neutralised(frame, c) for c in frame.columns).write_csv())
    return buffer.getvalue()


def _neutralised(frame: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` as text, each value that a spreadsheet would run as a formula quoted."""
    text = pl.col(column).cast(pl.String)
    values = frame[column].cast(pl.String).unique().drop_nulls().to_list()
    changed = {v: safe for v in values if (safe := neutralise(v)) != v}
    return text.replace(changed) if changed else text


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


def section(anchor: str, title: str, *children) -> html.Section:
    """A long page's section, its heading an anchor for :func:`contents`."""
    return html.Section([html.H2(title, id=anchor, className="h3 mt-4 pt-2"), *children],
                        className="mb-4", **{"aria-labelledby": anchor})


def contents(sections: tuple[tuple[str, str], ...]) -> html.Nav:
    """"On this page": a link to each ``(anchor, title)`` section."""
    return html.Nav([
        html.H2("On this page", className="h6 mb-1"),
        html.Ul([html.Li(html.A(title, href=f"#{anchor}")) for anchor, title in sections],
                className="mb-0"),
    ], className="page-contents mb-3", **{"aria-label": "On this page"})
