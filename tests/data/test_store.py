"""The store: schema checked at load, atomic publication, clear errors."""

from __future__ import annotations

import json
import os
import shutil

import polars as pl
import pytest

from data import schema, store


def test_tables_match_documented_schema(demo):
    schema.validate(store.as_text(demo.counts), "counts")
    schema.validate(demo.organisations, "organisations")


def test_every_column_is_documented():
    for table in schema.TABLES.values():
        for column in table:
            assert len(column.doc) > 15, column.name


def test_manifest_describes_the_build(demo):
    manifest = demo.manifest
    assert manifest["synthetic"] is True
    assert manifest["generator"]["seed"]
    assert manifest["rows"]["counts"] == demo.counts.height
    assert manifest["period"]["start"] < manifest["period"]["end"]


def test_failed_write_leaves_previous_store(demo_root, demo):
    before = store.current_build(demo_root)
    bad = demo.counts.head(5).with_columns(numerator=pl.lit("x"))
    with pytest.raises((schema.SchemaError, pl.exceptions.PolarsError, ValueError)):
        store.write_store(bad, demo.organisations, {}, demo_root)
    assert store.current_build(demo_root) == before
    assert not [p for p in (demo_root / "builds").iterdir() if p.name.startswith(".staging")]


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(store.StoreError, match="build-demo"):
        store.load_store(tmp_path)


def test_corrupt_parquet_is_a_clear_error(tmp_path, demo):
    build = store.write_store(store.as_text(demo.counts.head(100)), demo.organisations,
                              {"synthetic": True}, tmp_path)
    shutil.rmtree(build / store.ARROW)  # as a build from before the Arrow files: read Parquet
    (build / "counts.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(store.StoreError, match="cannot be read"):
        store.read_build(build)


def test_schema_error_names_the_column(demo):
    frame = demo.organisations.drop("peer_group")
    with pytest.raises(schema.SchemaError, match="peer_group"):
        schema.validate(frame, "organisations")


def test_new_build_is_picked_up(tmp_path, demo):
    counts = store.as_text(demo.counts.head(50))
    first = store.write_store(counts, demo.organisations, {"title": "one"}, tmp_path)
    assert store.load_store(tmp_path).path == first
    second = store.write_store(counts, demo.organisations, {"title": "two"}, tmp_path)
    assert store.load_store(tmp_path).manifest["title"] == "two"
    assert json.loads((second / "manifest.json").read_text())["title"] == "two"


def test_current_is_found_as_a_link_or_as_a_copied_folder(tmp_path, demo):
    counts = store.as_text(demo.counts.head(50))
    build = store.write_store(counts, demo.organisations, {"title": "linked"}, tmp_path / "a")
    assert store.current_build(tmp_path / "a") == build.resolve()
    # A store copied without its links (``cp -rL``): ``current`` is the build's folder.
    shutil.copytree(tmp_path / "a", tmp_path / "b", symlinks=False)
    assert not (tmp_path / "b" / store.CURRENT).is_symlink()
    assert store.current_build(tmp_path / "b") == (tmp_path / "b" / store.CURRENT).resolve()
    assert store.load_store(tmp_path / "b").manifest["title"] == "linked"
    with pytest.raises(store.StoreError, match="No data store"):
        store.current_build(tmp_path / "c")


def test_old_builds_and_killed_staging_folders_are_removed(tmp_path, demo):
    """A build killed while writing leaves a .staging folder: the next write removes it
    once it is an hour old (not before: another build may still be writing it), and only
    the published build and the one before it are kept."""
    counts = store.as_text(demo.counts.head(50))
    builds = tmp_path / store.BUILDS
    builds.mkdir(parents=True)
    killed, writing = builds / ".staging-killed", builds / ".staging-writing"
    for folder in (killed, writing):
        folder.mkdir()
        (folder / "counts.parquet").write_bytes(b"half a file")
    hour_ago = killed.stat().st_mtime - store.STALE_STAGING_S - 1
    os.utime(killed, (hour_ago, hour_ago))
    written = [store.write_store(counts, demo.organisations, {"title": str(i)}, tmp_path)
               for i in range(4)]
    assert not killed.exists() and writing.exists()
    assert sorted(p.name for p in builds.iterdir() if not p.name.startswith(".")) == \
        sorted(p.name for p in written[-store.KEEP_BUILDS:])
    assert store.load_store(tmp_path).path == written[-1]
