"""MBRRACE-UK perinatal mortality by trust (``perinatal-mortality-rates-YYYY-trusthealth-board``).

MBRRACE's ``OrganisationCode`` is its own number, so trusts are joined to ODS codes by
normalised name, plus the explicit ``name_map.csv`` for names that differ. Unmatched names are
reported and skipped, never guessed. Only England's trusts are kept.

The counts are stored; the rates and intervals published beside them are checked against
them (a crude rate that does not follow from its counts, or an interval that cannot be read,
means the file is not what MBRRACE-UK published), and the comparator group each row names is
read for the peer groups.

The files publish trusts only. England's figure is offered as the sum of the English
organisations whose counts MBRRACE-UK published (:class:`EnglandSum`), births and deaths over
the same organisations, labelled as such; the build keeps it only where it gives no withheld
count away.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
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
PER = 1000
# (what the rate columns are named after, numerator column, denominator column): each has
# Crude<kind>Rate, Stabilised<kind>Rate and Stabilised<kind>CI.
RATES = (("Stillbirth", "TotalStillbirths", "TotalBirths"),
         ("NeonatalDeath", "TotalNeonatalDeaths", "TotalLiveBirths"),
         ("PerinatalDeath", "TotalPerinatalDeaths", "TotalBirths"))
_NUMBER = re.compile(r"^[0-9]+(?:\.([0-9]+))?$")
_INTERVAL = re.compile(r"^([0-9]+(?:\.([0-9]+))?) to ([0-9]+(?:\.([0-9]+))?)$")
GROUP_ID, GROUP_NAME = "ComparatorGroupID", "ComparatorGroupName"
# Each measure's numerator and denominator in words, for the note on England's sum.
SUM_WORDS = {"stillbirth": ("stillbirths", "total births"),
             "neonatal_death": ("neonatal deaths", "live births")}
# The comparator groups as the trust files name them (the same five groups as the 2018 list).
FILE_GROUP_NAMES = {"1": "Level 3 NICU & neonatal surgery", "2": "Level 3 NICU",
                    "3": "4,000 or more births", "4": "2,000-3,999 births",
                    "5": "Under 2,000 births"}


@dataclass(frozen=True)
class Member:
    """One English organisation's counts for a metric and year, as the file gives them
    (``-1`` where MBRRACE-UK withheld them); ``code`` is its ODS code, None when its name
    matched none."""

    name: str
    code: str | None
    numerator: int
    denominator: int

    @property
    def published(self) -> bool:
        return SUPPRESSED not in (self.numerator, self.denominator)


@dataclass(frozen=True)
class EnglandSum:
    """England's figure for one metric and year as the sum of the English organisations of
    one trust file whose counts MBRRACE-UK published (the files hold no England row).

    Births and deaths are summed over the same organisations, so the rate is that of the
    births they cover. Organisations whose counts MBRRACE-UK withheld are left out of both:
    the sum is then not England's whole figure, which :meth:`note` says. Whether the sum
    can be shown without giving away a count withheld in this store is decided where the
    store is built (:func:`data.ingest.geography.england_sums`).
    """

    metric: str
    year: int
    file: str
    members: tuple[Member, ...]

    @property
    def summed(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.published)

    @property
    def withheld(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if not m.published)

    def row(self) -> dict:
        """The England counts row (national: no small-count control applies)."""
        return _row(self.metric, "ENG", self.year, sum(m.numerator for m in self.summed),
                    sum(m.denominator for m in self.summed), level="england")

    def note(self) -> str:
        """What the figure is, for pages and downloads."""
        deaths, births = SUM_WORDS[self.metric]
        said = (f"England: sum of the {len(self.summed):,} of {len(self.members):,} English "
                f"organisations in the MBRRACE-UK file {self.file} whose counts it publishes "
                "(no file gives England's own figure).")
        if self.withheld:
            said += (f" The {len(self.withheld):,} whose counts MBRRACE-UK withheld for small "
                     f"numbers are left out of both {deaths} and {births}, so this is not "
                     "England's whole figure and may run a little high (counts are withheld "
                     "where deaths are few).")
        return said


@dataclass
class TrustFile:
    """What one trust file gave: counts rows, ODS code -> MBRRACE name, unmatched names,
    ODS code -> (report year, comparator group ``"1"``..``"5"``), the newest year kept, and
    England as the sum of its organisations per metric and year."""

    parsed: Parsed
    matched: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    groups: dict[str, tuple[int, str]] = field(default_factory=dict)
    england: list[EnglandSum] = field(default_factory=list)


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
          name_map: dict[str, str] | None = None) -> TrustFile:
    """Counts rows for England's trusts, checked against the rates and intervals published
    beside them; also the names matched and unmatched and each trust's comparator group.

    ``rows`` are the file's rows as text, header first; ``etr_names`` is ODS code -> name
    from etr.csv. Rows carry the file line they come from as ``_line``.
    """
    parsed = Parsed(MBRRACE_TRUST)
    result = TrustFile(parsed)
    name_map = read_name_map() if name_map is None else name_map
    by_name = {}
    for code, name in etr_names.items():
        by_name.setdefault(normalise(name), code)
    header = {h.strip() for h in rows[0]} if rows else set()
    counted = {c for _m, n, d in MEASURES for c in (n, d)}
    counted |= {n for _k, n, _d in RATES if n in header}
    seen: dict[tuple, int] = {}
    members: dict[tuple[str, int], list[Member]] = {}
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
        for column in sorted(counted):
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
        if line not in parsed.bad_lines:
            _check_rates(row, values, header, parsed, file, line)
        group = _group(row, header, parsed, file, line)
        if line in parsed.bad_lines:
            continue
        code = name_map.get(name) or by_name.get(normalise(name))
        matched = code is not None and code in etr_names
        for metric, num, den in MEASURES:
            members.setdefault((metric, year), []).append(
                Member(name, code if matched else None, values[num], values[den]))
        if not matched:
            result.unmatched.append(name)
            continue
        result.matched[code] = name
        if group and result.groups.get(code, (0, ""))[0] < year:
            result.groups[code] = (year, group)
        parsed.rows_mapped += 1
        for metric, num, den in MEASURES:
            row_out = _row(metric, code, year, values[num], values[den])
            parsed.rows.append(row_out | {"_line": line})
    if result.unmatched:
        parsed.notes.append(f"{len(result.unmatched)} English organisation(s) not matched to "
                            f"an ODS code and skipped: {'; '.join(result.unmatched)}")
    result.england = [EnglandSum(metric, year, Path(file).name, tuple(found))
                      for (metric, year), found in sorted(members.items(),
                                                          key=lambda kv: (kv[0][1], kv[0][0]))
                      if any(m.published for m in found)]
    checked = [f"Crude{k}Rate" for k, _n, _d in RATES if f"Crude{k}Rate" in header]
    checked += [f"Stabilised{k}CI" for k, _n, _d in RATES if f"Stabilised{k}CI" in header]
    if checked:
        parsed.notes.append(f"published rates and intervals checked against the counts, not "
                            f"stored: {', '.join(checked)}")
    return result


def _decimals(match: re.Match, group: int) -> int:
    return len(match[group] or "")


def _check_rates(row: dict, values: dict[str, int], header: set[str], parsed: Parsed,
                 file: str, line: int) -> None:
    """Each crude rate present follows from its counts, allowing for its rounding to the
    decimals it is published with; each interval reads ``low to high`` and holds its
    stabilised rate. A rate whose count is suppressed must be suppressed too (``-1``)."""
    for kind, num, den in RATES:
        column = f"Crude{kind}Rate"
        if column in header and num in values:
            text = (row.get(column) or "").strip()
            count, births = values[num], values[den]
            match = _NUMBER.match(text)
            if SUPPRESSED in (count, births):
                if text != str(SUPPRESSED):
                    parsed.problem(file, line, column, text, f"a rate where {num} or {den} "
                                   "is suppressed (-1): expected -1")
            elif match is None:
                parsed.problem(file, line, column, text, "not a rate (a number of zero or "
                               "more, or -1 where suppressed)")
            elif births > 0:
                exact = PER * count / births
                slack = 0.5 * 10 ** -_decimals(match, 1) + 1e-9
                if abs(float(text) - exact) > slack:
                    parsed.problem(file, line, column, text, f"does not follow from {num} "
                                   f"{count:,} and {den} {births:,} ({PER:,} x {count:,} / "
                                   f"{births:,} = {exact:.3f}), even allowing for rounding")
        column, rate_column = f"Stabilised{kind}CI", f"Stabilised{kind}Rate"
        if column not in header:
            continue
        text = (row.get(column) or "").strip()
        interval = _INTERVAL.match(text)
        if interval is None:
            parsed.problem(file, line, column, text, "not a confidence interval written "
                           "'low to high' (such as '1.92 to 3.37')")
            continue
        low, high = float(interval[1]), float(interval[3])
        if low > high:
            parsed.problem(file, line, column, text, "the lower limit is above the upper")
            continue
        if rate_column not in header:
            continue
        rate_text = (row.get(rate_column) or "").strip()
        rate = _NUMBER.match(rate_text)
        if rate is None:
            parsed.problem(file, line, rate_column, rate_text, "not a rate (a number of "
                           "zero or more)")
        elif not low - 0.005 <= float(rate_text) <= high + 0.005:
            parsed.problem(file, line, rate_column, rate_text,
                           f"outside its own confidence interval {text} ({column})")


def _loose(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").replace("-", " to ").split())


def _group(row: dict, header: set[str], parsed: Parsed, file: str, line: int) -> str | None:
    """The row's comparator group number (``"1"``..``"5"``), None when the file names none;
    a number outside 1 to 5 or a name that is not that group's is a problem."""
    if GROUP_ID not in header:
        return None
    group = (row.get(GROUP_ID) or "").strip()
    name = (row.get(GROUP_NAME) or "").strip()
    if not group and not name:
        return None
    if group not in FILE_GROUP_NAMES:
        parsed.problem(file, line, GROUP_ID, group, "not a comparator group number (1 to 5)")
        return None
    if GROUP_NAME in header and _loose(name) != _loose(FILE_GROUP_NAMES[group]):
        parsed.problem(file, line, GROUP_NAME, name, f"not the name of comparator group "
                       f"{group} ({FILE_GROUP_NAMES[group]})")
        return None
    return group


def _row(metric: str, code: str, year: int, num: int, den: int, level: str = "trust") -> dict:
    start, end = date(year, 1, 1), date(year, 12, 31)
    common = dict(source=MBRRACE, metric=metric, org_code=code, org_level=level,
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
    """The peer group's label. The five groups mean the same in the 2018 list and in the
    trust files, so one label serves both and trusts from either are compared together;
    which source placed each trust is in the manifest."""
    return f"MBRRACE-UK group {group}: {GROUP_WORDS[group]}"


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
