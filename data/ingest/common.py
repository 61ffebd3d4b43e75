"""Shared pieces of the readers: parse results, integer cells, periods, disclosure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from data.ingest.errors import Problem
from metrics import disclosure

_INT = re.compile(r"^-?\d+$")
_FLOAT_WHOLE = re.compile(r"^-?\d+\.0+$")


@dataclass
class Parsed:
    """What one file gave: counts rows, problems, and the tallies for the manifest."""

    format: str
    rows_read: int = 0
    rows_mapped: int = 0
    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def problem(self, file: str, line: int, column: str | None, value: str | None,
                message: str) -> None:
        self.problems.append(Problem(file, line, column, value, message))
        self.bad_lines.add(line)


def whole_number(text: str) -> tuple[int | None, str | None]:
    """``(value, None)`` for a whole number, else ``(None, why)``; ``2.0`` is Excel damage."""
    text = text.strip()
    if _INT.match(text):
        return int(text), None
    if _FLOAT_WHOLE.match(text):
        return None, "a decimal where a whole number belongs (resaved by Excel?)"
    return None, "not a whole number"


def financial_year(label: str) -> tuple[date, date] | None:
    """Start and end of financial year ``2022-23``; None when the label is malformed."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label.strip())
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        return None
    year = int(match[1])
    return date(year, 4, 1), date(year + 1, 3, 31)


def count_row(*, source: str, metric: str, org_code: str, org_level: str, period_label: str,
              period_kind: str, start: date, end: date, numerator: int, denominator: int,
              published_value: float | None = None) -> dict:
    """One total-dimension counts row with the dashboard's disclosure rule applied.

    Publishers already control their files (MSDS rounds to 5, MBRRACE-UK marks small counts
    as -1); on top of that no count of people from 1 to 7 is shown below national level.
    """
    national = org_level == "england"
    small_num = not national and 1 <= numerator <= disclosure.SMALL_MAX
    small_den = not national and 1 <= denominator <= disclosure.SMALL_MAX
    return dict(
        source=source, metric=metric, org_code=org_code, org_level=org_level,
        period_label=period_label, period_kind=period_kind, period_start=start, period_end=end,
        dimension="total", group="All", group_order=0,
        numerator=None if small_num or small_den else numerator,
        denominator=None if small_den else denominator,
        published_value=published_value, suppressed=small_num or small_den,
    )
