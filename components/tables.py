"""Accessible HTML tables: the text alternative to every chart, and what is downloaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import polars as pl
from dash import dcc, html

from components import format as fmt
from metrics.disclosure import (
    SYMBOL_NOT_APPLICABLE,
    SYMBOL_NOT_AVAILABLE,
    SYMBOL_SUPPRESSED,
    SYMBOL_ZERO,
)
from metrics.registry import Metric

# What each symbol a cell may be means (DATA.md), in the order a table's key lists them.
SYMBOL_MEANINGS = {
    SYMBOL_SUPPRESSED: "suppressed (small numbers)",
    SYMBOL_NOT_AVAILABLE: "not available",
    SYMBOL_NOT_APPLICABLE: "not applicable",
    SYMBOL_ZERO: "zero",
}


def symbols_used(frame: pl.DataFrame) -> tuple[str, ...]:
    """The symbols ``frame`` holds (cells that are a symbol and nothing else), key order."""
    found: set[str] = set()
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            column = frame[name].str.strip_chars()
            found.update(column.filter(column.is_in(list(SYMBOL_MEANINGS))).to_list())
    return tuple(s for s in SYMBOL_MEANINGS if s in found)


def symbol_key(frame: pl.DataFrame) -> str:
    """The key to the symbols ``frame`` uses, for its caption or CSV header: "Symbols: *
    suppressed (small numbers); : not available; - zero." ("" when it uses none)."""
    used = symbols_used(frame)
    if not used:
        return ""
    return "Symbols: " + "; ".join(f"{s} {SYMBOL_MEANINGS[s]}" for s in used) + "."


def with_key(caption: str, frame: pl.DataFrame) -> str:
    """``caption`` followed by the key to the symbols ``frame`` uses."""
    key = symbol_key(frame)
    if not key:
        return caption
    caption = caption.rstrip()
    return f"{caption}{'' if not caption or caption.endswith('.') else '.'} {key}".strip()


def breakdown_rows(frame: pl.DataFrame, metric: Metric, comparator: str | None) -> pl.DataFrame:
    """The breakdown as shown on screen: formatted strings, suppression symbols (DATA.md)."""
    def cell(row: dict, key: str) -> str:
        if row["status"] == "suppressed":
            return "*"
        return fmt.number(row[key], metric.decimals) if not fmt.missing(row[key]) else ":"

    out = []
    for row in frame.iter_rows(named=True):
        ratio = "" if row["is_reference"] else (
            f"{fmt.number(row['ratio'], 2)} ({fmt.number(row['ratio_lower95'], 2)} to "
            f"{fmt.number(row['ratio_upper95'], 2)})" if not fmt.missing(row["ratio"]) else ":"
        )
        entry = {
            "Group": row["group"] + (" (reference)" if row["is_reference"] else ""),
            "Numerator": fmt.count_cell(row["numerator"], row["suppressed"]),
            "Denominator": fmt.count_cell(row["denominator"], row["suppressed"]),
            f"Value ({metric.unit})": cell(row, "value"),
            "95% CI": "*" if row["status"] == "suppressed" else
            (f"{fmt.number(row['lower95'], metric.decimals)} to "
             f"{fmt.number(row['upper95'], metric.decimals)}"
             if not fmt.missing(row["lower95"]) else ":"),
            "Ratio to reference (95% CI)": "*" if row["status"] == "suppressed" else ratio,
        }
        if comparator:
            entry[comparator] = fmt.number(row["comparator_value"], metric.decimals) \
                if not fmt.missing(row["comparator_value"]) else ":"
            entry[f"Compared with {comparator}"] = row["vs_comparator"] or "not compared"
        out.append(entry)
    return pl.DataFrame(out) if out else pl.DataFrame()


TABLE_CLASS = "table table-sm table-striped align-middle nhs-table"
# Rows a page lists of a table of trusts; a longer one says what it leaves to the download.
PAGE_ROWS_MAX = 160


def plain_cell(value) -> str:
    """A cell's text as HTML: escaped, on one line (a blank line would end the table)."""
    return escape(" ".join(str(value).split()))


def table_markup(frame: pl.DataFrame, *, caption: str, table_id: str | None = None,
                 class_name: str = TABLE_CLASS, row_headers: bool = False, nowrap: int = 0,
                 cell: Callable[[object], str] = plain_cell,
                 row_classes: Sequence[str] | None = None, key: bool = True) -> str:
    """``frame`` as one HTML ``<table>``: caption, column headers (``scope="col"``), and with
    ``row_headers`` the first cell of each row as its header. ``row_classes`` gives each body
    row a class ("" for none). Every text is escaped.

    The caption ends with the key to the symbols the cells use (:func:`symbol_key`), so
    callers never write one; ``key=False`` for a table whose cells are symbols as data
    (the table that defines them).
    """
    if key:
        caption = with_key(caption, frame)
    def td(i: int, value) -> str:
        wrap = ' class="text-nowrap"' if i < nowrap else ""
        if row_headers and i == 0:
            return f'<th scope="row"{wrap}>{cell(value)}</th>'
        return f"<td{wrap}>{cell(value)}</td>"

    def tr(n: int) -> str:
        name = row_classes[n] if row_classes else ""
        return f'<tr class="{escape(name)}">' if name else "<tr>"

    head = "".join(f'<th scope="col">{plain_cell(c)}</th>' for c in frame.columns)
    body = "".join(tr(n) + "".join(td(i, v) for i, v in enumerate(row)) + "</tr>"
                   for n, row in enumerate(frame.iter_rows()))
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return (f'<table class="{escape(class_name)}"{ident}><caption>{plain_cell(caption)}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def markup(html_text: str, class_name: str | None = None) -> dcc.Markdown:
    """Trusted, escaped HTML from :func:`table_markup` as a component.

    A table sent as one string is about a fifth of the size of the same table as a tree of
    ``html.Td`` components, which keeps page responses small (hundreds of cells on the
    Trends and Data quality pages).
    """
    return dcc.Markdown(html_text, dangerously_allow_html=True, className=class_name)


def html_table(frame: pl.DataFrame, *, caption: str, table_id: str | None = None) -> dcc.Markdown:
    """A plain, screen-reader friendly table with a caption and column headers."""
    return markup(table_markup(frame, caption=caption, table_id=table_id))


def sortable_table(frame: pl.DataFrame, *, caption: str, table_id: str, label: str,
                   row_classes: Sequence[str] | None = None) -> html.Div:
    """A long table (such as every trust) that people sort by any column; ``label`` names
    its scrolling box for screen readers.

    The cells are text exactly as downloaded (``frame`` is what the CSV holds). On screen it
    scrolls in a box under a sticky header and on paper it prints whole (``assets/style.css``);
    ``assets/sortable.js`` turns each column heading into a sort button, sorting numbers as
    numbers and the symbols (``*``, ``:``, ``-``) last. Sent as one string, it costs the
    browser far less than an interactive data grid.
    """
    table = table_markup(frame, caption=caption, table_id=table_id,
                         class_name=f"{TABLE_CLASS} sortable", row_classes=row_classes)
    # A scrolling box must be reachable by keyboard and named (WCAG 2.1.1, 4.1.2).
    return html.Div(markup(table), className="table-scroll", tabIndex="0", role="region",
                    **{"aria-label": label})


def trend_context_rows(points: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """A series over time as shown on screen and downloaded, one row per series and period.

    ``points`` has ``group`` (the series' name, e.g. an organisation), ``period``,
    ``numerator``, ``denominator``, ``suppressed``, ``value``, ``lower95``, ``upper95`` (as
    from ``data.queries.trend`` with the group renamed). Symbols as DATA.md: ``*``
    suppressed, ``:`` not available, ``-`` zero.
    """
    out = []
    for row in points.iter_rows(named=True):
        suppressed = bool(row["suppressed"])
        shown = not suppressed and not fmt.missing(row["value"])
        out.append({
            "Series": row["group"],
            "Period": row["period"],
            "Numerator": fmt.count_cell(row["numerator"], suppressed),
            "Denominator": fmt.count_cell(row["denominator"], suppressed),
            f"Value ({metric.unit})": fmt.number(row["value"], metric.decimals) if shown
            else ("*" if suppressed else ":"),
            "95% CI": f"{fmt.number(row['lower95'], metric.decimals)} to "
                      f"{fmt.number(row['upper95'], metric.decimals)}" if shown
            else ("*" if suppressed else ":"),
        })
    return pl.DataFrame(out) if out else pl.DataFrame()
