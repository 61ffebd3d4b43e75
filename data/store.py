"""The Parquet store: atomic writes, checked loads, counts shared by every process.

Layout of the store folder::

    current -> builds/20260101T120000-1a2b3c   (symlink, swapped atomically)
    builds/<id>/counts.parquet
    builds/<id>/arrow/000.arrow ...           (the counts, one Arrow IPC file per metric)
    builds/<id>/arrow/enums.json              (the values of their coded text columns)
    builds/<id>/organisations.parquet
    builds/<id>/manifest.json

A build is written into a fresh folder and only then published by replacing the ``current``
link in one ``rename``, so a failed build or ingest leaves the previous store untouched and a
running server never sees a half-written store.

Processes read the counts by memory-mapping the uncompressed Arrow files, text columns held
as enum codes (one byte or two per cell), so the operating system's page cache holds one
copy of the store per machine whatever the number of workers, and a load takes milliseconds. A build
written before the Arrow files existed gets them on its first load (written beside its
Parquet file and renamed into place); where the build folder is read-only the counts are
read from Parquet into the process instead.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from data import schema, settings
from metrics import disclosure

log = logging.getLogger(__name__)

CURRENT = "current"
BUILDS = "builds"
KEEP_BUILDS = 2  # the published build and the one before it
STALE_STAGING_S = 3600  # a staging folder this old belongs to a build that was killed
# Row order of the counts table: deterministic, and clustered by metric so that Parquet
# row-group statistics let readers skip other metrics.
SORT_KEYS = ["metric", "org_level", "org_code", "period_kind", "period_start", "period_end",
             "dimension", "group_order", "group"]
# String columns with few distinct values, held as enums (their values sorted, so they sort
# as text does) over the whole table: every metric's part has the same types.
CODED_COLUMNS = ("source", "metric", "org_code", "org_level", "period_label", "period_kind",
                 "dimension", "group")
ARROW = "arrow"  # the folder of a build holding its counts as Arrow IPC files
ENUMS_FILE = "enums.json"  # in that folder: each coded column's values, in code order
ROWS_KEY = "equalities.rows"  # an Arrow file's metadata: organisation -> [first row, rows]
# In the Arrow folder: each metric's rows again, sorted by period, so a query across every
# organisation in one period (a funnel, a map) reads that period's rows, not the metric's.
PERIODS = "periods"


class StoreError(RuntimeError):
    """The store is missing or unreadable."""


def row_ranges(org_codes: pl.Series, names: list[str]) -> dict[str, tuple[int, int]] | None:
    """Organisation -> (first row, rows) from a part's organisation column (enum codes, or
    an enum, whose values are ``names``); None when an organisation's rows are not
    together."""
    runs = org_codes.to_physical().rle()  # the codes: nothing is copied as text
    lengths = runs.struct.field("len").to_list()
    codes = [names[i] for i in runs.struct.field("value").to_list()]
    starts = [0, *itertools.accumulate(lengths)][:-1]
    ranges = dict(zip(codes, zip(starts, lengths, strict=True), strict=True))
    return ranges if len(ranges) == len(codes) else None


def write_arrow_part(part: pl.DataFrame, file: Path, enums: dict[str, pl.Enum],
                     by: str = "org_code") -> None:
    """One metric's part as an uncompressed Arrow IPC file, its text columns as the codes
    of ``enums``, whose schema carries the rows of each value of ``by`` (:data:`ROWS_KEY`;
    none when they are not together), so a reader need not read the column to find them.
    The rows are kept in their order, or sorted by ``by`` (stably) when it is not the
    organisation."""
    codes = _coded(part, enums).with_columns(pl.col(*enums).to_physical())
    if by != "org_code":
        codes = codes.sort(by, maintain_order=True)
    table = codes.to_arrow()
    ranges = row_ranges(codes[by], enums[by].categories.to_list())
    if ranges is not None:
        table = table.replace_schema_metadata({ROWS_KEY: json.dumps(ranges)})
    with pa.OSFile(str(file), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def write_arrow_parts(part: pl.DataFrame, folder: Path, name: str,
                      enums: dict[str, pl.Enum]) -> None:
    """One metric's part as ``folder/name`` (by organisation) and, sorted by period,
    ``folder/periods/name`` (see :data:`PERIODS`)."""
    write_arrow_part(part, folder / name, enums)
    (folder / PERIODS).mkdir(exist_ok=True)
    write_arrow_part(part, folder / PERIODS / name, enums, by="period_label")


class Parts(Mapping[str, pl.DataFrame]):
    """A build's counts by metric. Mapped parts hold their text columns as the codes of
    their enums (:data:`CODED_COLUMNS`); each is decoded into its enums when first asked
    for, because decoding reads every code (not a copy, but every page of those columns):
    a part no query asks for is never read, and :meth:`Store.org_counts` decodes only the
    slice it takes. Parts read from Parquet are decoded already (``enums`` None)."""

    def __init__(self, coded: dict[str, pl.DataFrame], enums: dict[str, pl.Enum] | None):
        self.coded, self.enums = coded, enums
        self._decoded: dict[str, pl.DataFrame] = {}

    def decode(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (a part or a slice of one) with its text columns as enums."""
        return frame if self.enums is None else _decoded(frame, self.enums)

    def __getitem__(self, metric_id: str) -> pl.DataFrame:
        found = self._decoded.get(metric_id)
        if found is None:  # two threads may both decode: the same frame, one kept
            found = self._decoded.setdefault(metric_id, self.decode(self.coded[metric_id]))
        return found

    def __contains__(self, metric_id: object) -> bool:  # without decoding the part
        return metric_id in self.coded

    def __iter__(self) -> Iterator[str]:
        return iter(self.coded)

    def __len__(self) -> int:
        return len(self.coded)


@dataclass(frozen=True)
class Store:
    """One loaded build of the store.

    The counts table is held split by metric, because every query concerns one metric:
    filtering a metric's own rows is several times faster than scanning the whole table.
    Its text columns are enums (:data:`CODED_COLUMNS`); :func:`as_text` turns them back.
    """

    path: Path
    by_metric: Parts  # or a dict of decoded parts, held as Parts
    organisations: pl.DataFrame
    manifest: dict
    # Metric -> organisation -> its rows (see ``org_counts``), filled in as asked.
    row_ranges: dict[str, dict[str, tuple[int, int]] | None] = field(
        default_factory=dict, compare=False, repr=False)
    # Metric -> its rows sorted by period (codes) and each period's rows (``period_counts``).
    by_period: dict[str, tuple[pl.DataFrame, dict[str, tuple[int, int]]]] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.by_metric, Parts):
            object.__setattr__(self, "by_metric", Parts(dict(self.by_metric), None))

    def metric_rows(self) -> dict[str, int]:
        """Rows of each metric's part (without decoding any)."""
        return {metric: part.height for metric, part in self.by_metric.coded.items()}

    @property
    def counts(self) -> pl.DataFrame:
        """The whole counts table (the metric parts side by side, not copied)."""
        return pl.concat(list(self.by_metric.values()), rechunk=False)

    def metric_counts(self, *metric_ids: str) -> pl.DataFrame:
        """The counts rows of the given metrics (empty frame if none is held)."""
        parts = [self.by_metric[m] for m in metric_ids if m in self.by_metric]
        if not parts:
            return next(iter(self.by_metric.values())).clear()
        return parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=False)

    def org_counts(self, metric_id: str, *org_codes: str) -> pl.DataFrame:
        """The rows of one metric for the given organisations. Within a metric the rows are
        sorted by organisation, so each one's rows are a slice of the metric's (not
        copied): a query about one organisation reads only its own part of the mapped
        file rather than every row."""
        parts = self.by_metric
        if metric_id not in parts:
            return self.metric_counts(metric_id)
        ranges = self._row_ranges(metric_id)
        if ranges is None:  # not in organisation order: filter instead
            return parts[metric_id].filter(
                pl.col("org_code").cast(pl.String).is_in(list(org_codes)))
        held = sorted({ranges[code] for code in org_codes if code in ranges})  # stored order
        coded = parts.coded[metric_id]
        slices = [parts.decode(coded.slice(*rows)) for rows in held]
        if not slices:
            return parts.decode(coded.clear())
        return slices[0] if len(slices) == 1 else pl.concat(slices, rechunk=False)

    def period_counts(self, metric_id: str, period_label: str) -> pl.DataFrame:
        """The rows of one metric in one period, every organisation's. From the metric's
        rows sorted by period they are a slice of the mapped file (not copied), so a query
        across organisations reads one period's rows rather than every row; without that
        file (a build from before it, the parts read from Parquet), a filter."""
        found = self.by_period.get(metric_id)
        if found is None:
            part = self.metric_counts(metric_id)
            return part.filter(pl.col("period_label").cast(pl.String) == period_label)
        codes, ranges = found
        rows = ranges.get(period_label)
        return self.by_metric.decode(codes.slice(*rows) if rows else codes.clear())

    def _row_ranges(self, metric_id: str) -> dict[str, tuple[int, int]] | None:
        """Organisation -> (first row, rows) in the metric's part; None when an
        organisation's rows are not together. Worked out once per metric."""
        if metric_id not in self.row_ranges:  # a build from before they were written
            parts = self.by_metric
            column = parts.coded[metric_id]["org_code"]
            enum = parts.enums["org_code"] if parts.enums else column.dtype
            self.row_ranges[metric_id] = row_ranges(column, enum.categories.to_list())
        return self.row_ranges[metric_id]

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Organisation code -> name."""
        return dict(zip(self.organisations["org_code"], self.organisations["name"],
                        strict=True))

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def build_id(self) -> str:
        return self.path.name


def controlled(counts: pl.DataFrame, organisations: pl.DataFrame, *,
               unit: str = disclosure.UNIT_PERIOD) -> pl.DataFrame:
    """``counts`` exactly as :func:`write_store` publishes them with ``organisations``:
    conformed, in row order, complementary suppression applied (so a builder can see which
    cells will be shown before it writes); ``unit``: the period kind longer ones are made
    of."""
    # Sorted first: ties in the choice of a second cell to withhold go by row order, which
    # must not vary.
    return disclosure.complementary_suppression(
        schema.conform(counts, "counts").sort(SORT_KEYS),
        organisations=schema.conform(organisations, "organisations"), unit=unit)


def write_store(
    counts: pl.DataFrame,
    organisations: pl.DataFrame,
    manifest: dict,
    root: Path | None = None,
) -> Path:
    """Validate and write a new build, then publish it atomically; return the build folder."""
    root = Path(root or settings.data_dir())
    # Every writer (demo, ingest, local data) passes here, so no build can publish a cell
    # that subtraction from the cells around it would give back.
    counts = controlled(counts, organisations)
    organisations = schema.conform(organisations, "organisations")
    schema.validate(counts, "counts")
    schema.validate(organisations, "organisations")
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    staging = builds / f".staging-{build_id}"
    try:
        staging.mkdir()
        counts.write_parquet(staging / "counts.parquet", statistics=True, row_group_size=65_536)
        _write_arrow(_metric_slices(counts), _enums(counts.lazy()), staging / ARROW)
        organisations.write_parquet(staging / "organisations.parquet")
        full_manifest = manifest | {
            "schema_version": schema.SCHEMA_VERSION,
            "build_id": build_id,
            "rows": {"counts": counts.height, "organisations": organisations.height},
        }
        (staging / "manifest.json").write_text(
            json.dumps(full_manifest, indent=2, default=str), encoding="utf-8"
        )
        final = builds / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish(root, final)
    _prune(builds)
    return final


def _publish(root: Path, build: Path) -> None:
    link = root / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    os.symlink(Path(BUILDS) / build.name, link)
    os.replace(link, root / CURRENT)


def _prune(builds: Path, *, now: float | None = None) -> None:
    """Remove superseded builds (keeping the newest :data:`KEEP_BUILDS` and the published
    one) and staging folders left by a build that was killed (older than
    :data:`STALE_STAGING_S`, so a build still being written is left alone)."""
    # Oldest first by when they were written (names share a second when builds are quick).
    done = sorted((p for p in builds.iterdir() if not p.name.startswith(".")),
                  key=lambda p: (p.stat().st_mtime_ns, p.name))
    current = (builds.parent / CURRENT).resolve()
    for old in done[:-KEEP_BUILDS]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
    now = time.time() if now is None else now
    for staging in builds.glob(".staging-*"):
        try:
            stale = now - staging.stat().st_mtime > STALE_STAGING_S
        except OSError:
            continue  # removed meanwhile by another writer
        if stale:
            shutil.rmtree(staging, ignore_errors=True)


def current_build(root: Path | None = None) -> Path:
    """The folder of the published build, or :class:`StoreError` if there is none."""
    root = Path(root or settings.data_dir())
    link = root / CURRENT
    try:  # one system call on every request; resolving the whole path took several
        return root / os.readlink(link)
    except OSError:
        if not link.exists():
            raise StoreError(
                f"No data store at {root}. Build the demo with `equalities build-demo`."
            ) from None
        return link.resolve()  # ``current`` as a folder, not a link (a copied store)


def exists(root: Path | None = None) -> bool:
    """True when a published build is present."""
    try:
        current_build(root)
    except StoreError:
        return False
    return True


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the store's coded text columns (enums) as plain strings."""
    return frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))


def read_build(build: Path) -> Store:
    """Read and check one build folder (its counts mapped, not copied, where it can)."""
    file = build / "manifest.json"
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
        file = build / "counts.parquet"
        folder, ranges, by_period = _arrow_folder(build), {}, {}
        if folder is None:
            parts = Parts(_read_coded(file), None)
        else:
            file = folder / ENUMS_FILE
            enums, coded = _read_enums(file), {}
            for file in sorted(folder.glob("*.arrow")):
                codes, stated = _mapped(file)
                first = _decoded(codes.head(1), enums)
                _check_coded(codes, first, str(file))
                metric = str(first["metric"][0])
                coded[metric] = codes
                if stated is not None:
                    ranges[metric] = stated
                file = folder / PERIODS / file.name
                if file.is_file():
                    by_period[metric] = _period_part(file, codes.height)
            parts = Parts(coded, enums)
        file = build / "organisations.parquet"
        organisations = pl.read_parquet(file)
        schema.validate(organisations, "organisations", where=str(file))
    except schema.SchemaError as error:
        raise StoreError(str(error)) from error
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        # The file by name and the reader's first line: enough to act on, no stack trace.
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise StoreError(f"The data store file {file} cannot be read ({reason}). Rebuild "
                         "the store (equalities build-demo or equalities ingest) or restore "
                         "the file.") from error
    if not parts:
        raise StoreError(f"The data store at {build} holds no counts.")
    return Store(build, parts, organisations, manifest, ranges,
                 {m: found for m, found in by_period.items() if found[1] is not None})


def _enums(counts: pl.LazyFrame) -> dict[str, pl.Enum]:
    """Column -> the enum of its values over the whole counts table, for
    :data:`CODED_COLUMNS`."""
    values = counts.select(pl.col(c).unique().implode() for c in CODED_COLUMNS).collect()
    return {c: pl.Enum(sorted(values[c][0].to_list())) for c in CODED_COLUMNS}


def _coded(part: pl.DataFrame, enums: dict[str, pl.Enum]) -> pl.DataFrame:
    """``part`` with its coded columns cast from text to their enums."""
    return part.with_columns(pl.col(c).cast(enum) for c, enum in enums.items())


def _metric_slices(counts: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """Each metric's rows of ``counts`` (sorted by metric), as slices (not copies)."""
    offset = 0
    for run in counts["metric"].rle().struct.field("len"):
        yield counts.slice(offset, run)
        offset += run


def _write_arrow(parts: Iterable[pl.DataFrame], enums: dict[str, pl.Enum],
                 folder: Path) -> None:
    """Each metric's part as one uncompressed Arrow IPC file in ``folder``, in order,
    coded columns as their enum's codes (the enums in :data:`ENUMS_FILE`).

    Uncompressed, so a reader maps the file's pages as they are instead of copying them; and
    codes, because Polars copies an Arrow dictionary column on import but takes codes as
    they are.
    """
    folder.mkdir(exist_ok=True)
    (folder / ENUMS_FILE).write_text(json.dumps(
        {c: enum.categories.to_list() for c, enum in enums.items()}), encoding="utf-8")
    for index, part in enumerate(parts):
        write_arrow_parts(part, folder, f"{index:03d}.arrow", enums)


def _parquet_parts(path: Path) -> Iterator[pl.DataFrame]:
    """The counts file read and checked one metric at a time.

    Rows are sorted by metric, so each read skips the other metrics' row groups; only one
    metric's rows are ever held as plain strings, which keeps the peak memory of a load close
    to that of the loaded store.
    """
    scan = pl.scan_parquet(path)
    metrics = scan.select(pl.col("metric").unique(maintain_order=True)).collect()["metric"]
    for metric in metrics.to_list():
        part = scan.filter(pl.col("metric") == metric).collect()
        schema.validate(part, "counts", where=str(path))
        yield part


def _read_coded(path: Path) -> dict[str, pl.DataFrame]:
    """The counts file read into this process, by metric, text columns as enums."""
    enums = _enums(pl.scan_parquet(path))
    return {str(part["metric"][0]): _coded(part, enums) for part in _parquet_parts(path)}


def _arrow_folder(build: Path) -> Path | None:
    """The build's Arrow folder, written from its Parquet file first if it has none (as the
    builds written before it existed), with its rows by period (the same); None when the
    build folder cannot be written (a read-only store)."""
    folder = build / ARROW
    if folder.is_dir():
        if not (folder / PERIODS).is_dir():
            _written_once(folder / PERIODS, lambda into: _write_periods(folder, into),
                          f"no rows by period for {build.name}")
        return folder
    counts = build / "counts.parquet"
    written = _written_once(folder, lambda into: _write_arrow(
        _parquet_parts(counts), _enums(pl.scan_parquet(counts)), into),
        f"counts of {build.name} read into memory")
    return folder if written else None


def _written_once(target: Path, write: Callable[[Path], None], refused: str) -> bool:
    """Make the folder ``target`` once: ``write`` fills a staging folder beside it, renamed
    into place, so no reader sees it half written (and another process may write it first).
    False, logging ``refused``, when nothing can be written beside it (a read-only store)."""
    staging = target.parent / f".{target.name}-{uuid.uuid4().hex[:6]}"
    try:
        staging.mkdir()
    except OSError as error:
        log.warning("%s: cannot write %s (%s)", refused, target, error.strerror or error)
        return False
    try:
        write(staging)
        staging.rename(target)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError) and target.is_dir():  # another process wrote it first
            return True
        raise
    log.info("wrote %s", target)
    return True


def _write_periods(folder: Path, into: Path) -> None:
    """The rows by period (:data:`PERIODS`) of an Arrow ``folder`` written before them,
    from its metrics' files, into the folder ``into``."""
    enums = _read_enums(folder / ENUMS_FILE)
    for file in sorted(folder.glob("*.arrow")):
        codes, _ = _mapped(file)
        write_arrow_part(_decoded(codes, enums), into / file.name, enums, by="period_label")


def _read_enums(file: Path) -> dict[str, pl.Enum]:
    """The enum of each coded column, from the Arrow folder's :data:`ENUMS_FILE`."""
    values = json.loads(file.read_text(encoding="utf-8"))
    if sorted(values) != sorted(CODED_COLUMNS):
        raise schema.SchemaError(f"{file} does not list the values of "
                                 f"{', '.join(CODED_COLUMNS)}")
    return {c: pl.Enum(values[c]) for c in CODED_COLUMNS}


def _decoded(codes: pl.DataFrame, enums: dict[str, pl.Enum]) -> pl.DataFrame:
    """``codes`` with its code columns as their enums, in place (not copied).

    Not strict: Polars' strict conversion, which checks every code names a value, makes a
    private copy of the column in every process. The files are written only from checked
    frames (by :func:`write_store`, or from a checked Parquet file) and published whole
    with their build.
    """
    return codes.with_columns(codes[c].cat.to(enum, strict=False) for c, enum in enums.items())


def _mapped(file: Path) -> tuple[pl.DataFrame, dict[str, tuple[int, int]] | None]:
    """The frame of an uncompressed Arrow IPC file over its pages mapped read-only (shared
    with every process mapping the file, read from disk only where a query looks, and
    released when the last frame using it is dropped), and the rows of each organisation
    (or period) when the file states them (:func:`write_arrow_part`)."""
    with pa.memory_map(str(file)) as source:
        table = pa.ipc.open_file(source).read_all()
    stated = (table.schema.metadata or {}).get(ROWS_KEY.encode())
    ranges = None if stated is None else {
        code: (start, rows) for code, (start, rows) in json.loads(stated).items()}
    return pl.from_arrow(table, rechunk=False), ranges


def _period_part(file: Path, rows: int
                 ) -> tuple[pl.DataFrame, dict[str, tuple[int, int]] | None]:
    """A metric's rows sorted by period (:data:`PERIODS`), mapped, and each period's rows;
    it must hold the ``rows`` of the metric's own file."""
    codes, stated = _mapped(file)
    if codes.height != rows:
        raise schema.SchemaError(f"counts in {file}: {codes.height} rows, not the {rows} "
                                 "of the metric's file")
    return codes, stated


def _check_coded(part: pl.DataFrame, first: pl.DataFrame, where: str) -> None:
    """Check a mapped part against the counts schema (its types by its ``first`` row
    decoded; its missing values from the file's counts) without reading its columns."""
    schema.validate(as_text(first.head(0)), "counts", where=where)
    empty = [c.name for c in schema.COUNTS if not c.nullable and part[c.name].null_count()]
    if empty:
        raise schema.SchemaError(f"counts in {where}: column {empty[0]!r} has "
                                 f"{part[empty[0]].null_count()} empty value(s)")


_loaded: dict[Path, Store] = {}
_lock = threading.Lock()


def load_store(root: Path | None = None) -> Store:
    """The published build, read once per build and kept in memory.

    A new build published while the process runs is picked up on the next call.
    """
    build = current_build(root)
    store = _loaded.get(build)
    if store is None:
        with _lock:
            store = _loaded.get(build)
            if store is None:
                store = read_build(build)
                _loaded.clear()
                _loaded[build] = store
                rows = sum(store.metric_rows().values())
                log.info("loaded store %s (%d rows)", build.name, rows)
    return store
