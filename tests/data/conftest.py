"""Fixtures shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.ingest import build
from tests.data.test_ingest import ETR_ROW, GOOD_MSDS, MSDS_HEADER, _write


@pytest.fixture
def existing(tmp_path) -> Path:
    """A store built from small good files, to prove refused ingests leave it untouched."""
    root = tmp_path / "store"
    build.build_from_files([_write(tmp_path, "good.csv", MSDS_HEADER + "".join(GOOD_MSDS)),
                            _write(tmp_path, "etr.csv", ETR_ROW)], root)
    return root
