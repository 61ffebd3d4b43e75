"""Where things live: one place for paths and environment settings."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "store"


def data_dir() -> Path:
    """The store folder: ``EQUALITIES_DATA_DIR`` if set, else ``data/store`` in the project."""
    configured = os.environ.get("EQUALITIES_DATA_DIR")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_DATA_DIR


def redis_url() -> str | None:
    """Redis URL for a shared cache across workers, if configured."""
    return os.environ.get("REDIS_URL") or None
