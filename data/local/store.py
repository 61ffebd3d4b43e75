"""Validated local files kept beside, never inside, the national store.

Each file becomes ``<data folder>/local/<name>.parquet``; the national store's builds and its
``current`` link are not touched. A write goes to a temporary file in the same folder and is
renamed into place, so a failure leaves any earlier file of that name as it was. Reading a
kept file checks it against the local schema, so a damaged or foreign file is reported as
such rather than failing later.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from data import schema, settings
from data.ingest import limits
from data.ingest.errors import IngestError, Problem
from data.local import parse
from metrics.categories import DIMENSIONS

LOCAL_DIR = "local"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_AGAIN = "ingest its CSV file again with equalities ingest --local"
NOTES_KEY = "equalities:local-notes"  # Parquet key-value metadata: the file's notes (JSON)
# Never empty in a validated file (a period that is not a year has no start or end).
_REQUIRED = tuple(c.name for c in (*schema.COUNTS, *parse.LOCAL_EXTRA)
                  if not c.nullable and c.name not in ("period_start", "period_end"))


class DamagedFile(ValueError):
    """A kept local file that is missing or cannot be read as local data (says why)."""


@dataclass(frozen=True)
class Saved:
    """A local file validated and kept: where, how many rows, what to tell the user."""

    path: Path
    data: parse.LocalData
    replaced: bool


def local_dir(root: Path | str | None = None) -> Path:
    """The local-data folder of the store folder ``root`` (default: the configured one)."""
    return Path(root or settings.data_dir()) / LOCAL_DIR


def safe_name(stem: str) -> str:
    """A file name made only of letters, digits, ``-`` and ``_`` (never a path)."""
    name = _UNSAFE.sub("-", stem).strip("-_")[:80]
    return name or "local-data"


def save(data: parse.LocalData, root: Path | str | None = None, *,
         name: str | None = None) -> Saved:
    """Write ``data``'s frame to ``<root>/local/<name>.parquet`` atomically."""
    folder = local_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{safe_name(name or Path(data.file).stem)}.parquet"
    replaced = final.exists()
    temporary = folder / f".{final.stem}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        data.counts.write_parquet(temporary,
                                  metadata={NOTES_KEY: json.dumps(list(data.notes))})
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Saved(final, data, replaced)


@dataclass(frozen=True)
class Kept:
    """A local file kept on this server: its data, or why it cannot be read."""

    name: str
    ingested: datetime  # when the file was written (UTC)
    data: parse.LocalData | None
    problem: str | None = None

    def count(self, column: str) -> int | None:
        """Distinct values of ``column`` (None for a damaged file)."""
        return None if self.data is None else self.data.counts[column].n_unique()


def names(root: Path | str | None = None) -> list[str]:
    """The names of the kept local files, sorted (only names :func:`save` could write)."""
    folder = local_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.parquet")
                  if p.is_file() and p.stem == safe_name(p.stem))


def _checked(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    expected = parse.LOCAL_SCHEMA
    if dict(frame.schema) != expected:
        missing = [c for c in expected if c not in frame.columns]
        wrong = [c for c in expected if c in frame.columns and frame.schema[c] != expected[c]]
        why = (f"missing column(s) {', '.join(missing)}" if missing else
               f"column(s) of the wrong type: {', '.join(wrong)}" if wrong else
               "unexpected or reordered columns")
        raise DamagedFile(f"{file} is not a local data file ({why}): {_AGAIN}")
    if frame.is_empty():
        raise DamagedFile(f"{file} holds no rows: {_AGAIN}")
    empty = [c for c in _REQUIRED if frame[c].null_count()]
    if empty:
        raise DamagedFile(f"{file} has empty values in column(s) {', '.join(empty)}: "
                          f"{_AGAIN}")
    if set(frame["dimension"]) - set(DIMENSIONS) or not frame["local"].all():
        raise DamagedFile(f"{file} holds rows that are not local data: {_AGAIN}")
    return frame


def read(name: str, root: Path | str | None = None) -> parse.LocalData:
    """A kept local file by name, checked against the local schema.

    Raises
    ------
    DamagedFile
        when no file of that name is kept or it cannot be read as local data.
    """
    file = f"{safe_name(name)}.parquet"
    path = local_dir(root) / file
    if not path.is_file():
        raise DamagedFile(f"no local file {safe_name(name)} is kept on this server")
    try:
        frame = pl.read_parquet(path)
        metadata = pl.read_parquet_metadata(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        reason = (str(error).strip().splitlines() or ["unreadable"])[0][:160]
        raise DamagedFile(f"{file} cannot be read ({reason}): {_AGAIN}") from None
    return parse.LocalData(safe_name(name), _checked(frame, file), _notes(metadata))


def _notes(metadata: dict[str, str]) -> tuple[str, ...]:
    """The notes :func:`save` kept with the file (none if absent or unreadable)."""
    try:
        notes = json.loads(metadata.get(NOTES_KEY, "[]"))
    except ValueError:
        return ()
    return tuple(n for n in notes if isinstance(n, str)) if isinstance(notes, list) else ()


def load(name: str, root: Path | str | None = None) -> pl.DataFrame:
    """A kept local file's frame by name (see :func:`read`)."""
    return read(name, root).counts


def ingested(name: str, root: Path | str | None = None) -> datetime:
    """When the kept file ``name`` was written (UTC)."""
    path = local_dir(root) / f"{safe_name(name)}.parquet"
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def listing(root: Path | str | None = None) -> list[Kept]:
    """Every kept local file, damaged ones included with their problem."""
    kept = []
    for name in names(root):
        try:
            when = ingested(name, root)
        except OSError:
            continue  # removed while the folder was being listed
        try:
            kept.append(Kept(name, when, read(name, root)))
        except DamagedFile as error:
            kept.append(Kept(name, when, None, str(error)))
    return kept


def ingest(path: Path | str, root: Path | str | None = None) -> Saved:
    """Validate the local CSV at ``path`` and keep it; :class:`IngestError` if refused (and
    then nothing is written)."""
    path = Path(path)
    try:
        raw = limits.read(path, parse.MAX_BYTES, advice=parse.SPLIT)
    except OSError as error:
        raise IngestError([Problem(str(path), None, None, None,
                                   f"cannot read: {error.strerror or error}")]) from None
    return save(parse.parse(raw, str(path)), root)
