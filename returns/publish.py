"""Approved returns published into the store, beside the national figures, flagged Local.

:func:`local_counts` turns the approved rows (``returns.service.approved_rows``) into rows of
the store's counts table (``data.schema.COUNTS``): source ``Local``, metric
``local_<indicator id>``, each provider at trust level and the network's providers summed
under the network's region (level ``region``, code ``IndicatorSet.region_code``, else each
provider's region), for months, complete financial-year quarters and complete financial
years. A period is published for a provider only when every month in it is approved, and
for the region only when every provider's is: a sum missing a provider would read as a
fall.

Disclosure control is the national counts' own (``metrics.disclosure``): counts of 1 to 7
are withheld and complementary suppression withholds more until no withheld count is the
difference of shown ones, across providers and the region, groups and the total, and months,
quarters and the year. National periods are chained on the quarter; local returns are
monthly, so months are the unit period here (``unit="month"``), quarters and years the
longer periods made of them.

:func:`publish` writes a new build whose national files are hard links to the current
build's (the 2 million national rows are not rewritten): its Arrow files as they are, the
enum values of its coded columns extended at the end with the local values (so the national
files' codes still read the same), one Arrow file per local metric, the local rows also as
``local.parquet``, and the indicator definitions in the manifest's ``local`` section
(:data:`MANIFEST_KEY`) from which the registry makes the local metrics. The ``current`` link
is then switched with the store's own publish step, so a failed publish leaves the
previous build current, and publishing again replaces the local part only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from data import periods as period_mod
from data import schema, settings, store
from metrics import disclosure
from metrics.categories import DIMENSIONS

log = logging.getLogger(__name__)

SOURCE = "Local"
MANIFEST_KEY = "local"
LOCAL_PARQUET = "local.parquet"
LOCAL_ARROW = "local-{:03d}.arrow"
PERIOD_KINDS = ("month", "quarter", "financial_year")


class PublishError(RuntimeError):
    """The local figures cannot be published (the previous build stays current)."""


# -- approved rows -> counts rows ------------------------------------------------------------


def _month_index(day: date) -> int:
    return period_mod.month_index(day.year, day.month)


def _periods_of(months: list[int]) -> list[tuple[period_mod.Period, tuple[int, ...]]]:
    """Every month, complete quarter and complete financial year inside ``months``' span,
    each with the month indices it needs."""
    if not months:
        return []
    first, last = min(months), max(months)
    found = period_mod.months(first, last) + period_mod.quarters(first, last) \
        + period_mod.financial_years(first, last)
    return [(p, p.months) for p in found]


def _complete(raw: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``raw`` (one row per key, month index ``m``, dimension and group) summed into every
    period whose months all appear for that key."""
    out = []
    for period, needed in _periods_of(raw["m"].unique().to_list()):
        inside = raw.filter(pl.col("m").is_in(needed))
        have = inside.group_by(keys).agg(pl.col("m").n_unique().alias("n"))
        whole = have.filter(pl.col("n") == len(needed)).drop("n")
        if whole.is_empty():
            continue
        out.append(inside.join(whole, on=keys).group_by(
            *keys, "dimension", "group").agg(pl.col("numerator").sum(),
                                             pl.col("denominator").sum()).with_columns(
            period_label=pl.lit(period.label), period_kind=pl.lit(period.kind),
            period_start=pl.lit(period.start), period_end=pl.lit(period.end)))
    return pl.concat(out) if out else pl.DataFrame()


def raw_counts(approved: pl.DataFrame, organisations: pl.DataFrame, *,
               providers: dict[str, tuple[str, ...]], region_code: str | None
               ) -> pl.DataFrame:
    """Uncontrolled counts rows (``raw_numerator`` and ``raw_denominator`` beside the counts
    schema's columns) from ``approved`` (columns of ``returns.service.approved_rows``).

    ``providers``: indicator id -> the organisations that must submit it (the region row of
    a period needs all of them). ``region_code``: the region the network's sum is published
    under; None uses each provider's own region from ``organisations``.
    """
    if approved.is_empty():
        return pl.DataFrame()
    regions = dict(organisations.filter(pl.col("org_level") == "trust").select(
        "org_code", "region_code").iter_rows())
    unknown = sorted(set(approved["org_code"]) - set(regions))
    if unknown:
        raise PublishError(f"approved returns name organisation(s) the store does not hold: "
                           f"{', '.join(unknown)}")
    rows = approved.select(
        "indicator", "org_code", "dimension", "group",
        pl.col("numerator").cast(pl.Int64), pl.col("denominator").cast(pl.Int64),
        m=pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month() - 1)
    trusts = _complete(rows, ["indicator", "org_code"]).with_columns(org_level=pl.lit("trust"))
    area = pl.lit(region_code) if region_code else pl.col("org_code").replace_strict(regions)
    parts = []
    for indicator, frame in rows.group_by("indicator"):
        needed = providers.get(indicator[0], tuple(frame["org_code"].unique().sort()))
        # A month counts for the region only when every provider's return for it is in.
        monthly = frame.group_by("m").agg(pl.col("org_code").n_unique().alias("n"))
        full = monthly.filter(pl.col("n") >= len(needed))["m"].to_list()
        summed = frame.filter(pl.col("m").is_in(full)).with_columns(org_code=area).group_by(
            "indicator", "org_code", "m", "dimension", "group").agg(
            pl.col("numerator").sum(), pl.col("denominator").sum())
        parts.append(summed)
    regional = _complete(pl.concat(parts), ["indicator", "org_code"]).with_columns(
        org_level=pl.lit("region")) if parts else pl.DataFrame()
    both = pl.concat([f for f in (trusts, regional) if not f.is_empty()], how="diagonal")
    orders = pl.DataFrame([(d.id, g, d.order(g)) for d in DIMENSIONS.values()
                           for g in d.all_groups],
                          schema=["dimension", "group", "group_order"], orient="row")
    return both.join(orders, on=["dimension", "group"], how="left").select(
        source=pl.lit(SOURCE), metric=pl.lit("local_") + pl.col("indicator"),
        org_code="org_code", org_level="org_level", period_label="period_label",
        period_kind="period_kind", period_start="period_start", period_end="period_end",
        dimension="dimension", group="group",
        group_order=pl.col("group_order").fill_null(0).cast(pl.Int16),
        raw_numerator="numerator", raw_denominator="denominator")


def controlled(raw: pl.DataFrame, organisations: pl.DataFrame) -> pl.DataFrame:
    """The counts rows of ``raw`` as published: 1 to 7 withheld (numerator or denominator,
    the row then flagged suppressed), then the store's complementary suppression with
    months as the unit period that quarters and years are made of."""
    num, den = pl.col("raw_numerator"), pl.col("raw_denominator")
    primary = raw.with_columns(
        numerator=disclosure.controlled_count(num, rounded=False),
        denominator=disclosure.controlled_count(den, rounded=False),
        published_value=pl.lit(None, pl.Float64),
        suppressed=disclosure.is_small(num) | disclosure.is_small(den),
    )
    return store.controlled(primary, organisations, unit="month")


def local_counts(approved: pl.DataFrame, organisations: pl.DataFrame, *,
                 providers: dict[str, tuple[str, ...]], region_code: str | None
                 ) -> pl.DataFrame:
    """The published counts rows (``data.schema.COUNTS``) of the approved returns."""
    raw = raw_counts(approved, organisations, providers=providers, region_code=region_code)
    if raw.is_empty():
        return pl.DataFrame(schema=schema.polars_schema("counts"))
    counts = controlled(raw, organisations).sort(store.SORT_KEYS)
    schema.validate(counts, "counts", where="the approved returns")
    return counts


# -- a build sharing the national files ------------------------------------------------------


def _link(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy where links cannot be made)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _national(build: Path, manifest: dict) -> tuple[list[Path], dict[str, list[str]]]:
    """The national Arrow files of ``build`` and their enum values (a build published here
    earlier holds local files too, and local values at the end of each enum)."""
    folder = build / store.ARROW
    if not (folder / store.PERIODS).is_dir():
        # A build written before the Arrow files (or their rows by period) existed gets them
        # on its first load.
        store.read_build(build)
    if not folder.is_dir():
        raise PublishError(f"the current build {build} has no Arrow files and its folder "
                           "cannot be written")
    enums = json.loads((folder / store.ENUMS_FILE).read_text(encoding="utf-8"))
    local = manifest.get(MANIFEST_KEY) or {}
    mine = set(local.get("arrow_files", ()))
    base = local.get("national_enums", {})
    enums = {c: values[:base[c]] if c in base else values for c, values in enums.items()}
    files = [f for f in sorted(folder.glob("*.arrow")) if f.name not in mine]
    return files, enums


def _extended(enums: dict[str, list[str]], counts: pl.DataFrame) -> dict[str, pl.Enum]:
    """The national enums with the local values not among them added at the end, so the
    national files' codes keep their meaning."""
    out = {}
    for column in store.CODED_COLUMNS:
        values = list(enums[column])
        known = set(values)
        values += sorted(v for v in counts[column].unique().to_list() if v not in known)
        out[column] = pl.Enum(values)
    return out


def _write_local(counts: pl.DataFrame, enums: dict[str, pl.Enum], folder: Path) -> list[str]:
    """One Arrow file per local metric (enum codes, as ``data.store`` writes them)."""
    names = []
    for index, (_, part) in enumerate(counts.group_by("metric", maintain_order=True)):
        name = LOCAL_ARROW.format(index)
        store.write_arrow_parts(part, folder, name, enums)
        names.append(name)
    return names


def write_build(counts: pl.DataFrame, definitions: dict, root: Path | None = None) -> Path:
    """Publish a build holding the current build's national files and ``counts`` (local
    rows, already controlled) with ``definitions`` as the manifest's local section; return
    the new build folder. A failure leaves the previous build current."""
    root = Path(root or settings.data_dir())
    base = store.current_build(root)
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    files, national_enums = _national(base, manifest)
    schema.validate(counts, "counts", where="the local counts")
    enums = _extended(national_enums, counts)
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    builds = root / store.BUILDS
    staging = builds / f".staging-{build_id}"
    try:
        arrow = staging / store.ARROW
        arrow.mkdir(parents=True)
        for name in ("counts.parquet", "organisations.parquet"):
            _link(base / name, staging / name)
        (arrow / store.PERIODS).mkdir()
        for file in files:
            _link(file, arrow / file.name)
            by_period = file.parent / store.PERIODS / file.name
            if by_period.is_file():  # a build from before them has none
                _link(by_period, arrow / store.PERIODS / file.name)
        (arrow / store.ENUMS_FILE).write_text(json.dumps(
            {c: e.categories.to_list() for c, e in enums.items()}), encoding="utf-8")
        local_files = _write_local(counts, enums, arrow)
        counts.write_parquet(staging / LOCAL_PARQUET, statistics=True)
        national_rows = manifest.get("rows", {}).get("counts", 0) - (
            manifest.get(MANIFEST_KEY) or {}).get("rows", 0)
        section = definitions | {
            "arrow_files": local_files, "parquet": LOCAL_PARQUET, "rows": counts.height,
            "national_enums": {c: len(v) for c, v in national_enums.items()},
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        full = {k: v for k, v in manifest.items() if k != MANIFEST_KEY} | {
            "build_id": build_id, "based_on": manifest.get("based_on", base.name),
            "rows": manifest.get("rows", {}) | {"counts": national_rows + counts.height},
            MANIFEST_KEY: section,
        }
        (staging / "manifest.json").write_text(json.dumps(full, indent=2, default=str),
                                               encoding="utf-8")
        final = builds / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        store.read_build(final)  # every part maps and checks before anyone can see it
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    store._publish(root, final)
    store._prune(builds)
    log.info("published %d local rows in build %s", counts.height, build_id)
    return final


def definitions_of(indicator_set) -> dict:
    """The manifest's local section (without file details) for ``indicator_set``
    (``returns.indicators.IndicatorSet``): the network and every indicator's definition,
    as ``metrics.registry.local_metrics`` reads them."""
    data = indicator_set.to_dict()
    return {"network": data["network"],
            "indicators": [entry | {"metric": "local_" + entry["id"],
                                    "multiplier": indicator_set.get(entry["id"]).multiplier}
                           for entry in data["indicator"]]}


def publish(engine, root: Path | str | None = None) -> Path | None:
    """Publish the approved returns of ``engine``'s current indicator set into the store at
    ``root`` (default the configured data folder); return the new build folder, or None
    when no indicator set is defined."""
    from returns import service

    indicator_set = service.current_set(engine)
    if indicator_set is None:
        return None
    root = Path(root or settings.data_dir())
    organisations = store.load_store(root).organisations
    approved = service.approved_rows(engine)
    wanted = {i.id for i in indicator_set.indicators}
    approved = approved.filter(pl.col("indicator").is_in(list(wanted)))
    counts = local_counts(approved, organisations,
                          providers={i.id: i.providers for i in indicator_set.indicators},
                          region_code=indicator_set.region_code)
    return write_build(counts, definitions_of(indicator_set), root)


# -- after an approval on the web ----------------------------------------------------------

_soon = threading.Lock()
_running = {"now": False, "again": False}


def publish_soon(engine, root: Path | str | None = None,
                 then: Callable[[], object] | None = None) -> None:
    """Publish in the background (an approval made on the web answers at once): one run at
    a time per process; approvals made during a run are published by one more run after
    it; ``then`` runs after each new build (the pages' first views saved with it). A
    failure is logged and the previous build stays current."""
    with _soon:
        if _running["now"]:
            _running["again"] = True
            return
        _running["now"] = True
    threading.Thread(target=_publish_until_done, args=(engine, root, then), daemon=True,
                     name="publish-returns").start()


def _publish_until_done(engine, root: Path | str | None,
                        then: Callable[[], object] | None) -> None:
    while True:
        try:
            if publish(engine, root) is not None and then is not None:
                then()
        except Exception:  # noqa: BLE001 - a failed run must not stop the next approval's
            log.exception("publishing the approved returns failed; the previous build stays")
        with _soon:
            if not _running["again"]:
                _running["now"] = False
                return
            _running["again"] = False


__all__ = ["PublishError", "local_counts", "publish", "publish_soon", "write_build"]
