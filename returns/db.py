"""Where returns are kept: SQLite beside the store by default, PostgreSQL when
``DATABASE_URL`` is set. Tables are SQLAlchemy Core; their shape is made by the Alembic
migrations in ``returns/migrations``, run to the newest on an engine's first use.

Times are stored as UTC without a zone (SQLite keeps none), dates as the 1st of the month.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from data import settings

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_NAME = Path("returns") / "returns.sqlite"
ENV_URL = "DATABASE_URL"

metadata = sa.MetaData()

indicator_sets = sa.Table(
    "indicator_sets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version", sa.Integer, nullable=False, unique=True),
    sa.Column("network_code", sa.String(40), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),  # JSON of IndicatorSet.to_dict()
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

people = sa.Table(
    "people", metadata,
    sa.Column("user", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("org_code", sa.String(20), nullable=True),
    sa.Column("granted_at", sa.DateTime, nullable=False),
)

returns = sa.Table(
    "returns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_code", sa.String(20), nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("set_version", sa.Integer, nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("submitted_by", sa.String(200), nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("reviewed_by", sa.String(200), nullable=True),
    sa.Column("reviewed_at", sa.DateTime, nullable=True),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("changes", sa.Text, nullable=False, server_default=""),
    sa.Column("superseded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("org_code", "month", "version", name="uq_returns_version"),
    sa.Index("ix_returns_org_month", "org_code", "month"),
)

return_rows = sa.Table(
    "return_rows", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("indicator", sa.String(40), nullable=False),
    sa.Column("dimension", sa.String(40), nullable=False),
    sa.Column("group", sa.String(40), nullable=False),
    sa.Column("numerator", sa.BigInteger, nullable=False),
    sa.Column("denominator", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("return_id", "indicator", "dimension", "group",
                        name="uq_return_rows_cell"),
    sa.Index("ix_return_rows_return_id", "return_id"),
)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def database_url(data_dir: Path | None = None) -> str:
    """``DATABASE_URL`` (PostgreSQL) if set, else the SQLite file
    ``<data_dir>/returns/returns.sqlite`` (``data_dir`` defaults to the store folder)."""
    configured = os.environ.get(ENV_URL, "").strip()
    if configured:
        return _driver(configured)
    folder = Path(data_dir) if data_dir is not None else settings.data_dir()
    return f"sqlite:///{(folder / SQLITE_NAME).resolve()}"


def configured(data_dir: Path | None = None) -> bool:
    """Whether a returns database is set up: ``DATABASE_URL`` is set, or the SQLite file
    exists beside the store (pages only read; they never create one)."""
    if os.environ.get(ENV_URL, "").strip():
        return True
    folder = Path(data_dir) if data_dir is not None else settings.data_dir()
    return (folder / SQLITE_NAME).is_file()


def engine(url: str | None = None) -> sa.Engine:
    """The engine for ``url`` (default :func:`database_url`), cached per URL; the first call
    creates the SQLite folder if needed and runs the migrations to the newest."""
    url = _driver(url) if url else database_url()
    with _lock:
        found = _engines.get(url)
        if found is not None:
            return found
        made = _make(url)
        upgrade(made)
        _engines[url] = made
        return made


def dispose(url: str | None = None) -> None:
    """Forget cached engines (all, or the one for ``url``), closing their connections."""
    with _lock:
        for key in [url] if url else list(_engines):
            found = _engines.pop(key, None)
            if found is not None:
                found.dispose()


def upgrade(target: sa.Engine, revision: str = "head") -> None:
    """Run the Alembic migrations on ``target`` up to ``revision`` (one process at a time)."""
    with _migration_lock(target), _quiet("alembic"), target.begin() as connection:
        from alembic import command  # imported here: its import logs each plugin at INFO

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def alembic_config(url: str | None = None):
    """An Alembic configuration built in code (no alembic.ini): the packaged migrations,
    and ``url`` for runs without a connection handed over."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["url"] = url
    return config


def _driver(url: str) -> str:
    """PostgreSQL URLs through psycopg 3 (``postgres://`` as Heroku-style services write it)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _make(url: str) -> sa.Engine:
    made = sa.create_engine(url, pool_pre_ping=True)
    if made.dialect.name == "sqlite":
        path = made.url.database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(made, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA busy_timeout = 10000")
            cursor.execute("PRAGMA journal_mode = WAL")  # readers go on while one writes
            cursor.close()
    return made


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only warnings from logger ``name`` for a while (Alembic tells each step at INFO)."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


@contextlib.contextmanager
def _migration_lock(target: sa.Engine) -> Iterator[None]:
    """Keep two processes (server workers) from migrating at once: a lock file beside a
    SQLite database, an advisory lock on PostgreSQL."""
    if target.dialect.name == "sqlite" and target.url.database not in (None, "", ":memory:"):
        with open(f"{target.url.database}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif target.dialect.name == "postgresql":
        with target.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(220022)"))
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(220022)"))
                connection.commit()
    else:
        yield
