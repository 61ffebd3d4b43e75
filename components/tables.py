"""Accessible HTML tables: the text alternative to every chart, and what is downloaded."""

from __future__ import annotations

import polars as pl
from dash import dash_table, html

from components import format as fmt
from metrics.registry import Metric


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


def html_table(frame: pl.DataFrame, *, caption: str, table_id: str | None = None) -> html.Table:
    """A plain, screen-reader friendly table with a caption and column headers."""
    props = {"id": table_id} if table_id else {}
    return html.Table(
        className="table table-sm table-striped align-middle nhs-table",
        children=[
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(c, scope="col") for c in frame.columns])),
            html.Tbody([html.Tr([html.Td(str(v)) for v in row]) for row in frame.iter_rows()]),
        ],
        **props,
    )


def sortable_table(
    frame: pl.DataFrame, *, table_id: str, page_size: int = 20
) -> dash_table.DataTable:
    """A sortable table (native sorting) for long lists such as all trusts."""
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": c, "id": c} for c in frame.columns],
        data=frame.to_dicts(),
        sort_action="native",
        page_size=page_size,
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "Arial, sans-serif", "fontSize": "14px", "padding": "6px",
                    "textAlign": "left", "whiteSpace": "normal", "height": "auto"},
        style_header={"fontWeight": "bold", "backgroundColor": "#E8EDEE", "color": "#212B32"},
    )


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
