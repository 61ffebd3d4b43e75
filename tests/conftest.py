"""Shared fixtures: one demo store built per test session into a temporary folder."""

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
