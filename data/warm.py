"""Results worked out once when a build is published, kept beside it for every server.

A new server's first pages would otherwise compute everything the landing views need
(England's "what changed" alone is about a second). ``web.warm`` draws those views once
after a build is published and records every memoized result it computed; they are saved
in the build's ``warm/`` folder, one file per result, named by a hash of the function and
its arguments. :func:`data.queries.cached` looks there before computing, so a saved result
is the same object the function would return, from the same store.

The folder also states its build and the fingerprint of the code that computed it (this
project's source, its method files and the libraries that shape a result). A server running
other code ignores the folder and computes afresh, so a change of method never serves old
figures; nor is a folder copied into another build read there.
The files are pickles, trusted like the rest of the build folder: only the builder writes
there.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from data import settings

log = logging.getLogger(__name__)

FOLDER = "warm"
FINGERPRINT_FILE = "fingerprint"
MISSING = object()
T = TypeVar("T")
# The code a saved result depends on: the project's packages and the libraries that shape
# a result or a page's JSON.
SOURCE_PACKAGES = ("components", "data", "metrics", "pages", "views", "web", "returns")
SOURCE_SUFFIXES = (".py", ".toml", ".json")
LIBRARIES = ("polars", "pyarrow", "plotly", "dash", "dash-bootstrap-components", "numpy",
             "scipy")

_usable: dict[tuple[Path, int], bool] = {}
_recording = threading.local()


def key(function_name: str, args: tuple, kwargs: dict) -> str:
    """The file name of one result: a hash of the function and its canonical arguments."""
    text = repr((function_name, args, sorted(kwargs.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@contextlib.contextmanager
def recording() -> Iterator[dict[tuple[str, str], object]]:
    """Compute every memoized result afresh in this thread, once each, and collect them as
    ``{(build id, key): result}`` (the shared cache and saved results are not used)."""
    entries: dict[tuple[str, str], object] = {}
    _recording.entries = entries
    try:
        yield entries
    finally:
        _recording.entries = None


def is_recording() -> bool:
    return getattr(_recording, "entries", None) is not None


def recorded(build_id: str, name: str, compute: Callable[[], T]) -> T:
    """While :func:`recording`, the result saved as ``name``, computed now if new."""
    entries = _recording.entries
    if (build_id, name) not in entries:
        entries[(build_id, name)] = compute()
    return entries[(build_id, name)]  # type: ignore[return-value]


def lookup(build: Path, name: str) -> object:
    """The result saved as ``name`` with ``build``, or :data:`MISSING`."""
    folder = build / FOLDER
    if not _matches(folder):
        return MISSING
    try:
        data = (folder / f"{name}.pickle").read_bytes()
    except OSError:  # not saved (or not readable): computed as if never saved
        return MISSING
    try:
        return pickle.loads(data)  # noqa: S301 - written by the builder, as the store is
    except Exception:  # noqa: BLE001 - a damaged file is computed afresh, never shown
        log.warning("ignored the damaged saved result %s of %s", name, build.name)
        return MISSING


def _matches(folder: Path) -> bool:
    """Whether ``folder`` exists and was saved by this code: remembered for the folder as it
    is (saving again replaces the folder, so it is then read afresh); an absent folder is
    looked for again, as it is written after the build is published."""
    try:
        which = (folder, folder.stat().st_ino)
        known = _usable.get(which)
        if known is not None:
            return known
        saved = (folder / FINGERPRINT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    usable = _usable[which] = saved == _stamp(folder.parent)
    if not usable:
        log.info("saved results of %s are from other code; computing afresh",
                 folder.parent.name)
    return usable


def save(build: Path, entries: dict[tuple[str, str], object]) -> int:
    """Write the entries computed from ``build`` into its ``warm/`` folder, replacing any
    there, all at once; return how many."""
    staging = build / f".{FOLDER}-{uuid.uuid4().hex[:6]}"
    staging.mkdir()
    try:
        mine = {name: result for (build_id, name), result in entries.items()
                if build_id == build.name}
        for name, result in mine.items():
            (staging / f"{name}.pickle").write_bytes(
                pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        (staging / FINGERPRINT_FILE).write_text(_stamp(build) + "\n", encoding="utf-8")
        folder = build / FOLDER
        old = build / f".{FOLDER}-old-{uuid.uuid4().hex[:6]}"
        if folder.exists():
            os.rename(folder, old)
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return len(mine)


def _stamp(build: Path) -> str:
    """What a saved folder must state to be read: the code's fingerprint and its build (a
    folder copied into another build is not that build's)."""
    return f"{fingerprint()} {build.name}"


def is_current(build: Path) -> bool:
    """Whether ``build`` has results saved by this code."""
    return _matches(build / FOLDER)


def fingerprint() -> str:
    """A hash of the code that computes the saved results (see the module's docstring)."""
    global _fingerprint
    if _fingerprint is None:
        digest = hashlib.sha256()
        for path in _sources():
            digest.update(str(path.relative_to(settings.PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
        for library in LIBRARIES:
            digest.update(f"{library}=={_version(library)}".encode())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def _sources() -> list[Path]:
    """The project's source and method files, in a fixed order (no store folder)."""
    stores = {settings.DEFAULT_DATA_DIR, settings.data_dir()}
    found = []
    for package in SOURCE_PACKAGES:
        for folder, subfolders, files in os.walk(settings.PROJECT_ROOT / package):
            subfolders[:] = [d for d in subfolders if d != "__pycache__"
                             and Path(folder, d) not in stores]
            found += [Path(folder, f) for f in files if f.endswith(SOURCE_SUFFIXES)]
    return sorted(found)


_fingerprint: str | None = None


def _version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "absent"
