"""Publishing approved returns into the store: the figures, their disclosure control, the
build that shares the national files, and the registry and views that see them."""

from __future__ import annotations

import json
import os
import shutil

import polars as pl
import pytest

from data import store
from metrics import registry
from returns import publish, service
from tests.returns.published import published  # noqa: F401  (fixture)
from tests.security import audit

KEY = ["metric", "org_code", "period_label", "dimension", "group"]
AS_UNIT = {"month": "quarter", "quarter": "quarter_of_months"}  # restated for the audit


def _local(root) -> pl.DataFrame:
    loaded = store.load_store(root)
    ids = [m for m in loaded.by_metric if m.startswith("local_")]
    return store.as_text(loaded.metric_counts(*ids))


def _raw(published) -> pl.DataFrame:  # noqa: F811
    indicator_set = service.current_set(published.engine)
    return publish.raw_counts(
        service.approved_rows(published.engine), store.load_store(published.root).organisations,
        providers={i.id: i.providers for i in indicator_set.indicators},
        region_code=indicator_set.region_code)


def test_trust_months_equal_the_approved_rows(published):  # noqa: F811
    approved = service.approved_rows(published.engine).with_columns(
        metric="local_" + pl.col("indicator"))
    shown = _local(published.root).filter(pl.col("org_level") == "trust",
                                         pl.col("period_kind") == "month",
                                         pl.col("numerator").is_not_null())
    assert shown.height > 500
    joined = shown.join(approved, left_on=["metric", "org_code", "period_start", "dimension",
                                           "group"],
                        right_on=["metric", "org_code", "month", "dimension", "group"])
    assert joined.height == shown.height
    assert (joined["numerator"] == joined["numerator_right"]).all()
    assert (joined["denominator"] == joined["denominator_right"]).all()
    assert set(_local(published.root)["source"]) == {"Local"}


def test_quarters_and_years_are_sums_of_whole_months(published):  # noqa: F811
    raw = _raw(published)
    months = raw.filter(pl.col("period_kind") == "month")
    for kind, count in (("quarter", 3), ("financial_year", 12)):
        longer = raw.filter(pl.col("period_kind") == kind, pl.col("dimension") == "total")
        assert longer.height
        for row in longer.iter_rows(named=True):
            inside = months.filter(pl.col("metric") == row["metric"],
                                   pl.col("org_code") == row["org_code"],
                                   pl.col("dimension") == "total",
                                   pl.col("period_start").is_between(row["period_start"],
                                                                     row["period_end"]))
            assert inside.height == count
            assert inside["raw_numerator"].sum() == row["raw_numerator"]


def test_region_is_the_providers_sum(published):  # noqa: F811
    raw = _raw(published).filter(pl.col("dimension") == "total",
                                 pl.col("period_kind") == "month")
    region = raw.filter(pl.col("org_level") == "region")
    assert region.height
    trusts = raw.filter(pl.col("org_level") == "trust").group_by(
        "metric", "period_label").agg(pl.col("raw_denominator").sum(), pl.len())
    joined = region.join(trusts, on=["metric", "period_label"])
    indicator_set = service.current_set(published.engine)
    providers = {i.metric_id: len(i.providers) for i in indicator_set.indicators}
    assert (joined["raw_denominator"] == joined["raw_denominator_right"]).all()
    assert all(n == providers[m] for m, n in zip(joined["metric"], joined["len"], strict=True))


def test_small_counts_are_withheld_and_cannot_be_worked_out(published):  # noqa: F811
    raw = _raw(published)
    shown = _local(published.root)
    both = shown.join(raw.select(*KEY, "raw_numerator", "raw_denominator"), on=KEY)
    assert both.height == shown.height == raw.height
    small = both.filter(pl.col("raw_numerator").is_between(1, 7))
    assert small.height and small["numerator"].is_null().all()
    assert small["suppressed"].all()
    organisations = store.load_store(published.root).organisations

    def unit(frame):
        return frame.with_columns(period_kind=pl.col("period_kind").replace(AS_UNIT))

    # Months are the unit period: quarters and years are made of them.
    assert audit.audit(unit(shown), unit(raw), organisations) == []
    # The audit can fail: withholding the small counts alone gives some back.
    primary = raw.with_columns(
        numerator=pl.when(pl.col("raw_numerator").is_between(1, 7)).then(None)
        .otherwise(pl.col("raw_numerator")),
        denominator=pl.when(pl.col("raw_denominator").is_between(1, 7)).then(None)
        .otherwise(pl.col("raw_denominator")),
        published_value=pl.lit(None, pl.Float64),
        suppressed=pl.col("raw_numerator").is_between(1, 7))
    assert audit.audit(unit(primary), unit(raw), organisations)


def test_the_new_build_shares_the_national_files(published):  # noqa: F811
    assert store.current_build(published.root) == published.build.resolve()
    for name in ("counts.parquet", "organisations.parquet", "arrow/000.arrow",
                 "arrow/periods/000.arrow"):
        assert os.stat(published.build / name).st_ino == \
            os.stat(published.before / name).st_ino
    old, new = store.load_store(published.root), store.read_build(published.before)
    # Every metric, national or local, has its rows by period too.
    assert set(old.by_period) == set(old.by_metric) > set(new.by_metric)
    for metric in ("pph_1500", "stillbirth"):
        assert store.as_text(old.metric_counts(metric)).equals(
            store.as_text(new.metric_counts(metric)))
    manifest = json.loads((published.build / "manifest.json").read_text())
    section = manifest["local"]
    assert section["network"]["name"] == "Demo Maternity and Neonatal Network"
    assert manifest["rows"]["counts"] == new.counts.height + section["rows"]


def test_publishing_again_replaces_the_local_part(published):  # noqa: F811
    counts = _local(published.root)
    one = counts.filter(pl.col("metric") == counts["metric"][0])
    indicator_set = service.current_set(published.engine)
    section = publish.definitions_of(indicator_set)
    build = publish.write_build(one, section, published.root)
    try:
        loaded = store.load_store(published.root)
        held = [m for m in loaded.by_metric if m.startswith("local_")]
        assert held == [counts["metric"][0]]
        enums = json.loads((build / "arrow" / "enums.json").read_text())
        assert len(enums["metric"]) == len(set(enums["metric"]))
        assert sum(1 for m in enums["metric"] if m.startswith("local_")) == 1
    finally:
        publish.publish(published.engine, published.root)
    assert len([m for m in store.load_store(published.root).by_metric
                if m.startswith("local_")]) == len(indicator_set.indicators)


def test_a_build_from_before_the_rows_by_period_gets_them_for_the_new_one(published):  # noqa: F811
    counts = _local(published.root)
    indicator_set = service.current_set(published.engine)
    shutil.rmtree(store.current_build(published.root) / store.ARROW / store.PERIODS)
    build = publish.write_build(counts, publish.definitions_of(indicator_set), published.root)
    try:
        loaded = store.load_store(published.root)
        assert loaded.path == build
        assert set(loaded.by_period) == set(loaded.by_metric)
    finally:
        publish.publish(published.engine, published.root)


def test_a_failed_publish_leaves_the_previous_build(published, monkeypatch):  # noqa: F811
    current = store.current_build(published.root)

    def broken(build):
        raise store.StoreError(f"cannot read {build}")

    monkeypatch.setattr(store, "read_build", broken)
    with pytest.raises(store.StoreError):
        publish.write_build(_local(published.root).head(0), {"network": {}, "indicators": []},
                            published.root)
    assert store.current_build(published.root) == current
    assert not list((published.root / "builds").glob(".staging-*"))
    assert len(list((published.root / "builds").iterdir())) <= store.KEEP_BUILDS


def test_the_registry_sees_local_metrics_only_when_the_store_holds_them(
        published, demo_root, monkeypatch):  # noqa: F811
    from data import queries  # noqa: F401  (hands the store's local metrics to the registry)

    local = [m for m in registry.outcome_metrics() if registry.is_local(m)]
    assert [m.id for m in local] == [i.metric_id for i in
                                     service.current_set(published.engine).indicators]
    metric = local[0]
    assert metric.title.endswith("(Local)") and metric.short_title.endswith("(Local)")
    assert metric.source == "Local: provider returns, approved by Demo Maternity and " \
        "Neonatal Network"
    assert metric.disclosure == registry.WITHHOLD_SMALL
    assert metric.period_kinds == ("quarter", "month", "financial_year")  # quarters first
    assert registry.get(metric.id) is metric
    assert registry.sections()[-1] == registry.LOCAL_SECTION
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(demo_root))
    assert registry.all_metrics() == registry.METRICS_LIST
    assert registry.outcome_metrics() == registry.OUTCOME_METRICS
    assert registry.LOCAL_SECTION not in registry.sections()
    with pytest.raises(KeyError):
        registry.get(metric.id)


def test_the_views_build_for_a_local_metric(published):  # noqa: F811
    from data import queries
    from views import benchmark, boardpack, explore, trends

    indicator_set = service.current_set(published.engine)
    metric_id = indicator_set.indicators[0].metric_id
    trust = indicator_set.indicators[0].providers[0]
    year = queries.periods(metric_id, "quarter")[0]  # every provider approved
    e = explore.explore(indicator_set.region_code, metric_id, year, "ethnicity", "england")
    assert e.metric.title.endswith("(Local)") and e.level == "region"
    assert e.frame.filter(pl.col("group") == "White")["value"].is_not_null().all()
    assert explore.explore(trust, metric_id, year, "total", "england").frame.height == 1
    b = benchmark.benchmark(metric_id, year, "total", "All", (trust,), "all")
    assert set(b.ranked["org_code"]) == set(indicator_set.indicators[0].providers)
    assert b.ranked["value"].is_not_null().sum() >= 3
    t = trends.trends(trust, metric_id, "total", "month", "All", False)
    assert t.points.height >= 9 and "mean" in t.points.columns
    assert metric_id in {m.id for m in boardpack.pack_metrics()}
    assert queries.period_kinds(metric_id) == ("quarter", "month", "financial_year")


def test_the_definitions_list_the_local_indicators_beside_the_national(published):  # noqa: F811
    """The Definitions table (and its CSV) of the Data page: national metrics, then the
    network's, flagged Local, with their definitions and the breakdowns the store holds."""
    from components import definitions
    from data import queries
    from views import downloads

    table = definitions.metric_definitions(downloads.downloads("pph_1500").held)
    titles = table["Title"].to_list()
    indicator_set = service.current_set(published.engine)
    local = [i.title + " (Local)" for i in indicator_set.indicators]
    assert titles[-len(local):] == local
    assert titles.index("Postpartum haemorrhage of 1,500 ml or more") < titles.index(local[0])
    row = table.row(titles.index(local[0]), named=True)
    assert "Demo Maternity and Neonatal Network" in " ".join(str(v) for v in row.values())
    assert queries.held_by_metric()[indicator_set.indicators[0].metric_id]["trust"]


def test_running_text_quotes_a_local_title_as_written(published):  # noqa: F811
    """A network titles its indicators freely ("On a continuity of carer pathway..."), so
    sentences quote them as written rather than lower-casing them into the sentence."""
    from components import format as fmt
    from data import queries  # noqa: F401  (hands the store's local metrics to the registry)

    local = next(m for m in registry.all_metrics() if registry.is_local(m))
    assert fmt.title_words(local) == f"“{local.title}”"
    assert fmt.title_words(registry.get("stillbirth")) == "stillbirth rate"


def test_publishing_in_the_background_then_runs_after_the_new_build(published):  # noqa: F811
    """An approval on the web publishes in a thread, then saves the first views (``then``)
    once the new build is current."""
    import threading

    seen, done = [], threading.Event()

    def then():
        seen.append(store.current_build(published.root))
        done.set()

    before = store.current_build(published.root)
    publish.publish_soon(published.engine, published.root, then=then)
    assert done.wait(120)
    assert seen == [store.current_build(published.root)] and seen[0] != before
