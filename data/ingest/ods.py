"""ODS ``etr.csv``: NHS trusts with region, ICB, open and close dates (no header row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from data.ingest.common import Parsed
from data.ingest.detect import ETR_FIELDS, ODS_ETR

# Column positions (0-based) in the published etr layout.
CODE, NAME, REGION, ICB, OPENED, CLOSED = 0, 1, 2, 3, 10, 11
COLUMN_NAMES = {CODE: "code (col 1)", NAME: "name (col 2)", REGION: "region (col 3)",
                ICB: "ICB (col 4)", OPENED: "open date (col 11)", CLOSED: "close date (col 12)"}
# The seven NHS England regions; etr holds codes only.
REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}


@dataclass(frozen=True)
class Trust:
    code: str
    name: str
    region_code: str | None
    icb_code: str | None
    opened: date | None
    closed: date | None


def _date(text: str) -> tuple[date | None, str | None]:
    text = text.strip()
    if not text:
        return None, None
    if len(text) != 8 or not text.isdigit():
        return None, "not a YYYYMMDD date (US-style or Excel-converted?)"
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])), None
    except ValueError:
        return None, "not a real date"


def parse(rows: list[list[str]], file: str) -> tuple[Parsed, dict[str, Trust]]:
    """Read etr rows (no header) into trusts keyed by ODS code, recording every bad row."""
    parsed = Parsed(ODS_ETR)
    trusts: dict[str, Trust] = {}
    for line, fields in enumerate(rows, start=1):
        if not fields:
            continue
        parsed.rows_read += 1
        if len(fields) != ETR_FIELDS:
            parsed.problem(file, line, None, str(len(fields)),
                           f"expected {ETR_FIELDS} fields, found {len(fields)}")
            continue
        code = fields[CODE].strip()
        dates = {}
        for col in (OPENED, CLOSED):
            dates[col], why = _date(fields[col])
            if why:
                parsed.problem(file, line, COLUMN_NAMES[col], fields[col], why)
        region = fields[REGION].strip() or None
        if region is not None and region not in REGIONS:
            parsed.problem(file, line, COLUMN_NAMES[REGION], region,
                           "not an NHS England region code (Y56, Y58-Y63)")
        if code in trusts:
            parsed.problem(file, line, COLUMN_NAMES[CODE], code, "duplicated trust code")
        if line in parsed.bad_lines:
            continue
        trusts[code] = Trust(code, fields[NAME].strip(), region, fields[ICB].strip() or None,
                             dates[OPENED], dates[CLOSED])
        parsed.rows_mapped += 1
    return parsed, trusts


def as_at(trusts: dict[str, Trust]) -> date | None:
    """The edition's date as far as its content shows: its latest open or close date (the
    extract was taken on or after it; etr.csv carries no date of its own)."""
    dates = [d for t in trusts.values() for d in (t.opened, t.closed) if d]
    return max(dates) if dates else None


_SMALL_WORDS = {"and", "of", "the", "for", "in", "on", "at"}
_UPPER_WORDS = {"NHS", "UK", "II", "III"}


def nice_name(upper: str) -> str:
    """``KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST`` -> ``King's College Hospital NHS
    Foundation Trust`` (etr names are in capitals)."""
    words = []
    for i, word in enumerate(upper.split()):
        if word in _UPPER_WORDS:
            words.append(word)
        elif i and word.lower() in _SMALL_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(part.capitalize() for part in word.split("-")))
    return " ".join(words)
