"""Alembic environment: the connection (or URL) comes from the configuration's attributes,
set in code by ``returns.db``; no alembic.ini is read."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from returns.db import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set config.attributes['connection'] or ['url']")
    made = sa.create_engine(url)
    try:
        with made.begin() as connection:
            _migrate(connection)
    finally:
        made.dispose()


def _migrate(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run()
