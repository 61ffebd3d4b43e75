"""Undo the two kinds of Excel damage that can be undone exactly, only when asked.

By default damaged cells are refused (see :func:`data.ingest.common.reporting_month` and the
decile check). Workbooks known to be NHS CSVs re-saved in Excel (the project's vendored
copies) can instead be repaired, and every repair is counted in the report:

- a deprivation decile ``02`` .. ``09`` that Excel turned into the number ``2.0`` .. ``9.0``
  (the published labels of deciles 1 and 10 carry words, so Excel leaves them as text);
- a reporting-period start date ``01/03/2025`` that Excel read month first and stored as
  3 January 2025, when swapping day and month gives exactly the first day of the month of
  the (unambiguous, still text) end date.

Anything else stays as it is and is refused by the checks.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from data.ingest.common import reporting_month
from data.ingest.detect import MSDS_ANNUAL, MSMS_DATA, MSMS_MEASURES, Detected
from data.ingest.msds_annual import DEPRIVATION

_DECIMAL_DECILE = re.compile(r"^([2-9])\.0$")
_STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T00:00:00$")
DATES = {MSMS_DATA: ("ReportingPeriodStartDate", "ReportingPeriodEndDate"),
         MSMS_MEASURES: ("RPStartDate", "RPEndDate")}
DECILES = {MSDS_ANNUAL, MSMS_DATA}


def excel_damage(d: Detected) -> Detected:
    """``d`` with its repairable Excel damage undone (workbooks only) and a note of each
    kind of repair; other files are returned unchanged."""
    if not d.container.startswith("XLSX") or d.format not in DECILES | set(DATES):
        return d
    header = d.rows[0]
    deciles = dates = 0
    rows = [header]
    dim = header.index("Dimension") if d.format in DECILES else None
    measure = header.index("Measure") if d.format in DECILES else None
    start, end = (header.index(c) for c in DATES[d.format]) if d.format in DATES else (0, 0)
    for fields in d.rows[1:]:
        fields = list(fields)
        if dim is not None and len(fields) > max(dim, measure) and fields[dim] == DEPRIVATION:
            match = _DECIMAL_DECILE.match(fields[measure])
            if match:
                fields[measure] = f"0{match[1]}"
                deciles += 1
        if d.format in DATES and len(fields) > max(start, end):
            fixed = _start_date(fields[start], fields[end])
            if fixed is not None:
                fields[start] = fixed
                dates += 1
        rows.append(fields)
    notes = []
    if deciles:
        notes.append(f"repaired {deciles:,} deprivation deciles that Excel had turned into "
                     "numbers (2.0 back to 02)")
    if dates:
        notes.append(f"repaired {dates:,} start dates that Excel had read month first, each "
                     "checked against the end date (stored 3 January 2025 back to 01/03/2025)")
    return replace(d, rows=rows, notes=d.notes + tuple(notes))


def _start_date(start: str, end: str) -> str | None:
    """The dd/mm/yyyy text of a month-first-read start date, or None when not that damage."""
    stamp = _STAMP.match(start.strip())
    if not stamp:
        return None
    stored = date(int(stamp[1]), int(stamp[2]), int(stamp[3]))
    # Read month first, the text "dd/mm/yyyy" became month=dd, day=mm: write it back.
    text = f"{stored.month:02d}/{stored.day:02d}/{stored.year}"
    first, problems = reporting_month(text, end)
    return text if first is not None and not problems else None
