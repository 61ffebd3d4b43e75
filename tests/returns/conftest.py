"""Fixtures for the returns tests: an indicator set, engines on a fresh SQLite file and on
a real PostgreSQL server (Debian's binaries, started in a temporary folder for the
session), and ``engine`` parametrized over both."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from returns import db, service
from returns.indicators import parse_indicator_set

SET_TOML = """
[network]
code = "TEST-NET"
name = "Test Network"
due_days = 15
first_month = "2024-04"
providers = ["AAA", "BBB"]

[[indicator]]
id = "pmh_seen"
title = "Perinatal mental health referrals seen within 28 days"
short_title = "PMH seen in 28 days"
numerator = "Women seen within 28 days of referral"
denominator = "Women referred"
unit = "%"
polarity = "higher_is_better"
breakdowns = ["total", "ethnicity"]

[[indicator]]
id = "readmitted"
title = "Readmitted within 30 days"
short_title = "Readmitted"
numerator = "Women readmitted"
denominator = "Women who gave birth"
unit = "per 1,000"
polarity = "lower_is_better"
breakdowns = ["total", "deprivation_quintile"]
providers = ["AAA"]
"""

# A valid return of AAA: the two total rows and some breakdown rows.
GOOD = (
    "indicator,dimension,group,numerator,denominator\n"
    "pmh_seen,total,All,30,40\n"
    "pmh_seen,ethnicity,White,20,25\n"
    "pmh_seen,ethnicity,Black,4,8\n"
    "readmitted,total,All,12,400\n"
    "readmitted,deprivation_quintile,Q1 (most deprived),5,100\n"
)
GOOD_BBB = "indicator,dimension,group,numerator,denominator\npmh_seen,total,All,7,9\n"
NOW = datetime(2024, 5, 10, 12, 0)  # April 2024 has ended; due 15 May

PG_GLOB = "/usr/lib/postgresql/*/bin/initdb"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def indicator_set():
    return parse_indicator_set(SET_TOML, name="test.toml")


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[sa.Engine]:
    """A fresh SQLite database (migrated on first use) in the test's folder."""
    url = f"sqlite:///{tmp_path / 'returns.sqlite'}"
    yield db.engine(url)
    db.dispose(url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own for the session; yields the URL of its ``postgres``
    database. Skipped only when Debian's server binaries are not installed."""
    found = sorted(glob.glob(PG_GLOB))
    if not found:
        pytest.skip(f"PostgreSQL server binaries not installed ({PG_GLOB}); `make postgres` "
                    "installs them")
    bindir = Path(found[-1]).parent
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="returns-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"
    port = _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--no-locale", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
        "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_engine(postgres_server) -> Iterator[sa.Engine]:
    """A fresh, empty database on the session's server (migrated on first use)."""
    name = f"returns_test_{os.getpid()}_{next(_database_numbers)}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield db.engine(url)
    finally:
        db.dispose(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> sa.Engine:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue({"sqlite": "sqlite_engine",
                                    "postgresql": "postgres_engine"}[request.param])


@pytest.fixture
def network(engine, indicator_set) -> sa.Engine:
    """``engine`` with the test set defined, a reviewer and a submitter for each provider."""
    service.define(engine, indicator_set, who="admin")
    service.grant(engine, "rev", service.REVIEWER)
    service.grant(engine, "sub_a", service.SUBMITTER, "AAA")
    service.grant(engine, "sub_b", service.SUBMITTER, "BBB")
    return engine
