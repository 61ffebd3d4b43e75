"""Build a real-data store from published files: ``equalities ingest`` and ``build-real``."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from data import settings, store
from data.ingest import detect, geography, mbrrace, msds_annual, msms, ods, repair
from data.ingest.common import Parsed
from data.ingest.errors import IngestError, Problem
from data.schema import LEVEL_LABELS
from data.synthetic.organisations import peer_group
from metrics.registry import MBRRACE

TITLE = "Real published data (NHS Maternity Statistics, MBRRACE-UK, ODS)"
# The project's own copies of the NHS England files build-real uses (Open Government
# Licence; see data/real/README.md). MBRRACE-UK, NMPA and ODS files are not copied.
VENDORED = Path(__file__).resolve().parents[1] / "real"
VENDORED_PATTERNS = ("*.csv.gz", "*.xlsx.xz")
PEER_GROUPS_SINCE = date(2018, 1, 1)  # mergers after this change a 2018 comparator group


@dataclass
class Report:
    """What a build did: per-file tallies, skipped rows (lenient), unmatched names."""

    files: list[dict] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    build: Path | None = None
    seconds: float = 0.0


@dataclass
class _Inputs:
    """Everything read, before it becomes a store."""

    parsed: list[tuple[detect.Detected, Parsed]] = field(default_factory=list)
    editions: list[geography.Edition] = field(default_factory=list)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    births: dict[str, dict[str, int]] = field(default_factory=dict)  # period -> trust -> n
    groups: dict[str, str] | None = None
    mbrrace_names: dict[str, str] = field(default_factory=dict)
    # trust -> (year, comparator group) from the MBRRACE-UK trust files, newest year kept
    file_groups: dict[str, tuple[int, str]] = field(default_factory=dict)
    # England as the sum of each MBRRACE-UK trust file's organisations, per metric and year
    england_sums: list[mbrrace.EnglandSum] = field(default_factory=list)


def build_from_files(paths: list[Path], root: Path | None = None, *, lenient: bool = False,
                     repair_excel: bool = False, replace: bool = False) -> Report:
    """Detect, validate and map ``paths``, then publish one store atomically.

    Raises :class:`IngestError` (and writes nothing) when any file cannot be read, or when any
    row is bad and ``lenient`` is False. With ``lenient`` bad rows are skipped and listed in
    the report. ``repair_excel`` undoes, in workbooks, the Excel damage that can be undone
    exactly (:mod:`data.ingest.repair`); by default it is refused like any bad cell.

    The store published is made of ``paths`` alone. So that nothing is dropped by mistake, a
    folder that already holds a store is refused (after the files are checked, so their
    problems are reported first) unless ``replace`` is given: what a store holds is already
    disclosure-controlled and summed, so it cannot be merged with new files exactly.
    """
    started = time.perf_counter()
    problems: list[Problem] = []
    found: list[detect.Detected] = []
    for path in map(Path, paths):
        try:
            found.append(detect.detect(path))
            if repair_excel:
                found[-1] = repair.excel_damage(found[-1])
        except IngestError as error:
            problems += error.problems
        except OSError as error:
            problems.append(Problem(str(path), None, None, None, f"cannot read: {error}"))
    if problems:
        raise IngestError(problems)  # a file we cannot even read is refused even when lenient
    report = Report()
    inputs = _read(found, report)
    for _d, parsed in inputs.parsed:
        problems += parsed.problems
    rows, more = _rows(inputs)
    problems += more
    if problems and not lenient:
        raise IngestError(problems)
    report.skipped = problems
    if not rows:
        raise IngestError([Problem(", ".join(str(d.path) for d in found), None, None, None,
                                   "no figures to publish (an etr.csv alone holds no counts)")])
    if not replace:
        _refuse_existing(root)
    if not inputs.editions and any(r["org_level"] in ("trust", "icb") for r in rows):
        report.warnings.append(_unchecked_codes(rows))
    counts = pl.DataFrame(rows, schema_overrides={"numerator": pl.Int64,
                                                   "denominator": pl.Int64,
                                                   "published_value": pl.Float64},
                          infer_schema_length=None)
    mergers = geography.read_successors()
    rolled, rollups = geography.roll_up(counts, inputs.editions, mergers)
    counts = pl.concat([counts, rolled.select(counts.columns)], how="vertical_relaxed")
    organisations, extra = _organisations(counts, inputs, mergers)
    # Where a file publishes trusts only, England as their sum (labelled, and kept only
    # where it gives no withheld count away in the store as published).
    england, summed = geography.england_sums(counts, organisations, inputs.england_sums)
    counts = pl.concat([counts, england.select(counts.columns)], how="vertical_relaxed")
    rollups += summed
    for d, parsed in inputs.parsed:
        report.files.append(_file_entry(d, parsed))
    manifest = _manifest(counts, organisations, report, inputs, rollups, extra)
    report.build = store.write_store(counts, organisations, manifest, root)
    report.seconds = time.perf_counter() - started
    return report


def _refuse_existing(root: Path | None) -> None:
    """An :class:`IngestError` when ``root`` already holds a published store."""
    root = Path(root or settings.data_dir())
    if not store.exists(root):
        return
    build = store.current_build(root)
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("synthetic"):
        held = "the synthetic demo store"
    else:
        names = [i.get("name", "?") for i in manifest.get("inputs", [])]
        held = (f"a store built from {len(names)} file(s): {', '.join(names[:6])}"
                + (", ..." if len(names) > 6 else "")) if names else "a store"
    raise IngestError([Problem(str(root), None, None, build.name, (
        f"this folder already holds {held}. Ingest publishes a new store made only of the "
        "files named, so what the store holds would be dropped: name every file it should "
        "hold and give --replace, or ingest --into another folder"))])


def _unchecked_codes(rows: list[dict]) -> str:
    """The warning for an ingest with no ODS etr.csv: how many codes were taken on trust."""
    trusts = {r["org_code"] for r in rows if r["org_level"] == "trust"}
    icbs = {r["org_code"] for r in rows if r["org_level"] == "icb"}
    return (f"organisation codes not checked against ODS: no etr.csv was given, so "
            f"{len(trusts) + len(icbs)} organisation(s) were taken on trust ({len(trusts)} "
            f"trust code(s), {len(icbs)} Local Maternity System code(s)); give an ODS "
            "etr.csv to check them")


def _read(found: list[detect.Detected], report: Report) -> _Inputs:
    """Parse every file, organisation lists first (the others are checked against them)."""
    inputs = _Inputs()
    trusts: dict[str, ods.Trust] = {}
    for d in (d for d in found if d.format == detect.ODS_ETR):
        parsed, edition_trusts = ods.parse(d.rows, str(d.path))
        as_at = ods.as_at(edition_trusts)
        if as_at is not None:
            inputs.editions.append(geography.Edition(d.path.name, as_at, edition_trusts))
            icbs = {t.icb_code for t in edition_trusts.values() if t.icb_code}
            parsed.notes.append(f"edition as at {as_at:%-d %B %Y} or later (its newest open "
                                f"or close date); {len(icbs)} ICB codes")
        inputs.parsed.append((d, parsed))
    inputs.editions.sort(key=lambda e: e.as_at)
    for edition in inputs.editions:  # the newest edition wins for names and close dates
        trusts.update(edition.trusts)
    known = set(trusts) if trusts else None
    # ICB codes of every edition given: a monthly file's LMS codes are those of its month,
    # which a newer edition (after ICBs merged) may no longer list.
    icbs = {t.icb_code for e in inputs.editions for t in e.trusts.values() if t.icb_code} \
        if inputs.editions else None
    etr_names = {c: t.name for c, t in trusts.items()}
    for d in found:
        if d.format in (detect.MSDS_ANNUAL, detect.MSDS_ANNUAL_2019):
            result = msds_annual.parse(d.rows, str(d.path), known,
                                       old_schema=d.format == detect.MSDS_ANNUAL_2019)
            if result.period:
                inputs.births[result.period] = result.deliveries
            for code, name in result.names.items():  # later (newer) files' names win
                inputs.names[("trust", code)] = name
            inputs.parsed.append((d, result.parsed))
        elif d.format in (detect.MSMS_DATA, detect.MSMS_MEASURES):
            parse = msms.parse_data if d.format == detect.MSMS_DATA else msms.parse_measures
            result = parse(d.rows, str(d.path), known, icbs)
            inputs.names.update({k: v for k, v in result.names.items() if k[0] == "icb"})
            inputs.parsed.append((d, result.parsed))
        elif d.format in (detect.MBRRACE_TRUST, detect.MBRRACE_GROUPS):
            if not trusts:
                raise IngestError([Problem(str(d.path), None, None, None, "MBRRACE-UK files "
                                           "name trusts but carry no ODS code: give an "
                                           "etr.csv too")])
            if d.format == detect.MBRRACE_GROUPS:
                parsed, inputs.groups = mbrrace.parse_groups(d.rows, str(d.path), etr_names)
            else:
                trust_file = mbrrace.parse(d.rows, str(d.path), etr_names)
                parsed = trust_file.parsed
                inputs.mbrrace_names.update(trust_file.matched)
                inputs.england_sums += trust_file.england
                report.unmatched += [f"{d.path.name}: {n}" for n in trust_file.unmatched]
                for code, (year, group) in trust_file.groups.items():
                    if inputs.file_groups.get(code, (0, ""))[0] < year:
                        inputs.file_groups[code] = (year, group)
            inputs.parsed.append((d, parsed))
    for d, parsed in inputs.parsed:
        parsed.notes[:0] = list(d.notes)
    return inputs


_CELL = ("metric", "org_code", "org_level", "period_kind", "period_label", "dimension", "group")


def _rows(inputs: _Inputs) -> tuple[list[dict], list[Problem]]:
    """All files' counts rows; a cell given by two files, or a numerator above its
    denominator, is a problem naming the file (and the line, where a row comes from one)."""
    rows: list[dict] = []
    problems: list[Problem] = []
    owner: dict[tuple, tuple[str, int | None, dict]] = {}
    for d, parsed in inputs.parsed:
        for given in parsed.rows:
            line = given.get("_line")
            row = {k: v for k, v in given.items() if k != "_line"}
            key = tuple(row[c] for c in _CELL)
            if key in owner:
                problems.append(Problem(str(d.path), line, "metric", row["metric"],
                                        _twice(row, *owner[key])))
                continue
            owner[key] = (d.path.name, line, row)
            if (row["numerator"] is not None and row["denominator"] is not None
                    and row["numerator"] > row["denominator"]):
                problems.append(Problem(str(d.path), line, "numerator", str(row["numerator"]),
                                        f"{row['metric']} {row['org_code']} "
                                        f"{row['period_label']}: numerator larger than "
                                        f"denominator {row['denominator']}"))
                continue
            rows.append(row)
    return rows, problems


def _twice(row: dict, file: str, line: int | None, first: dict) -> str:
    where = file + (f" line {line}" if line is not None else "")
    message = (f"{row['org_code']} {row['period_label']}: the same figure also comes from "
               f"{where}")
    if row["source"] == MBRRACE and \
            (row["numerator"], row["denominator"]) != (first["numerator"], first["denominator"]):
        # Same trust and year, other counts: MBRRACE-UK's two editions of one year's table.
        message += (f", with other counts ({_fraction(first)} there, {_fraction(row)} here). "
                    "If one is MBRRACE-UK's 'excluding congenital anomalies' edition (lower "
                    "counts), leave it out: the store's figures include congenital anomalies")
    return message


def _fraction(row: dict) -> str:
    def text(n: int | None) -> str:
        return "withheld" if n is None else f"{n:,}"
    return f"{text(row['numerator'])}/{text(row['denominator'])}"


def _organisations(counts: pl.DataFrame, inputs: _Inputs,
                   mergers: dict[str, geography.Merger]) -> tuple[pl.DataFrame, dict]:
    trusts: dict[str, ods.Trust] = {}
    for edition in inputs.editions:
        trusts.update(edition.trusts)
    newest = counts["period_end"].max()
    icb_of: dict[str, str | None] = {}
    if inputs.editions:
        edition = geography.edition_for(inputs.editions, newest)
        for code in set(counts.filter(pl.col("org_level") == "trust")["org_code"].to_list()):
            successor = mergers[code].successor if code in mergers else None
            icb_of[code] = edition.parent(code, "icb", successor)
    births = inputs.births[max(inputs.births)] if inputs.births else {}
    groups, peer_note = _peer_groups(counts, inputs, mergers, births)
    names = dict(inputs.names)
    names.update({("trust", c): n for c, n in inputs.mbrrace_names.items()})
    # Trust names: MBRRACE-UK's (mixed case), else etr's, else the MSDS file's; capitals
    # tidied.
    for (level, code), name in list(names.items()):
        if level == "trust" and code not in inputs.mbrrace_names:
            trust = trusts.get(code)
            name = trust.name if trust else name
            names[(level, code)] = ods.nice_name(name) if name.isupper() else name
    rows = geography.organisation_rows(counts, trusts=trusts, icb_of=icb_of, names=names,
                                       mergers=mergers, peer_groups=groups, births=births)
    schema = {"successor_code": pl.String, "opened": pl.Date, "closed": pl.Date,
              "annual_births": pl.Int64, "peer_group": pl.String, "icb": pl.String,
              "icb_code": pl.String, "region": pl.String, "region_code": pl.String}
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    # A store of national figures alone has no trust to give these columns a value.
    frame = frame.with_columns(*(pl.lit(None, kind).alias(c) for c, kind in schema.items()
                                 if c not in frame.columns), synthetic=pl.lit(False))
    extra = dict(peer_groups=peer_note,
                 successor_checks=geography.check_successors(mergers, trusts))
    return frame, extra


def _peer_groups(counts: pl.DataFrame, inputs: _Inputs, mergers: dict[str, geography.Merger],
                 births: dict[str, int]) -> tuple[dict[str, str | None], dict]:
    """Trust -> peer group: MBRRACE-UK's comparator groups when a trust file or the 2018 list
    gives them, else bands of annual deliveries.

    A trust's group comes from the newest MBRRACE-UK trust file that names it (the
    publisher's own placing for the years it reports), else from the 2018 list. A trust that
    took another over after the year of its source is left out: the merger changed what it
    is.
    """
    codes = sorted(set(counts.filter(pl.col("org_level") == "trust")["org_code"].to_list()))
    if inputs.groups is None and not inputs.file_groups:
        out = {c: peer_group(births[c]) if births.get(c) else None for c in codes}
        return out, dict(source="bands of annual deliveries (latest annual MSDS file); "
                         "MBRRACE-UK comparator groups not given",
                         assigned=sum(v is not None for v in out.values()))

    def grown_after(code: str, day: date) -> bool:
        return any(m.successor == code and m.start > day for m in mergers.values())

    listed = inputs.groups or {}
    out: dict[str, str | None] = {}
    changed, absent, differ = [], [], []
    taken: dict[str, int] = defaultdict(int)
    for code in codes:
        year, group = inputs.file_groups.get(code, (None, None))
        source = f"{year} trust file" if group else None
        if group is None and code in listed:
            group, source = listed[code], f"{mbrrace.GROUPS_YEAR} list"
        if group is None:
            absent.append(code)
            out[code] = None
            continue
        since = date(year, 12, 31) if year else PEER_GROUPS_SINCE - timedelta(days=1)
        if grown_after(code, since):
            changed.append(f"{code} ({source})")
            out[code] = None
            continue
        if year and listed.get(code) not in (None, group):
            differ.append(f"{code}: {mbrrace.GROUPS_YEAR} list group {listed[code]}, "
                          f"{year} trust file group {group}")
        taken[source] += 1
        out[code] = mbrrace.group_label(group)
    sources = []
    if inputs.file_groups:
        sources.append("MBRRACE-UK trust files (ComparatorGroupID; newest year per trust)")
    if inputs.groups is not None:
        sources.append(f"the MBRRACE-UK comparator groups as listed in {mbrrace.GROUPS_YEAR} "
                       "(not updated since)" + (", for trusts the trust files do not name"
                                                if inputs.file_groups else ""))
    return out, dict(
        source="MBRRACE-UK comparator groups (level of neonatal care and births a year) "
        f"from {' and '.join(sources)}",
        assigned=sum(v is not None for v in out.values()), assigned_from=dict(taken),
        left_out_merged_since=changed, no_group=absent, file_differs_from_list=differ)


def _maps_to(rows: list[dict]) -> str:
    if not rows:
        return "maps to nothing"
    metrics = sorted({r["metric"] for r in rows})
    periods = sorted({(r["period_end"], r["period_label"]) for r in rows})
    levels = [LEVEL_LABELS[lv] for lv in LEVEL_LABELS if lv in {r["org_level"] for r in rows}]
    return (f"maps to {', '.join(metrics)}; periods {', '.join(p for _e, p in periods)}; "
            f"levels {', '.join(levels)}")


def _file_entry(d: detect.Detected, parsed: Parsed) -> dict:
    maps = _maps_to(parsed.rows) if parsed.rows else (
        "organisation lookup (not figures)" if parsed.format == detect.ODS_ETR else
        "peer groups (not figures)" if parsed.format == detect.MBRRACE_GROUPS else
        "maps to nothing")
    return dict(file=str(d.path), name=d.path.name, format=parsed.format,
                container=d.container, sha256=d.sha256, rows_read=parsed.rows_read,
                rows_mapped=parsed.rows_mapped, rows_skipped=len(parsed.bad_lines),
                notes=[maps, *parsed.notes])


def _manifest(counts: pl.DataFrame, organisations: pl.DataFrame, report: Report,
              inputs: _Inputs, rollups: list[dict], extra: dict) -> dict:
    available: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for (metric, level), part in counts.group_by("metric", "org_level"):
        available[metric][level] = sorted(part["dimension"].unique().to_list())
    names = dict(zip(organisations["org_code"], organisations["name"], strict=True))
    notes = {m.predecessor: m.note for m in geography.read_successors().values()}
    mergers = [dict(code=r["org_code"], name=r["name"], closed=r["closed"],
                    successor_code=r["successor_code"],
                    successor=names.get(r["successor_code"], r["successor_code"]),
                    note=notes.get(r["org_code"]) if r["successor_code"] else None)
               for r in organisations.filter(pl.col("successor_code").is_not_null()
                                             | pl.col("closed").is_not_null()).iter_rows(
                   named=True)]
    used = {f for entry in rollups for f in entry["lookup"]}
    return {
        "title": TITLE,
        "synthetic": False,
        "source": "Published files ingested by `equalities ingest`: NHS Maternity Statistics "
        "annual MSDS files and Maternity Services Monthly Statistics (NHS England, Open "
        "Government Licence v3.0), MBRRACE-UK perinatal mortality by trust, ODS etr.csv. "
        "Outcomes are for the total only: these files hold no breakdown of outcomes by "
        "ethnicity or deprivation. ICB / LMNS and region figures that no file publishes are "
        "summed from trusts (suppressed where any member trust's figure was withheld). "
        "MBRRACE-UK publishes trusts only: England's stillbirth and neonatal death figures "
        "are the sum of the trusts whose counts it publishes, births and deaths alike, "
        "leaving out those it withheld (see each sum's note under rollups). "
        "Postpartum haemorrhage (CQIMPPH) covers the three months before the monthly "
        "file's reporting month.",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": {"start": min(counts["period_start"]).isoformat(),
                   "end": max(counts["period_end"]).isoformat()},
        "inputs": [{k: f[k] for k in ("name", "format", "container", "sha256", "rows_read",
                                      "rows_mapped", "rows_skipped", "notes")}
                   | {"file": f["name"], "note": f["notes"][0]} for f in report.files],
        "available_dimensions": dict(sorted(available.items())),
        "unmatched": report.unmatched,
        "warnings": report.warnings,
        "ods_editions": [dict(file=e.file, as_at=e.as_at.isoformat(), trusts=len(e.trusts),
                              used_for_rollups=e.file in used) for e in inputs.editions],
        "rollups": rollups,
        "mergers": mergers,
        "peer_groups": extra["peer_groups"],
        "notes": extra["successor_checks"],
    }


def default_realdata_dir() -> Path:
    """``EQUALITIES_REALDATA_DIR`` if set, else ``../shared/realdata`` beside the project."""
    configured = os.environ.get("EQUALITIES_REALDATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


def vendored_files(folder: Path = VENDORED) -> list[Path]:
    """The project's copies of the NHS England files build-real uses."""
    return sorted(p for pattern in VENDORED_PATTERNS for p in folder.glob(pattern))


def choose_real_files(folder: Path | None = None) -> list[Path]:
    """The vendored NHS England files, plus from ``folder`` (default
    :func:`default_realdata_dir`) the files whose licence keeps them out of the project: every
    ODS etr.csv edition, the MBRRACE-UK trust files (not the "excluding congenital
    anomalies" ones) and the MBRRACE-UK comparator groups.

    A folder named explicitly (argument or ``EQUALITIES_REALDATA_DIR``) must exist; the
    default one is used only when present.
    """
    required = folder is not None or "EQUALITIES_REALDATA_DIR" in os.environ
    folder = folder or default_realdata_dir()
    chosen = vendored_files()
    if folder.is_dir():
        chosen += sorted(folder.glob("*etr*.csv"))
        chosen += sorted(p for p in folder.glob("perinatal-mortality-rates-*-trusthealth-"
                                                "board.csv") if "excluding" not in p.name)
        chosen += sorted(folder.glob("MBRRACE_groups_*.csv"))
    elif required:
        raise IngestError([Problem(str(folder), None, None, None,
                                   "no such folder of real files (give --from DIR)")])
    if not chosen:
        raise IngestError([Problem(str(VENDORED), None, None, None,
                                   "no vendored NHS England files found")])
    return chosen
