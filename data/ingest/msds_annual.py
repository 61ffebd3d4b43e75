"""NHS Maternity Statistics annual MSDS CSV (2020-21 onwards schema).

The file is one-way: each dimension is tabulated alone for every organisation, so outcomes
are available for the total only (no outcome by ethnicity or deprivation). Counts are already
rounded to 5 by the publisher and are kept as published.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from data.ingest.common import Parsed, count_row, financial_year, whole_number
from data.ingest.detect import MSDS_ANNUAL, MSDS_COLUMNS
from metrics.registry import MSDS

ORG_LEVELS = {"National": "england", "NHS England (Region)": "region", "Provider": "trust"}
ENGLAND = "ENG"
_DECILE = re.compile(r"^(\d{1,2})(\s*-.*)?$")
_DAMAGED_DECILE = re.compile(r"^\d{1,2}\.0+$")
RECORDED_ETHNICITY = ("White", "Mixed", "Asian or Asian British", "Black or Black British",
                      "Any other ethnic group")


def _missing(measure: str) -> bool:
    # "Missing value / ..." (annual) and "Missing Value/..." (other editions) alike.
    return measure.lower().replace(" ", "").startswith("missingvalue")


def _is_decile(measure: str) -> bool:
    match = _DECILE.match(measure.strip())
    return bool(match) and 1 <= int(match[1]) <= 10


@dataclass(frozen=True)
class Spec:
    """How one registry metric is computed from one MSDS dimension."""

    metric: str
    dimensions: tuple[str, ...]  # first one present is used (names changed between editions)
    numerator: object  # measure -> bool
    denominator: object  # measure -> bool


SPECS = (
    Spec("ethnicity_recorded", ("EthnicCategoryMotherGroup",),
         lambda m: m in RECORDED_ETHNICITY, lambda m: True),
    Spec("deprivation_known", ("DeprivationDecileAtBooking",), _is_decile, lambda m: True),
    Spec("booked_by_10_weeks", ("GestAgeFormalAntenatalBookingGroup",),
         lambda m: m == "0 to 70 days", lambda m: not _missing(m)),
    Spec("spontaneous_vaginal", ("DeliveryMethodBabyGroup", "MethodOfDelivery"),
         lambda m: m == "Spontaneous", lambda m: not _missing(m)),
    Spec("instrumental", ("DeliveryMethodBabyGroup", "MethodOfDelivery"),
         lambda m: m == "Instrumental", lambda m: not _missing(m)),
    Spec("caesarean_planned", ("DeliveryMethodBabyGroup", "MethodOfDelivery"),
         lambda m: m == "Elective caesarean section", lambda m: not _missing(m)),
    Spec("caesarean_emergency", ("DeliveryMethodBabyGroup", "MethodOfDelivery"),
         lambda m: m == "Emergency caesarean section", lambda m: not _missing(m)),
    Spec("preterm", ("GestationLengthBirthGroup37",),
         lambda m: m == "<37 weeks", lambda m: not _missing(m)),
)
USED_DIMENSIONS = {d for s in SPECS for d in s.dimensions} | {"TotalDeliveries"}


@dataclass
class MsdsResult:
    parsed: Parsed
    period: str | None
    deliveries: dict[str, int]  # trust code -> TotalDeliveries
    names: dict[str, str]  # org code -> name as published


def parse(text: str, file: str, known_trusts: set[str] | None = None) -> MsdsResult:
    """Validate every row, then map the supported dimensions to registry metrics."""
    parsed = Parsed(MSDS_ANNUAL)
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    cells: dict[tuple, dict[str, int]] = defaultdict(dict)
    seen: dict[tuple, int] = {}
    periods: set[str] = set()
    names: dict[str, str] = {}
    for line, fields in enumerate(reader, start=2):
        if not fields:
            continue
        parsed.rows_read += 1
        if len(fields) != len(MSDS_COLUMNS):
            parsed.problem(file, line, None, str(len(fields)),
                           f"expected {len(MSDS_COLUMNS)} fields, found {len(fields)}")
            continue
        row = dict(zip(MSDS_COLUMNS, (f.strip() for f in fields), strict=True))
        _check(row, line, file, parsed, known_trusts)
        key = (row["Period"], row["Dimension"], row["Org_Level"], row["Org_Code"],
               row["Measure"], row["Count_Of"])
        if key in seen:
            parsed.problem(file, line, "Measure", row["Measure"],
                           f"duplicates line {seen[key]} (same period, dimension, "
                           "organisation and measure)")
        seen.setdefault(key, line)
        if line in parsed.bad_lines:
            continue
        periods.add(row["Period"])
        level = ORG_LEVELS[row["Org_Level"]]
        code = ENGLAND if level == "england" else row["Org_Code"]
        names[code] = row["Org_Name"]
        cells[(level, code, row["Dimension"])][row["Measure"]] = int(row["Value"])
        if row["Dimension"] in USED_DIMENSIONS:
            parsed.rows_mapped += 1
    if len(periods) > 1:
        parsed.problem(file, 1, "Period", ", ".join(sorted(periods)),
                       "more than one period in one annual file")
    period = min(periods) if periods else None
    deliveries = {code: v.get("", 0) for (level, code, dim), v in cells.items()
                  if dim == "TotalDeliveries" and level == "trust"}
    if period is not None:
        parsed.rows = _map(cells, period)
    return MsdsResult(parsed, period, deliveries, names)


def _check(row: dict, line: int, file: str, parsed: Parsed, known: set[str] | None) -> None:
    if financial_year(row["Period"]) is None:
        parsed.problem(file, line, "Period", row["Period"],
                       "not a financial year like 2022-23")
    if row["Org_Level"] not in ORG_LEVELS:
        parsed.problem(file, line, "Org_Level", row["Org_Level"],
                       f"unknown organisation level (expected {', '.join(ORG_LEVELS)})")
    elif (row["Org_Level"] == "Provider" and known is not None
          and row["Org_Code"] not in known):
        parsed.problem(file, line, "Org_Code", row["Org_Code"],
                       "provider code not in the ODS trust list (etr.csv)")
    value, why = whole_number(row["Value"])
    if why:
        parsed.problem(file, line, "Value", row["Value"], why)
    elif value < 0:
        parsed.problem(file, line, "Value", row["Value"], "a negative count")
    if row["Dimension"] == "DeprivationDecileAtBooking" and _DAMAGED_DECILE.match(row["Measure"]):
        parsed.problem(file, line, "Measure", row["Measure"],
                       "decile written as a decimal (Excel turned '02' into 2.0)")


def _map(cells: dict[tuple, dict[str, int]], period: str) -> list[dict]:
    start, end = financial_year(period)
    present = {dimension for _level, _code, dimension in cells}
    rows = []
    for spec in SPECS:
        chosen = next((d for d in spec.dimensions if d in present), None)
        for (level, code, dimension), measures in cells.items():
            if dimension != chosen:
                continue
            num = sum(v for m, v in measures.items() if spec.numerator(m))
            den = sum(v for m, v in measures.items() if spec.denominator(m))
            if den == 0:
                continue  # nothing published for this organisation
            rows.append(count_row(source=MSDS, metric=spec.metric, org_code=code,
                                  org_level=level, period_label=period,
                                  period_kind="financial_year", start=start, end=end,
                                  numerator=num, denominator=den))
    return rows
