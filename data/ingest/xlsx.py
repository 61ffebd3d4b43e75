"""Excel workbooks (XLSX): the first sheet's cells as Excel stored them, then as text.

Published NHS files are CSV; copies re-saved in Excel carry its damage (text dates read as
US month/day, ``02`` turned into the number 2). The cells are therefore turned into text in a
way that keeps the evidence: a number in a text column is written ``2.0`` and a date cell
``2025-01-03T00:00:00``, so the same checks as for CSV find and name the damage.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime

from data.ingest import limits

ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK = "xl/workbook.xml"


def is_workbook(raw: bytes) -> bool:
    """True for an XLSX workbook: a zip archive holding ``xl/workbook.xml``."""
    if raw[:4] != ZIP_MAGIC:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return WORKBOOK in archive.namelist()
    except zipfile.BadZipFile:
        return False


def read_cells(raw: bytes) -> tuple[list[tuple], int]:
    """The first worksheet's rows of typed cells (trailing empty rows dropped) and the
    number of worksheets in the workbook."""
    from openpyxl import load_workbook  # only needed for workbooks

    book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        sheets = len(book.worksheets)
        rows = _bounded_rows(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    while rows and all(cell is None or cell == "" for cell in rows[-1]):
        rows.pop()
    return rows, sheets


def _bounded_rows(rows: Iterable[tuple]) -> list[tuple]:
    """``rows`` as a list, refused (``ValueError``) past :data:`limits.MAX_CELLS` cells.

    openpyxl pads every row to the sheet's widest (or declared) column and fills missing
    rows, so a few kilobytes of XML naming cell ``XFD1048576`` would otherwise become
    billions of empty cells.
    """
    out, cells = [], 0
    for row in rows:
        cells += len(row)
        if cells > limits.MAX_CELLS:
            raise ValueError(f"its first sheet has more than {limits.MAX_CELLS:,} cells "
                             "(empty ones included), the limit")
        out.append(row)
    return out


def cell_text(value: object, *, numeric: bool) -> str:
    """One cell as text. ``numeric`` columns hold numbers, where Excel's float ``16530.0``
    is the whole number ``16530``; elsewhere a number keeps its decimal point (``2.0``) and a
    date keeps its ISO form, as evidence that Excel converted the text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date):
        return value.isoformat() if isinstance(value, datetime) else \
            datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, int | float):
        if numeric:
            return str(int(value)) if float(value).is_integer() else repr(float(value))
        return repr(float(value))
    return str(value)


def as_text(rows: list[tuple], numeric_columns: set[str]) -> list[list[str]]:
    """Every row as text, header first; ``numeric_columns`` are named in the header row."""
    if not rows:
        return []
    header = [cell_text(c, numeric=False).strip() for c in rows[0]]
    while header and not header[-1]:
        header.pop()
    numeric = [name in numeric_columns for name in header]
    width = len(header)
    out = [header]
    for row in rows[1:]:
        cells = list(row[:width]) + [None] * (width - len(row))
        extra = [c for c in row[width:] if c not in (None, "")]
        text = [cell_text(c, numeric=n) for c, n in zip(cells, numeric, strict=True)]
        out.append(text + [cell_text(c, numeric=False) for c in extra])
    return out
