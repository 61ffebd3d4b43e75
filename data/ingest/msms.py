"""Maternity Services Monthly Statistics: ``exp-data`` and ``exp-measures`` (CSV or XLSX).

exp-data holds the same one-way tabulations as the annual file, for one month and nine
organisation levels; exp-measures holds indicators as numerator, denominator, rate and a
data-quality result. Dates are ``dd/mm/yyyy`` text; values may be ``*`` (withheld), and in
exp-measures ``Pass``, ``Fail``, ``Low DQ`` (rate withheld for data quality) or ``DNS`` (did
not submit).

The store takes from exp-data the metrics the annual file gives (same dimensions, same
definitions) at England, region, Local Maternity System (ICB) and trust level, and from
exp-measures the postpartum haemorrhage indicator CQIMPPH. CQIMPPH counts women giving birth
in the three months before the reporting month (the publisher's CQIM definition; its
denominator is three months of births), so it is labelled with those three months.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from data import periods
from data.ingest.common import Parsed, count_row, reporting_month, withheld_row
from data.ingest.detect import MSMS_DATA, MSMS_DATA_COLUMNS, MSMS_MEASURES, MSMS_MEASURES_COLUMNS
from data.ingest.msds_annual import (
    _DAMAGED_DECILE,
    DEPRIVATION,
    SUPPRESSED,
    USED_DIMENSIONS,
    check_count,
    check_label,
    check_org,
    map_dimensions,
    note_broken,
    unmapped_notes,
)
from metrics.registry import MSDS

LEVELS = {"National": "england", "NHS England (Region)": "region",
          "Local Maternity System": "icb", "Provider": "trust"}
# Published but with no place in the store: why, for the report.
OTHER_LEVELS = {
    "MBRRACE Grouping": "figures for MBRRACE-UK comparator groups (the store's peer groups are "
    "summed from member trusts)",
    "SubICB of Responsibility": "sub-ICB locations are not a level of the store",
    "Local Authority of Residence": "local authorities are not a level of the store",
    "Booking Site": "sites within trusts are not a level of the store",
    "Delivery Site": "sites within trusts are not a level of the store",
}
DATA_COUNT_OF = {"Women", "Babies", "Average over women"}
MEASURES_LEVELS = ("National", "NHS England (Region)", "Local Maternity System",
                   "MBRRACE Grouping", "Provider")
CURRENCIES = ("Numerator", "Denominator", "Rate", "Rate per Thousand", "Result")
TEXT_VALUES = {"Numerator": {SUPPRESSED, "DNS"}, "Denominator": {SUPPRESSED, "DNS"},
               "Rate": {SUPPRESSED, "Low DQ", "DNS"},
               "Rate per Thousand": {SUPPRESSED, "Low DQ", "DNS"}, "Result": {"Pass", "Fail"}}
NATIONAL_CODES = {"ALL", "National"}
# exp-measures indicator -> (metric, months before the reporting month it starts, length).
INDICATORS = {"CQIMPPH": ("pph_1500", 3, 3)}


@dataclass
class MonthlyResult:
    parsed: Parsed
    period: str | None
    names: dict[tuple[str, str], str]  # (level, code) -> name as published


@lru_cache(maxsize=64)
def _month(start: str, end: str) -> tuple[date | None, tuple[tuple[str, str], ...]]:
    first, problems = reporting_month(start, end)
    return first, tuple(problems)


def _dates(row: dict, columns: tuple[str, str], parsed: Parsed, file: str,
           line: int) -> date | None:
    first, problems = _month(row[columns[0]], row[columns[1]])
    for which, why in problems:
        column = columns[0] if which == "start" else columns[1]
        parsed.problem(file, line, column, row[column], why)
    return first


def _rows(rows: list[list[str]], columns: tuple[str, ...], parsed: Parsed, file: str):
    """(line, row as a dict of the named columns) for each non-empty row."""
    header = [h.strip() for h in rows[0]]
    where = [header.index(c) for c in columns]
    for line, fields in enumerate(rows[1:], start=2):
        if not fields or not any(f.strip() for f in fields):
            continue
        parsed.rows_read += 1
        if len(fields) != len(header):
            parsed.problem(file, line, None, str(len(fields)),
                           f"expected {len(header)} fields, found {len(fields)}")
            continue
        yield line, {c: fields[i].strip() for c, i in zip(columns, where, strict=True)}


def _code(level: str, code: str) -> str:
    return "ENG" if level == "england" else code


def parse_data(rows: list[list[str]], file: str, known_trusts: set[str] | None = None,
               known_icbs: set[str] | None = None) -> MonthlyResult:
    """Validate an exp-data file and map the annual file's metrics for its month."""
    parsed = Parsed(MSMS_DATA)
    levels = LEVELS | dict.fromkeys(OTHER_LEVELS, "other")
    cells: dict[tuple, dict[str, int | None]] = defaultdict(dict)
    seen: dict[tuple, int] = {}
    months: set[date] = set()
    names: dict[tuple[str, str], str] = {}
    dimensions: set[str] = set()
    skipped_levels: Counter = Counter()
    for line, row in _rows(rows, MSMS_DATA_COLUMNS, parsed, file):
        first = _dates(row, ("ReportingPeriodStartDate", "ReportingPeriodEndDate"), parsed,
                       file, line)
        check_org(row["Org_Level"], row["Org_Code"], levels, known_trusts, parsed, file, line,
                  ("Org_Level", "Org_Code"))
        _check_icb(levels.get(row["Org_Level"]), row["Org_Code"], known_icbs, parsed, file,
                   line)
        if row["Count_Of"] not in DATA_COUNT_OF:
            parsed.problem(file, line, "Count_Of", row["Count_Of"],
                           f"expected one of {', '.join(sorted(DATA_COUNT_OF))}")
        if row["Dimension"] == DEPRIVATION and _DAMAGED_DECILE.match(row["Measure"]):
            parsed.problem(file, line, "Measure", row["Measure"],
                           "decile written as a decimal (Excel turned '02' into 2.0)")
        check_label(row["Dimension"], row["Measure"], parsed, file, line, "Measure")
        average = row["Count_Of"] == "Average over women"
        if average:
            _check_number("Rate", row["Final_value"], parsed, file, line, "Final_value")
            value = None
        else:
            value = check_count(row["Final_value"], "Final_value", parsed, file, line)
        key = (row["ReportingPeriodEndDate"], row["Dimension"], row["Org_Level"],
               row["Org_Code"], row["Measure"], row["Count_Of"])
        if key in seen:
            parsed.problem(file, line, "Measure", row["Measure"], f"duplicates line "
                           f"{seen[key]} (same month, dimension, organisation and measure)")
        seen.setdefault(key, line)
        if line in parsed.bad_lines:
            note_broken(parsed, levels.get(row["Org_Level"]), row["Org_Code"], row["Dimension"])
            continue
        months.add(first)
        level = levels[row["Org_Level"]]
        if level == "other":
            skipped_levels[row["Org_Level"]] += 1
            continue
        if average:
            continue
        dimensions.add(row["Dimension"])
        code = _code(level, row["Org_Code"])
        names[(level, code)] = row["Org_Name"]
        cells[(level, code, row["Dimension"])][row["Measure"]] = value
        if row["Dimension"] in USED_DIMENSIONS:
            parsed.rows_mapped += 1
    period = _one_month(months, parsed, file, "ReportingPeriodEndDate")
    if period is not None:
        parsed.rows = map_dimensions(cells, source=MSDS, label=period.label, kind=period.kind,
                                     start=period.start, end=period.end, left_out=parsed)
        parsed.notes += unmapped_notes(dimensions, parsed)
    parsed.notes += [f"{n:,} rows at level {level!r} not mapped: {OTHER_LEVELS[level]}"
                     for level, n in sorted(skipped_levels.items())]
    return MonthlyResult(parsed, period.label if period else None, names)


def _one_month(months: set[date], parsed: Parsed, file: str,
               column: str) -> periods.Period | None:
    if len(months) > 1:
        parsed.problem(file, 1, column, ", ".join(sorted(m.isoformat() for m in months)),
                       "more than one reporting month in one monthly file")
    if len(months) != 1:
        return None
    month = next(iter(months))
    return periods.month_period(month.year, month.month)


def parse_measures(rows: list[list[str]], file: str, known_trusts: set[str] | None = None,
                   known_icbs: set[str] | None = None) -> MonthlyResult:
    """Validate an exp-measures file and map CQIMPPH to ``pph_1500``."""
    parsed = Parsed(MSMS_MEASURES)
    levels = {name: LEVELS.get(name, "other") for name in MEASURES_LEVELS}
    seen: dict[tuple, int] = {}
    months: set[date] = set()
    values: dict[tuple, dict[str, tuple[str, int]]] = defaultdict(dict)
    names: dict[tuple[str, str], str] = {}
    for line, row in _rows(rows, MSMS_MEASURES_COLUMNS, parsed, file):
        first = _dates(row, ("RPStartDate", "RPEndDate"), parsed, file, line)
        level = row["Org_Level"]
        if level == "National" and row["Org_Code"] not in NATIONAL_CODES:
            parsed.problem(file, line, "Org_Code", row["Org_Code"],
                           "expected National or ALL at national level")
        else:
            check_org(level, row["Org_Code"], levels, known_trusts, parsed, file, line,
                      ("Org_Level", "Org_Code"))
            _check_icb(levels.get(level), row["Org_Code"], known_icbs, parsed, file, line)
        currency, text = row["Currency"], row["Value"]
        if currency not in CURRENCIES:
            parsed.problem(file, line, "Currency", currency,
                           f"expected one of {', '.join(CURRENCIES)}")
        elif text not in TEXT_VALUES[currency]:
            _check_number(currency, text, parsed, file, line)
        key = (row["RPEndDate"], level, row["Org_Code"], row["Indicator"], currency)
        if key in seen:
            parsed.problem(file, line, "Value", text, f"duplicates line {seen[key]} (same "
                           "month, organisation, indicator and currency)")
        seen.setdefault(key, line)
        if line in parsed.bad_lines:
            continue
        months.add(first)
        if row["Indicator"] in INDICATORS and levels.get(level) in LEVELS.values():
            store_level = levels[level]
            code = _code(store_level, row["Org_Code"])
            names[(store_level, code)] = row["Org_Name"]
            values[(row["Indicator"], store_level, code)][currency] = (text, line)
    period = _one_month(months, parsed, file, "RPEndDate")
    if period is not None:
        parsed.rows = _map_measures(values, period, parsed, file)
    return MonthlyResult(parsed, period.label if period else None, names)


def _check_icb(level: str | None, code: str, known: set[str] | None, parsed: Parsed,
               file: str, line: int) -> None:
    """A Local Maternity System is published under its ICB's code, as etr.csv lists it."""
    if level == "icb" and known is not None and code not in known:
        parsed.problem(file, line, "Org_Code", code, "Local Maternity System code not an ICB "
                       "code in the ODS etr.csv edition(s) given (column 4); an older edition "
                       "may list it")


def _published_range(count: int) -> tuple[int, int]:
    """The true counts a count rounded by the publisher may stand for: zero stays zero, 1 to
    7 are shown as 5, the rest are rounded to the nearest 5."""
    if count == 0:
        return 0, 0
    if count == 5:
        return 1, 7
    return count - 2, count + 2


def _rate_range(num: int, den: int, per: int, rate_text: str) -> tuple[float, float] | None:
    """The rates per ``per`` that ``num`` / ``den`` can give once both counts are rounded to
    5 and the rate to the decimals of ``rate_text`` (rates are worked out before rounding);
    None when ``den`` is zero."""
    low_num, high_num = _published_range(num)
    low_den, high_den = _published_range(den)
    if high_den == 0:
        return None
    decimals = len(rate_text.partition(".")[2])
    slack = 0.5 * 10 ** -decimals + 1e-9
    return (per * low_num / high_den - slack,
            per * high_num / max(low_den, 1) + slack)


def _check_number(currency: str, text: str, parsed: Parsed, file: str, line: int,
                  column: str = "Value") -> None:
    allowed = " or ".join(sorted(TEXT_VALUES[currency]))
    try:
        number = float(text)
    except ValueError:
        parsed.problem(file, line, column, text, f"not a number (nor {allowed})")
        return
    if number < 0:
        parsed.problem(file, line, column, text, "a negative value")
    elif currency in ("Numerator", "Denominator") and not number.is_integer():
        parsed.problem(file, line, column, text, "a count that is not a whole number")


def _map_measures(values: dict[tuple, dict[str, tuple[str, int]]], month: periods.Period,
                  parsed: Parsed, file: str) -> list[dict]:
    rows = []
    withheld: Counter = Counter()
    for (indicator, level, code), cell in sorted(values.items()):
        metric, back, length = INDICATORS[indicator]
        first = periods.month_index(month.start.year, month.start.month) - back
        period = periods.quarter_of(first) if length == 3 else None
        if period is None:
            withheld["not a financial quarter"] += 1
            continue
        num_text, num_line = cell.get("Numerator", ("", 0))
        den_text, _ = cell.get("Denominator", ("", 0))
        rate_currency = next((c for c in ("Rate per Thousand", "Rate") if c in cell), "")
        rate_text, rate_line = cell.get(rate_currency, ("", 0))
        if "DNS" in (num_text, den_text, rate_text):
            withheld["DNS (did not submit)"] += 1
            continue
        if rate_text == "Low DQ":
            withheld["Low DQ (rate withheld by the publisher for data quality)"] += 1
            continue
        if not num_text or not den_text:
            withheld["numerator or denominator missing"] += 1
            continue
        num = None if num_text == SUPPRESSED else int(float(num_text))
        den = None if den_text == SUPPRESSED else int(float(den_text))
        if num is not None and den is not None and num > den:
            parsed.problem(file, num_line, "Value", num_text,
                           f"{indicator} numerator larger than its denominator ({den})")
            continue
        rate = None if rate_text in ("", SUPPRESSED) else float(rate_text)
        fits = _rate_range(num, den, 1000 if rate_currency == "Rate per Thousand" else 100,
                          rate_text) if None not in (num, den, rate) else None
        if fits is not None and not fits[0] <= rate <= fits[1]:
            parsed.problem(file, rate_line, "Value", rate_text, f"{indicator} "
                           f"{rate_currency} does not follow from numerator {num:,} and "
                           f"denominator {den:,} (expected {max(fits[0], 0):.1f} to "
                           f"{fits[1]:.1f}, allowing for counts rounded to 5 and the rate's "
                           "own rounding)")
            continue
        row = count_row(source=MSDS, metric=metric, org_code=code, org_level=level,
                        period_label=period.label, period_kind=period.kind,
                        start=period.start, end=period.end, numerator=num or 0,
                        denominator=den or 0, published_value=rate)
        if num is None or den is None or rate_text == SUPPRESSED:
            row = withheld_row(row, denominator_known=den is not None)
        elif row["suppressed"]:
            row = row | dict(published_value=None)
        rows.append(row | {"_line": num_line})
        parsed.rows_mapped += len(cell)
    for indicator, (metric, _back, length) in INDICATORS.items():
        parsed.notes.append(
            f"{indicator} mapped to {metric} for the {length} months before the reporting "
            f"month {month.label} (the publisher's definition; its denominator is "
            f"{length} months of births)")
    parsed.notes += [f"{n} organisation(s) not mapped: {why}"
                     for why, n in sorted(withheld.items())]
    parsed.notes.append("other indicators (CQIM rates other than PPH, continuity of carer, "
                        "birth setting, Saving Babies' Lives, data-quality results) have no "
                        "metric in the registry: read and checked, not mapped")
    return rows
