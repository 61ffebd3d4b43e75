"""The returns database: where it is, migrations from empty, tables as the code says."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from returns import db

TABLES = {"alembic_version", "indicator_sets", "people", "returns", "return_rows"}


def test_database_url(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert db.database_url(tmp_path) == f"sqlite:///{tmp_path}/returns/returns.sqlite"
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(tmp_path / "store"))
    assert db.database_url() == f"sqlite:///{tmp_path}/store/returns/returns.sqlite"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@host:5432/returns")
    assert db.database_url(tmp_path) == "postgresql+psycopg://u:p@host:5432/returns"


def test_sqlite_file_made_and_migrated_on_first_use(tmp_path):
    url = f"sqlite:///{tmp_path}/returns/returns.sqlite"
    path = Path(tmp_path) / "returns" / "returns.sqlite"
    assert not path.exists()
    made = db.engine(url)
    try:
        assert path.is_file()
        assert db.engine(url) is made  # cached per URL
        assert set(sa.inspect(made).get_table_names()) == TABLES
        with made.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")
                                ).scalar_one() == "0001"
    finally:
        db.dispose(url)


def test_migrations_match_the_tables_and_run_down_and_up(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []
    with engine.begin() as conn:
        config = db.alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    db.upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) == TABLES


def test_upgrade_is_idempotent(sqlite_engine):
    db.upgrade(sqlite_engine)
    db.upgrade(sqlite_engine)
    assert set(sa.inspect(sqlite_engine).get_table_names()) == TABLES
