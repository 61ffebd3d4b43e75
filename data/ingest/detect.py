"""Format detection from a file's content (never from its name) and strict decoding."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from data.ingest.errors import IngestError, Problem

MSDS_ANNUAL = "NHS Maternity Statistics annual MSDS CSV (2020-21+ schema)"
MSDS_ANNUAL_2019 = "NHS Maternity Statistics annual MSDS CSV (2019-20 schema)"
MBRRACE_TRUST = "MBRRACE-UK perinatal mortality by trust CSV"
ODS_ETR = "ODS etr.csv (NHS trusts, no header)"

MSDS_COLUMNS = ("Period", "Dimension", "Org_Level", "Org_Code", "Org_Name", "Measure",
                "Count_Of", "Value")
MSDS_2019_COLUMNS = ("period", "dimension", "org_level", "org_code", "org_name", "measure1",
                     "count_of", "value")
MBRRACE_COLUMNS = ("ReportYear", "OrganisationName", "CountryName", "TotalBirths",
                   "TotalStillbirths", "TotalLiveBirths", "TotalNeonatalDeaths")
ETR_FIELDS = 27
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,5}$")
_REGION = re.compile(r"^(Y5[6-9]|Y6[0-3])?$")
_HEADERS = {MSDS_ANNUAL: MSDS_COLUMNS, MBRRACE_TRUST: MBRRACE_COLUMNS}


@dataclass(frozen=True)
class Detected:
    path: Path
    format: str
    text: str  # decoded, without a byte-order mark


def decode(path: Path) -> str:
    """The file as text: UTF-8 with or without a BOM, else :class:`IngestError` at the bad byte."""
    raw = path.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        raise IngestError([Problem(str(path), None, None, None,
                                   "an Excel (XLSX) workbook; only CSV is read so far")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start: error.end]
        raise IngestError([Problem(
            str(path), line, None, bad.hex(" "),
            f"not valid UTF-8 (byte {error.start}); save the file as UTF-8 CSV")]) from None


def detect(path: Path) -> Detected:
    """Decode ``path`` and name its format from the header row (or the row shape)."""
    path = Path(path)
    text = decode(path)
    first = next(csv.reader(io.StringIO(text)), [])
    header = [c.strip() for c in first]
    if tuple(header) == MSDS_COLUMNS:
        return Detected(path, MSDS_ANNUAL, text)
    if tuple(h.lower() for h in header) == MSDS_2019_COLUMNS:
        return Detected(path, MSDS_ANNUAL_2019, text)
    if set(MBRRACE_COLUMNS) <= set(header):
        return Detected(path, MBRRACE_TRUST, text)
    if len(header) == ETR_FIELDS and _ODS_CODE.match(header[0]) and _REGION.match(header[2]):
        return Detected(path, ODS_ETR, text)
    # Nearly a known header: say which columns are missing or renamed rather than "unknown".
    for name, columns in _HEADERS.items():
        missing = [c for c in columns if c not in header]
        if len(missing) <= len(columns) // 2:
            extra = [h for h in header if h not in columns and name == MSDS_ANNUAL]
            hint = f" (found instead: {', '.join(extra)})" if extra else ""
            raise IngestError([Problem(str(path), 1, c, None,
                                       f"looks like {name} but this column is missing or "
                                       f"renamed{hint}") for c in missing])
    raise IngestError([Problem(str(path), 1, None, ",".join(header)[:80],
                               "format not recognised (expected an annual MSDS CSV, an MBRRACE-UK "
                               "trust CSV or an ODS etr.csv)")])
