"""Read a local-data CSV (the documented template) into a frame shaped like the store's counts.

Pure: bytes in, a frame or an :class:`~data.ingest.errors.IngestError` out, no I/O. Every
problem names the file, line, column and value. The frame has the counts table's columns
(``data.schema.COUNTS``) with ``source`` "Local" and ``org_level`` "local", plus the columns
in :data:`LOCAL_EXTRA`, and the same disclosure control as published figures below national
level (``metrics.disclosure``): a count of 1 to 7 is withheld and its row suppressed, and a
rare-event rate (PPH, preterm) with fewer than 8 events is not shown. Text that a spreadsheet
would run as a formula is kept as written; every CSV written from it is neutralised.
"""

from __future__ import annotations

import base64
import binascii
import csv
import difflib
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from data import schema
from data.ingest.common import financial_year, whole_number
from data.ingest.errors import IngestError, Problem
from data.ingest.limits import megabytes
from metrics import disclosure, registry
from metrics.categories import ALL_GROUP, DIMENSIONS, ETHNICITY, TOTAL

TEMPLATE = Path(__file__).with_name("template.csv")
LOCAL_SOURCE = "Local"
LOCAL_LEVEL = "local"
LOCAL_PERIOD = "local"  # period kind of a label that is not a financial or calendar year
COLUMNS = ("organisation", "metric", "period", "group", "dimension", "numerator",
           "denominator", "source")
OPTIONAL = ("source",)  # may be empty (but the column must be there)
WITHHELD = "*"  # a count the source already withheld
SPLIT = "split it into smaller files"

# The same figure as the app's request limit: at the command line a file may be this large;
# in the browser it travels base64-encoded inside a request of this size, so less fits there.
MAX_BYTES = 2 * 1024 * 1024
# Base64 makes an upload a third larger: 1.4 MB arrives as about 1.9 MB, inside the limit.
UPLOAD_MAX_BYTES = int(1.4 * 1024 * 1024)
MAX_ROWS = 50_000
MAX_CELL_CHARS = 200
MAX_PROBLEMS = 200
MAX_NOTES = 20
# Far above any count of people, and small enough that products of two counts fit in Int64.
MAX_COUNT = 10**9
# Years a period label can name as a date (outside them it is a local label, like any text).
YEARS = range(1900, 2100)
MAX_LISTED_COLUMNS = 20  # of a header's names in a message

LOCAL_EXTRA = (
    schema.Column("local", pl.Boolean(), False, "Always true: the user's own figure, never "
                  "part of the national store."),
    schema.Column("organisation", pl.String(), False, "The organisation or area as first "
                  "written in the file (later rows differing only in case or spacing follow it)."),
    schema.Column("national_metric", pl.Boolean(), False, "True when ``metric`` is a registry "
                  "metric id, false for a local indicator."),
    schema.Column("local_source", pl.String(), True, "The file's ``source`` column."),
    schema.Column("line", pl.Int64(), False, "Line of the file the row came from."),
)
LOCAL_SCHEMA = schema.polars_schema("counts") | {c.name: c.dtype for c in LOCAL_EXTRA}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel .xls and other OLE2 documents
_SAVE_AS = "in Excel use File > Save As > “CSV UTF-8 (Comma delimited)”"
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")
_CALENDAR_YEAR = re.compile(r"^\d{4}$")
# Names the published files and common forms use for the ethnic groups (DATA.md).
_ETHNIC_ALIASES = {
    "white british": "White", "asian or asian british": "Asian",
    "asian, asian british or asian welsh": "Asian", "black or black british": "Black",
    "black, black british, caribbean or african": "Black",
    "black, african, caribbean or black british": "Black",
    "mixed or multiple ethnic groups": "Mixed", "any other ethnic group": "Other",
    "other ethnic group": "Other", "not stated": "Not stated", "not known": "Not known",
}


@dataclass(frozen=True)
class LocalData:
    """A validated local file: its counts-shaped frame and notes worth telling the user."""

    file: str
    counts: pl.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.counts.height


def key(text: str) -> str:
    """``text`` for matching: lower case, single spaces, ``_`` as space, plain dash and x."""
    text = text.replace("×", "x").replace("–", "-").replace("—", "-").replace("_", " ")
    return " ".join(text.lower().split())


def _dimension_lookup() -> dict[str, str]:
    table = {}
    for dim in DIMENSIONS.values():
        table[key(dim.id)] = dim.id
        table[key(dim.label)] = dim.id
    return table


def _group_lookup() -> dict[str, dict[str, str]]:
    """Per dimension: accepted spelling -> group name (the group's own name, any case; for
    deciles and quintiles also the number alone, e.g. ``1``, ``01``, ``Q1``)."""
    out: dict[str, dict[str, str]] = {}
    for dim in DIMENSIONS.values():
        table = {key(g): g for g in dim.all_groups}
        if dim.ordered:
            for group in dim.groups:
                token = group.split(" ")[0]
                number = token.lstrip("Qq")
                table |= {key(token): group, number: group, f"{int(number):02d}": group}
        out[dim.id] = table
    out[TOTAL] |= {"total": ALL_GROUP, "": ALL_GROUP}
    out[ETHNICITY] |= _ETHNIC_ALIASES
    return out


DIMENSION_NAMES = _dimension_lookup()
GROUP_NAMES = _group_lookup()
METRIC_IDS = {key(m.id): m.id for m in registry.METRICS_LIST}


def size_problem(size: int, file: str, limit: int = MAX_BYTES) -> Problem:
    """The refusal of a file of ``size`` bytes, larger than ``limit``."""
    return Problem(file, None, None, f"{size:,} bytes", f"the file is {megabytes(size)}; "
                   f"the limit is {megabytes(limit)} ({SPLIT})")


def shown(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (marked with …) to be quoted in a message."""
    return text if len(text) <= limit else text[:limit] + "…"


def decode(raw: bytes, file: str) -> str:
    """The file as text (UTF-8, with or without a byte-order mark), or a clear refusal of
    anything else: too large, empty, a workbook, a PDF, binary data, another encoding."""
    def refuse(message: str, line: int | None = None, column: str | None = None,
               value: str | None = None) -> IngestError:
        return IngestError([Problem(file, line, column, value, message)])

    if len(raw) > MAX_BYTES:
        raise IngestError([size_problem(len(raw), file)])
    if not raw.strip():
        raise refuse("the file is empty: start from the template")
    if raw.startswith(b"PK\x03\x04"):
        raise refuse(f"an Excel workbook (XLSX) or zip file, not CSV: {_SAVE_AS}")
    if raw.startswith(_OLE):
        raise refuse(f"an old-style Excel workbook (XLS), not CSV: {_SAVE_AS}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse(f"UTF-16 text (Excel's “Unicode Text”), not UTF-8 CSV: {_SAVE_AS}")
    if raw.startswith(b"%PDF"):
        raise refuse("a PDF document, not a CSV file")
    zero = raw.find(b"\x00")
    if zero >= 0:
        raise refuse("binary data (a zero byte), not a CSV text file",
                     raw[:zero].count(b"\n") + 1, None, "00")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # A line ends at a line feed or a lone carriage return (old Mac files).
        line_start = max(raw.rfind(b"\n", 0, error.start), raw.rfind(b"\r", 0, error.start)) + 1
        before = raw[line_start:error.start].decode("utf-8", errors="replace")
        header = raw.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
        names = [n.strip().lower() for n in header.split(",")]
        # Counted as CSV, so a quoted cell holding commas is one column.
        index = max(len(next(csv.reader([before]), [])) - 1, 0)
        raise refuse(f"not UTF-8 text (byte {error.start}; probably saved as Windows-1252 or "
                     f"Latin-1): {_SAVE_AS}", raw[:error.start].count(b"\n") + 1,
                     shown(names[index]) if index < len(names) else None,
                     raw[error.start:error.end].hex(" ")) from None


def read_records(text: str, reader, *, max_rows: int, too_many: str) -> list[str] | None:
    """Feed the CSV records of ``text`` to ``reader`` (its ``header(fields, line)``,
    ``row(names, fields, line)``, ``problem(line, column, value, message)`` and ``full``),
    skipping blank lines and "#" notes such as the templates' own, and stopping after
    ``max_rows`` rows (``too_many`` says what to do instead) or when the reader has
    problems enough. Returns the header's column names, or None when no header was usable
    (the reader then has a problem saying why, unless there was no header at all)."""
    names: list[str] | None = None
    records = csv.reader(io.StringIO(text, newline=""))
    previous = rows = 0
    try:
        for fields in records:
            line, previous = previous + 1, records.line_num  # the record's first line
            if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
                continue
            if names is None:
                names = reader.header(fields, line)
                if names is None:
                    return None
                continue
            rows += 1
            if rows > max_rows:
                reader.problem(line, None, None, f"more than {max_rows:,} rows: {too_many}")
                break
            reader.row(names, fields, line)
            if reader.full:
                break
    except csv.Error as error:
        reader.problem(records.line_num, None, None, f"not readable as CSV: {error}")
    return names


def display_name(filename: object, default: str = "upload.csv") -> str:
    """A browser-given file name fit to show and report: no folders, no control
    characters, at most 100 characters."""
    if not isinstance(filename, str):
        return default
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:100]
    return name or default


def from_data_url(contents: object, file: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a browser upload (``data:<type>;base64,<data>``), refusing a file that
    is not named ``.csv``, is larger than ``max_bytes`` or arrives damaged."""
    def refuse(message: str, value: str | None = None) -> IngestError:
        return IngestError([Problem(file, None, None, value, message)])

    if not file.lower().endswith(".csv"):
        raise refuse(f"only .csv files can be used: {_SAVE_AS}",
                     file.rsplit(".", 1)[-1][:20] if "." in file else None)
    if not isinstance(contents, str) or ";base64," not in contents[:200]:
        raise refuse("the upload did not arrive as a file; please try again")
    data = contents.split(";base64,", 1)[1]
    if len(data) > 4 * (max_bytes // 3 + 1):  # judged before decoding anything large
        raise IngestError([size_problem(len(data) * 3 // 4, file, max_bytes)])
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise refuse("the upload arrived damaged; please try again") from None
    if len(raw) > max_bytes:
        raise IngestError([size_problem(len(raw), file, max_bytes)])
    return raw


def _count(text: str) -> tuple[int | None, str | None]:
    """``(count, None)``, ``(None, None)`` for ``*`` (withheld at source), or
    ``(None, why)``."""
    text = text.strip()
    if text == WITHHELD:
        return None, None
    if not text:
        return None, f"empty: give a whole number, or {WITHHELD} if your source withheld it"
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if text.startswith("-") and whole_number(text)[0] is not None:
        return None, "negative: counts cannot be below zero"
    number, why = whole_number(text)
    if number is not None and number > MAX_COUNT:
        return None, f"too large: a count of people is at most {MAX_COUNT:,}"
    return number, why


def _period(label: str) -> tuple[str, date | None, date | None]:
    """Kind, start and end of a period label (financial or calendar year), else local."""
    if label[:4].isascii() and label[:4].isdigit() and int(label[:4]) not in YEARS:
        return LOCAL_PERIOD, None, None  # "0000" or "9999-00" is no date Python can hold
    span = financial_year(label)
    if span:
        return "financial_year", *span
    if _CALENDAR_YEAR.match(label):
        return "calendar_year", date(int(label), 1, 1), date(int(label), 12, 31)
    return LOCAL_PERIOD, None, None


class ProblemList:
    """The problems found in ``file``, capped at :data:`MAX_PROBLEMS` (``full`` then)."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int | None, column: str | None, value: str | None,
                message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.file, line, column, value, message))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS


class _Reader(ProblemList):
    """Row-by-row checks, collecting problems (capped) and notes."""

    def __init__(self, file: str):
        super().__init__(file)
        self.notes: list[str] = []
        self.seen: dict[tuple, int] = {}
        self.rows: list[dict] = []
        self.spellings: dict[tuple[str, str], str] = {}

    def spelling(self, column: str, value: str) -> str:
        """The first spelling of ``value`` in ``column`` (so that ``syn001`` and ``SYN001``
        are one organisation)."""
        return self.spellings.setdefault((column, key(value)), value)

    def header(self, fields: list[str], line: int) -> list[str] | None:
        names = [f.strip().lower() for f in fields]
        while names and not names[-1]:
            names.pop()  # spreadsheets pad rows with empty cells
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            sep = "semicolons" if ";" in names[0] else "tabs"
            self.problem(line, None, fields[0][:80], f"columns separated by {sep}, not "
                         f"commas: {_SAVE_AS}")
            return None
        for name in sorted(n for n, times in Counter(names).items() if times > 1):
            self.problem(line, shown(name), shown(name), "this column appears more than once")
        expected = ", ".join(COLUMNS)
        for name in names:
            if name not in COLUMNS:
                self.problem(line, shown(name) or None, shown(name),
                             f"unknown column; the template's columns are: {expected}")
        listed = ", ".join(map(shown, names[:MAX_LISTED_COLUMNS])) + \
            (f" and {len(names) - MAX_LISTED_COLUMNS:,} more" if len(names) > MAX_LISTED_COLUMNS
             else "")
        for name in COLUMNS:
            if name not in names:
                self.problem(line, name, None, f"missing column {name!r}; the header has: "
                             f"{listed}")
        return None if self.problems else names

    def row(self, names: list[str], fields: list[str], line: int) -> None:
        end = len(fields)
        while end > len(names) and not fields[end - 1].strip():
            end -= 1  # spreadsheets pad rows with empty cells (one slice: rows can be huge)
        fields = fields[:end]
        if len(fields) != len(names):
            # A line break inside a field most often means a quote opened and never closed.
            why = "a quote mark that is never closed?" if any("\n" in f or "\r" in f
                                                               for f in fields) \
                else "a stray comma or a missing cell?"
            self.problem(line, None, f"{len(fields)} fields", f"this row has {len(fields)} "
                         f"fields but the header has {len(names)} ({why})")
            return
        cells = {n: v.strip() for n, v in zip(names, fields, strict=True)}
        bad = False
        for name in COLUMNS:
            value = cells[name]
            if len(value) > MAX_CELL_CHARS:
                self.problem(line, name, shown(value), f"longer than {MAX_CELL_CHARS} "
                             "characters")
                bad = True
            elif not value and name not in OPTIONAL and name not in ("group", "numerator",
                                                                       "denominator"):
                self.problem(line, name, "", "empty: every row needs this")
                bad = True
        if bad:
            return
        metric_id = METRIC_IDS.get(key(cells["metric"]))
        national = metric_id is not None
        if not national:
            metric_id = " ".join(cells["metric"].split())
            self._did_you_mean(line, metric_id)
        dimension = DIMENSION_NAMES.get(key(cells["dimension"]))
        group = None
        if dimension is None:
            self.problem(line, "dimension", cells["dimension"], "unknown dimension; use one "
                         f"of: {', '.join(DIMENSIONS)}")
        else:
            group = GROUP_NAMES[dimension].get(key(cells["group"]))
            if group is None:
                self.problem(line, "group", cells["group"], f"not a group of {dimension}; "
                             f"use one of: {', '.join(DIMENSIONS[dimension].all_groups)}")
        counts = {}
        for name in ("numerator", "denominator"):
            counts[name], why = _count(cells[name])
            if why:
                self.problem(line, name, cells[name], why)
                group = None
        if group is None:
            return
        num, den = counts["numerator"], counts["denominator"]
        if den == 0:
            self.problem(line, "denominator", cells["denominator"], "zero: a rate needs at "
                         "least one person counted; leave the row out instead")
            return
        if num is not None and den is not None and num > den:
            self.problem(line, "numerator", cells["numerator"], f"larger than the "
                         f"denominator {den}")
            return
        identity = (key(cells["organisation"]), key(metric_id), key(cells["period"]),
                    dimension, group)
        if identity in self.seen:
            self.problem(line, None, f"{cells['organisation']}, {metric_id}, "
                         f"{cells['period']}, {dimension}, {group}",
                         f"duplicates line {self.seen[identity]} (same organisation, metric, "
                         "period, dimension and group)")
            return
        self.seen[identity] = line
        organisation = self.spelling("organisation", cells["organisation"])
        period = self.spelling("period", cells["period"])
        if not national:
            metric_id = self.spelling("metric", metric_id)
        kind, start, end = _period(period)
        self.rows.append(dict(
            source=LOCAL_SOURCE, metric=metric_id, org_code=organisation,
            org_level=LOCAL_LEVEL, period_label=period, period_kind=kind,
            period_start=start, period_end=end, dimension=dimension, group=group,
            group_order=DIMENSIONS[dimension].order(group), raw_numerator=num,
            raw_denominator=den, local=True, organisation=organisation,
            national_metric=national, local_source=cells["source"] or None, line=line,
        ))

    def _did_you_mean(self, line: int, name: str) -> None:
        if len(self.notes) >= MAX_NOTES:
            return  # matching is slow; no use once no more notes are told
        close = difflib.get_close_matches(key(name), list(METRIC_IDS), n=1, cutoff=0.8)
        if close:
            self.notes.append(f"Line {line}: “{name}” is not a metric id, so it is read as a "
                              f"local indicator. Did you mean {METRIC_IDS[close[0]]}?")


def _controlled(rows: list[dict]) -> pl.DataFrame:
    """The rows as a frame with disclosure control applied (metrics.disclosure)."""
    not_people = [m.id for m in registry.METRICS_LIST if m.disclosure == registry.NOT_PEOPLE]
    rare_events = [m.id for m in registry.METRICS_LIST if m.rare_event]
    frame = pl.DataFrame(rows, schema_overrides={"raw_numerator": pl.Int64,
                                                 "raw_denominator": pl.Int64,
                                                 "period_start": pl.Date, "period_end": pl.Date},
                         infer_schema_length=None)
    national = pl.col("national_metric")
    frame = frame.with_columns(
        controlled=~(national & pl.col("metric").is_in(not_people)),
        rare=national & pl.col("metric").is_in(rare_events),
    )
    num, den = pl.col("raw_numerator"), pl.col("raw_denominator")
    small = pl.col("controlled") & (disclosure.is_small(num).fill_null(False)
                                    | disclosure.is_small(den).fill_null(False))
    rare_hidden = pl.col("rare") & (num < disclosure.RARE_EVENT_MIN).fill_null(False)
    return frame.with_columns(
        numerator=pl.when(small).then(None).otherwise(num),
        denominator=pl.when(pl.col("controlled"))
        .then(disclosure.controlled_count(den, rounded=False)).otherwise(den),
        published_value=pl.lit(None, pl.Float64),
        suppressed=small | rare_hidden | num.is_null() | den.is_null(),
    ).select(pl.col(name).cast(dtype) for name, dtype in LOCAL_SCHEMA.items())


def parse(raw: bytes, file: str) -> LocalData:
    """Validate a local-data CSV and return its counts-shaped frame.

    Parameters
    ----------
    raw : the file's bytes (UTF-8 CSV, with or without a byte-order mark).
    file : the name to report problems against.

    Raises
    ------
    IngestError
        listing every problem (up to :data:`MAX_PROBLEMS`) with file, line, column and
        value; nothing is returned for a file with any problem.
    """
    text = decode(raw, file)
    reader = _Reader(file)
    names = read_records(text, reader, max_rows=MAX_ROWS,
                         too_many="split the file into smaller ones")
    if names is None and not reader.problems:
        reader.problem(None, None, None, "no header row: start from the template")
    if reader.full:
        reader.problems.append(Problem(file, None, None, None, f"stopped after "
                                       f"{MAX_PROBLEMS} problems"))
    if not reader.problems and not reader.rows:
        reader.problem(None, None, None, "no data rows under the header")
    if reader.problems:
        raise IngestError(reader.problems)
    examples = sum(1 for r in reader.rows
                   if (r["local_source"] or "").upper().startswith("EXAMPLE"))
    notes = list(reader.notes)
    if examples:
        notes.insert(0, f"{examples} row(s) are the template's examples (their source says "
                     "EXAMPLE): replace them with your own figures.")
    return LocalData(file, _controlled(reader.rows), tuple(notes))
