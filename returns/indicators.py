"""A network's indicator set: local indicators defined in a TOML file, checked like registry
entries (``metrics.registry``) before anything is stored.

The file has one ``[network]`` table and one ``[[indicator]]`` table per indicator::

    [network]
    code = "DEMO-NET"
    name = "Demo Maternity and Neonatal Network"
    region = "R01"                # optional: the store's region the network covers
    due_days = 20                 # a month's return is due this many days after it ends
    first_month = "2024-04"       # first month collected
    last_month = "2025-03"        # optional: last month collected (collection has ended)
    providers = ["T001", "T002"]  # organisations that submit (each indicator may narrow it)

    [[indicator]]
    id = "pmh_referral_28d"
    title = "Perinatal mental health referrals seen within 28 days"
    short_title = "PMH seen in 28 days"
    numerator = "Women referred ... seen within 28 days"
    denominator = "Women referred ..."
    unit = "%"                    # or "per 1,000"
    polarity = "higher_is_better" # lower_is_better, none
    breakdowns = ["total", "ethnicity", "deprivation_quintile"]

Every error names the file, the line (where it can be found), the field and the value.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from metrics.categories import ETHNICITY, QUINTILE, TOTAL
from metrics.registry import HIGHER_IS_BETTER, LOWER_IS_BETTER, METRICS, NO_JUDGEMENT

UNITS = {"%": 100, "per 1,000": 1000}
POLARITIES = (HIGHER_IS_BETTER, LOWER_IS_BETTER, NO_JUDGEMENT)
BREAKDOWNS = (TOTAL, ETHNICITY, QUINTILE)
FREQUENCIES = ("month",)
SUBJECTS = ("women", "babies")
LOCAL_PREFIX = "local_"

NETWORK_KEYS = {"code", "name", "region", "due_days", "first_month", "last_month",
                "providers"}
NETWORK_REQUIRED = ("code", "name", "due_days", "first_month", "providers")
INDICATOR_KEYS = {"id", "title", "short_title", "numerator", "denominator", "unit",
                  "polarity", "breakdowns", "frequency", "providers", "definition", "subject"}
INDICATOR_REQUIRED = ("id", "title", "short_title", "numerator", "denominator", "unit",
                      "polarity", "breakdowns")
MAX_DUE_DAYS = 120
MAX_TEXT = 500

_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


class IndicatorSetError(ValueError):
    """A bad indicator set; the message names file, line (if known), field and value."""

    def __init__(self, file: str, line: int | None, field: str | None, value: object,
                 message: str):
        self.file, self.line, self.field, self.value = file, line, field, value
        where = file + (f":{line}" if line is not None else "")
        cell = f" field {field!r}" if field else ""
        shown = f" value {value!r}" if value is not None else ""
        super().__init__(f"{where}:{cell}{shown}: {message}")


@dataclass(frozen=True)
class Indicator:
    """One local indicator; its metric id in the store is ``local_<id>``."""

    id: str
    title: str
    short_title: str
    numerator: str
    denominator: str
    unit: str
    multiplier: int
    polarity: str
    breakdowns: tuple[str, ...]
    frequency: str
    providers: tuple[str, ...]
    definition: str = ""
    subject: str = "women"

    @property
    def metric_id(self) -> str:
        return LOCAL_PREFIX + self.id


@dataclass(frozen=True)
class IndicatorSet:
    """A network's indicators, who submits them and when returns are due."""

    network_code: str
    network_name: str
    region_code: str | None
    due_days: int
    first_month: date
    indicators: tuple[Indicator, ...]
    last_month: date | None = None  # last month collected; None while collection goes on

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with ``indicator_id``; ``KeyError`` listing valid ids otherwise."""
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        ids = ", ".join(i.id for i in self.indicators)
        raise KeyError(f"unknown indicator {indicator_id!r}; choose one of: {ids}")

    def providers(self) -> tuple[str, ...]:
        """Every organisation that submits some indicator, sorted."""
        return tuple(sorted({p for i in self.indicators for p in i.providers}))

    def indicators_for(self, org_code: str) -> tuple[Indicator, ...]:
        """The indicators ``org_code`` submits, in the set's order."""
        return tuple(i for i in self.indicators if org_code in i.providers)

    def to_dict(self) -> dict:
        """The set as plain data (JSON-ready), the inverse of :func:`from_dict`."""
        return {
            "network": {"code": self.network_code, "name": self.network_name,
                        "region": self.region_code, "due_days": self.due_days,
                        "first_month": self.first_month.strftime("%Y-%m"),
                        **({"last_month": self.last_month.strftime("%Y-%m")}
                           if self.last_month else {}),
                        "providers": list(self.providers())},
            "indicator": [
                {"id": i.id, "title": i.title, "short_title": i.short_title,
                 "numerator": i.numerator, "denominator": i.denominator, "unit": i.unit,
                 "polarity": i.polarity, "breakdowns": list(i.breakdowns),
                 "frequency": i.frequency, "providers": list(i.providers),
                 "definition": i.definition, "subject": i.subject}
                for i in self.indicators
            ],
        }


def load_indicator_set(path: Path | str) -> IndicatorSet:
    """Read and check the TOML indicator set at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndicatorSetError(str(path), None, None, None, "no such file") from None
    except UnicodeDecodeError as error:
        raise IndicatorSetError(str(path), None, None, None,
                                f"not UTF-8 text (byte {error.start})") from None
    return parse_indicator_set(text, name=str(path))


def parse_indicator_set(text: str, *, name: str = "<text>") -> IndicatorSet:
    """Parse and check an indicator set given as TOML text; ``name`` is used in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_AT.search(str(error))
        line = int(found.group(1)) if found else None
        message = _TOML_AT.sub("", str(error)).strip()
        raise IndicatorSetError(name, line, None, None, f"not valid TOML: {message}") from None
    return from_dict(data, name=name, lines=_Lines(text))


def from_dict(data: dict, *, name: str = "<data>", lines: _Lines | None = None
              ) -> IndicatorSet:
    """Check plain data shaped like the TOML file (as :meth:`IndicatorSet.to_dict` gives)."""
    lines = lines or _Lines("")

    def fail(field: str | None, value: object, message: str, table: str = "network",
             index: int = 0) -> IndicatorSetError:
        return IndicatorSetError(name, lines.find(table, index, field), field, value, message)

    for key in sorted(set(data) - {"network", "indicator"}):
        raise fail(key, None, "unknown table; an indicator set has [network] and "
                   "[[indicator]] tables", table="", index=0)
    network = data.get("network")
    if not isinstance(network, dict):
        raise fail("network", None, "missing [network] table (code, name, due_days, "
                   "first_month, providers)", table="")
    _check_keys(network, NETWORK_KEYS, NETWORK_REQUIRED, lambda f, v, m: fail(f, v, m))
    code = _text(network, "code", lambda f, v, m: fail(f, v, m))
    if not _ORG.match(code):
        raise fail("code", code, "a network code is letters, digits and '-' (at most 20)")
    network_name = _text(network, "name", lambda f, v, m: fail(f, v, m))
    region = network.get("region")
    if region is not None and (not isinstance(region, str) or not _ORG.match(region)):
        raise fail("region", region, "a region code is letters, digits and '-' (at most 20)")
    due_days = network["due_days"]
    if isinstance(due_days, bool) or not isinstance(due_days, int) \
            or not 0 <= due_days <= MAX_DUE_DAYS:
        raise fail("due_days", due_days, f"a whole number of days from 0 to {MAX_DUE_DAYS}")
    first_month = _month(network["first_month"], lambda v, m: fail("first_month", v, m))
    last_month = None
    if network.get("last_month") is not None:
        last_month = _month(network["last_month"], lambda v, m: fail("last_month", v, m))
        if last_month < first_month:
            raise fail("last_month", network["last_month"], "before first_month "
                       f"({first_month:%Y-%m})")
    providers = _providers(network["providers"], lambda v, m: fail("providers", v, m))

    entries = data.get("indicator")
    if not isinstance(entries, list) or not entries:
        raise fail("indicator", None, "no [[indicator]] tables: define at least one",
                   table="")
    indicators: list[Indicator] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        def bad(field, value, message, index=index):
            return fail(field, value, message, "indicator", index)

        if not isinstance(entry, dict):
            raise bad(None, None, "an indicator must be a table")
        indicator = _indicator(entry, providers, bad)
        if indicator.id in seen:
            raise bad("id", indicator.id, f"duplicate id (indicator {seen[indicator.id] + 1} "
                      "has it too)")
        seen[indicator.id] = index
        indicators.append(indicator)
    return IndicatorSet(code, network_name, region, due_days, first_month, tuple(indicators),
                        last_month)


def _indicator(entry: dict, network_providers: tuple[str, ...], bad) -> Indicator:
    _check_keys(entry, INDICATOR_KEYS, INDICATOR_REQUIRED, bad)
    ident = _text(entry, "id", bad)
    if not _ID.match(ident):
        raise bad("id", ident, "an id is lower_snake_case: a letter, then letters, digits "
                  "or '_' (2 to 40)")
    if ident in METRICS or LOCAL_PREFIX + ident in METRICS:
        raise bad("id", ident, "the id of a national metric; choose another")
    texts = {f: _text(entry, f, bad) for f in ("title", "short_title", "numerator",
                                                 "denominator")}
    unit = entry["unit"]
    if unit not in UNITS:
        raise bad("unit", unit, f"unknown unit; use one of: {', '.join(UNITS)}")
    polarity = entry["polarity"]
    if polarity not in POLARITIES:
        raise bad("polarity", polarity, f"unknown polarity; use one of: {', '.join(POLARITIES)}")
    breakdowns = entry["breakdowns"]
    if not isinstance(breakdowns, list) or not all(isinstance(b, str) for b in breakdowns):
        raise bad("breakdowns", breakdowns, "a list of breakdown names")
    for breakdown in breakdowns:
        if breakdown not in BREAKDOWNS:
            raise bad("breakdowns", breakdown, f"unknown breakdown; use any of: "
                      f"{', '.join(BREAKDOWNS)}")
    if len(set(breakdowns)) != len(breakdowns):
        raise bad("breakdowns", breakdowns, "a breakdown is listed twice")
    if TOTAL not in breakdowns:
        raise bad("breakdowns", breakdowns, f"{TOTAL!r} is required: every indicator has a "
                  "total row")
    frequency = entry.get("frequency", "month")
    if frequency not in FREQUENCIES:
        raise bad("frequency", frequency, f"unknown frequency; use: {', '.join(FREQUENCIES)}")
    subject = entry.get("subject", "women")
    if subject not in SUBJECTS:
        raise bad("subject", subject, f"unknown subject; use one of: {', '.join(SUBJECTS)}")
    definition = entry.get("definition", "")
    if not isinstance(definition, str) or len(definition) > 4 * MAX_TEXT:
        raise bad("definition", definition, f"text of at most {4 * MAX_TEXT} characters")
    providers = network_providers
    if "providers" in entry:
        providers = _providers(entry["providers"], lambda v, m: bad("providers", v, m))
        for org in providers:
            if org not in network_providers:
                raise bad("providers", org, "not one of the network's providers")
    ordered = tuple(b for b in BREAKDOWNS if b in breakdowns)
    return Indicator(ident, texts["title"], texts["short_title"], texts["numerator"],
                     texts["denominator"], unit, UNITS[unit], polarity, ordered, frequency,
                     providers, definition.strip(), subject)


def _check_keys(table: dict, allowed: set[str], required: tuple[str, ...], fail) -> None:
    for key in sorted(set(table) - allowed):
        raise fail(key, table[key] if not isinstance(table[key], dict | list) else None,
                   f"unknown field; use: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in table:
            raise fail(key, None, "missing: every entry needs this field")


def _text(table: dict, field: str, fail) -> str:
    value = table[field]
    if not isinstance(value, str) or not value.strip():
        raise fail(field, value, "must be non-empty text")
    if len(value) > MAX_TEXT:
        raise fail(field, value[:40] + "…", f"longer than {MAX_TEXT} characters")
    return " ".join(value.split())


def _month(value: object, fail) -> date:
    found = _MONTH.match(value) if isinstance(value, str) else None
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1990 <= int(found.group(1)) < 2100:
        raise fail(value, "a month written YYYY-MM, e.g. 2024-04")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _providers(value: object, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise fail(value, "a non-empty list of organisation codes")
    seen: set[str] = set()
    for org in value:
        if not isinstance(org, str) or not _ORG.match(org):
            raise fail(org, "an organisation code is letters, digits and '-' (at most 20)")
        if org in seen:
            raise fail(org, "listed twice")
        seen.add(org)
    return tuple(value)


class _Lines:
    """Where a field is written in the TOML text, for error messages (best effort: a field
    in an inline table or a multi-line value is found by its key's line)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str):
        self.blocks: dict[tuple[str, int], tuple[int, dict[str, int]]] = {}
        counts: dict[str, int] = {}
        current = ("", 0)
        self.blocks[current] = (1, {})
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(2).strip("\"' ")
                index = counts.get(table, 0)
                counts[table] = index + 1
                current = (table, index)
                self.blocks[current] = (number, {})
                continue
            key = self._KEY.match(line)
            if key:
                self.blocks[current][1].setdefault(key.group(1), number)

    def find(self, table: str, index: int, field: str | None) -> int | None:
        """The line of ``field`` in the ``index``-th ``table`` (its header if the field is
        not written there; ``None`` with no text)."""
        block = self.blocks.get((table, index))
        if block is None:
            return None
        start, keys = block
        if field in keys:
            return keys[field]
        if not table and field:
            header = self.blocks.get((field, 0))
            return header[0] if header else None
        return start if table else None
