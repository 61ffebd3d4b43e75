"""Reporting periods built from calendar months, with the labels the app shows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

_MONTH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: date
    end: date
    months: tuple[int, ...]  # month indices (year * 12 + month - 1) covered


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


def _span(kind: str, label: str, first: int, last: int) -> Period:
    y0, m0 = month_of(first)
    y1, m1 = month_of(last)
    end = date(y1, m1, calendar.monthrange(y1, m1)[1])
    return Period(kind, label, date(y0, m0, 1), end, tuple(range(first, last + 1)))


def _fy(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def quarters(first: int, last: int) -> list[Period]:
    """Financial-year quarters (Apr-Jun = Q1) wholly inside ``first..last``."""
    out = []
    for start in range(first, last - 1):
        year, month = month_of(start)
        if month in (1, 4, 7, 10) and start + 2 <= last:
            fy = year if month >= 4 else year - 1
            q = (month - 4) // 3 % 4 + 1
            label = f"{_fy(fy)} Q{q} ({_MONTH[month - 1]}–{_MONTH[month + 1]} {year})"
            out.append(_span("quarter", label, start, start + 2))
    return out


def half_years(first: int, last: int) -> list[Period]:
    """Financial half-years wholly inside ``first..last``: Apr-Sep (H1) and Oct-Mar (H2),
    each two consecutive quarters, labelled ``2024-25 H1 (Apr–Sep 2024)``."""
    out = []
    for start in range(first, last - 4):
        year, month = month_of(start)
        if month in (4, 10):
            end_year, end_month = month_of(start + 5)
            span = (f"{_MONTH[month - 1]}–{_MONTH[end_month - 1]} {year}" if end_year == year
                    else f"{_MONTH[month - 1]} {year}–{_MONTH[end_month - 1]} {end_year}")
            label = f"{_fy(year)} H{1 if month == 4 else 2} ({span})"
            out.append(_span("half_year", label, start, start + 5))
    return out


def financial_years(first: int, last: int) -> list[Period]:
    """Whole financial years (April to March) inside ``first..last``."""
    out = []
    for start in range(first, last - 10):
        year, month = month_of(start)
        if month == 4:
            out.append(_span("financial_year", _fy(year), start, start + 11))
    return out


def rolling_12_months(first: int, last: int) -> list[Period]:
    """12-month periods ending at each quarter end (Mar, Jun, Sep, Dec)."""
    out = []
    for end in range(first + 11, last + 1):
        year, month = month_of(end)
        if month in (3, 6, 9, 12):
            label = f"12 months to {_MONTH[month - 1]} {year}"
            out.append(_span("rolling_12_months", label, end - 11, end))
    return out


def calendar_years(first: int, last: int) -> list[Period]:
    out = []
    for start in range(first, last - 10):
        year, month = month_of(start)
        if month == 1:
            out.append(_span("calendar_year", str(year), start, start + 11))
    return out


def rolling_3_years(first: int, last: int) -> list[Period]:
    out = []
    for start in range(first, last - 34):
        year, month = month_of(start)
        if month == 1:
            label = f"{year}–{(year + 2) % 100:02d}"
            out.append(_span("rolling_3_years", label, start, start + 35))
    return out


def survey_years(first: int, last: int) -> list[Period]:
    """CQC survey years: women giving birth in February of each year."""
    out = []
    for index in range(first, last + 1):
        year, month = month_of(index)
        if month == 2:
            out.append(_span("survey_year", f"{year} survey", index, index))
    return out


def months(first: int, last: int) -> list[Period]:
    """Calendar months (the monthly statistics' reporting periods), labelled ``Mar 2025``."""
    out = []
    for index in range(first, last + 1):
        year, month = month_of(index)
        out.append(_span("month", f"{_MONTH[month - 1]} {year}", index, index))
    return out


def month_period(year: int, month: int) -> Period:
    """The one-month period of ``month`` in ``year``."""
    index = month_index(year, month)
    return months(index, index)[0]


def quarter_of(first: int) -> Period | None:
    """The financial-year quarter starting at month index ``first``, or None when ``first``
    is not the first month of a quarter."""
    found = quarters(first, first + 2)
    return found[0] if found else None


BUILDERS = {
    "quarter": quarters,
    "half_year": half_years,
    "financial_year": financial_years,
    "rolling_12_months": rolling_12_months,
    "calendar_year": calendar_years,
    "rolling_3_years": rolling_3_years,
    "survey_year": survey_years,
}


# Kinds only published files carry: the demo generator does not produce them.
PUBLISHED_ONLY = {"month": months}


def all_periods(first: int, last: int) -> list[Period]:
    """Every period of every kind the demo generator produces inside the months
    ``first..last``."""
    return [p for build in BUILDERS.values() for p in build(first, last)]
