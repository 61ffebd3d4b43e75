"""Shared fixtures: one demo store, and one real store when the published files are present,
built once per test run (the parallel workers share the build) and copied into each worker's
temporary folder, so a test that writes beside its store never reaches another worker's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from data import store
from data.synthetic.build import DEFAULT_SEED, build_demo


def _built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A copy, in this worker's temporary folder, of the folder ``build`` fills; the first
    worker to ask builds it (under a lock) where every worker of the run can read it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    built = shared / f"shared-{name}"
    with FileLock(str(shared / f"shared-{name}.lock")):
        if not (built / "current").exists():
            shutil.rmtree(built, ignore_errors=True)
            build(built)
    own = tmp_path_factory.mktemp(name)
    shutil.copytree(built, own, symlinks=True, dirs_exist_ok=True)
    return own


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A demo store of this run; ``EQUALITIES_DATA_DIR`` points at it for the session."""
    root = _built_once(tmp_path_factory, "store",
                       lambda into: build_demo(seed=DEFAULT_SEED, root=into,
                                               progress=lambda _m: None))
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

    def build_real(into: Path) -> None:
        assert main(["build-real", "--into", str(into)]) == 0

    return _built_once(tmp_path_factory, "real", build_real)


@pytest.fixture(scope="session")
def real_store(real_root) -> store.Store:
    return store.load_store(real_root)
