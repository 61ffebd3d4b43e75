"""A copy of the session's demo store with the demo network's approved returns published
into it (shared by the publish and report tests; the session store is never touched)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import store
from returns import db, demo, publish


@dataclass(frozen=True)
class Published:
    root: Path  # the copied store, now with local figures
    before: Path  # its national build, before publishing
    build: Path  # the build publishing made
    engine: sa.Engine


def published_copy(tmp: Path, demo_root: Path) -> Published:
    root = tmp / "store"
    shutil.copytree(demo_root, root, symlinks=True)
    before = store.current_build(root)
    engine = db.engine(f"sqlite:///{tmp / 'returns.sqlite'}")
    demo.seed(engine, organisations=store.load_store(root).organisations)
    build = publish.publish(engine, root)
    return Published(root, before, build, engine)


@pytest.fixture(scope="module")
def published(tmp_path_factory, demo_root) -> Published:
    """The published copy, with ``EQUALITIES_DATA_DIR`` pointing at it for the module."""
    found = published_copy(tmp_path_factory.mktemp("local"), demo_root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EQUALITIES_DATA_DIR", str(found.root))
        yield found
