"""Shared pieces of the readers: parse results, integer cells, periods, disclosure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from data.ingest.errors import Problem
from metrics import disclosure

# ASCII digits only: int() would also take other scripts' digits (such as "٣").
_INT = re.compile(r"^-?[0-9]+$")
_FLOAT_WHOLE = re.compile(r"^-?[0-9]+\.0+$")


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
    unknown_labels: set[str] = field(default_factory=set)  # dimensions with an unlisted label
    broken_cells: set[tuple[str, str]] = field(default_factory=set)  # (org code, dimension)

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


def withheld_row(row: dict, *, denominator_known: bool) -> dict:
    """``row`` (from :func:`count_row`) marked suppressed because a published component was
    withheld by the publisher: its numerator is unknown, and its denominator too unless
    ``denominator_known``."""
    return row | dict(numerator=None, suppressed=True, published_value=None,
                      denominator=row["denominator"] if denominator_known else None)


_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_ISO_STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T00:00:00$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _words(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _dmy(text: str) -> date | None:
    match = _DMY.match(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def reporting_month(start: str, end: str) -> tuple[date | None, list[tuple[str, str]]]:
    """The first day of the month that ``start``..``end`` (published as ``dd/mm/yyyy`` text)
    covers, or None and ``(which, why)`` for each bad date (``which`` is "start" or "end").

    Excel damage is named, not repaired: a date cell Excel made from ``01/03/2025`` by reading
    it month first (3 January 2025), or the same mix-up written back as text (``03/01/2025``).
    """
    problems: list[tuple[str, str]] = []
    last = _dmy(end.strip())
    if last is None:
        why = "a date value stored by Excel, not the published text dd/mm/yyyy" \
            if _ISO_STAMP.match(end.strip()) else "not a dd/mm/yyyy date"
        return None, [("end", why)]
    first = last.replace(day=1)
    if (last + timedelta(days=1)).day != 1:
        problems.append(("end", "not the last day of a month (monthly files cover whole "
                                "months)"))
    text = start.strip()
    stamp = _ISO_STAMP.match(text)
    if stamp:
        day = date(int(stamp[1]), int(stamp[2]), int(stamp[3]))
        if day == first:  # read day first, as published: the right date
            return (first if not problems else None), problems
        swapped = f"{day.month:02d}/{day.day:02d}/{day.year}"
        if day.day <= 12 and date(day.year, day.day, day.month) == first:
            problems.append(("start", f"US-parsed date: Excel read the text {swapped} month "
                                      f"first and stored it as {_words(day)}; the file must "
                                      "hold the published text dd/mm/yyyy"))
        else:
            problems.append(("start", f"a date stored by Excel ({_words(day)}) that is not "
                                      f"the first day of the month ending {end.strip()}"))
        return None, problems
    begin = _dmy(text)
    if begin is None:
        return None, problems + [("start", "not a dd/mm/yyyy date")]
    if begin != first:
        month_first = text[3:5] + "/" + text[:2] + text[5:]
        if _dmy(month_first) == first:
            why = (f"a US-style month/day date: {text} read day first is {_words(begin)}, "
                   f"not the first day of the month ending {end.strip()}")
        else:
            why = f"not the first day of the month ending {end.strip()}"
        problems.append(("start", why))
    return (first if not problems else None), problems
