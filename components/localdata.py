"""Local data on the Data page: the upload area, the problems of a refused file and the
local figures beside the national ones (charts, tables and the comparison download).

Pure builders: parsed data and comparison frames in, Dash trees and frames out. Every
figure from the user's file carries the word "Local" (badge, legend, table column).
"""

from __future__ import annotations

import polars as pl
from dash import dcc, html

from components import figures, pagekit, tables
from components import format as fmt
from data.ingest.errors import IngestError
from data.local import compare, parse
from metrics.categories import DIMENSIONS, TOTAL
from metrics.disclosure import (
    SYMBOL_NOT_APPLICABLE,
    SYMBOL_NOT_AVAILABLE,
    SYMBOL_SUPPRESSED,
)
from metrics.registry import Metric

LOCAL = "Local"
MAX_CHARTS = 12  # comparisons drawn on the page; the download holds every one worked out
MAX_PROBLEMS_SHOWN = 50
MAX_INDICATOR_ROWS = 500
# The comparison table: what the page shows (per comparison, or per local indicator) is a
# selection of these columns, and the download is all of them.
TABLE_COLUMNS = (
    "Flag", "Organisation", "Metric", "Metric id", "Period", "Breakdown", "Group",
    "Local numerator", "Local denominator", "Local value", "Local 95% CI",
    "Ratio to reference (95% CI)", "England (national)", "Same organisation (national)",
    "Local compared with England", "Unit", "Note", "Source", "Line",
)
COMPARISON_SHOWN = ("Group", "Local numerator", "Local denominator", "Local value",
                    "Local 95% CI", "Ratio to reference (95% CI)", "England (national)",
                    "Same organisation (national)", "Local compared with England")
INDICATOR_SHOWN = ("Organisation", "Metric", "Period", "Breakdown", "Group", "Local numerator",
                   "Local denominator", "Local value", "Local 95% CI",
                   "Ratio to reference (95% CI)", "Source")
PROBLEM_COLUMNS = ("File", "Line", "Column", "Value", "Problem")


def badge() -> html.Span:
    """The "Local" flag set beside every local figure (words, not colour alone)."""
    return html.Span(LOCAL, className="badge local-badge")


# -- the comparison table ---------------------------------------------------------------------


def _figure(metric: Metric, value, status: str | None) -> str:
    if status == "suppressed":
        return SYMBOL_SUPPRESSED
    return SYMBOL_NOT_AVAILABLE if fmt.missing(value) else fmt.number(value, metric.decimals)


def _interval(metric: Metric, low, high, status: str | None) -> str:
    if status == "suppressed":
        return SYMBOL_SUPPRESSED
    if fmt.missing(low) or fmt.missing(high):
        return SYMBOL_NOT_AVAILABLE
    return f"{fmt.number(low, metric.decimals)} to {fmt.number(high, metric.decimals)}"


def _with_interval(metric: Metric, value, low, high, status: str | None) -> str:
    shown = _figure(metric, value, status)
    if shown in (SYMBOL_SUPPRESSED, SYMBOL_NOT_AVAILABLE):
        return shown
    return f"{shown} ({_interval(metric, low, high, status)})"


def _ratio(row: dict) -> str:
    if row["is_reference"]:
        return "reference"
    if DIMENSIONS[row["dimension"]].reference is None:
        return SYMBOL_NOT_APPLICABLE
    if row["status"] == "suppressed":
        return SYMBOL_SUPPRESSED
    if fmt.missing(row["ratio"]):
        return SYMBOL_NOT_AVAILABLE
    return (f"{fmt.number(row['ratio'], 2)} ({fmt.number(row['ratio_lower95'], 2)} to "
            f"{fmt.number(row['ratio_upper95'], 2)})")


def _england_words(row: dict) -> str:
    """Why the comparison has no England figure, from what the national store holds (the
    row's ``england_breakdowns`` and ``national_levels``)."""
    dimension = row["dimension"]
    by = "for all women and babies" if dimension == TOTAL else \
        f"by {DIMENSIONS[dimension].label.lower()}"
    england = [d for d in row["england_breakdowns"] or () if d in DIMENSIONS]
    if not england:
        where = fmt.join_words([fmt.PUBLISHED_LEVELS.get(lv, lv)
                                for lv in row["national_levels"] or ()])
        return ("The national data hold no England figure for this metric"
                + (f", only figures for {where}." if where else "."))
    kept = fmt.join_words(["all women and babies" if d == TOTAL else DIMENSIONS[d].label.lower()
                           for d in england])
    return f"The national data hold England's figures for this metric for {kept}, not {by}."


def note_of(row: dict) -> str:
    """The row's note, with each sentence on a missing national figure saying what the
    national store holds (``compare`` words them as what the publisher does not publish,
    which a store of totals only would make untrue)."""
    note = row["note"] or ""
    if not note or not row["national_metric"]:
        return note
    metric = compare.metric_of(row["metric"], True)
    dimension = row["dimension"]
    dim_words = DIMENSIONS[dimension].label.lower()
    publisher = f"{metric.source} does not publish this metric by {dim_words} for England."
    if publisher in note:
        note = note.replace(publisher, _england_words(row))
        note = note.replace("so England is the national figure shown.",
                            "and there is no England figure to show instead.")
    if dimension == TOTAL and row["national_org_name"]:
        note = note.replace(
            f"have no figure for {row['national_org_name']} by {dim_words} for this metric.",
            f"have no figure for {row['national_org_name']} for this metric.")
    return note


def comparison_table(cells: pl.DataFrame) -> pl.DataFrame:
    """The comparison as shown and downloaded: one row per local row, with DATA.md's
    symbols (``*`` suppressed, ``:`` not available, ``-`` zero)."""
    rows = []
    for row in cells.iter_rows(named=True):
        metric = compare.metric_of(row["metric"], row["national_metric"])
        national = row["national_metric"]
        rows.append({
            "Flag": LOCAL,
            "Organisation": row["organisation"],
            "Metric": row["metric_title"],
            "Metric id": row["metric"] if national else "(local indicator)",
            "Period": row["period"],
            "Breakdown": DIMENSIONS[row["dimension"]].label,
            "Group": row["group"],
            "Local numerator": fmt.count_cell(row["numerator"], row["suppressed"]),
            "Local denominator": fmt.count_cell(row["denominator"], row["suppressed"]),
            "Local value": _figure(metric, row["value"], row["status"]),
            "Local 95% CI": _interval(metric, row["lower95"], row["upper95"], row["status"]),
            "Ratio to reference (95% CI)": _ratio(row),
            "England (national)": _with_interval(
                metric, row["england_value"], row["england_lower95"], row["england_upper95"],
                row["england_status"]) if national else SYMBOL_NOT_AVAILABLE,
            "Same organisation (national)": _with_interval(
                metric, row["org_value"], row["org_lower95"], row["org_upper95"],
                row["org_status"]) if national else SYMBOL_NOT_AVAILABLE,
            "Local compared with England": row["vs_england"] or "not compared",
            "Unit": row["unit"],
            "Note": note_of(row),
            "Source": row["local_source"] or "",
            "Line": str(row["line"]),
        })
    return pl.DataFrame(rows, schema=dict.fromkeys(TABLE_COLUMNS, pl.String))


def comparison_csv(cells: pl.DataFrame, *, file: str, store_title: str, synthetic: bool,
                   left_out: int) -> str:
    """The whole comparison table as CSV text (formula-like cells neutralised)."""
    preamble = [
        f"Local data from your file {file}, beside the national data ({store_title}).",
        "Rows flagged Local are your own figures, not official statistics; national figures "
        "are from the dashboard's data store. Values in each row's unit with 95% CIs.",
    ]
    if synthetic:
        preamble.append(pagekit.synthetic_line("the national figures are invented."))
    if left_out:
        preamble.append(f"{left_out} further comparison(s) in the file were not worked out "
                        f"(at most {compare.MAX_COMPARISONS} per upload).")
    return pagekit.csv_text(comparison_table(cells), preamble)


# -- charts -----------------------------------------------------------------------------------


def chart_frame(cells: pl.DataFrame) -> pl.DataFrame:
    """One comparison's cells as the long frame :func:`figures.local_comparison` draws,
    its series names as Plotly markup (the organisations' names escaped: they are data)."""
    first = cells.row(0, named=True)
    org = figures.plain(first["national_org_name"] or "Organisation")
    series = {"local": f"{LOCAL}: {figures.plain(first['organisation'])}",
              "england": "England (national)", "organisation": f"{org} (national)"}
    parts = []
    for kind, prefix in (("local", ""), ("england", "england_"), ("organisation", "org_")):
        parts.append(cells.select(
            "group", "group_order", series=pl.lit(series[kind]), kind=pl.lit(kind),
            value=pl.col(f"{prefix}value"), lower95=pl.col(f"{prefix}lower95"),
            upper95=pl.col(f"{prefix}upper95"), status=pl.col(f"{prefix}status"),
        ))
    return pl.concat(parts, how="vertical_relaxed")


def _title(first: dict, metric: Metric) -> str:
    breakdown = DIMENSIONS[first["dimension"]]
    by = "" if breakdown.id == "total" else f", by {breakdown.label.lower()}"
    return f"{metric.title}: {first['organisation']}, {first['period']}{by}"


def comparison_block(cells: pl.DataFrame, *, index: int, source: str,
                     graph_id: dict) -> html.Section:
    """One comparison: a heading with the Local badge, the chart, the notes and the table.
    ``source`` is plain text (it names the user's file)."""
    first = cells.row(0, named=True)
    metric = compare.metric_of(first["metric"], first["national_metric"])
    title = _title(first, metric)
    table = comparison_table(cells).select(COMPARISON_SHOWN)
    org = first["national_org_name"]
    caption = (f"{title}: local figures beside England"
               + (f" and {org} in the national data" if org else "")
               + f". Values in {metric.unit}.")
    return html.Section([
        html.H3([badge(), " ", title], className="h6 mt-3"),
        dcc.Graph(id=graph_id, config=figures.CONFIG, figure=figures.local_comparison(
            chart_frame(cells), metric, title=figures.wrap(title, 80),
            source=figures.plain(source))),
        html.P(note_of(first), className="small text-muted mb-1") if first["note"] else None,
        tables.html_table(table, caption=caption),
    ], className="local-comparison mb-4", **{"aria-label": f"Local comparison {index + 1}"})


# -- whole views ------------------------------------------------------------------------------


def problems_view(error: IngestError) -> html.Div:
    """Why a file was refused: every problem (up to a limit) with file, line, column and
    value."""
    problems = error.problems[:MAX_PROBLEMS_SHOWN]
    frame = pl.DataFrame(
        [{"File": p.file, "Line": "" if p.line is None else str(p.line),
          "Column": p.column or "", "Value": "" if p.value is None else p.value,
          "Problem": p.message} for p in problems],
        schema=dict.fromkeys(PROBLEM_COLUMNS, pl.String))
    more = len(error.problems) - len(problems)
    files = ", ".join(sorted({p.file for p in error.problems}))
    return html.Div([
        html.Div([html.Strong(f"{files} could not be used: "),
                  f"{len(error.problems)} problem(s). Nothing was kept. Fix them and upload "
                  "the file again."], className="alert alert-danger", role="alert"),
        tables.html_table(frame, caption="Problems in the file (lines counted as a text "
                          "editor counts them, the header's line included)",
                          table_id="data-local-problems"),
        html.P(f"… and {more} more.", className="small") if more else None,
    ])


def indicators_view(cells: pl.DataFrame, *, table_id: str) -> html.Div | None:
    """Local indicators (no national metric): their own values and 95% CIs."""
    if cells.is_empty():
        return None
    table = comparison_table(cells.head(MAX_INDICATOR_ROWS)).select(INDICATOR_SHOWN)
    return html.Div([
        html.H3([badge(), " Local indicators without a national metric"], className="h6 mt-3"),
        html.P("Shown as a percentage of the denominator with a Wilson 95% confidence "
               "interval.", className="small text-muted mb-1"),
        tables.html_table(table, caption="Local indicators.",
                          table_id=table_id),
        html.P(f"The table shows the first {MAX_INDICATOR_ROWS} rows; the download holds "
               "them all.", className="small") if cells.height > MAX_INDICATOR_ROWS else None,
    ])


def result_view(data: parse.LocalData, result: compare.Comparison, *, source: str,
                held: str, graph_type: str, indicators_id: str,
                download: html.Div) -> html.Div:
    """The figures of an accepted file: a summary ending with ``held`` (where the data
    are), every comparison (charts for the first :data:`MAX_CHARTS`) and the local
    indicators, with the download of the whole table. ``graph_type`` and ``indicators_id``
    keep two views on one page apart."""
    cells = result.cells
    national = cells.filter(pl.col("national_metric")) if not cells.is_empty() else cells
    indicators = cells.filter(~pl.col("national_metric")) if not cells.is_empty() else cells
    comparisons = national["comparison"].unique(maintain_order=True).to_list() \
        if not national.is_empty() else []
    blocks = [comparison_block(national.filter(pl.col("comparison") == c), index=i,
                               source=source, graph_id={"type": graph_type, "index": i})
              for i, c in enumerate(comparisons[:MAX_CHARTS])]
    notes = list(data.notes)
    if len(comparisons) > MAX_CHARTS:
        notes.append(f"The page draws the first {MAX_CHARTS} of {len(comparisons)} "
                     "comparisons with national metrics; the download holds them all.")
    if result.left_out:
        notes.append(f"Only the first {compare.MAX_COMPARISONS} of {result.total} comparisons "
                     "(organisation, metric, period and dimension) were worked out; upload "
                     "the rest as a separate file.")
    suppressed = int(data.counts["suppressed"].sum())
    summary = (f"Read {data.rows:,} row(s) from {data.file}: {national.height:,} of dashboard "
               f"metrics in {len(comparisons):,} comparison(s) and {indicators.height:,} of "
               f"local indicators; {suppressed:,} suppressed (small numbers). {held}")
    return html.Div([
        html.Div([badge(), " ", summary], className="alert alert-success", role="status"),
        html.Ul([html.Li(n) for n in notes], className="small") if notes else None,
        download,
        *blocks,
        indicators_view(indicators, table_id=indicators_id),
    ])
