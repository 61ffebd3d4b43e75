"""Where things live: one place for paths and environment settings."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "store"


def data_dir() -> Path:
    """The store folder: ``EQUALITIES_DATA_DIR`` if set, else ``data/store`` in the project."""
    configured = os.environ.get("EQUALITIES_DATA_DIR")
    if not configured:
        return DEFAULT_DATA_DIR
    return _resolved(configured, "" if os.path.isabs(configured) else os.getcwd())


@functools.lru_cache(maxsize=8)
def _resolved(path: str, _cwd: str) -> Path:
    # Asked on every request; resolving a path looks at each folder in it.
    return Path(path).expanduser().resolve()


def redis_url() -> str | None:
    """Redis URL for a shared cache across workers, if configured."""
    return os.environ.get("REDIS_URL") or None


DEFAULT_CACHE_MB = 256


def cache_megabytes() -> int:
    """``EQUALITIES_CACHE_MB``: the most each worker's own cache of results may hold, in
    MB (without Redis); 256 by default."""
    given = os.environ.get("EQUALITIES_CACHE_MB", "").strip()
    if not given:
        return DEFAULT_CACHE_MB
    if not given.isdigit() or int(given) < 1:
        raise ValueError(f"EQUALITIES_CACHE_MB must be a whole number of megabytes (1 or "
                         f"more), not {given!r}")
    return int(given)


# -- access control (off by default; see README, "Deploying internally") ------------------


def auth_mode() -> str:
    """``EQUALITIES_AUTH``: ``basic`` (users and password hashes), ``header`` (a user name set
    by a trusted reverse proxy), or empty for no login."""
    return os.environ.get("EQUALITIES_AUTH", "").strip().lower()


def auth_users() -> str:
    """``EQUALITIES_USERS``: ``user:hash`` pairs (comma- or line-separated), or the path of a
    file holding them, one a line (hashes from ``equalities hash-password``)."""
    return os.environ.get("EQUALITIES_USERS", "").strip()


def auth_header() -> str:
    """``EQUALITIES_AUTH_HEADER``: the header the proxy sets to the signed-in user's name."""
    return os.environ.get("EQUALITIES_AUTH_HEADER", "X-Forwarded-User").strip()


def internal_token() -> str | None:
    """``EQUALITIES_INTERNAL_TOKEN``: lets the app's own export browser in when login is on;
    set one shared value for all workers of a server (``serve --prod`` does)."""
    return os.environ.get("EQUALITIES_INTERNAL_TOKEN") or None


def public_url() -> str | None:
    """``EQUALITIES_PUBLIC_URL``: the dashboard's address as its readers reach it (such as
    ``https://equalities.example.nhs.uk``), so printed links can be followed from paper."""
    return os.environ.get("EQUALITIES_PUBLIC_URL", "").strip().rstrip("/") or None


@contextlib.contextmanager
def data_dir_set_to(path: str | Path | None) -> Iterator[None]:
    """Point everything that reads ``EQUALITIES_DATA_DIR`` (the query layer, the returns
    database) at ``path`` for a while; nothing changes when ``path`` is None."""
    if path is None:
        yield
        return
    key = "EQUALITIES_DATA_DIR"
    before = os.environ.get(key)
    os.environ[key] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before
