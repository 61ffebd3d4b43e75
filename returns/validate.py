"""Read a provider's monthly return (CSV) into checked rows, or refuse it listing every
problem with file, line, column and value.

Columns: ``indicator, dimension, group, numerator, denominator`` and, optionally,
``organisation`` and ``month`` (which must agree with the organisation and month the return
is submitted for). Lines starting with ``#`` and blank lines are skipped. A breakdown row
with both counts empty is read as not given; the total row of every indicator the provider
submits is required. Decoding (byte-order mark, other encodings, workbooks, binary data),
dimension and group spellings come from the local-data reader (``data.local.parse``).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from data.ingest.common import whole_number
from data.ingest.errors import IngestError
from data.local.parse import (
    DIMENSION_NAMES,
    GROUP_NAMES,
    MAX_CELL_CHARS,
    MAX_COUNT,
    MAX_PROBLEMS,
    ProblemList,
    decode,
    key,
    read_records,
    shown,
)
from metrics.categories import ALL_GROUP, DIMENSIONS, TOTAL
from returns.errors import Problem, ReturnRejected
from returns.indicators import LOCAL_PREFIX, Indicator, IndicatorSet

REQUIRED = ("indicator", "dimension", "group", "numerator", "denominator")
OPTIONAL = ("organisation", "month")
ALIASES = {"org_code": "organisation", "organization": "organisation", "org": "organisation"}
COLUMNS = (*OPTIONAL, *REQUIRED)
MAX_ROWS = 5_000  # a return holds a few hundred rows at most
# What a spreadsheet runs as a formula when the cell is opened (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?$")


@dataclass(frozen=True)
class ReturnRow:
    """One figure of a return, with the line it came from."""

    indicator: str
    dimension: str
    group: str
    numerator: int
    denominator: int
    line: int


@dataclass(frozen=True)
class ParsedReturn:
    """A checked return: whose, which month, its figures."""

    org_code: str
    month: date
    rows: tuple[ReturnRow, ...]


def month_of(text: str) -> date | None:
    """The 1st of the month written ``YYYY-MM`` (or ``YYYY-MM-01``), else None."""
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1990 <= int(found.group(1)) < 2100:
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def looks_like_formula(text: str) -> bool:
    """True for a cell a spreadsheet would run as a formula (a negative number is not)."""
    if not text.startswith(FORMULA_START):
        return False
    return not (text.startswith("-") and whole_number(text)[0] is not None)


def parse_return(data: bytes | str, *, indicator_set: IndicatorSet,
                 org_code: str | None = None, month: date | None = None,
                 file: str = "return.csv") -> ParsedReturn:
    """Check a return against ``indicator_set``.

    Parameters
    ----------
    data : the file (UTF-8, with or without a byte-order mark).
    indicator_set : the network's indicators; the provider's ones are required.
    org_code, month : what the return is for; when not given, the file's ``organisation``
        and ``month`` columns say (one value each).
    file : the name problems are reported against.

    Raises
    ------
    ReturnRejected
        listing every problem (up to ``MAX_PROBLEMS``); nothing is returned then.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        text = decode(raw, file)
    except IngestError as error:
        raise ReturnRejected(error.problems) from None
    reader = _Reader(file, indicator_set, org_code, month)
    reader.read(text)
    if not reader.full:
        reader.finish()
    if reader.problems:
        if len(reader.problems) >= MAX_PROBLEMS:
            reader.problems.append(Problem(file, None, None, None,
                                           f"stopped after {MAX_PROBLEMS} problems"))
        raise ReturnRejected(reader.problems)
    assert reader.org_code is not None and reader.month is not None
    return ParsedReturn(reader.org_code, reader.month, tuple(reader.rows))


class _Reader(ProblemList):
    """Row-by-row checks, collecting problems (capped)."""

    def __init__(self, file: str, indicator_set: IndicatorSet, org_code: str | None,
                 month: date | None):
        super().__init__(file)
        self.set = indicator_set
        self.org_code = org_code
        self.month = month
        self.given_org = org_code is not None
        self.given_month = month is not None
        self.rows: list[ReturnRow] = []
        self.seen: dict[tuple[str, str, str], int] = {}
        self.blank_totals: dict[str, int] = {}
        self.named_totals: set[str] = set()  # indicators with a total row, right or wrong
        self.indicator_ids = {key(i.id): i for i in indicator_set.indicators}
        self.indicator_ids |= {key(i.metric_id): i for i in indicator_set.indicators}
        self.indicator_ids |= {key(i.title): i for i in indicator_set.indicators}

    def read(self, text: str) -> None:
        names = read_records(text, self, max_rows=MAX_ROWS, too_many="a return holds one "
                             "row per indicator, breakdown and group")
        if names is None and not self.problems:
            self.problem(None, None, None, "no header row: start from the template "
                         f"({', '.join(REQUIRED)})")
        elif names is not None and not self.rows and not self.problems \
                and not self.blank_totals:
            self.problem(None, None, None, "no figures under the header")

    def header(self, fields: list[str], line: int) -> list[str] | None:
        names = [ALIASES.get(f.strip().lower(), f.strip().lower()) for f in fields]
        while names and not names[-1]:
            names.pop()
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            sep = "semicolons" if ";" in names[0] else "tabs"
            self.problem(line, None, shown(fields[0], 80), f"columns separated by {sep}, "
                         "not commas: save the file as CSV UTF-8 (comma delimited)")
            return None
        for name in sorted(n for n, times in Counter(names).items() if times > 1):
            self.problem(line, shown(name), shown(name), "this column appears more than once")
        for name in names:
            if name not in COLUMNS:
                self.problem(line, shown(name) or None, shown(name), "unknown column; a "
                             f"return's columns are: {', '.join(COLUMNS)}")
        for name in REQUIRED:
            if name not in names:
                self.problem(line, name, None, f"missing column {name!r}")
        if not self.given_org and "organisation" not in names:
            self.problem(line, "organisation", None, "missing column 'organisation': say "
                         "which organisation the return is for")
        if not self.given_month and "month" not in names:
            self.problem(line, "month", None, "missing column 'month': say which month the "
                         "return is for (YYYY-MM)")
        return None if self.problems else names

    def row(self, names: list[str], fields: list[str], line: int) -> None:
        end = len(fields)
        while end > len(names) and not fields[end - 1].strip():
            end -= 1
        fields = fields[:end]
        if len(fields) != len(names):
            self.problem(line, None, f"{len(fields)} fields", f"this row has {len(fields)} "
                         f"fields but the header has {len(names)} (a stray comma or a "
                         "missing cell?)")
            return
        cells = {n: v.strip() for n, v in zip(names, fields, strict=True)}
        bad = False
        for name, value in cells.items():
            if len(value) > MAX_CELL_CHARS:
                self.problem(line, name, shown(value), f"longer than {MAX_CELL_CHARS} "
                             "characters")
                bad = True
            elif looks_like_formula(value):
                self.problem(line, name, shown(value), "looks like a spreadsheet formula; "
                             "give the value itself")
                bad = True
        if bad:
            return
        ok = self.where(cells, line)
        indicator = self.indicator(cells, line)
        dimension = self.dimension(cells, indicator, line)
        group = self.group(cells, dimension, line)
        if indicator is not None and dimension == TOTAL \
                and (cells["numerator"] or cells["denominator"]):
            self.named_totals.add(indicator.id)
        if indicator is None or group is None or dimension is None or not ok:
            return
        if not cells["numerator"] and not cells["denominator"]:
            if dimension == TOTAL:
                self.blank_totals.setdefault(indicator.id, line)
            return  # a breakdown row left empty: not given
        counts = {}
        for name in ("numerator", "denominator"):
            counts[name] = self.count(cells[name], name, line)
        num, den = counts["numerator"], counts["denominator"]
        if num is None or den is None:
            return
        if num > den:
            self.problem(line, "numerator", cells["numerator"],
                         f"larger than the denominator {den}")
            return
        identity = (indicator.id, dimension, group)
        if identity in self.seen:
            self.problem(line, None, f"{indicator.id}, {dimension}, {group}",
                         f"duplicates line {self.seen[identity]} (same indicator, dimension "
                         "and group)")
            return
        self.seen[identity] = line
        self.rows.append(ReturnRow(indicator.id, dimension, group, num, den, line))

    def where(self, cells: dict[str, str], line: int) -> bool:
        """Check the row's organisation and month against the return's."""
        ok = True
        if "organisation" in cells:
            value = cells["organisation"]
            if not value:
                self.problem(line, "organisation", "", "empty: give the organisation code")
                ok = False
            elif self.org_code is None:
                self.org_code = value.upper()
            elif key(value) != key(self.org_code):
                whose = "this return is for" if self.given_org else "line above gave"
                self.problem(line, "organisation", value, f"not the organisation "
                             f"{whose} ({self.org_code})")
                ok = False
        if "month" in cells:
            value = cells["month"]
            found = month_of(value)
            if found is None:
                self.problem(line, "month", value, "not a month: write it YYYY-MM, e.g. "
                             "2024-05")
                ok = False
            elif self.month is None:
                self.month = found
            elif found != self.month:
                whose = "this return is for" if self.given_month else "line above gave"
                self.problem(line, "month", value, f"not the month {whose} "
                             f"({self.month:%Y-%m})")
                ok = False
        return ok

    def indicator(self, cells: dict[str, str], line: int) -> Indicator | None:
        value = cells["indicator"]
        found = self.indicator_ids.get(key(value))
        if found is None:
            ids = [i.id for i in self.set.indicators]
            close = difflib.get_close_matches(value.lower().removeprefix(LOCAL_PREFIX), ids,
                                              n=1, cutoff=0.7)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.problem(line, "indicator", value, f"unknown indicator{hint}; the network's "
                         f"indicators are: {', '.join(ids)}")
            return None
        if self.org_code is not None and self.org_code not in found.providers:
            self.problem(line, "indicator", value, f"{self.org_code} does not submit this "
                         "indicator")
            return None
        return found

    def dimension(self, cells: dict[str, str], indicator: Indicator | None,
                  line: int) -> str | None:
        value = cells["dimension"]
        dimension = DIMENSION_NAMES.get(key(value))
        allowed = indicator.breakdowns if indicator else None
        if dimension is None or (allowed is not None and dimension not in allowed):
            choices = ", ".join(allowed) if allowed else "total, ethnicity, " \
                "deprivation_quintile"
            whose = f" of {indicator.id}" if indicator else ""
            self.problem(line, "dimension", value, f"not a breakdown{whose}; use one of: "
                         f"{choices}")
            return None
        return dimension

    def group(self, cells: dict[str, str], dimension: str | None, line: int) -> str | None:
        if dimension is None:
            return None
        value = cells["group"]
        group = GROUP_NAMES[dimension].get(key(value))
        if group is None:
            self.problem(line, "group", value, f"not a group of {dimension}; use one of: "
                         f"{', '.join(DIMENSIONS[dimension].all_groups)}")
        return group

    def count(self, text: str, column: str, line: int) -> int | None:
        if not text:
            self.problem(line, column, "", "empty: give a whole number (0 if none), or "
                         "leave both counts empty for a breakdown row you do not have")
            return None
        plain = text.replace(",", "") if _THOUSANDS.match(text) else text
        number, why = whole_number(plain)
        if number is not None and number < 0:
            why = "negative: counts cannot be below zero"
        elif number is not None and number > MAX_COUNT:
            why = f"too large: a count of people is at most {MAX_COUNT:,}"
        elif text == "*":
            why = "withheld (*): a return holds the exact counts; small numbers are " \
                "withheld when figures are published"
        if why:
            self.problem(line, column, text, why)
            return None
        return number

    def finish(self) -> None:
        """Whole-return checks, beside the rows' own problems: whose and which month, a
        total row for every indicator the provider submits, and no group larger than its
        total."""
        if self.org_code is None or self.month is None:
            if not self.problems:  # else the rows' own problems say what is wrong
                self.problem(None, "organisation" if self.org_code is None else "month",
                             None, "not said in the file, and not given")
            return
        if self.org_code not in self.set.providers():
            self.problem(None, "organisation", self.org_code, "not one of the network's "
                         f"providers: {', '.join(self.set.providers())}")
            return
        totals = {(r.indicator): r for r in self.rows if r.dimension == TOTAL}
        for indicator in self.set.indicators_for(self.org_code):
            if indicator.id in totals or indicator.id in self.named_totals:
                continue  # present (a wrong one has its own problem)
            blank = self.blank_totals.get(indicator.id)
            if blank is not None:
                self.problem(blank, "numerator", "", f"the total row of {indicator.id} is "
                             "required: give its numerator and denominator")
            else:
                self.problem(None, "indicator", indicator.id, f"missing the total row "
                             f"(dimension {TOTAL}, group {ALL_GROUP}) of this indicator")
        sums: dict[tuple[str, str], list[int]] = {}
        for row in self.rows:
            if row.dimension != TOTAL:
                part = sums.setdefault((row.indicator, row.dimension), [0, 0, row.line])
                part[0] += row.numerator
                part[1] += row.denominator
        for (indicator, dimension), (num, den, line) in sums.items():
            total = totals.get(indicator)
            if total is None:
                continue
            for column, part, whole in (("numerator", num, total.numerator),
                                        ("denominator", den, total.denominator)):
                if part > whole:
                    self.problem(line, column, str(part), f"the {dimension} groups of "
                                 f"{indicator} add up to {part}, more than the total's "
                                 f"{whole} (line {total.line})")
