"""MBRRACE-UK perinatal mortality by trust (``perinatal-mortality-rates-YYYY-trusthealth-board``).

MBRRACE's ``OrganisationCode`` is its own number, so trusts are joined to ODS codes by
normalised name, plus the explicit ``name_map.csv`` for names that differ. Unmatched names are
reported and skipped, never guessed. Only England's trusts are kept.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from data.ingest.common import Parsed, count_row, whole_number
from data.ingest.detect import MBRRACE_TRUST
from metrics.registry import MBRRACE

NAME_MAP = Path(__file__).with_name("name_map.csv")
SUPPRESSED = -1
# (metric, numerator column, denominator column)
MEASURES = (("stillbirth", "TotalStillbirths", "TotalBirths"),
            ("neonatal_death", "TotalNeonatalDeaths", "TotalLiveBirths"))
_DROP_WORDS = {"the", "nhs", "foundation", "trust", "and"}


def normalise(name: str) -> str:
    """Lower case, ``&`` as ``and``, punctuation and the words the/nhs/foundation/trust/and
    removed, so ``The Leeds Teaching Hospitals NHS Trust`` and ``LEEDS TEACHING HOSPITALS NHS
    TRUST`` meet."""
    text = name.lower().replace("&", " and ").replace("'", "")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(w for w in words if w not in _DROP_WORDS)


def read_name_map(path: Path = NAME_MAP) -> dict[str, str]:
    """MBRRACE name -> ODS code from the explicit mapping file (``#`` lines are comments)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    return {row["mbrrace_name"].strip(): row["ods_code"].strip()
            for row in csv.DictReader(lines)}


def dict_rows(rows: list[list[str]], parsed: Parsed, file: str):
    """(line, {column: value}) for each non-empty row of ``rows`` (header first); a row with
    more or fewer fields than the header is recorded as a problem and skipped."""
    header = [h.strip() for h in rows[0]] if rows else []
    for line, fields in enumerate(rows[1:], start=2):
        if fields and any(f.strip() for f in fields):
            if len(fields) != len(header):
                parsed.problem(file, line, None, str(len(fields)),
                               f"expected {len(header)} fields, found {len(fields)}")
                continue
            yield line, dict(zip(header, fields, strict=True))


def parse(rows: list[list[str]], file: str, etr_names: dict[str, str],
          name_map: dict[str, str] | None = None) -> tuple[Parsed, dict[str, str], list[str]]:
    """Counts rows for England's trusts; also ODS code -> MBRRACE name, and unmatched names.

    ``rows`` are the file's rows as text, header first; ``etr_names`` is ODS code -> name
    from etr.csv.
    """
    parsed = Parsed(MBRRACE_TRUST)
    name_map = read_name_map() if name_map is None else name_map
    by_name = {}
    for code, name in etr_names.items():
        by_name.setdefault(normalise(name), code)
    matched: dict[str, str] = {}
    unmatched: list[str] = []
    seen: dict[tuple, int] = {}
    for line, row in dict_rows(rows, parsed, file):
        parsed.rows_read += 1
        name = (row.get("OrganisationName") or "").strip()
        if (row.get("CountryName") or "").strip() != "England":
            continue
        year, why = whole_number(row.get("ReportYear") or "")
        if why or not 2000 <= year <= 2100:
            parsed.problem(file, line, "ReportYear", row.get("ReportYear"), "not a year")
            continue
        key = (year, name)
        if key in seen:
            parsed.problem(file, line, "OrganisationName", name,
                           f"duplicates line {seen[key]} (same year and trust)")
        seen.setdefault(key, line)
        values = {}
        for column in {c for _m, n, d in MEASURES for c in (n, d)}:
            values[column], why = whole_number(row.get(column) or "")
            if why:
                parsed.problem(file, line, column, row.get(column), why)
            elif values[column] < SUPPRESSED:
                parsed.problem(file, line, column, row.get(column),
                               "a negative count (only -1, suppressed, is allowed)")
        for _metric, num, den in MEASURES:
            if line not in parsed.bad_lines and values[num] > values[den] >= 0:
                parsed.problem(file, line, num, row.get(num),
                               f"numerator larger than its denominator {den} ({values[den]})")
        if line in parsed.bad_lines:
            continue
        code = name_map.get(name) or by_name.get(normalise(name))
        if code is None or code not in etr_names:
            unmatched.append(name)
            continue
        matched[code] = name
        parsed.rows_mapped += 1
        for metric, num, den in MEASURES:
            parsed.rows.append(_row(metric, code, year, values[num], values[den]))
    if unmatched:
        parsed.notes.append(f"{len(unmatched)} English organisation(s) not matched to an ODS "
                            f"code and skipped: {'; '.join(unmatched)}")
    return parsed, matched, unmatched


def _row(metric: str, code: str, year: int, num: int, den: int) -> dict:
    start, end = date(year, 1, 1), date(year, 12, 31)
    common = dict(source=MBRRACE, metric=metric, org_code=code, org_level="trust",
                  period_label=str(year), period_kind="calendar_year", start=start, end=end)
    if SUPPRESSED in (num, den):
        row = count_row(**common, numerator=0, denominator=max(den, 0))
        return row | dict(numerator=None, suppressed=True,
                          denominator=None if den == SUPPRESSED else row["denominator"])
    return count_row(**common, numerator=num, denominator=den)


# -- comparator groups (MBRRACE_groups_2018.csv) ----------------------------------------------

GROUPS_YEAR = 2018
NOT_AVAILABLE = "NA"
UNKNOWN_GROUP = "6"  # "Unknown": not a group of similar trusts
# The list's short descriptions, in words for people.
GROUP_WORDS = {
    "1": "Level 3 NICU and neonatal surgery",
    "2": "Level 3 NICU",
    "3": "4,000 or more births a year",
    "4": "2,000 to 3,999 births a year",
    "5": "Under 2,000 births a year",
    "6": "Unknown",
}


def group_label(group: str) -> str:
    """The peer group's label, naming the list it comes from."""
    return f"MBRRACE-UK {GROUPS_YEAR} group {group}: {GROUP_WORDS[group]}"


def parse_groups(rows: list[list[str]], file: str, etr_names: dict[str, str],
                 name_map: dict[str, str] | None = None) -> tuple[Parsed, dict[str, str]]:
    """ODS code -> comparator group (``"1"``..``"6"``) for England's trusts in the list.

    Codes typed in as ``NA`` are matched by name like the MBRRACE-UK trust files (normalised
    name, then ``name_map.csv``); names still unmatched are reported, never guessed.
    """
    from data.ingest.detect import MBRRACE_GROUPS

    parsed = Parsed(MBRRACE_GROUPS)
    name_map = read_name_map() if name_map is None else name_map
    by_name: dict[str, str] = {}
    for code, name in etr_names.items():
        by_name.setdefault(normalise(name), code)
    groups: dict[str, str] = {}
    seen: dict[str, int] = {}
    unmatched, unknown = [], []
    for line, row in dict_rows(rows, parsed, file):
        parsed.rows_read += 1
        group = (row.get("MBRRACE_Group") or "").strip()
        if group not in GROUP_WORDS:
            parsed.problem(file, line, "MBRRACE_Group", group,
                           f"not a comparator group number ({', '.join(GROUP_WORDS)})")
        if (row.get("Country") or "").strip() != "England":
            continue
        code = (row.get("Org_Code") or "").strip()
        name = (row.get("Org_Name") or "").strip()
        if code == NOT_AVAILABLE:
            code = name_map.get(name) or by_name.get(normalise(name)) or NOT_AVAILABLE
        elif code not in etr_names:
            parsed.problem(file, line, "Org_Code", code, "not in the ODS trust list (etr.csv)")
        if code != NOT_AVAILABLE and code in seen:
            parsed.problem(file, line, "Org_Code", code, f"duplicates line {seen[code]}")
        seen.setdefault(code, line)
        if line in parsed.bad_lines:
            continue
        if code == NOT_AVAILABLE:
            unmatched.append(name)
            continue
        if group == UNKNOWN_GROUP:
            unknown.append(code)
            continue
        groups[code] = group
        parsed.rows_mapped += 1
    if unmatched:
        parsed.notes.append(f"{len(unmatched)} English organisation(s) with code NA and no "
                            f"matching ODS name, left out: {'; '.join(unmatched)}")
    if unknown:
        parsed.notes.append(f"{len(unknown)} trust(s) in group {UNKNOWN_GROUP} (Unknown), given "
                            f"no peer group: {', '.join(unknown)}")
    return parsed, groups
