"""Shared fixtures: one demo store, and one real store when the published files are present,
built per test session into temporary folders (read-only for the tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from data import store
from data.synthetic.build import DEFAULT_SEED, build_demo


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A freshly built demo store; ``EQUALITIES_DATA_DIR`` points at it for the session."""
    root = tmp_path_factory.mktemp("store")
    build_demo(seed=DEFAULT_SEED, root=root, progress=lambda _m: None)
    os.environ["EQUALITIES_DATA_DIR"] = str(root)
    return root


@pytest.fixture(scope="session")
def demo(demo_root) -> store.Store:
    return store.load_store(demo_root)


@pytest.fixture(scope="session")
def stories(demo) -> dict[str, str]:
    """Planted story -> trust code, from the demo store's manifest."""
    return {story: code for code, names in demo.manifest["stories"].items() for story in names}


@pytest.fixture(scope="session")
def real_root(tmp_path_factory) -> Path:
    """A store built by ``equalities build-real`` from the shared published files; the
    requesting test is skipped when they are absent."""
    from cli import main
    from data.ingest import build

    folder = build.default_realdata_dir()
    if not (folder / "hosp-epis-stat-mat-msdscsv-2022-23.csv").is_file():
        pytest.skip(f"real published files not present at {folder}")
    root = tmp_path_factory.mktemp("real")
    assert main(["build-real", "--into", str(root)]) == 0
    return root


@pytest.fixture(scope="session")
def real_store(real_root) -> store.Store:
    return store.load_store(real_root)
