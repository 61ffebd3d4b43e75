"""The ``equalities`` command: build, inspect, compute and serve."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from commands import COMMANDS
from data import settings, store

EXIT_USAGE = 2
MAX_PASSWORD_CHARS = 1024  # read from standard input by hash-password


class UsageError(Exception):
    """A bad argument: reported in one line, exit code 2."""


def _emit(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    if not rows:
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _safe_text(v) if isinstance(v, str) else v for k, v in r.items()}
                         for r in rows)
        return
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    print("  ".join(k.ljust(w) for k, w in widths.items()))
    for row in rows:
        print("  ".join(str(row[k]).ljust(w) for k, w in widths.items()))


def cmd_build_demo(args: argparse.Namespace) -> int:
    from data.synthetic.build import build_demo

    build_demo(seed=args.seed, root=args.data_dir)
    from returns import db, demo, publish

    # The demo network's returns, beside the demo store, and its approved figures published.
    if demo.seed_store(args.data_dir) is not None:
        data_dir = Path(args.data_dir) if args.data_dir else None
        publish.publish(db.engine(db.database_url(data_dir)), data_dir)
    warm_store(args.data_dir)
    return 0


def cmd_warm(args: argparse.Namespace) -> int:
    warm_store(args.data_dir)
    return 0


def warm_store(data_dir: str | Path | None) -> None:
    """Save the first views' results with the published build (``web.warm``)."""
    from app import get_app
    from web import warm

    try:
        with settings.data_dir_set_to(data_dir):
            build, saved = warm.prime(get_app())
    except (OSError, store.StoreError) as error:  # published: only a fast first page lost
        print(f"equalities: warning: the first views' results were not saved ({error})",
              file=sys.stderr)
        return
    print(f"saved {saved} results with build {build}")


def cmd_info(args: argparse.Namespace) -> int:
    s = store.load_store(args.data_dir)
    counts = s.counts
    info = {
        "store": str(s.path),
        "title": s.manifest.get("title"),
        "synthetic": s.synthetic,
        "built_at": s.manifest.get("built_at"),
        "period": s.manifest.get("period"),
        "rows": s.manifest.get("rows"),
        "metrics": counts["metric"].n_unique(),
        "organisations": s.organisations.group_by("org_level").len().sort("org_level").rows(),
        "sources": sorted(counts["source"].unique().cast(str).to_list()),
    }
    if args.format == "json":
        _emit([info], "json")
    elif args.format == "csv":
        _emit([{k: _flat(v) for k, v in info.items()}], "csv")
    else:
        for key, value in info.items():
            print(f"{key:14} {value}")
    return 0


def _flat(value) -> object:
    """One CSV cell for a list or table value (``england=1; region=7``)."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join("=".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
                         for v in value)
    return value


def cmd_list_metrics(args: argparse.Namespace) -> int:
    from data import queries  # noqa: F401  (hands the store's local metrics to the registry)
    from metrics import registry

    rows = [
        {"id": m.id, "title": m.title, "source": m.source, "unit": m.unit,
         "polarity": m.polarity, "periods": " ".join(m.period_kinds),
         "levels": " ".join(m.levels)}
        for m in registry.all_metrics()
    ]
    _emit(rows, args.format)
    return 0


def cmd_list_orgs(args: argparse.Namespace) -> int:
    orgs = store.load_store(args.data_dir).organisations
    if args.level:
        orgs = orgs.filter(orgs["org_level"] == args.level)
    columns = ["org_code", "name", "org_level", "region", "icb", "peer_group"]
    _emit(orgs.select(columns).to_dicts(), args.format)
    return 0


def cmd_list_periods(args: argparse.Namespace) -> int:
    from metrics import registry

    try:
        registry.get(args.metric)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    counts = store.load_store(args.data_dir).counts
    periods = (
        counts.filter(counts["metric"] == args.metric)
        .select("period_kind", "period_label", "period_start", "period_end")
        .unique()
        .sort("period_kind", "period_start", "period_end")
    )
    _emit(periods.with_columns(periods[c].cast(str) for c in periods.columns).to_dicts(),
          args.format)
    return 0


# -- compute ---------------------------------------------------------------------------------

MEASURES = ("breakdown", "inequality", "trend", "benchmark", "gap-trend")
SERIES_MEASURES = ("trend", "gap-trend")  # the whole series: no --period
OVERDISPERSION = ("phi", "tau2")
ALL_DIMENSIONS = "all"
# Friendly names accepted for --dimension.
DIMENSION_ALIASES = {"deprivation": "deprivation_decile"}
# The columns every breakdown output starts with, in this order (analysts' scripts rely on
# them); more columns follow.
BREAKDOWN_OUTPUT = (
    "metric", "org_code", "period", "dimension", "group", "numerator", "denominator",
    "suppressed", "value", "lower95", "upper95", "lower998", "upper998", "ratio",
    "ratio_lower95", "ratio_upper95", "difference", "difference_lower95",
    "difference_upper95", "vs_england",
)
BREAKDOWN_EXTRA = ("unit", "status", "is_reference", "gap_significant", "england_value",
                   "vs_england_998")
INEQUALITY_OUTPUT = ("metric", "org_code", "period", "dimension", "available", "sii",
                     "sii_lower95", "sii_upper95", "rii", "rii_lower95", "rii_upper95",
                     "unit", "quantiles", "reason")
TREND_OUTPUT = ("metric", "org_code", "dimension", "period_kind", "group", "period",
                "period_start", "period_end", "numerator", "denominator", "suppressed",
                "status", "value", "lower95", "upper95", "mean", "lpl", "upl",
                "special_cause_rule", "point_type", "variation", "unit")
BENCHMARK_OUTPUT = ("metric", "period", "dimension", "group", "org_code", "name", "region",
                    "icb", "peer_group", "numerator", "denominator", "suppressed", "status",
                    "value", "lower95", "upper95", "lower998", "upper998", "england_value",
                    "funnel", "rank_in_peer_group", "peers_ranked", "rank_overall", "ranked",
                    "highlight", "unit")
# Added to the benchmark's columns with --overdispersion.
OVERDISPERSION_OUTPUT = ("overdispersion", "phi", "tau2", "funnel_adjusted")
GAP_TREND_OUTPUT = ("metric", "org_code", "dimension", "period_kind", "group", "period",
                    "period_start", "years", "ratio", "ratio_lower95", "ratio_upper95",
                    "difference", "difference_lower95", "difference_upper95", "unit",
                    "trend_periods", "trend_slope", "trend_slope_lower95",
                    "trend_slope_upper95", "trend_ratio_change_per_year", "trend_p_value",
                    "trend_dispersion", "trend_verdict", "trend_direction")


@dataclass(frozen=True)
class Selection:
    """A checked ``compute`` request."""

    metric: object  # metrics.registry.Metric
    org_code: str | None
    level: str
    period: str | None
    dimensions: tuple[str, ...]
    period_kind: str
    overdispersion: str | None = None


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Only warnings on stderr while computing, so a usage error is the one line there."""
    root = logging.getLogger()
    before = root.level
    root.setLevel(max(before, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(before)


def _safe_text(text: str) -> str:
    """Neutralise spreadsheet formula injection as every CSV the app serves does: a leading
    ``'`` makes the cell plain text (imported here: the pages' kit loads Dash)."""
    from components.pagekit import neutralise

    return neutralise(text)


def _plain(value: object) -> object:
    """A JSON-ready value: NaN and infinities become null, dates ISO strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _safe_text(value)
    return str(value)


def _write_records(records: list[dict], columns: Sequence[str], fmt: str) -> None:
    """Records as a JSON array or as CSV with exactly ``columns`` (header even when empty)."""
    records = [{c: _plain(r.get(c)) for c in columns} for r in records]
    if fmt == "json":
        json.dump(records, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
        sys.stdout.write("\n")
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(r[c]) for c in columns] for r in records)


def _blank_suppressed(frame):
    """Null every numeric cell of suppressed rows: a suppressed figure is never 0 or a rate."""
    import polars as pl

    numeric = [c for c, dtype in frame.schema.items() if dtype.is_numeric()]
    flag = pl.col("suppressed").fill_null(False)
    return frame.with_columns(
        pl.when(flag).then(None).otherwise(pl.col(c)).alias(c) for c in numeric
    )


def _choices(values: Sequence[str]) -> str:
    return ", ".join(values)


def _resolve(args: argparse.Namespace) -> Selection:
    """Check every argument against the registry and the store; :class:`UsageError` if bad."""
    from data import queries
    from metrics import registry

    try:
        metric = registry.get(args.metric)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    orgs = queries.organisations()
    codes = set(orgs["org_code"].to_list())
    org = args.org.strip() if args.org else None
    if org is not None and org not in codes and org.upper() in codes:
        org = org.upper()
    if org is None and args.measure != "benchmark":
        raise UsageError(f"--org is required for the {args.measure} measure; list the codes "
                         "with `equalities list-orgs`")
    if org is not None and org not in codes:
        raise UsageError(f"unknown organisation {args.org!r}; list the valid codes with "
                         "`equalities list-orgs` (add --level trust for trusts only)")
    level = "trust" if args.measure == "benchmark" else queries.org_level(org)
    if level not in metric.levels:
        where = ("trusts (benchmark compares trusts)" if args.measure == "benchmark"
                 else f"{level} organisations such as {org}")
        raise UsageError(f"{metric.id} is not published for {where}; it is published at "
                         f"level: {_choices(metric.levels)}")
    available = metric.dimensions_at(level)
    wanted = DIMENSION_ALIASES.get(args.dimension, args.dimension)
    if wanted == ALL_DIMENSIONS:
        dimensions = available
    elif wanted in available:
        dimensions = (wanted,)
    else:
        alias = " (deprivation = deprivation_decile)" if "deprivation_decile" in available else ""
        raise UsageError(f"dimension {args.dimension!r} is not available for {metric.id} at "
                         f"{level} level; choose one of: "
                         f"{_choices((*available, ALL_DIMENSIONS))}{alias}")
    labels = {kind: queries.periods(metric.id, kind) for kind in metric.period_kinds}
    if args.period is None and args.measure not in SERIES_MEASURES:
        latest = labels[metric.default_period_kind][-1:]
        raise UsageError(f"--period is required for the {args.measure} measure"
                         + (f", e.g. --period {latest[0]!r}" if latest else "")
                         + f"; list the labels with `equalities list-periods --metric {metric.id}`")
    if args.period is not None and not any(args.period in v for v in labels.values()):
        listing = "; ".join(f"{kind}: {_choices(v)}" for kind, v in labels.items() if v)
        raise UsageError(f"unknown period {args.period!r} for {metric.id}; choose one of "
                         f"({listing or 'none in this store'})")
    kind = args.period_kind or (
        "quarter" if "quarter" in metric.period_kinds else metric.default_period_kind
    )
    if kind not in metric.period_kinds:
        raise UsageError(f"period kind {kind!r} is not published for {metric.id}; choose one "
                         f"of: {_choices(metric.period_kinds)}")
    if args.measure == "gap-trend":
        dimensions = _gap_dimensions(metric, level, dimensions, kind)
    if args.overdispersion and args.measure != "benchmark":
        raise UsageError("--overdispersion widens the benchmark's funnel; use it with "
                         "--measure benchmark")
    return Selection(metric, org, level, args.period, dimensions, kind,
                     overdispersion=args.overdispersion)


def _gap_dimensions(metric, level: str, dimensions: tuple[str, ...], kind: str
                    ) -> tuple[str, ...]:
    """The dimensions a gap trend can use (those with a reference group), on periods that
    do not overlap; :class:`UsageError` if none."""
    from metrics.categories import DIMENSIONS
    from metrics.trend import spc_valid

    if not spc_valid(kind):
        independent = [k for k in metric.period_kinds if spc_valid(k)]
        raise UsageError(f"a gap trend needs periods that do not overlap, not {kind}; choose "
                         f"--period-kind {' or '.join(independent) or '(none published)'}")
    with_reference = tuple(d for d in dimensions if DIMENSIONS[d].reference)
    if not with_reference:
        possible = [d for d in metric.dimensions_at(level) if DIMENSIONS[d].reference]
        raise UsageError(f"a gap trend compares groups with a reference group; for "
                         f"{metric.id} at {level} level choose --dimension "
                         f"{_choices(possible) if possible else '(none published)'}")
    return with_reference


def _breakdown_records(sel: Selection) -> list[dict]:
    import polars as pl

    from data import queries

    records = []
    for dimension in sel.dimensions:
        frame = queries.breakdown(sel.metric.id, sel.org_code, sel.period, dimension,
                                  comparator="england")
        frame = frame.rename({"comparator_value": "england_value",
                              "vs_comparator": "vs_england",
                              "vs_comparator_998": "vs_england_998"})
        frame = _blank_suppressed(frame.drop("events", "group_order")).with_columns(
            unit=pl.lit(sel.metric.unit)
        )
        records += frame.to_dicts()
    return records


def _inequality_records(sel: Selection) -> list[dict]:
    from data import queries
    from metrics.categories import DIMENSIONS

    ordered = tuple(d for d in sel.dimensions if DIMENSIONS[d].ordered)
    if not ordered:
        possible = [d for d in sel.metric.dimensions_at(sel.level) if DIMENSIONS[d].ordered]
        if not possible:
            raise UsageError(f"SII and RII need a deprivation breakdown, and {sel.metric.id} "
                             f"has none at {sel.level} level")
        raise UsageError(f"SII and RII need a deprivation dimension; for {sel.metric.id} at "
                         f"{sel.level} level choose one of: {_choices(possible)}")
    records = []
    for dimension in ordered:
        result = queries.inequality(sel.metric.id, sel.org_code, sel.period, dimension)
        record = {"metric": sel.metric.id, "org_code": sel.org_code, "period": sel.period,
                  "dimension": dimension, "available": bool(result.get("available")),
                  "unit": sel.metric.unit, "reason": result.get("reason"),
                  "quantiles": result.get("quantiles")}
        for stat in ("sii", "rii"):
            record[stat] = result.get(stat)
            record[f"{stat}_lower95"] = result.get(f"{stat}_lower")
            record[f"{stat}_upper95"] = result.get(f"{stat}_upper")
        records.append(record)
    return records


def _trend_records(sel: Selection) -> list[dict]:
    import polars as pl

    from data import queries

    # Status as the breakdown gives it: suppressed, no data or ok.
    status = (pl.when(pl.col("suppressed")).then(pl.lit("suppressed"))
              .when(pl.col("value").is_null()).then(pl.lit("no data")).otherwise(pl.lit("ok")))
    records = []
    for dimension in sel.dimensions:
        points, summaries = queries.trend(sel.metric.id, sel.org_code, sel.period_kind,
                                          dimension)
        if points.is_empty():
            continue
        variation = {g: s.get("variation_type") for g, s in summaries.items()}
        frame = _blank_suppressed(points.drop("group_order")).with_columns(
            metric=pl.lit(sel.metric.id), org_code=pl.lit(sel.org_code),
            dimension=pl.lit(dimension), period_kind=pl.lit(sel.period_kind),
            variation=pl.col("group").replace_strict(variation, default=None,
                                                     return_dtype=pl.String),
            unit=pl.lit(sel.metric.unit), status=status,
        )
        records += frame.to_dicts()
    return records


def _benchmark_records(sel: Selection) -> list[dict]:
    import polars as pl

    from data import queries
    from metrics.categories import DIMENSIONS

    records = []
    for dimension in sel.dimensions:
        england = queries.breakdown(sel.metric.id, "ENG", sel.period, dimension, comparator="none")
        for group in DIMENSIONS[dimension].groups:
            row = england.filter(pl.col("group") == group)
            frame = queries.benchmark(sel.metric.id, sel.period, dimension, group)
            if sel.overdispersion:
                frame = _overdispersed(frame, sel, row["value"][0] if row.height else None)
            frame = _blank_suppressed(frame).with_columns(
                metric=pl.lit(sel.metric.id), period=pl.lit(sel.period),
                dimension=pl.lit(dimension), group=pl.lit(group),
                england_value=pl.lit(row["value"][0] if row.height else None, pl.Float64),
                highlight=pl.col("org_code") == (sel.org_code or ""),
                unit=pl.lit(sel.metric.unit),
            )
            records += frame.to_dicts()
    return records


def _overdispersed(frame, sel: Selection, england: float | None):
    """The benchmark with its trusts' labels against the funnel widened for
    over-dispersion, and the estimates it used (null with fewer than 2 trusts shown)."""
    import polars as pl

    from metrics.overdispersion import adjusted_benchmark, benchmark_dispersion

    fit = benchmark_dispersion(frame, metric=sel.metric, average=england)
    frame = adjusted_benchmark(frame, metric=sel.metric, method=sel.overdispersion,
                               average=england, fit=fit)
    return frame.with_columns(
        overdispersion=pl.lit(sel.overdispersion),
        phi=pl.lit(fit.phi if fit else None, pl.Float64),
        tau2=pl.lit(fit.tau2 if fit else None, pl.Float64),
    )


def _gap_trend_records(sel: Selection) -> list[dict]:
    import polars as pl

    from data import queries
    from metrics.gap_trend import gap_trend

    records = []
    for dimension in sel.dimensions:
        points, _ = queries.trend(sel.metric.id, sel.org_code, sel.period_kind, dimension)
        if points.is_empty():
            continue
        result = gap_trend(points, metric=sel.metric, dimension=dimension)
        tests = result.tests.drop("group_order").rename(
            {c: f"trend_{c}" for c in result.tests.columns if c not in ("group", "group_order")})
        frame = result.series.join(tests, on="group", how="left").with_columns(
            metric=pl.lit(sel.metric.id), org_code=pl.lit(sel.org_code),
            dimension=pl.lit(dimension), period_kind=pl.lit(sel.period_kind),
            unit=pl.lit(sel.metric.unit),
        )
        records += frame.to_dicts()
    return records


_MEASURE_OUTPUT = {
    "breakdown": (_breakdown_records, BREAKDOWN_OUTPUT + BREAKDOWN_EXTRA),
    "inequality": (_inequality_records, INEQUALITY_OUTPUT),
    "trend": (_trend_records, TREND_OUTPUT),
    "benchmark": (_benchmark_records, BENCHMARK_OUTPUT),
    "gap-trend": (_gap_trend_records, GAP_TREND_OUTPUT),
}


def cmd_compute(args: argparse.Namespace) -> int:
    """Compute one measure for the store and print it as CSV or JSON."""
    with settings.data_dir_set_to(args.data_dir), _quiet_logs():
        selection = _resolve(args)
        build, columns = _MEASURE_OUTPUT[args.measure]
        records = build(selection)
    if selection.overdispersion:
        columns += OVERDISPERSION_OUTPUT
    _write_records(records, columns, args.format)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app import get_app
    from export.commands import ExportUsageError, export_board_pack, export_view

    try:
        with settings.data_dir_set_to(args.data_dir):
            if args.what == "view":
                export_view(args.url, Path(args.out), get_app())
            else:
                export_board_pack(args.org, args.period, Path(args.out), get_app(),
                                  full=args.full)
    except ExportUsageError as error:
        raise UsageError(str(error)) from None
    return 0


# What ``serve --prod`` gives gunicorn besides workers, threads and address. Gunicorn reads a
# request's headers and body on a worker thread with no time limit, so a client sending them
# slowly holds a thread for as long as it likes; no setting here prevents that. In production
# clients reach gunicorn through nginx (docs/nginx.conf), which reads each request whole
# before passing it on. These bound the rest: a worker that stops reporting to gunicorn for
# 120 s is restarted, a restart waits 30 s for requests in hand, an idle kept-alive
# connection is closed after 2 s, and a request's line and headers are capped in size.
GUNICORN_SETTINGS = ("--worker-class", "gthread", "--timeout", "120", "--graceful-timeout", "30",
                     "--keep-alive", "2", "--limit-request-line", "4094",
                     "--limit-request-fields", "50", "--limit-request-field_size", "8190")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def gunicorn_command(gunicorn: str, args: argparse.Namespace) -> list[str]:
    """The gunicorn command line ``serve --prod`` runs."""
    return [gunicorn, *GUNICORN_SETTINGS, "--workers", str(args.workers), "--threads",
            str(args.threads), "--bind", f"{args.host}:{args.port}", "app:server"]


def cmd_serve(args: argparse.Namespace) -> int:
    import secrets

    from web.auth import AuthConfigError, load_config

    if args.prod and args.debug:
        raise UsageError("--debug is for development; it cannot be combined with --prod")
    try:
        load_config()
    except AuthConfigError as error:
        raise UsageError(str(error)) from None
    store.load_store(args.data_dir)  # a missing or damaged store is reported now, by file
    if args.data_dir:  # only now: the server (or gunicorn) reads it from the environment
        os.environ["EQUALITIES_DATA_DIR"] = str(args.data_dir)
    if args.prod:
        gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
        # One export token for all workers: the export browser may reach any of them.
        os.environ.setdefault("EQUALITIES_INTERNAL_TOKEN", secrets.token_urlsafe(32))
        if args.host not in LOOPBACK:
            print(f"equalities: warning: serving on {args.host} directly; slow clients can "
                  "hold every gunicorn thread: bind to 127.0.0.1 behind nginx "
                  "(docs/nginx.conf)", file=sys.stderr)
        # Workers are processes (the store is read-only, so they share nothing but the
        # optional Redis cache); threads overlap the waits of each request. They share the
        # store through the page cache (its Arrow files are mapped), not by gunicorn's
        # --preload: Polars' thread pool does not survive fork, and a worker forked after
        # the master ran a query would hang on its first one.
        os.execv(gunicorn, gunicorn_command(gunicorn, args))
    from app import get_app

    get_app().run(host=args.host, port=args.port, debug=args.debug)
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Print a PBKDF2 hash of a password (typed twice, or one line on standard input)."""
    import getpass

    from web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
    else:  # one line, read no further than a password can be (stdin may be /dev/zero)
        password = sys.stdin.readline(MAX_PASSWORD_CHARS + 2).rstrip("\r\n")
        if len(password) > MAX_PASSWORD_CHARS:
            raise UsageError(f"the password is longer than {MAX_PASSWORD_CHARS:,} characters")
    if not password:
        raise UsageError("an empty password cannot be used")
    hashed = hash_password(password)
    print(f"{args.user}:{hashed}" if args.user else hashed)
    return 0


def _report_ingest(report) -> None:
    for f in report.files:
        print(f"{f['name']}: {f['format']}; rows read {f['rows_read']:,}, mapped "
              f"{f['rows_mapped']:,}, skipped {f['rows_skipped']:,}")
        for note in f["notes"]:
            print(f"  note: {note}")
    for warning in report.warnings:
        print(f"equalities: warning: {warning}", file=sys.stderr)
    if report.skipped:
        print(f"skipped {len(report.skipped)} bad row(s) (--lenient):")
        for line in report.skipped[:20]:
            print(f"  {line}")
        if len(report.skipped) > 20:
            print(f"  ... and {len(report.skipped) - 20} more")
    print(f"published {report.build} in {report.seconds:.1f}s")


def _run_ingest(paths, into, lenient: bool, repair_excel: bool = False,
                replace: bool = False) -> int:
    from pathlib import Path

    from data.ingest.build import build_from_files
    from data.ingest.errors import IngestError

    try:
        report = build_from_files([Path(p) for p in paths], into, lenient=lenient,
                                  repair_excel=repair_excel, replace=replace)
    except IngestError as error:
        print(f"equalities: refused: {error.summary()}", file=sys.stderr)
        for line in error.listing():
            print(f"  {line}", file=sys.stderr)
        return EXIT_USAGE
    _report_ingest(report)
    warm_store(into)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Build a real store from published files, format detected from each file's content."""
    if args.local:
        from data.local.command import ingest_command

        if args.paths or args.lenient:
            raise UsageError("--local takes one local file on its own (no other files, no "
                             "--lenient: a local file with any problem is refused)")
        return ingest_command(args.local, args.into or args.data_dir)
    if not args.paths:
        raise UsageError("give the published files to ingest, or --local FILE for local data")
    return _run_ingest(args.paths, args.into or args.data_dir, args.lenient, args.repair_excel,
                       args.replace)


def cmd_build_real(args: argparse.Namespace) -> int:
    """Build the real store from the project's NHS England files (data/real), plus the
    ODS and MBRRACE-UK files of a folder when there is one."""
    from pathlib import Path

    from data.ingest.build import choose_real_files
    from data.ingest.errors import IngestError

    try:
        paths = choose_real_files(Path(args.source) if args.source else None)
    except IngestError as error:
        print(f"equalities: {error.listing()[0]}", file=sys.stderr)
        return EXIT_USAGE
    # The project's workbooks are NHS CSVs re-saved in Excel: undo the damage that can be
    # undone exactly (each repair is reported).
    return _run_ingest(paths, args.into or args.data_dir, args.lenient, repair_excel=True,
                       replace=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="equalities",
        description="Maternity and neonatal equalities dashboard: data and server commands.",
    )
    parser.add_argument("--data-dir", default=None,
                        help="store folder (default: $EQUALITIES_DATA_DIR or data/store)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-demo", help=COMMANDS["build-demo"])
    p.add_argument("--seed", type=int, default=20251016)
    p.set_defaults(func=cmd_build_demo)

    p = sub.add_parser("info", help=COMMANDS["info"])
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("list-metrics", help=COMMANDS["list-metrics"])
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_metrics)

    p = sub.add_parser("list-orgs", help=COMMANDS["list-orgs"])
    p.add_argument("--level", choices=["england", "region", "icb", "trust"])
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_orgs)

    p = sub.add_parser("list-periods", help=COMMANDS["list-periods"])
    p.add_argument("--metric", required=True)
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_periods)

    p = sub.add_parser(
        "compute",
        help=COMMANDS["compute"],
        description="Compute a measure from the store. Suppressed cells have empty figures "
        "and suppressed=true; values are in the metric's unit (see list-metrics).",
        epilog="example: equalities compute --metric pph_1500 --org ENG --period 2023-24 "
        "--dimension ethnicity",
    )
    p.add_argument("--metric", required=True, help="metric id (see `equalities list-metrics`)")
    p.add_argument("--org", help="organisation code (see `equalities list-orgs`); for "
                   "benchmark optional and only highlighted")
    p.add_argument("--period", help="period label (see `equalities list-periods`); not used "
                   "by trend or gap-trend, which give the whole series")
    p.add_argument("--dimension", default="total",
                   help="ethnicity, deprivation_decile (or deprivation), deprivation_quintile, "
                   "total, or all (every breakdown published at the organisation's level)")
    p.add_argument("--measure", choices=MEASURES, default="breakdown",
                   help="breakdown (default): each group with 95%%/99.8%% CIs, gap to the "
                   "reference group and comparison with England; inequality: SII and RII "
                   "across deprivation; trend: the series with SPC limits; benchmark: every "
                   "trust with funnel-plot significance and ranks; gap-trend: each group's "
                   "ratio and difference to the reference group per period (SII/RII for "
                   "deprivation) and whether the gap is narrowing or widening")
    p.add_argument("--period-kind", help="trend and gap-trend only: quarter, financial_year, "
                   "... (default quarter where published, else the metric's own kind)")
    p.add_argument("--overdispersion", choices=OVERDISPERSION,
                   help="benchmark only: also label each trust against the funnel widened for "
                   "over-dispersion, by a multiplicative factor (phi) or an additive "
                   "between-trust variance (tau2); the PHE labels stay in 'funnel'")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.set_defaults(func=cmd_compute)

    p = sub.add_parser("export", help=COMMANDS["export"])
    export_sub = p.add_subparsers(dest="what", required=True)
    q = export_sub.add_parser("view", help="any view of the app as PDF, PNG or slides")
    q.add_argument("--url", required=True, help="app URL with its query, e.g. "
                   "'http://127.0.0.1:8050/explore?org=ENG&metric=pph_1500'")
    q.add_argument("--out", required=True, help="output file ending in .pdf, .png or .pptx "
                   "(a slide per chart)")
    q.set_defaults(func=cmd_export)
    q = export_sub.add_parser("board-pack", help="a trust's board summary (PDF or slides), "
                              "or with --full every metric")
    q.add_argument("--org", required=True, help="trust code (see list-orgs --level trust)")
    q.add_argument("--period", help="period label, e.g. 2024-25 (default: the latest)")
    q.add_argument("--full", action="store_true",
                   help="the full pack: a page or more per metric (PDF only)")
    q.add_argument("--out", required=True, help="output file ending in .pdf, .pptx (slides) "
                   "or .xlsx (the summary's tables), or a folder (a PDF named after the trust "
                   "and period)")
    q.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help=COMMANDS["serve"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--debug", action="store_true", help="Dash dev tools (never in production)")
    p.add_argument("--prod", action="store_true",
                   help="production: gunicorn with several workers (set REDIS_URL to share "
                   "the cache between them)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (--prod)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (--prod)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("warm", help=COMMANDS["warm"],
                       description="Run after deploying other code on a published build: "
                       "results saved by other code are ignored, never shown.")
    p.set_defaults(func=cmd_warm)

    p = sub.add_parser("hash-password", help=COMMANDS["hash-password"],
                       description="Reads the password twice from the terminal, or one line "
                       "from standard input, and prints its PBKDF2-SHA256 hash.")
    p.add_argument("--user", help="print user:hash, ready for EQUALITIES_USERS")
    p.set_defaults(func=cmd_hash_password)

    p = sub.add_parser("ingest", help=COMMANDS["ingest"],
                       description="Each file's format is detected from its content. Any bad "
                       "row refuses the whole ingest and leaves the store untouched (exit 2), "
                       "unless --lenient. The store published holds only the files named: a "
                       "folder that already holds a store is refused unless --replace.")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--into", help="store folder to publish into (default: --data-dir)")
    p.add_argument("--lenient", action="store_true", help="skip bad rows and list them")
    p.add_argument("--replace", action="store_true", help="replace the store already in the "
                   "folder with one made only of the files named (without it such an ingest "
                   "is refused: nothing the store held is kept)")
    p.add_argument("--repair-excel", action="store_true", help="in XLSX files, undo the Excel "
                   "damage that can be undone exactly (deciles turned into numbers, dd/mm "
                   "dates read month first) instead of refusing it; each repair is reported")
    p.add_argument("--local", metavar="FILE", help="validate your own local-data CSV (the "
                   "template on the Data page) and keep it in the store folder's local/ "
                   "subfolder, apart from the national store")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build-real", help=COMMANDS["build-real"])
    p.add_argument("--from", dest="source", help="folder of ODS etr.csv and MBRRACE-UK files")
    p.add_argument("--into", help="store folder to publish into (default: --data-dir)")
    p.add_argument("--lenient", action="store_true", help="skip bad rows and list them")
    p.set_defaults(func=cmd_build_real)

    from returns.commands import add_parser as add_returns_parser

    add_returns_parser(sub, COMMANDS["returns"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"equalities: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except store.StoreError as error:
        print(f"equalities: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader closed the pipe (``| head``): stop quietly, as Unix tools do, and keep
        # Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
