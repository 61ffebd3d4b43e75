"""Definitions tables and the published data files, built from the registry and the schema.

Pure functions: registry or schema (or a frame of the store) in, a Polars frame or a Dash
tree out. The Data and definitions page shows these tables and offers them as downloads,
so what is on screen and what is downloaded come from the same frames.

Download symbols follow DATA.md: ``*`` suppressed, ``:`` not available, ``z`` not
applicable, ``-`` zero (or rounds to zero at the decimals written).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape

import polars as pl
from dash import dcc, html

from components import pagekit, tables
from data.schema import LEVEL_LABELS, PERIOD_KINDS, TABLES, Column
from metrics import registry
from metrics.categories import DIMENSIONS, TOTAL
from metrics.disclosure import (
    RARE_EVENT_MIN,
    SMALL_MAX,
    SYMBOL_NOT_APPLICABLE,
    SYMBOL_NOT_AVAILABLE,
    SYMBOL_SUPPRESSED,
    SYMBOL_ZERO,
)
from metrics.registry import Metric

POLARITY_WORDS = {
    registry.HIGHER_IS_BETTER: "Higher is better",
    registry.LOWER_IS_BETTER: "Lower is better",
    registry.NO_JUDGEMENT: "No judgement: neither higher nor lower is better",
}
CI_WORDS = {
    registry.PROPORTION: "Wilson score interval (a proportion)",
    registry.RATE: "Exact Poisson interval below 10 events; Byar's approximation from 10 "
    "events (a rate)",
}
DISCLOSURE_WORDS = {
    registry.ROUND_TO_5: f"Counts of 1 to {SMALL_MAX} below national level withheld; other "
    "counts rounded to the nearest 5",
    registry.WITHHOLD_SMALL: f"Counts of 1 to {SMALL_MAX} below national level withheld, and "
    "the next-smallest related cell with them where a withheld count could otherwise be "
    "worked out by subtraction; other counts as the publisher counted them",
    registry.NOT_PEOPLE: "Counts units, not people: no disclosure control",
}
# Each symbol in full, for the Data page's table of them (the short meanings in every
# table's key and file header are ``tables.SYMBOL_MEANINGS``).
SYMBOLS = (
    (SYMBOL_SUPPRESSED,
     "Suppressed: a small count withheld to protect privacy, a value that must not be "
     "shown because it rests on one, or a larger cell withheld so that a small one cannot be "
     "worked out by subtraction. Never a zero."),
    (SYMBOL_NOT_AVAILABLE,
     "Not available: the publisher gives no figure for this cell."),
    (SYMBOL_NOT_APPLICABLE,
     "Not applicable: the figure has no meaning here (a separately published rate for a "
     "metric that has none, or a value with no one in the denominator)."),
    (SYMBOL_ZERO,
     "Zero, or a value that rounds to zero at the decimals written."),
)
TYPE_WORDS = {
    "String": "text", "Int16": "whole number", "Int32": "whole number",
    "Int64": "whole number", "Float64": "decimal number", "Date": "date, YYYY-MM-DD",
    "Boolean": "true or false",
}
METRIC_COLUMNS = (
    "Id", "Title", "Source", "Section", "Unit", "Numerator", "Denominator", "Polarity",
    "Confidence interval", "Disclosure control", "Levels", "Period kinds",
    "Breakdowns in this data store", "Breakdowns the source can publish", "Definition",
    "Caveats", "Annex 3",
)
# Bootstrap's pink for <code> is below 4.5:1 contrast on the page's grey; pages that show
# code (file and column names) set this darker shade on their root element.
CODE_STYLE = {"--bs-code-color": "#9B1B52"}
# Columns of the quick-reference table above the full definitions.
SUMMARY_COLUMNS = ("Title", "Id", "Source", "Unit", "Polarity", "Annex 3")
COUNT_COLUMNS = ("numerator", "denominator")
VALUE_COLUMNS = ("value", "lower95", "upper95", "lower998", "upper998")
VALUES_FILE_COLUMNS = (
    "metric", "org_code", "org_level", "period_label", "period_kind", "period_start",
    "period_end", "dimension", "group", "numerator", "denominator", "suppressed", "unit",
    *VALUE_COLUMNS,
)
# Columns of the values file that are not in the counts table.
VALUES_COLUMN_DOCS = (
    ("unit", "text", "No", "Unit of the value and its limits: `%`, `per 1,000` or "
     "`per 100,000`."),
    ("value", "decimal number", "No", "The metric's value (numerator / denominator x "
     "multiplier; for a rare-event rate the publisher's value where one is published). `*` "
     "when suppressed."),
    ("lower95", "decimal number", "No", "Lower limit of the 95% confidence interval."),
    ("upper95", "decimal number", "No", "Upper limit of the 95% confidence interval."),
    ("lower998", "decimal number", "No", "Lower limit of the 99.8% confidence interval."),
    ("upper998", "decimal number", "No", "Upper limit of the 99.8% confidence interval."),
)
# Decimals written in the values file beyond those the dashboard shows, so that analysts
# can recompute differences without rounding error creeping in.
EXTRA_DECIMALS = 2
# Approximate bytes per row of each file kind, measured on the demo store (the page says
# "about"; a test keeps these within 30% of the real files).
BYTES_PER_ROW = {"counts": 130, "values": 146, "organisations": 130}


# -- metric definitions ---------------------------------------------------------------------


def _levels(metric: Metric) -> str:
    return ", ".join(LEVEL_LABELS[level] for level in metric.levels)


def _dimension_words(dimensions: tuple[str, ...]) -> str:
    return ", ".join("total" if d == TOTAL else DIMENSIONS[d].label.lower()
                     for d in dimensions) or "no figures"


def _by_level(levels: Sequence[str], dims_at: Callable[[str], tuple[str, ...]]) -> str:
    """``"Every level: total, ethnicity"`` or ``"England: ...; Trust: total"``."""
    distinct = {dims_at(level) for level in levels}
    if len(distinct) == 1 and len(levels) > 1:
        return f"Every level: {_dimension_words(next(iter(distinct)))}"
    return "; ".join(f"{LEVEL_LABELS.get(level, level)}: {_dimension_words(dims_at(level))}"
                     for level in levels)


def _breakdowns_by_level(metric: Metric) -> str:
    """What the registry says the source can publish at each level."""
    return _by_level(metric.levels, metric.dimensions_at)


def _breakdowns_held(metric: Metric, held: Mapping[str, Sequence[str]]) -> str:
    """What the store holds at each level, e.g. ``"Every level: total"`` or ``"England: no
    figures; Region: total; ..."`` (``held``: level -> dimensions, as
    ``data.queries.held_dimensions`` gives)."""
    if not any(held.values()):
        return "None: this data store holds no figures for this metric"
    levels = [*metric.levels, *(lv for lv in held if lv not in metric.levels)]
    return _by_level(levels, lambda level: tuple(held.get(level, ())))


def _caveats(metric: Metric) -> str:
    notes = list(metric.caveats)
    if metric.rare_event:
        note = (f"Not shown where fewer than {RARE_EVENT_MIN} events. Below England a rate "
                "published from unrounded counts is shown as published; one this "
                "dashboard works out itself uses counts rounded to 5.")
        if not any("rounded to 5" in n for n in notes):
            notes.append(note)
    return " ".join(notes) if notes else "None."


def metric_definitions(held: Mapping[str, Mapping[str, Sequence[str]]],
                       metrics: Sequence[Metric] | None = None) -> pl.DataFrame:
    """One row per metric with every field of its definition, in words.

    Parameters
    ----------
    held : metric id -> level -> the dimensions the loaded store holds there
        (``data.queries.held_by_metric``), so "Breakdowns in this data store" says what this
        store holds, and "Breakdowns the source can publish" what the registry says the
        publisher gives.
    metrics : the metrics, in the order wanted.

    Returns
    -------
    polars.DataFrame with :data:`METRIC_COLUMNS` (all strings), in registry order.
    """
    metrics = registry.all_metrics() if metrics is None else metrics
    rows = [{
        "Id": m.id,
        "Title": m.title,
        "Source": m.source,
        "Section": m.section,
        "Unit": m.unit,
        "Numerator": m.numerator,
        "Denominator": m.denominator,
        "Polarity": POLARITY_WORDS[m.polarity],
        "Confidence interval": CI_WORDS[m.statistic],
        "Disclosure control": DISCLOSURE_WORDS[m.disclosure],
        "Levels": _levels(m),
        "Period kinds": "; ".join(PERIOD_KINDS[k] for k in m.period_kinds),
        "Breakdowns in this data store": _breakdowns_held(m, held.get(m.id, {})),
        "Breakdowns the source can publish": _breakdowns_by_level(m),
        "Definition": m.definition,
        "Caveats": _caveats(m),
        "Annex 3": "Yes" if m.annex3 else "No",
    } for m in metrics]
    return pl.DataFrame(rows, schema={c: pl.String for c in METRIC_COLUMNS})


def column_definitions(tables: dict[str, tuple[Column, ...]] = TABLES) -> pl.DataFrame:
    """One row per column of every store table: table, column, type, nullable, meaning.

    Returns
    -------
    polars.DataFrame with ``Table, Column, Type, Can be empty, Description`` (strings).
    """
    rows = [{
        "Table": table,
        "Column": column.name,
        "Type": type_words(column.dtype),
        "Can be empty": "Yes" if column.nullable else "No",
        "Description": column.doc,
    } for table, columns in tables.items() for column in columns]
    return pl.DataFrame(rows, schema={c: pl.String for c in
                                      ("Table", "Column", "Type", "Can be empty",
                                       "Description")})


def values_column_definitions() -> pl.DataFrame:
    """The columns the values file adds to the counts columns it repeats (same shape as
    :func:`column_definitions`, table ``values``)."""
    return pl.DataFrame(
        [{"Table": "values", "Column": name, "Type": kind, "Can be empty": empty,
          "Description": doc} for name, kind, empty, doc in VALUES_COLUMN_DOCS],
        schema={c: pl.String for c in ("Table", "Column", "Type", "Can be empty",
                                       "Description")},
    )


def type_words(dtype: pl.DataType) -> str:
    """``pl.Int64()`` -> ``"whole number (Int64)"``."""
    name = type(dtype).__name__ if not isinstance(dtype, type) else dtype.__name__
    return f"{TYPE_WORDS.get(name, name)} ({name})"


# -- HTML -----------------------------------------------------------------------------------


def rich_cell(value) -> str:
    """A cell's text as HTML with ``backticked`` spans as ``<code>``."""
    parts = re.split(r"`([^`]*)`", " ".join(str(value).split()))
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p)
                   for i, p in enumerate(parts) if p)


def table(frame: pl.DataFrame, *, caption: str, table_id: str | None = None,
          row_headers: bool = False, class_name: str = "", nowrap: int = 0, key: bool = True):
    """A captioned, scrollable HTML table.

    ``row_headers`` marks the first cell of each row as its header (field/value tables);
    the first ``nowrap`` columns do not wrap (short codes and types); ``key=False`` leaves
    out the key to symbols (:func:`components.tables.table_markup`).
    """
    return tables.markup(tables.table_markup(
        frame, caption=caption, table_id=table_id, row_headers=row_headers, nowrap=nowrap,
        class_name=f"table table-sm table-striped align-top nhs-table {class_name}".strip(),
        cell=rich_cell, key=key), class_name="table-responsive")


def field_table(fields: dict[str, str], *, caption: str) -> dcc.Markdown:
    """A two-column table of one record: field names as row headers."""
    rows = "".join(f'<tr><th scope="row" class="w-25">{tables.plain_cell(k)}</th>'
                   f"<td>{rich_cell(v)}</td></tr>" for k, v in fields.items())
    return tables.markup(
        '<table class="table table-sm align-top nhs-table definition-fields">'
        f'<caption class="visually-hidden">{tables.plain_cell(caption)}</caption>'
        f"<tbody>{rows}</tbody></table>")


def metric_details(definitions: pl.DataFrame) -> html.Div:
    """Every metric's full definition, grouped by section, each in a disclosure widget."""
    blocks = []
    for section in definitions["Section"].unique(maintain_order=True).to_list():
        items = []
        for row in definitions.filter(pl.col("Section") == section).iter_rows(named=True):
            fields = {k: v for k, v in row.items() if k not in ("Title", "Section")}
            items.append(html.Details([
                html.Summary([html.Span(row["Title"], className="fw-bold"),
                              html.Span(f" ({row['Id']})", className="text-muted")]),
                field_table(fields, caption=f"Definition of {row['Title']}"),
            ], className="definition mb-2 px-2 py-1 bg-white border rounded",
                id=f"metric-{row['Id']}"))
        blocks.append(html.Div([html.H4(section, className="h6 fw-bold mt-3"), *items]))
    return html.Div(blocks)


# -- published data files -------------------------------------------------------------------


def _count_cell(column: str) -> pl.Expr:
    """A count with DATA.md symbols: withheld -> * (suppressed) or : ; zero -> -."""
    c = pl.col(column)
    return (
        pl.when(c.is_null() & pl.col("suppressed")).then(pl.lit(SYMBOL_SUPPRESSED))
        .when(c.is_null()).then(pl.lit(SYMBOL_NOT_AVAILABLE))
        .when(c == 0).then(pl.lit(SYMBOL_ZERO))
        .otherwise(c.cast(pl.String))
        .alias(column)
    )


def _value_cell(column: str, decimals: int, *, applicable: pl.Expr) -> pl.Expr:
    """A value rounded to ``decimals`` with symbols; rounds-to-zero -> -."""
    c = pl.col(column)
    rounded = c.round(decimals)
    return (
        pl.when(~applicable).then(pl.lit(SYMBOL_NOT_APPLICABLE))
        .when(c.is_null() & pl.col("suppressed")).then(pl.lit(SYMBOL_SUPPRESSED))
        .when(c.is_null()).then(pl.lit(SYMBOL_NOT_AVAILABLE))
        .when(rounded == 0).then(pl.lit(SYMBOL_ZERO))
        .otherwise(rounded.cast(pl.String))
        .alias(column)
    )


def _strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (dates ISO, booleans true/false)."""
    return frame.with_columns(
        pl.col(c).cast(pl.String) if frame.schema[c] != pl.Boolean
        else pl.col(c).cast(pl.String).str.to_lowercase()
        for c in frame.columns
    )


def published_counts(counts: pl.DataFrame, metrics: dict[str, Metric] | None = None
                     ) -> pl.DataFrame:
    """Rows of the counts table as published, with every cell as text and DATA.md symbols.

    Counts withheld by disclosure control are ``*`` (``:`` if simply not published), zeros
    ``-``; counts the store keeps for a suppressed cell (a zero, a denominator) are
    publishable and stay. ``published_value`` is ``z`` for metrics whose publisher gives no
    separate value (only rare-event rates have one) and ``*`` whenever the cell is
    suppressed, even if the store holds a value. Columns and order are those of
    the store's counts table (``data.schema.COUNTS``).
    """
    metrics = registry.metrics() if metrics is None else metrics
    rare = [m.id for m in metrics.values() if m.rare_event]
    columns = [c.name for c in TABLES["counts"]]
    frame = counts.select(columns).with_columns(
        pl.col(c).cast(pl.String) for c in columns if counts.schema[c] in (pl.Categorical, pl.Enum)
    )
    return _strings(frame.with_columns(
        _count_cell("numerator"),
        _count_cell("denominator"),
        pl.when(~pl.col("metric").is_in(rare)).then(pl.lit(SYMBOL_NOT_APPLICABLE))
        .when(pl.col("suppressed")).then(pl.lit(SYMBOL_SUPPRESSED))
        .when(pl.col("published_value").is_null()).then(pl.lit(SYMBOL_NOT_AVAILABLE))
        .when(pl.col("published_value") == 0).then(pl.lit(SYMBOL_ZERO))
        .otherwise(pl.col("published_value").cast(pl.String))
        .alias("published_value"),
    ))


def published_values(frame: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Cells with their values and 95% / 99.8% CIs as text, with DATA.md symbols.

    ``frame`` is cells of one metric with values (``metrics.values.with_values``). Values
    are rounded to the metric's displayed decimals plus :data:`EXTRA_DECIMALS`; a value
    with no one in the denominator is ``z``.
    """
    decimals = metric.decimals + EXTRA_DECIMALS
    applicable = pl.col("denominator").is_null() | (pl.col("denominator") > 0)
    out = frame.with_columns(unit=pl.lit(metric.unit)).select(VALUES_FILE_COLUMNS)
    return _strings(out.with_columns(
        _count_cell("numerator"),
        _count_cell("denominator"),
        *(_value_cell(c, decimals, applicable=applicable) for c in VALUE_COLUMNS),
    ))


def published_organisations(organisations: pl.DataFrame) -> pl.DataFrame:
    """The organisations table as text, England first, then regions, ICBs and trusts.

    Empty cells stay empty: here they mean the field does not apply (England has no
    region, an open trust has no closing date), not a withheld figure.
    """
    columns = [c.name for c in TABLES["organisations"]]
    return _strings(organisations.select(columns).sort(_level_rank(), "org_code"))


def _level_rank() -> pl.Expr:
    order = {level: i for i, level in enumerate(LEVEL_LABELS)}
    return pl.col("org_level").cast(pl.String).replace_strict(order, default=len(order))


def download_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in reading order: level (England first), organisation, period, breakdown."""
    keys = [k for k in ("org_code", "period_kind", "period_start", "period_end", "dimension",
                        "group_order", "group") if k in frame.columns]
    return frame.sort([_level_rank(), *keys])


def symbols_table() -> pl.DataFrame:
    return pl.DataFrame({"Symbol": [s for s, _ in SYMBOLS],
                         "Meaning": [m for _, m in SYMBOLS]})


def estimated_megabytes(rows: int, kind: str) -> float:
    """Approximate size in MB of a downloaded file of ``rows`` rows (see BYTES_PER_ROW)."""
    return rows * BYTES_PER_ROW[kind] / 1_000_000


def size_words(rows: int, kind: str) -> str:
    """``"202,074 rows, about 25 MB"`` (or ``"under 1 MB"``)."""
    mb = estimated_megabytes(rows, kind)
    size = "under 1 MB" if mb < 1 else f"about {mb:,.0f} MB"
    return f"{rows:,} rows, {size}"


# -- long-form text ---------------------------------------------------------------------------


def markdown_sections(text: str, *, heading_class: str = "h5 mt-4") -> list:
    """Markdown with its ``### `` headings as ``<h3>`` elements styled as ``heading_class``.

    Page sections are ``<h2>``; Markdown's own ``<h3>`` would be as large as them, so the
    subheadings are drawn here at a smaller size and the text between them as Markdown.
    """
    parts: list = []
    body: list[str] = []

    def flush() -> None:
        if "".join(body).strip():
            parts.append(dcc.Markdown("\n".join(body).strip(), link_target="_self"))
        body.clear()

    for line in text.splitlines():
        if line.startswith("### "):
            flush()
            parts.append(html.H3(line[4:].strip(), className=heading_class))
        else:
            body.append(line)
    flush()
    return parts


def content_sections(name: str, **kwargs) -> html.Div | None:
    """``content/<name>.md`` through :func:`markdown_sections` (None if the file is missing)."""
    try:
        text = (pagekit.CONTENT_DIR / f"{name}.md").read_text(encoding="utf-8")
    except OSError:
        return None
    return html.Div(markdown_sections(text, **kwargs), className="content")


# -- sources and mergers --------------------------------------------------------------------


def sources_table(metrics: Sequence[Metric] | None = None,
                  notes: dict[str, str] | None = None) -> pl.DataFrame:
    """One row per source: publisher and lag (SOURCE_NOTES, and each network's local
    returns) and the metrics it gives (default every metric of the registry)."""
    metrics = registry.all_metrics() if metrics is None else metrics
    if notes is None:
        notes = registry.SOURCE_NOTES | {
            m.source: "Monthly returns from the network's providers, published here once the "
            "network's reviewers approve them; local figures, not official statistics."
            for m in metrics if registry.is_local(m)}
    rows = []
    for source, note in notes.items():
        titles = [m.title + (f" ({m.lag})" if m.lag else "") for m in metrics
                  if m.source == source]
        rows.append({"Source": source, "What it is and when it is published": note,
                     "Metrics": "; ".join(titles) or "None in this dashboard"})
    return pl.DataFrame(rows)


def metric_limitations(metrics: Sequence[Metric] | None = None) -> list[tuple[str, str]]:
    """``(metric title, caveats in one paragraph)`` for every metric that has caveats."""
    metrics = registry.all_metrics() if metrics is None else metrics
    return [(m.title, " ".join(m.caveats)) for m in metrics if m.caveats]


def merger_sentences(organisations: pl.DataFrame) -> list[str]:
    """"X closed on D; its services are now part of Y." for every closed organisation."""
    names = dict(zip(organisations["org_code"], organisations["name"], strict=True))
    closed = organisations.filter(pl.col("closed").is_not_null()
                                  | pl.col("successor_code").is_not_null()).sort("closed", "name")
    out = []
    for row in closed.iter_rows(named=True):
        when = f" on {row['closed']:%-d %B %Y}" if row["closed"] else ""
        sentence = f"{row['name']} ({row['org_code']}) closed{when}"
        successor = row["successor_code"]
        if successor:
            sentence += (f"; its services are now part of {names.get(successor, successor)} "
                         f"({successor})")
        out.append(sentence + ".")
    return out


def when_words(stamp: str | None) -> str:
    """``2026-11-22T00:13:31+00:00`` -> ``22 November 2026 at 00:13 UTC`` (text as given
    if it is not an ISO time)."""
    if not stamp:
        return "not recorded"
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    zone = " UTC" if moment.tzinfo is not None else ""
    return f"{moment:%-d %B %Y at %H:%M}{zone}"


def manifest_fields(manifest: dict) -> dict[str, str]:
    """What the store says about itself, in words (title, synthetic, build, period, inputs)."""
    period = manifest.get("period") or {}
    generator = manifest.get("generator") or {}
    rows = manifest.get("rows") or {}
    fields = {
        "Title": str(manifest.get("title", "not recorded")),
        "Synthetic": "Yes: every organisation and figure is invented" if manifest.get(
            "synthetic") else "No: published data",
        "Built at": when_words(manifest.get("built_at")),
        "Build id": str(manifest.get("build_id", "not recorded")),
        "Period covered": f"{period.get('start', '?')} to {period.get('end', '?')}",
        "Description": str(manifest.get("source", "")),
    }
    if generator:
        fields["Generator"] = ", ".join(f"{k} {v}" for k, v in generator.items())
    inputs = manifest.get("inputs") or []
    if inputs:
        fields["Inputs"] = "; ".join(_input_words(i) for i in inputs)
    if rows:
        fields["Rows"] = ", ".join(f"{k} {v:,}" for k, v in rows.items())
    if "schema_version" in manifest:
        fields["Schema version"] = str(manifest["schema_version"])
    return {k: v for k, v in fields.items() if v}


def _input_words(item) -> str:
    if isinstance(item, dict):
        file = item.get("file", "")
        note = item.get("note", "")
        return f"`{file}` ({note})" if file and note else str(file or note)
    return str(item)
