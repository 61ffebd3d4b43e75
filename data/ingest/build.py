"""Build a real-data store from published files: ``equalities ingest`` and ``build-real``."""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from data import store
from data.ingest import detect, mbrrace, msds_annual, ods
from data.ingest.common import Parsed
from data.ingest.errors import IngestError, Problem
from data.synthetic.organisations import peer_group

TITLE = "Real published data (NHS Maternity Statistics, MBRRACE-UK, ODS)"
MSDS_YEARS = ("2020-21", "2021-22", "2022-23")


@dataclass
class Report:
    """What a build did: per-file tallies, skipped rows (lenient), unmatched names."""

    files: list[dict] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    build: Path | None = None
    seconds: float = 0.0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_from_files(paths: list[Path], root: Path | None = None, *,
                     lenient: bool = False) -> Report:
    """Detect, validate and map ``paths``, then publish one store atomically.

    Raises :class:`IngestError` (and writes nothing) when any file cannot be read, or when any
    row is bad and ``lenient`` is False. With ``lenient`` bad rows are skipped and listed in
    the report.
    """
    started = time.perf_counter()
    problems: list[Problem] = []
    found: list[detect.Detected] = []
    for path in map(Path, paths):
        try:
            found.append(detect.detect(path))
        except IngestError as error:
            problems += error.problems
        except OSError as error:
            problems.append(Problem(str(path), None, None, None, f"cannot read: {error}"))
    if problems:
        raise IngestError(problems)  # a file we cannot even read is refused even when lenient
    unsupported = [d for d in found if d.format == detect.MSDS_ANNUAL_2019]
    if unsupported:
        raise IngestError([Problem(str(d.path), 1, None, None, f"{d.format}: recognised but "
                                   "not supported yet") for d in unsupported])
    report = Report()
    trusts: dict[str, ods.Trust] = {}
    parsed_by_file: list[tuple[detect.Detected, Parsed]] = []
    for d in (d for d in found if d.format == detect.ODS_ETR):
        parsed, more = ods.parse(d.text, str(d.path))
        trusts.update(more)
        parsed_by_file.append((d, parsed))
    known = set(trusts) if trusts else None
    deliveries: dict[str, dict[str, int]] = {}
    msds_names: dict[str, str] = {}
    for d in (d for d in found if d.format == detect.MSDS_ANNUAL):
        result = msds_annual.parse(d.text, str(d.path), known)
        if result.period:
            deliveries[result.period] = result.deliveries
        msds_names.update(result.names)
        parsed_by_file.append((d, result.parsed))
    mbrrace_names: dict[str, str] = {}
    for d in (d for d in found if d.format == detect.MBRRACE_TRUST):
        if not trusts:
            raise IngestError([Problem(str(d.path), None, None, None, "MBRRACE-UK files name "
                                       "trusts but carry no ODS code: give an etr.csv too")])
        parsed, matched, unmatched = mbrrace.parse(d.text, str(d.path),
                                                   {c: t.name for c, t in trusts.items()})
        mbrrace_names.update(matched)
        report.unmatched += [f"{d.path.name}: {n}" for n in unmatched]
        parsed_by_file.append((d, parsed))
    for d, parsed in parsed_by_file:
        report.files.append(dict(file=str(d.path), name=d.path.name, format=d.format,
                                 sha256=_sha256(d.path), rows_read=parsed.rows_read,
                                 rows_mapped=parsed.rows_mapped,
                                 rows_skipped=len(parsed.bad_lines), notes=parsed.notes))
        problems += parsed.problems
    if problems and not lenient:
        raise IngestError(problems)
    report.skipped = problems
    rows = [r for _d, parsed in parsed_by_file for r in parsed.rows]
    if not rows:
        raise IngestError([Problem(", ".join(str(d.path) for d in found), None, None, None,
                                   "no figures to publish (an etr.csv alone holds no counts)")])
    counts = pl.DataFrame(rows, schema_overrides={"numerator": pl.Int64,
                                                   "denominator": pl.Int64,
                                                   "published_value": pl.Float64})
    bad = counts.filter(pl.col("numerator") > pl.col("denominator"))
    if bad.height:
        raise IngestError([Problem("(mapped figures)", None, "numerator", str(r["numerator"]),
                                   f"{r['metric']} {r['org_code']} {r['period_label']}: "
                                   f"numerator larger than denominator {r['denominator']}")
                           for r in bad.to_dicts()])
    organisations = organisations_frame(counts, trusts, msds_names, mbrrace_names, deliveries)
    manifest = _manifest(counts, report)
    report.build = store.write_store(counts, organisations, manifest, root)
    report.seconds = time.perf_counter() - started
    return report


def organisations_frame(counts: pl.DataFrame, trusts: dict[str, ods.Trust],
                        msds_names: dict[str, str], mbrrace_names: dict[str, str],
                        deliveries: dict[str, dict[str, int]]) -> pl.DataFrame:
    """England, the regions and every trust that has figures in ``counts``."""
    latest = deliveries[max(deliveries)] if deliveries else {}
    rows = [dict(org_code="ENG", name="England", org_level="england")]
    rows += [dict(org_code=c, name=n, org_level="region", region_code=c, region=n)
             for c, n in ods.REGIONS.items()]
    for code in sorted(set(counts.filter(pl.col("org_level") == "trust")["org_code"])):
        trust = trusts.get(code)
        births = latest.get(code)
        name = (mbrrace_names.get(code) or (ods.nice_name(trust.name) if trust else None)
                or ods.nice_name(msds_names.get(code, code)))
        region = trust.region_code if trust else None
        rows.append(dict(
            org_code=code, name=name, org_level="trust", region_code=region,
            region=ods.REGIONS.get(region), icb_code=trust.icb_code if trust else None,
            # ICB names are not in etr.csv: the code stands in for the name.
            icb=trust.icb_code if trust else None,
            peer_group=peer_group(births) if births else None,
            opened=trust.opened if trust else None, closed=trust.closed if trust else None,
            annual_births=births,
        ))
    schema = {"successor_code": pl.String, "opened": pl.Date, "closed": pl.Date,
              "annual_births": pl.Int64, "peer_group": pl.String, "icb": pl.String,
              "icb_code": pl.String, "region": pl.String, "region_code": pl.String}
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    return frame.with_columns(pl.lit(None, pl.String).alias("successor_code"),
                              synthetic=pl.lit(False))


def _manifest(counts: pl.DataFrame, report: Report) -> dict:
    available: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for (metric, level), part in counts.group_by("metric", "org_level"):
        available[metric][level] = sorted(part["dimension"].unique().to_list())
    return {
        "title": TITLE,
        "synthetic": False,
        "source": "Published files ingested by `equalities ingest`: NHS Maternity Statistics "
        "annual MSDS CSV (NHS England, Open Government Licence v3.0), MBRRACE-UK perinatal "
        "mortality by trust, ODS etr.csv. Outcomes are for the total only: these files hold "
        "no breakdown of outcomes by ethnicity or deprivation.",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": {"start": min(counts["period_start"]).isoformat(),
                   "end": max(counts["period_end"]).isoformat()},
        "inputs": [{k: f[k] for k in ("name", "format", "sha256", "rows_read", "rows_mapped",
                                      "rows_skipped", "notes")} | {"file": f["name"]}
                   for f in report.files],
        "available_dimensions": dict(sorted(available.items())),
        "unmatched": report.unmatched,
    }


def default_realdata_dir() -> Path:
    """``EQUALITIES_REALDATA_DIR`` if set, else ``../shared/realdata`` beside the project."""
    configured = os.environ.get("EQUALITIES_REALDATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


def choose_real_files(folder: Path) -> list[Path]:
    """The best subset of a real-data folder: the newest etr, the 2020-21..2022-23 annual
    MSDS CSVs and the MBRRACE-UK trust files (not the "excluding congenital anomalies" ones)."""
    if not folder.is_dir():
        raise IngestError([Problem(str(folder), None, None, None,
                                   "no such folder of real files (give --from DIR)")])
    etr = sorted(folder.glob("*etr*.csv"))
    msds = [folder / f"hosp-epis-stat-mat-msdscsv-{y}.csv" for y in MSDS_YEARS]
    mbr = sorted(p for p in folder.glob("perinatal-mortality-rates-*-trusthealth-board.csv")
                 if "excluding" not in p.name)
    chosen = etr[-1:] + [p for p in msds if p.exists()] + mbr
    if not etr or len(chosen) < 2:
        raise IngestError([Problem(str(folder), None, None, None, "no etr.csv and annual MSDS "
                                   "or MBRRACE-UK files found here")])
    return chosen


