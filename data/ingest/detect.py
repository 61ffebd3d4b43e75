"""Format detection from a file's content and strict decoding.

A file may be CSV or an Excel workbook (XLSX), either of them gzip- or xz-compressed (the
project's vendored copies are). The format is named from the header row, or for ODS etr.csv
(which has none) from the shape of the first row. A name never makes a format; it is read
only to refuse MBRRACE-UK's "excluding congenital anomalies" edition, whose header and
organisations are the same as the trust file's (only its counts are lower), so that its
content alone cannot tell it apart.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from data.ingest import limits, xlsx
from data.ingest.errors import IngestError, Problem

MSDS_ANNUAL = "NHS Maternity Statistics annual MSDS CSV (2020-21+ schema)"
MSDS_ANNUAL_2019 = "NHS Maternity Statistics annual MSDS CSV (2019-20 schema)"
MSMS_DATA = "Maternity Services Monthly Statistics exp-data"
MSMS_MEASURES = "Maternity Services Monthly Statistics exp-measures"
MBRRACE_TRUST = "MBRRACE-UK perinatal mortality by trust CSV"
MBRRACE_GROUPS = "MBRRACE-UK comparator groups (2018 trust list)"
ODS_ETR = "ODS etr.csv (NHS trusts, no header)"
NMPA_TEMPLATE = "NMPA postpartum haemorrhage table filled in by hand (TEMPLATE)"

MSDS_COLUMNS = ("Period", "Dimension", "Org_Level", "Org_Code", "Org_Name", "Measure",
                "Count_Of", "Value")
MSDS_2019_COLUMNS = ("period", "dimension", "org_level", "org_code", "org_name", "measure1",
                     "count_of", "value")
MSMS_DATA_COLUMNS = ("ReportingPeriodStartDate", "ReportingPeriodEndDate", "Dimension",
                     "Org_Level", "Org_Code", "Org_Name", "Measure", "Count_Of", "Final_value")
MSMS_MEASURES_COLUMNS = ("Org_Code", "Org_Name", "Org_Level", "RPStartDate", "RPEndDate",
                         "IndicatorFamily", "Indicator", "Currency", "Value")
MBRRACE_COLUMNS = ("ReportYear", "OrganisationName", "CountryName", "TotalBirths",
                   "TotalStillbirths", "TotalLiveBirths", "TotalNeonatalDeaths")
MBRRACE_GROUPS_COLUMNS = ("MBRRACE_Group", "MBRRACE_Group_Description", "Country", "Org_Code",
                          "Org_Name")
ETR_FIELDS = 27
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,5}$")
_REGION = re.compile(r"^(Y5[6-9]|Y6[0-3])?$")
# Formats with a header row: the columns that must all be there (exact names).
_HEADERS = {MSDS_ANNUAL: MSDS_COLUMNS, MSMS_DATA: MSMS_DATA_COLUMNS,
            MSMS_MEASURES: MSMS_MEASURES_COLUMNS, MBRRACE_TRUST: MBRRACE_COLUMNS,
            MBRRACE_GROUPS: MBRRACE_GROUPS_COLUMNS}
# Columns holding numbers (an XLSX float there is a number, not damage).
_NUMERIC = {MSDS_ANNUAL: {"Value"}, MSDS_ANNUAL_2019: {"value"}, MSMS_DATA: {"Final_value"},
            MSMS_MEASURES: {"Value"}, MBRRACE_GROUPS: {"MBRRACE_Group"},
            MBRRACE_TRUST: {"ReportYear", "TotalBirths", "TotalStillbirths", "TotalLiveBirths",
                            "TotalNeonatalDeaths", "OrganisationCode", "TotalPerinatalDeaths",
                            "ComparatorGroupID"}}
# MBRRACE-UK publishes each year's trust table twice, as downloaded from its data viewer:
# perinatal-mortality-rates-YYYY-trusthealth-board.csv and
# perinatal-mortality-rates-excluding-congenital-anomalies-YYYY-trusthealth-board.csv.
_ANOMALIES_EXCLUDED = re.compile(r"excl\w*[^a-z]*congenital[^a-z]*anomal", re.IGNORECASE)


@dataclass(frozen=True)
class Detected:
    path: Path
    format: str
    rows: list[list[str]]  # every row as text, the header (if any) first
    container: str  # "CSV" or "XLSX", with the compression if any
    sha256: str  # of the file as given
    notes: tuple[str, ...] = ()


def _nmpa_template(raw: bytes) -> bool:
    head = raw[:400].decode("latin-1")
    return head.startswith("#") and "NMPA" in head and "TEMPLATE" in head


def decode(raw: bytes, path: Path) -> str:
    """The bytes as text: UTF-8 with or without a BOM, else :class:`IngestError` at the bad
    byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start: error.end]
        raise IngestError([Problem(
            str(path), line, None, bad.hex(" "),
            f"not valid UTF-8 (byte {error.start}); save the file as UTF-8 CSV")]) from None


def _format_of(header: list[str]) -> str | None:
    if tuple(header) == MSDS_COLUMNS:
        return MSDS_ANNUAL
    if tuple(h.lower() for h in header) == MSDS_2019_COLUMNS:
        return MSDS_ANNUAL_2019
    for name in (MSMS_DATA, MSMS_MEASURES, MBRRACE_TRUST, MBRRACE_GROUPS):
        if set(_HEADERS[name]) <= set(header):
            return name
    if len(header) == ETR_FIELDS and _ODS_CODE.match(header[0]) and _REGION.match(header[2]):
        return ODS_ETR
    return None


def _near_miss(path: Path, header: list[str]) -> IngestError:
    """Nearly a known header: say which columns are missing or renamed, else "unknown"."""
    best = min(_HEADERS.items(), key=lambda item: sum(c not in header for c in item[1]))
    name, columns = best
    missing = [c for c in columns if c not in header]
    if not missing:  # every column is there, but more besides (or one twice)
        extra = [h for i, h in enumerate(header) if h not in columns or h in header[:i]]
        return IngestError([Problem(str(path), 1, c, None, f"looks like {name} but this "
                                    "column is not part of it (or appears twice)")
                            for c in dict.fromkeys(extra)])
    if len(missing) <= len(columns) // 2:
        extra = [h for h in header if h not in columns]
        hint = f" (found instead: {', '.join(extra)})" if extra else ""
        return IngestError([Problem(str(path), 1, c, None, f"looks like {name} but this "
                                    f"column is missing or renamed{hint}") for c in missing])
    return IngestError([Problem(
        str(path), 1, None, ",".join(header)[:80],
        "format not recognised (expected an annual MSDS CSV, a monthly exp-data or "
        "exp-measures file, an MBRRACE-UK trust CSV or comparator groups, or an ODS etr.csv)")])


def detect(path: Path) -> Detected:
    """Read ``path``, name its format from its content and return its rows as text."""
    path = Path(path)
    given = limits.read(path)
    raw, packed = limits.unpack(given, str(path))
    sha = hashlib.sha256(given).hexdigest()
    if raw[:4] == xlsx.ZIP_MAGIC:
        limits.check_zip(raw, str(path))
    if xlsx.is_workbook(raw):
        try:
            cells, sheets = xlsx.read_cells(raw)
        except Exception as error:  # openpyxl raises many kinds on a broken workbook
            raise IngestError([Problem(str(path), None, None, None,
                                       f"an Excel workbook that cannot be read: {error}")]) \
                from None
        header = [xlsx.cell_text(c, numeric=False).strip() for c in (cells[0] if cells else ())]
        name = _format_of(header)
        if name is None or name == ODS_ETR:
            raise _near_miss(path, header)
        _check_header(path, cells, name)
        _refuse_variant(path, name)
        notes = (f"the workbook has {sheets} sheets; only the first was read",) \
            if sheets > 1 else ()
        rows = xlsx.as_text(cells, _NUMERIC.get(name, set()))
        return Detected(path, name, rows, "XLSX" + packed, sha, notes)
    if _nmpa_template(raw):
        raise IngestError([Problem(
            str(path), 1, None, raw.split(b"\n", 1)[0].decode("utf-8", "replace")[:60],
            f"{NMPA_TEMPLATE}: not ingested. Its own header says it is a template to be "
            "filled in by hand; the figures cannot be traced to a published NMPA table, the "
            "period and denominators are unverified, and it mixes text encodings. Use a "
            "table as the NMPA published it.")])
    text = decode(raw, path)
    rows = _csv_rows(text, path)
    header = [c.strip() for c in (rows[0] if rows else [])]
    name = _format_of(header)
    if name is None:
        raise _near_miss(path, header)
    _check_header(path, rows, name)
    _refuse_variant(path, name)
    return Detected(path, name, rows, "CSV" + packed, sha)


def _refuse_variant(path: Path, name: str) -> None:
    """Refuse the MBRRACE-UK edition that leaves out deaths from congenital anomalies: its
    counts would go into the store as stillbirths and neonatal deaths, which count them."""
    if name == MBRRACE_TRUST and _ANOMALIES_EXCLUDED.search(path.name):
        raise IngestError([Problem(
            str(path), None, None, path.name,
            "MBRRACE-UK's 'excluding congenital anomalies' edition: not ingested. The "
            "store's stillbirth and neonatal death figures include deaths from congenital "
            "anomalies (as the ordinary perinatal-mortality-rates-YYYY-trusthealth-board.csv "
            "does); this file leaves them out of both counts and births, so its figures are "
            "a different measure. Give the ordinary file instead.")])


def _csv_rows(text: str, path: Path) -> list[list[str]]:
    """The rows of a CSV text; a NUL character or a broken row is refused at its line."""
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise IngestError([Problem(str(path), line, None, None, "a NUL character: the file "
                                   "is binary or damaged, not a CSV saved as text")])
    reader = csv.reader(io.StringIO(text))
    try:
        return list(reader)
    except csv.Error as error:  # e.g. a field over the csv module's 131,072-character limit
        raise IngestError([Problem(str(path), reader.line_num, None, None,
                                   f"not a readable CSV row: {error}")]) from None


def _check_header(path: Path, rows: list, name: str) -> None:
    """Refuse a header naming a column twice (which of the two holds the figures is
    unclear), or a header with nothing below it (a file cut short or exported empty)."""
    if name == ODS_ETR:
        return  # no header row
    header = [xlsx.cell_text(c, numeric=False).strip() if not isinstance(c, str) else c.strip()
              for c in rows[0]]
    if not any(any(str(c).strip() for c in row if c is not None) for row in rows[1:]):
        raise IngestError([Problem(str(path), 2, None, None, "only a header row: the file "
                                   "holds no figures (cut short, or exported empty?)")])
    seen: set[str] = set()
    twice = [c for c in header if c in seen or seen.add(c)]
    if twice:
        raise IngestError([Problem(str(path), 1, c, None, "this column appears more than "
                                   "once in the header") for c in dict.fromkeys(twice)])
