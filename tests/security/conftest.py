"""Security tests share the session demo store and the one app of the process."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from web import auth as app_auth

PASSWORD = "correct horse battery staple"  # of the test users in the sign-in tests


@pytest.fixture(scope="session")
def dash_app(demo_root):
    from app import get_app

    return get_app()


@pytest.fixture(scope="session")
def page(dash_app):
    """``page("explore")`` -> the loaded page module."""
    return lambda name: sys.modules[f"pages.{name}"]


@contextlib.contextmanager
def data_dir(path: Path) -> Iterator[None]:
    """Point the app's store at ``path`` for a while (the session store is put back after)."""
    before = os.environ.get("EQUALITIES_DATA_DIR")
    os.environ["EQUALITIES_DATA_DIR"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("EQUALITIES_DATA_DIR", None)
        else:
            os.environ["EQUALITIES_DATA_DIR"] = before


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture(scope="module")
def alice_hash() -> str:
    return app_auth.hash_password(PASSWORD)
