"""The counts are mapped from the build's Arrow files (one copy per machine, not per worker),
written once for builds from before them, and released when a new build is published."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data import store


def _mapped_files() -> set[str]:
    """Paths of the files this process has mapped (``/proc/self/maps``)."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def _region_of(address: int) -> str | None:
    """The file mapped at ``address`` in this process, or None for private memory."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if start <= address < end:
            return fields[5] if len(fields) == 6 else None
    return None


@pytest.fixture
def small_counts(demo) -> pl.DataFrame:
    """Three metrics' rows of the demo, as plain text (what a writer hands to the store)."""
    keep = ["pph_1500", "stillbirth", "iol_delay"]
    return store.as_text(demo.metric_counts(*keep).filter(
        pl.col("org_code").is_in(["ENG", "SYN001", "SYN002", "Y56"])))


@pytest.fixture
def build(tmp_path, small_counts, demo) -> Path:
    return store.write_store(small_counts, demo.organisations, {"title": "mapped"}, tmp_path)


def test_each_metric_is_one_arrow_file_of_the_build(build, small_counts):
    files = sorted((build / store.ARROW).glob("*.arrow"))
    assert len(files) == small_counts["metric"].n_unique() == 3
    loaded = store.read_build(build)
    assert set(loaded.by_metric) == set(small_counts["metric"])
    assert {str(f) for f in files} <= _mapped_files()
    # The mapped table is the published one, value for value, as text.
    assert_frame_equal(store.as_text(loaded.counts), pl.read_parquet(build / "counts.parquet"))


@pytest.mark.parametrize("column", ["numerator", "published_value", "org_code", "group"])
def test_columns_are_read_in_place_not_copied(build, column):
    """A column's values live in the file's mapped pages: numbers as they are, text columns
    as the codes of their enum (no private copy of the column per process)."""
    part = store.read_build(build).by_metric["pph_1500"]
    values = part[column]
    physical = values.to_physical() if isinstance(values.dtype, pl.Enum) else values
    address = physical.to_arrow().buffers()[1].address  # exported without a copy
    assert _region_of(address) is not None
    assert _region_of(address).startswith(str(build / store.ARROW))


def test_text_columns_are_enums_shared_by_every_metric(build):
    loaded = store.read_build(build)
    schemas = {m: part.schema for m, part in loaded.by_metric.items()}
    assert all(isinstance(s[c], pl.Enum) for s in schemas.values() for c in store.CODED_COLUMNS)
    assert len({tuple(s.items()) for s in schemas.values()}) == 1  # parts concatenate
    assert loaded.metric_counts("pph_1500", "stillbirth").height == sum(
        loaded.by_metric[m].height for m in ("pph_1500", "stillbirth"))
    # An enum compared with a code it does not hold matches nothing (not an error).
    assert loaded.by_metric["pph_1500"].filter(pl.col("org_code") == "NOPE").is_empty()


def test_an_organisations_rows_are_a_slice_of_the_mapped_file(build, demo):
    """``org_counts`` gives the rows a filter would, in stored order, without a copy."""
    loaded = store.read_build(build)
    part = loaded.by_metric["pph_1500"]
    for codes in (("SYN001",), ("ENG",), ("SYN002", "ENG", "SYN002"), ("Y56", "NOPE")):
        expected = part.filter(pl.col("org_code").cast(pl.String).is_in(list(codes)))
        assert_frame_equal(loaded.org_counts("pph_1500", *codes), expected)
    assert loaded.org_counts("pph_1500", "NOPE").is_empty()
    assert loaded.org_counts("not_held", "SYN001").is_empty()
    one = loaded.org_counts("pph_1500", "SYN001")["numerator"].to_arrow()
    assert _region_of(one.buffers()[1].address).startswith(str(build / store.ARROW))
    # The demo's full store too, for every trust of a metric.
    whole = demo.by_metric["stillbirth"]
    for code in whole["org_code"].cast(pl.String).unique().to_list():
        assert_frame_equal(demo.org_counts("stillbirth", code),
                           whole.filter(pl.col("org_code") == code))


def test_a_part_is_decoded_only_when_a_query_asks_for_it(build):
    """Loading reads no part's codes; one organisation's rows decode only their slice."""
    loaded = store.read_build(build)
    parts = loaded.by_metric
    assert parts._decoded == {} and set(parts) == {"pph_1500", "stillbirth", "iol_delay"}
    assert loaded.metric_rows() == {m: parts.coded[m].height for m in parts}
    one = loaded.org_counts("stillbirth", "SYN001")
    assert parts._decoded == {}
    assert isinstance(one.schema["org_code"], pl.Enum)
    assert_frame_equal(one, parts["stillbirth"].filter(pl.col("org_code") == "SYN001"))
    assert set(parts._decoded) == {"stillbirth"}


def test_rows_out_of_organisation_order_are_filtered_instead(build):
    loaded = store.read_build(build)
    shuffled = loaded.by_metric["pph_1500"].sample(fraction=1.0, shuffle=True, seed=3)
    mixed = store.Store(loaded.path, {"pph_1500": shuffled}, loaded.organisations,
                        loaded.manifest)
    assert_frame_equal(mixed.org_counts("pph_1500", "SYN001"),
                       shuffled.filter(pl.col("org_code") == "SYN001"))
    assert mixed.row_ranges["pph_1500"] is None


def test_a_build_without_arrow_files_gets_them_once(build):
    arrow = build / store.ARROW
    expected = store.as_text(store.read_build(build).counts)
    shutil.rmtree(arrow)

    first = store.read_build(build)
    assert arrow.is_dir() and {str(f) for f in arrow.glob("*.arrow")} <= _mapped_files()
    assert_frame_equal(store.as_text(first.counts), expected)
    assert set(first.by_period) == set(first.by_metric)  # with the rows by period too
    written = {f.name: f.stat().st_mtime_ns for f in arrow.iterdir()}
    store.read_build(build)
    assert {f.name: f.stat().st_mtime_ns for f in arrow.iterdir()} == written
    assert not [p for p in build.iterdir() if p.name.startswith(".")]


@pytest.fixture
def read_only(build, monkeypatch):
    """Call it to refuse every new folder inside ``build`` from then on (a read-only
    volume)."""
    make_folder = Path.mkdir

    def refused(path, *args, **kwargs):
        if path.is_relative_to(build):
            raise OSError(30, "Read-only file system", str(path))
        return make_folder(path, *args, **kwargs)

    return lambda: monkeypatch.setattr(Path, "mkdir", refused)


def test_a_build_that_cannot_be_written_is_read_into_memory(build, read_only):
    arrow = build / store.ARROW
    expected = store.as_text(store.read_build(build).counts)
    shutil.rmtree(arrow)
    read_only()
    loaded = store.read_build(build)
    assert not arrow.exists()
    assert_frame_equal(store.as_text(loaded.counts), expected)
    assert isinstance(loaded.counts.schema["org_code"], pl.Enum)


def test_a_damaged_arrow_file_is_a_clear_error(build):
    damaged = sorted((build / store.ARROW).glob("*.arrow"))[1]
    damaged.write_bytes(b"ARROW1 this is not an arrow file")
    with pytest.raises(store.StoreError, match=f"{damaged.name} cannot be read"):
        store.read_build(build)


def test_a_new_build_is_mapped_and_the_old_one_released(tmp_path, small_counts, demo):
    first = store.write_store(small_counts, demo.organisations, {"title": "one"}, tmp_path)
    assert store.load_store(tmp_path).manifest["title"] == "one"
    assert str(first / store.ARROW) in " ".join(_mapped_files())

    second = store.write_store(small_counts, demo.organisations, {"title": "two"}, tmp_path)
    assert store.load_store(tmp_path).manifest["title"] == "two"
    gc.collect()
    mapped = " ".join(_mapped_files())
    assert str(second / store.ARROW) in mapped
    assert str(first / store.ARROW) not in mapped
    assert os.path.exists(first)  # kept on disk (the one before), no longer held


def test_each_file_states_its_organisations_rows(build):
    """The writer puts each organisation's rows in the file's metadata, so a reader finds
    them without reading the organisation column; they are the rows a filter gives."""
    loaded = store.read_build(build)
    assert set(loaded.row_ranges) == set(loaded.by_metric)
    assert loaded.by_metric._decoded == {}  # known without reading any part
    for metric, ranges in loaded.row_ranges.items():
        whole = loaded.by_metric[metric]
        assert ranges == store.row_ranges(whole["org_code"],
                                          whole["org_code"].dtype.categories.to_list())
        assert sum(rows for _, rows in ranges.values()) == whole.height


def test_a_part_out_of_organisation_order_states_no_rows(tmp_path, small_counts, demo):
    shuffled = small_counts.sample(fraction=1.0, shuffle=True, seed=5)
    enums = store._enums(shuffled.lazy())
    store.write_arrow_part(shuffled, tmp_path / "part.arrow", enums)
    frame, stated = store._mapped(tmp_path / "part.arrow")
    assert stated is None and frame.height == shuffled.height


def test_one_periods_rows_are_a_slice_of_the_file_sorted_by_period(build, demo):
    """``period_counts`` gives the rows a filter would, in stored order, from the metric's
    rows sorted by period: a query across organisations reads one period's rows."""
    loaded = store.read_build(build)
    assert set(loaded.by_period) == set(loaded.by_metric) and loaded.by_metric._decoded == {}
    for metric in loaded.by_metric:
        part = loaded.by_metric[metric]
        for label in part["period_label"].cast(pl.String).unique().to_list():
            assert_frame_equal(loaded.period_counts(metric, label),
                               part.filter(pl.col("period_label") == label))
    label = loaded.by_metric["pph_1500"]["period_label"].cast(pl.String)[0]
    one = loaded.period_counts("pph_1500", label)
    assert one.height
    assert _region_of(one["numerator"].to_arrow().buffers()[1].address).startswith(
        str(build / store.ARROW / store.PERIODS))
    assert loaded.period_counts("pph_1500", "not a period").is_empty()
    assert loaded.period_counts("not_held", "2023").is_empty()
    # The demo's full store too, every period of every metric.
    for metric in ("booked_by_10_weeks", "stillbirth"):
        whole = demo.by_metric[metric]
        for label in whole["period_label"].cast(pl.String).unique().to_list():
            assert_frame_equal(demo.period_counts(metric, label),
                               whole.filter(pl.col("period_label") == label))


def test_a_build_without_rows_by_period_gets_them_once(build):
    periods = build / store.ARROW / store.PERIODS
    written = {f.name: f.read_bytes() for f in periods.iterdir()}
    shutil.rmtree(periods)
    loaded = store.read_build(build)
    assert {f.name: f.read_bytes() for f in periods.iterdir()} == written
    assert set(loaded.by_period) == set(loaded.by_metric)
    assert not [p for p in periods.parent.iterdir() if p.name.startswith(".")]


def test_a_build_without_rows_by_period_that_cannot_be_written_filters(build, read_only):
    shutil.rmtree(build / store.ARROW / store.PERIODS)
    read_only()
    loaded = store.read_build(build)
    assert loaded.by_period == {}
    part = loaded.by_metric["stillbirth"]
    label = part["period_label"].cast(pl.String)[0]
    assert_frame_equal(loaded.period_counts("stillbirth", label),
                       part.filter(pl.col("period_label") == label))


def test_rows_by_period_not_matching_their_metric_are_a_clear_error(build, demo):
    files = sorted((build / store.ARROW / store.PERIODS).glob("*.arrow"))
    enums = store._read_enums(build / store.ARROW / store.ENUMS_FILE)
    shorter = store.as_text(store.read_build(build).by_metric["pph_1500"]).head(3)
    store.write_arrow_part(shorter, files[0], enums, by="period_label")
    with pytest.raises(store.StoreError, match="periods"):
        store.read_build(build)
