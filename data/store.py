"""The Parquet store: atomic writes, checked loads.

Layout of the store folder::

    current -> builds/20260101T120000-1a2b3c   (symlink, swapped atomically)
    builds/<id>/counts.parquet
    builds/<id>/organisations.parquet
    builds/<id>/manifest.json

A build is written into a fresh folder and only then published by replacing the ``current``
link in one ``rename``, so a failed build or ingest leaves the previous store untouched and a
running server never sees a half-written store.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

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
# String columns with few distinct values are held as categoricals in memory.
_CATEGORICAL = ("source", "metric", "org_code", "org_level", "period_label", "period_kind",
                "dimension", "group")


class StoreError(RuntimeError):
    """The store is missing or unreadable."""


@dataclass(frozen=True)
class Store:
    """One loaded build of the store.

    The counts table is held split by metric, because every query concerns one metric:
    filtering a metric's own rows is several times faster than scanning the whole table.
    """

    path: Path
    by_metric: dict[str, pl.DataFrame]
    organisations: pl.DataFrame
    manifest: dict

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

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def build_id(self) -> str:
        return self.path.name


def controlled(counts: pl.DataFrame, organisations: pl.DataFrame) -> pl.DataFrame:
    """``counts`` exactly as :func:`write_store` publishes them with ``organisations``:
    conformed, in row order, complementary suppression applied (so a builder can see which
    cells will be shown before it writes)."""
    # Sorted first: ties in the choice of a second cell to withhold go by row order, which
    # must not vary.
    return disclosure.complementary_suppression(
        schema.conform(counts, "counts").sort(SORT_KEYS),
        organisations=schema.conform(organisations, "organisations"))


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
    if not link.exists():
        raise StoreError(
            f"No data store at {root}. Build the demo with `equalities build-demo`."
        )
    return link.resolve()


def exists(root: Path | None = None) -> bool:
    """True when a published build is present."""
    try:
        current_build(root)
    except StoreError:
        return False
    return True


def read_build(build: Path) -> Store:
    """Read and check one build folder."""
    file = build / "manifest.json"
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
        file = build / "counts.parquet"
        parts = _read_by_metric(file)
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
    return Store(build, parts, organisations, manifest)


def _read_by_metric(path: Path) -> dict[str, pl.DataFrame]:
    """The counts file read, checked and compacted one metric at a time.

    Rows are sorted by metric, so each read skips the other metrics' row groups; only one
    metric's rows are ever held as plain strings, which keeps the peak memory of a load close
    to that of the loaded store.
    """
    scan = pl.scan_parquet(path)
    metrics = scan.select(pl.col("metric").unique(maintain_order=True)).collect()["metric"]
    parts = {}
    for metric in metrics.to_list():
        part = scan.filter(pl.col("metric") == metric).collect()
        schema.validate(part, "counts", where=str(path))
        parts[metric] = part.with_columns(pl.col(c).cast(pl.Categorical) for c in _CATEGORICAL)
    return parts


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
                rows = sum(part.height for part in store.by_metric.values())
                log.info("loaded store %s (%d rows)", build.name, rows)
    return store
