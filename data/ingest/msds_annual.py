"""NHS Maternity Statistics annual MSDS file (``hosp-epis-stat-mat-msdscsv-*``), CSV or XLSX.

Two schemas: 2020-21 onwards (``Period,Dimension,...,Measure,Count_Of,Value``) and the older
2019-20 one (lower-case headers, ``measure1``, upper-case dimension names such as
``METHODOFDELIVERY``, levels ``ALL SUBMITTERS/REGION/PROVIDER``, no ethnicity or
deprivation). Each dimension is tabulated alone for every organisation, so outcomes are
available for the total only (no outcome by ethnicity or deprivation). Counts are already
rounded to 5 by the publisher and are kept as published.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from data.ingest import labels, ods
from data.ingest.common import Parsed, count_row, financial_year, whole_number, withheld_row
from data.ingest.detect import MSDS_2019_COLUMNS, MSDS_ANNUAL, MSDS_ANNUAL_2019, MSDS_COLUMNS
from metrics import categories as cat
from metrics.registry import MSDS

ORG_LEVELS = {"National": "england", "NHS England (Region)": "region", "Provider": "trust"}
ORG_LEVELS_2019 = {"ALL SUBMITTERS": "england", "REGION": "region", "PROVIDER": "trust"}
COUNT_OF = {"deliveries", "babies"}
ENGLAND = "ENG"
SUPPRESSED = "*"
_DAMAGED_DECILE = re.compile(r"^\d{1,2}\.0+$")
DEPRIVATION = "DeprivationDecileAtBooking"
RECORDED_ETHNICITY = frozenset(("White", "Mixed", "Asian", "Black", "Other"))
KNOWN = frozenset(("spontaneous", "instrumental", "caesarean_planned", "caesarean_emergency",
                   "other", *RECORDED_ETHNICITY, "Not stated", "Not known",
                   *labels.DECILE_CATEGORIES, "resident_elsewhere", "pseudo_postcode",
                   "0_to_70_days", "71_to_90_days", "91_to_140_days", "141_days_or_more",
                   "preterm", "term"))
EVERY = KNOWN | {labels.MISSING}


@dataclass(frozen=True)
class Spec:
    """How one registry metric is computed from one MSDS dimension: the categories
    (:mod:`data.ingest.labels`) counted in its numerator and in its denominator."""

    metric: str
    dimensions: tuple[str, ...]  # first one present is used (names changed between editions)
    numerator: frozenset[str]
    denominator: frozenset[str] = KNOWN  # the missing category left out


_MODE = ("DeliveryMethodBabyGroup", "MethodOfDelivery", "METHODOFDELIVERY")
SPECS = (
    Spec("ethnicity_recorded", ("EthnicCategoryMotherGroup",), RECORDED_ETHNICITY, EVERY),
    Spec("deprivation_known", (DEPRIVATION,), frozenset(labels.DECILE_CATEGORIES), EVERY),
    Spec("booked_by_10_weeks", ("GestAgeFormalAntenatalBookingGroup",),
         frozenset({"0_to_70_days"})),
    Spec("spontaneous_vaginal", _MODE, frozenset({"spontaneous"})),
    Spec("instrumental", _MODE, frozenset({"instrumental"})),
    Spec("caesarean_planned", _MODE, frozenset({"caesarean_planned"})),
    Spec("caesarean_emergency", _MODE, frozenset({"caesarean_emergency"})),
    Spec("preterm", ("GestationLengthBirthGroup37",), frozenset({"preterm"})),
)
TOTAL_DELIVERIES = ("TotalDeliveries", "TOTAL DELIVERIES")
USED_DIMENSIONS = {d for s in SPECS for d in s.dimensions} | set(TOTAL_DELIVERIES)
assert USED_DIMENSIONS == set(labels.DIMENSIONS), "every dimension read has its labels listed"
# Dimensions that look usable but are not, and why (the others have no registry metric).
NOT_MAPPABLE = {
    "GESTATIONATBOOKING": "whole-week bands: the '10 weeks' band (70 to 76 days) straddles "
    "the 70-day limit of booked by 10 weeks",
    "GESTATIONATDELIVERY": "the '35-37 weeks' band straddles 37 weeks, so births before 37 "
    "weeks cannot be counted",
}


def check_label(dimension: str, label: str, parsed: Parsed, file: str, line: int,
                column: str) -> None:
    """Record an unlisted category of a dimension the ingest reads (a decile damaged by
    Excel is reported by its own check)."""
    if dimension not in labels.DIMENSIONS or labels.category(dimension, label) is not None:
        return
    if dimension == DEPRIVATION and _DAMAGED_DECILE.match(label):
        return
    parsed.problem(file, line, column, label, labels.unknown_message(dimension, label))
    parsed.unknown_labels.add(dimension)


@dataclass
class MsdsResult:
    parsed: Parsed
    period: str | None
    deliveries: dict[str, int]  # trust code -> TotalDeliveries
    names: dict[str, str]  # org code -> name as published


def parse(rows: list[list[str]], file: str, known_trusts: set[str] | None = None,
          old_schema: bool = False) -> MsdsResult:
    """Validate every row, then map the supported dimensions to registry metrics.

    ``rows`` are the file's rows as text, header first; ``old_schema`` for 2019-20.
    """
    parsed = Parsed(MSDS_ANNUAL_2019 if old_schema else MSDS_ANNUAL)
    levels = ORG_LEVELS_2019 if old_schema else ORG_LEVELS
    cells: dict[tuple, dict[str, int | None]] = defaultdict(dict)
    seen: dict[tuple, int] = {}
    periods: set[str] = set()
    names: dict[str, str] = {}
    read_dimensions: set[str] = set()
    width = len(MSDS_COLUMNS)
    for line, fields in enumerate(rows[1:], start=2):
        if not fields or not any(f.strip() for f in fields):
            continue
        parsed.rows_read += 1
        if len(fields) != width:
            parsed.problem(file, line, None, str(len(fields)),
                           f"expected {width} fields, found {len(fields)}")
            continue
        row = dict(zip(MSDS_COLUMNS, (f.strip() for f in fields), strict=True))
        value = _check(row, line, file, parsed, known_trusts, levels, old_schema)
        key = (row["Period"], row["Dimension"], row["Org_Level"], row["Org_Code"],
               row["Measure"], row["Count_Of"])
        if key in seen:
            parsed.problem(file, line, _column("Measure", old_schema), row["Measure"],
                           f"duplicates line {seen[key]} (same period, dimension, "
                           "organisation and measure)")
        seen.setdefault(key, line)
        if line in parsed.bad_lines:
            note_broken(parsed, levels.get(row["Org_Level"]), row["Org_Code"], row["Dimension"])
            continue
        periods.add(row["Period"])
        read_dimensions.add(row["Dimension"])
        level = levels[row["Org_Level"]]
        code = ENGLAND if level == "england" else row["Org_Code"]
        names[code] = row["Org_Name"]
        cells[(level, code, row["Dimension"])][row["Measure"]] = value
        if row["Dimension"] in USED_DIMENSIONS:
            parsed.rows_mapped += 1
    if len(periods) > 1:
        parsed.problem(file, 1, _column("Period", old_schema), ", ".join(sorted(periods)),
                       "more than one period in one annual file")
    period = min(periods) if periods else None
    deliveries = {code: v.get("") or 0 for (level, code, dim), v in cells.items()
                  if dim in TOTAL_DELIVERIES and level == "trust"}
    if period is not None:
        start, end = financial_year(period)
        parsed.rows = map_dimensions(cells, source=MSDS, label=period,
                                     kind="financial_year", start=start, end=end,
                                     left_out=parsed)
        parsed.notes += unmapped_notes(read_dimensions, parsed)
    return MsdsResult(parsed, period, deliveries, names)


def note_broken(parsed: Parsed, level: str | None, code: str, dimension: str) -> None:
    """Remember that a bad row (skipped with ``--lenient``) belonged to an organisation's
    dimension, so that its figures are left out rather than summed without it."""
    if dimension in USED_DIMENSIONS:
        parsed.broken_cells.add((ENGLAND if level == "england" else code, dimension))


def _column(name: str, old_schema: bool) -> str:
    """The file's own name for a canonical column (2019-20 uses lower case and measure1)."""
    return MSDS_2019_COLUMNS[MSDS_COLUMNS.index(name)] if old_schema else name


def _check(row: dict, line: int, file: str, parsed: Parsed, known: set[str] | None,
           levels: dict[str, str], old: bool) -> int | None:
    """Record the row's problems; return its value (None for the publisher's ``*``)."""
    if financial_year(row["Period"]) is None:
        parsed.problem(file, line, _column("Period", old), row["Period"],
                       "not a financial year like 2022-23")
    check_org(row["Org_Level"], row["Org_Code"], levels, known, parsed, file, line,
              (_column("Org_Level", old), _column("Org_Code", old)))
    if row["Count_Of"].lower() not in COUNT_OF:
        parsed.problem(file, line, _column("Count_Of", old), row["Count_Of"],
                       "expected Deliveries or Babies")
    if row["Dimension"] == DEPRIVATION and _DAMAGED_DECILE.match(row["Measure"]):
        parsed.problem(file, line, _column("Measure", old), row["Measure"],
                       "decile written as a decimal (Excel turned '02' into 2.0)")
    check_label(row["Dimension"], row["Measure"], parsed, file, line, _column("Measure", old))
    return check_count(row["Value"], _column("Value", old), parsed, file, line)


def check_org(level: str, code: str, levels: dict[str, str], known: set[str] | None,
              parsed: Parsed, file: str, line: int, columns: tuple[str, str]) -> None:
    """An organisation level the format knows, a real region code, a trust in etr.csv."""
    if level not in levels:
        parsed.problem(file, line, columns[0], level,
                       f"unknown organisation level (expected {', '.join(levels)})")
    elif levels[level] == "region" and code not in ods.REGIONS:
        parsed.problem(file, line, columns[1], code,
                       "not an NHS England region code (Y56, Y58-Y63)")
    elif levels[level] == "trust" and known is not None and code not in known:
        parsed.problem(file, line, columns[1], code,
                       "provider code not in the ODS trust list (etr.csv)")


def check_count(text: str, column: str, parsed: Parsed, file: str, line: int) -> int | None:
    """A published count: a whole number of zero or more, or ``*`` (withheld)."""
    if text == SUPPRESSED:
        return None
    value, why = whole_number(text)
    if why:
        parsed.problem(file, line, column, text, why)
    elif value < 0:
        parsed.problem(file, line, column, text, "a negative count")
    return value


def map_dimensions(cells: dict[tuple, dict[str, int | None]], *, source: str, label: str,
                   kind: str, start: date, end: date, left_out: Parsed | None = None
                   ) -> list[dict]:
    """Counts rows of every :data:`SPECS` metric from ``(level, code, dimension) -> {measure:
    count}``; a withheld (``None``) count makes the cell suppressed.

    What ``left_out`` (the file's parse) found bad gives no figures, since a sum without one
    of its categories would be wrong: a dimension holding a category the ingest does not
    know gives none at all, and an organisation's dimension with a bad row gives none for
    that organisation (both reached only with ``--lenient``).
    """
    present = {dimension for _level, _code, dimension in cells}
    unknown = left_out.unknown_labels if left_out else set()
    broken = left_out.broken_cells if left_out else set()
    rows = []
    for spec in SPECS:
        chosen = next((d for d in spec.dimensions if d in present), None)
        if chosen in unknown:
            continue
        for (level, code, dimension), measures in cells.items():
            if dimension != chosen or (code, dimension) in broken:
                continue
            counted = [(labels.category(dimension, m), v) for m, v in measures.items()]
            num = [v for c, v in counted if c in spec.numerator]
            den = [v for c, v in counted if c in spec.denominator]
            den_known = None not in den
            known_den = sum(v for v in den if v is not None)
            if den_known and known_den == 0:
                continue  # nothing published for this organisation
            row = count_row(source=source, metric=spec.metric, org_code=code,
                            org_level=level, period_label=label, period_kind=kind,
                            start=start, end=end,
                            numerator=sum(v for v in num if v is not None),
                            denominator=known_den)
            if None in num or not den_known:
                row = withheld_row(row, denominator_known=den_known)
            rows.append(row)
    return rows + profile_rows(cells, source=source, label=label, kind=kind, start=start,
                               end=end, left_out=left_out)


# The population profile (registry ``booking_population``): each booking category as a group
# of the store, as a share of everyone in the dimension (the not known categories included).
PROFILE = "booking_population"


def _profile_groups(dimension: str, measure: str) -> tuple[tuple[str, str], ...]:
    """(store dimension, group) pairs that a published category counts towards."""
    category = labels.category(dimension, measure)
    if dimension == DEPRIVATION:
        if category not in labels.DECILE_CATEGORIES:
            return ((cat.DECILE, "Unknown"), (cat.QUINTILE, "Unknown"))
        decile = int(category)
        return ((cat.DECILE, cat.DECILES[decile - 1]),
                (cat.QUINTILE, cat.QUINTILES[(decile - 1) // 2]))
    return ((cat.ETHNICITY, "Missing" if category == labels.MISSING else category),)


def profile_rows(cells: dict[tuple, dict[str, int | None]], *, source: str, label: str,
                 kind: str, start: date, end: date, left_out: Parsed | None = None
                 ) -> list[dict]:
    """Counts rows of the population profile from the ethnicity and deprivation cells.

    A group sums the published categories it stands for (pseudo postcode, resident
    elsewhere and missing are deprivation ``Unknown``; deciles pair into quintiles); the
    denominator sums every category of the dimension. A withheld category withholds its
    group, and every group of the organisation when the denominator is unknown. What
    ``left_out`` found bad is left out as in :func:`map_dimensions`.
    """
    unknown = left_out.unknown_labels if left_out else set()
    broken = left_out.broken_cells if left_out else set()
    rows = []
    for (level, code, dimension), measures in cells.items():
        if dimension not in ("EthnicCategoryMotherGroup", DEPRIVATION) or \
                dimension in unknown or (code, dimension) in broken:
            continue
        den_known = None not in measures.values()
        den = sum(v for v in measures.values() if v is not None)
        if den_known and den == 0:
            continue  # nothing published for this organisation
        parts: dict[tuple[str, str], list[int | None]] = defaultdict(list)
        for measure, value in measures.items():
            for key in _profile_groups(dimension, measure):
                parts[key].append(value)
        for (store_dim, group), values in parts.items():
            row = count_row(source=source, metric=PROFILE, org_code=code, org_level=level,
                            period_label=label, period_kind=kind, start=start, end=end,
                            numerator=sum(v for v in values if v is not None), denominator=den)
            row |= dict(dimension=store_dim, group=group,
                        group_order=cat.DIMENSIONS[store_dim].order(group))
            if None in values or not den_known:
                row = withheld_row(row, denominator_known=den_known)
            rows.append(row)
    return rows


def unmapped_notes(dimensions: set[str], parsed: Parsed) -> list[str]:
    """Notes on what a file could not give: metrics absent or left out, dimensions not used
    and why."""
    notes = []
    mapped = {r["metric"] for r in parsed.rows}
    dropped = [s.metric for s in SPECS if s.metric not in mapped
               and any(d in parsed.unknown_labels for d in s.dimensions)]
    if dropped:
        notes.append(f"{', '.join(dropped)} left out: {', '.join(sorted(parsed.unknown_labels))}"
                     " holds a category this ingest does not know (listed with the problems)")
    absent = [s.metric for s in SPECS if s.metric not in mapped and s.metric not in dropped]
    if absent:
        notes.append(f"no figures for {', '.join(absent)} (the file has no dimension for "
                     "them, or none that matches their definition)")
    if parsed.broken_cells:
        notes.append(f"{len(parsed.broken_cells):,} organisation dimension(s) with a bad row "
                     "left out (their figures would miss a category)")
    for dimension in sorted(dimensions):
        if dimension in NOT_MAPPABLE:
            notes.append(f"{dimension} not mapped: {NOT_MAPPABLE[dimension]}")
    others = sorted(d for d in dimensions - USED_DIMENSIONS - set(NOT_MAPPABLE))
    if others:
        notes.append(f"{len(others)} dimension(s) with no metric in the registry, read and "
                     f"checked but not mapped: {', '.join(others)}")
    return notes
