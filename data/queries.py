"""The cached seam between the store and the metrics engine.

Pages and the CLI call these functions with canonical primitives (strings, ints, sorted
tuples); each loads the published store, calls a pure function from ``metrics`` and returns
a Polars frame or plain data. When the web app has initialised the cache, results are
memoized with Flask-Caching (keyed by function name, the store's build id, the code's
fingerprint and the arguments), so a new build never serves stale figures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import polars as pl
from flask import g, has_app_context, has_request_context
from flask_caching import Cache

from data import settings, store, warm
from data.ingest.geography import Edition, edition_for
from data.periods import BUILDERS as PERIOD_BUILDERS
from data.periods import month_index
from metrics import benchmark as benchmark_mod
from metrics import breakdown as breakdown_mod
from metrics import cells, registry, rollup
from metrics import changes as changes_mod
from metrics import excess as excess_mod
from metrics import inequality as inequality_mod
from metrics import projection as projection_mod
from metrics import scorecard as scorecard_mod
from metrics import trend as trend_mod
from metrics.categories import DIMENSIONS, ETHNICITY, QUINTILE, TOTAL

cache = Cache()
CACHE_TIMEOUT = 3600
T = TypeVar("T")


def cache_config() -> dict:
    """Flask-Caching settings: Redis when ``REDIS_URL`` is set, else in-process."""
    url = settings.redis_url()
    if url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                "CACHE_DEFAULT_TIMEOUT": CACHE_TIMEOUT, "CACHE_KEY_PREFIX": "equalities:"}
    return {"CACHE_TYPE": "data.boundedcache.BoundedCache",
            "CACHE_DEFAULT_TIMEOUT": CACHE_TIMEOUT, "CACHE_THRESHOLD": 2000,
            "CACHE_MAX_BYTES": settings.cache_megabytes() * 2**20}


def init_cache(server) -> None:
    """Bind the cache to the Flask server (once, before the first request)."""
    cache.init_app(server, config=cache_config())


def cached(function: Callable[..., T]) -> Callable[..., T]:
    """Memoize ``function`` by the published store's build, the code's fingerprint and its
    arguments (canonical primitives) when a Flask app context is active; call it directly
    otherwise. The build in the key means a new store never serves stale figures, and the
    fingerprint that servers running other code (a shared Redis during a deployment) never
    take each other's. A result saved with the build (``data.warm``) is read rather than
    computed. ``.uncached`` is the function itself (for benchmarks)."""
    name = f"{function.__module__}.{function.__qualname__}"

    def keyed(build: str, _code: str, *args, **kwargs):
        loaded = current()
        if loaded.build_id == build:
            found = warm.lookup(loaded.path, warm.key(name, args, kwargs))
            if found is not warm.MISSING:
                return found
        return function(*args, **kwargs)

    # Flask-Caching names a memoized function by its module and qualified name.
    keyed.__module__, keyed.__qualname__ = function.__module__, function.__qualname__
    memoized = cache.memoize(timeout=CACHE_TIMEOUT)(keyed)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not has_app_context():
            return function(*args, **kwargs)
        if warm.is_recording():
            return warm.recorded(build_id(), warm.key(name, args, kwargs),
                                 lambda: function(*args, **kwargs))
        return memoized(build_id(), warm.fingerprint(), *args, **kwargs)

    wrapper.uncached = function  # type: ignore[attr-defined]
    return wrapper


def current() -> store.Store:
    """The published store, looked up once per request: a request never mixes two builds,
    and the dozens of queries a callback makes do not each read the ``current`` link."""
    if not has_request_context():
        return store.load_store()
    found = g.get("equalities_store")
    if found is None:
        found = g.equalities_store = store.load_store()
    return found


def build_id() -> str:
    return current().build_id


_local_metrics: dict[str, tuple[registry.Metric, ...]] = {}


def local_metrics() -> tuple[registry.Metric, ...]:
    """The local indicators the published store's manifest defines, as registry metrics
    (none without a store); the registry takes them from here (``registry.use_local``)."""
    try:
        loaded = current()
    except store.StoreError:
        return ()
    found = _local_metrics.get(loaded.build_id)
    if found is None:
        found = registry.local_metrics(loaded.manifest.get("local"))
        _local_metrics.clear()
        _local_metrics[loaded.build_id] = found
    return found


registry.use_local(local_metrics)


# -- organisations and periods ------------------------------------------------------------


@cached
def month_counts(metric_ids: tuple[str, ...], month_start: str) -> pl.DataFrame:
    """The published counts (after disclosure control) of ``metric_ids`` for the month
    starting ``month_start`` (ISO date): every organisation and breakdown, text columns as
    strings; withheld counts are null and ``suppressed``."""
    counts = store.as_text(current().metric_counts(*metric_ids))
    start = date.fromisoformat(month_start)
    return counts.filter((pl.col("period_kind") == "month") & (pl.col("period_start") == start))



def organisations() -> pl.DataFrame:
    return current().organisations


def org_name(code: str) -> str:
    orgs = organisations().filter(pl.col("org_code") == code)
    return orgs["name"][0] if orgs.height else code


def org_level(code: str) -> str | None:
    orgs = organisations().filter(pl.col("org_code") == code)
    return orgs["org_level"][0] if orgs.height else None


def peer_group_of(code: str) -> str | None:
    orgs = organisations().filter(pl.col("org_code") == code)
    return orgs["peer_group"][0] if orgs.height else None


@cached
def _held(metric_id: str) -> pl.DataFrame:
    """Each distinct level, breakdown and period of the metric's rows: the few hundred rows
    the look-ups of periods and breakdowns need, instead of the metric's millions."""
    return current().metric_counts(metric_id).group_by(
        "metric", "org_level", "dimension", "period_kind", "period_label", "period_start",
        "period_end").len().drop("len")


@cached
def periods(metric_id: str, period_kind: str | None = None) -> list[str]:
    """Period labels of a metric (optionally of one kind), oldest first."""
    return cells.periods(_held(metric_id), metric=metric_id, period_kind=period_kind)[
        "period_label"
    ].to_list()



@cached
def _available(metric_id: str) -> dict:
    counts = _held(metric_id)
    cells_by_level = counts.select("org_level", "dimension").unique()
    dims: dict[str, set[str]] = {}
    for level, dimension in cells_by_level.iter_rows():
        dims.setdefault(str(level), set()).add(str(dimension))
    return {"kinds": set(counts["period_kind"].cast(pl.String).unique().to_list()),
            "dims": dims}


def dimensions_at(metric_id: str, level: str | None) -> tuple[str, ...]:
    """Breakdowns of a metric at ``level`` that the registry declares AND the store holds
    (a real store may hold only totals where the publisher gives no breakdown)."""
    held = _available(metric_id)["dims"].get(level or "", set())
    return tuple(d for d in registry.get(metric_id).dimensions_at(level or "") if d in held)


def breakdowns_by_level(metric_id: str) -> dict[str, tuple[str, ...]]:
    """Level -> :func:`dimensions_at` for every level the metric is published for."""
    return {level: dimensions_at(metric_id, level)
            for level in registry.get(metric_id).levels}


def period_kinds(metric_id: str) -> tuple[str, ...]:
    """The metric's period kinds that the store holds, in registry order."""
    held = _available(metric_id)["kinds"]
    return tuple(k for k in registry.get(metric_id).period_kinds if k in held)


def default_period_kind(metric_id: str) -> str | None:
    kinds = period_kinds(metric_id)
    return kinds[0] if kinds else None


def latest_period(metric_id: str) -> str | None:
    """The newest period of the metric's preferred kind that the store holds."""
    kind = default_period_kind(metric_id)
    labels = periods(metric_id, kind) if kind else []
    return labels[-1] if labels else None


def period_kind_of(metric_id: str, period_label: str) -> str | None:
    for kind in registry.get(metric_id).period_kinds:
        if period_label in periods(metric_id, kind):
            return kind
    return None


# -- comparators ---------------------------------------------------------------------------


def _comparator(metric_id: str, org_code: str, period_label: str, dimension: str,
                comparator: str) -> pl.DataFrame | None:
    """The comparator's breakdown for ``org_code``: England's (cached) or its peer group's."""
    if comparator == "england" and org_code != "ENG":
        return breakdown(metric_id, "ENG", period_label, dimension, "none")
    if comparator == "peer":
        s = current()
        group = peer_group_of(org_code)
        if not group:
            return None
        members = tuple(sorted(s.organisations.filter(pl.col("peer_group") == group)["org_code"]))
        counts = rollup.rollup(s.org_counts(metric_id, *members), org_codes=members, code="PEER",
                               rare_event=registry.get(metric_id).rare_event)
        return breakdown_mod.breakdown(counts, metric=registry.get(metric_id), org_code="PEER",
                                       period_label=period_label, dimension=dimension)
    return None


@cached
def breakdown(metric_id: str, org_code: str, period_label: str, dimension: str,
              comparator: str = "england") -> pl.DataFrame:
    """:func:`metrics.breakdown.breakdown` for the store, against England or the peer group."""
    reference = _comparator(metric_id, org_code, period_label, dimension, comparator)
    return breakdown_mod.breakdown(
        current().org_counts(metric_id, org_code), metric=registry.get(metric_id),
        org_code=org_code,
        period_label=period_label, dimension=dimension, comparator=reference,
    )



@cached
def inequality(metric_id: str, org_code: str, period_label: str, dimension: str) -> dict:
    frame = breakdown(metric_id, org_code, period_label, dimension, "none")
    return inequality_mod.inequality(frame, metric=registry.get(metric_id), dimension=dimension)



@cached
def excess(metric_id: str, org_code: str, period_label: str, dimension: str) -> dict:
    """:func:`metrics.excess.excess`: each group's excess events over the reference group's
    rate, and their total over the known groups."""
    frame = breakdown(metric_id, org_code, period_label, dimension, "none")
    return excess_mod.excess(frame, metric=registry.get(metric_id))



@cached
def completeness(org_code: str, period_label: str, dimension: str) -> dict | None:
    s = current()
    counts = pl.concat([s.org_counts(m, org_code) for m in ("ethnicity_recorded",
                                                             "deprivation_known")])
    return breakdown_mod.completeness(counts, org_code=org_code,
                                      period_label=period_label, dimension=dimension)



def _england_value(metric_id: str, period_label: str, dimension: str, group: str) -> float | None:
    frame = breakdown(metric_id, "ENG", period_label, dimension, "none")
    row = frame.filter(pl.col("group") == group)
    return row["value"][0] if row.height else None


@cached
def benchmark(metric_id: str, period_label: str, dimension: str = TOTAL,
              group: str = "All", level: str = "trust") -> pl.DataFrame:
    """All trusts (or ICBs, regions) for one group, with funnel significance against
    England and ranks."""
    s = current()
    return benchmark_mod.benchmark(
        s.period_counts(metric_id, period_label), s.organisations,
        metric=registry.get(metric_id), period_label=period_label,
        dimension=dimension, group=group,
        average=_england_value(metric_id, period_label, dimension, group), level=level,
    )



@cached
def funnel(metric_id: str, period_label: str, dimension: str = TOTAL,
           group: str = "All", level: str = "trust") -> pl.DataFrame:
    frame = benchmark(metric_id, period_label, dimension, group, level)
    return benchmark_mod.funnel_curve(
        frame, metric=registry.get(metric_id),
        average=_england_value(metric_id, period_label, dimension, group),
    )



@cached
def trend(metric_id: str, org_code: str, period_kind: str,
          dimension: str) -> tuple[pl.DataFrame, dict]:
    """(points, SPC summaries) for each group of ``dimension``."""
    return trend_mod.trend(current().org_counts(metric_id, org_code),
                           metric=registry.get(metric_id), org_code=org_code,
                           period_kind=period_kind, dimension=dimension)



def _future_labels(period_kind: str, after, count: int) -> dict:
    """Period end -> label for the ``count`` periods of ``period_kind`` after ``after``."""
    build = PERIOD_BUILDERS.get(period_kind)
    if build is None or count < 1:
        return {}
    # Start a year early so a period that began before ``after`` is complete in the range.
    first = month_index(after.year, after.month) - 12
    later = sorted((p for p in build(first, first + 12 * (count + 2)) if p.end > after),
                   key=lambda p: p.end)
    return {p.end: p.label for p in later[:count]}


@cached
def projection(metric_id: str, org_code: str, period_kind: str,
               dimension: str) -> tuple[pl.DataFrame, dict, dict]:
    """(projected points, fits, gaps) from :func:`metrics.projection.projection` on the
    :func:`trend` points, with period labels (``period``; ``crossing_period``,
    ``crossing_period_lower``/``_upper`` in each gap)."""
    points, _ = trend(metric_id, org_code, period_kind, dimension)
    projected, fits, gaps = projection_mod.projection(
        points, metric=registry.get(metric_id), dimension=dimension)
    if points.is_empty():
        return projected, fits, gaps
    labels = dict(zip(points["period_end"], points["period"], strict=True))
    years = projection_mod.WITHIN_YEARS + 1
    labels |= _future_labels(period_kind, points["period_end"].max(),
                             max(projected["step"].max() or 0, 12 * years))
    projected = projected.with_columns(
        period=pl.col("period_end").replace_strict(labels, default=None, return_dtype=pl.String))
    gaps = {group: gap | {f"crossing_period{suffix}": labels.get(gap.get(f"crossing_end{suffix}"))
                          for suffix in ("", "_lower", "_upper")}
            for group, gap in gaps.items()}
    return projected, fits, gaps



def stored_dimensions(metric_id: str, level: str | None) -> frozenset[str]:
    """Every dimension the store holds for the metric at ``level``, whether or not the
    registry offers it as a breakdown (cross-tabulations such as ethnicity by deprivation
    quintile are not registry breakdowns)."""
    return frozenset(_available(metric_id)["dims"].get(level or "", ()))


def holds(metric_id: str, level: str | None, dimension: str) -> bool:
    """Whether the store holds ``dimension`` for the metric at ``level``
    (:func:`stored_dimensions`)."""
    return dimension in stored_dimensions(metric_id, level)


def metrics_holding(dimension: str) -> tuple[str, ...]:
    """Ids of outcome metrics (not the population profile) for which the store holds
    ``dimension`` at some level."""
    return tuple(m.id for m in registry.outcome_metrics()
                 if any(dimension in dims
                        for dims in _available(m.id)["dims"].values()))


def held_dimensions(metric_id: str) -> dict[str, tuple[str, ...]]:
    """Level -> every dimension the store holds for the metric there (registry order of
    levels, then any other; dimensions in :data:`metrics.categories.DIMENSIONS` order).
    Levels where the store holds nothing for the metric are left out."""
    held = _available(metric_id)["dims"]
    order = [*registry.get(metric_id).levels, *sorted(set(held) - set(
        registry.get(metric_id).levels))]
    return {level: tuple(d for d in DIMENSIONS if d in held[level])
            for level in order if held.get(level)}


def held_by_metric() -> dict[str, dict[str, tuple[str, ...]]]:
    """Metric id -> :func:`held_dimensions`, for every metric of the registry."""
    return {m.id: held_dimensions(m.id) for m in registry.all_metrics()}


@cached
def _figure_levels(metric_id: str) -> dict[str, dict[str, bool]]:
    totals = current().metric_counts(metric_id).filter(pl.col("dimension") == TOTAL)
    shown = totals.group_by("org_level", "period_label").agg(
        (~pl.col("suppressed") & pl.col("numerator").is_not_null()).any().alias("shown"))
    out: dict[str, dict[str, bool]] = {}
    for level, label, any_shown in shown.iter_rows():
        out.setdefault(str(level), {})[str(label)] = bool(any_shown)
    return out


def figure_levels(metric_id: str, period_label: str | None = None) -> dict[str, bool]:
    """Level -> whether the store holds a figure that can be shown (not suppressed) for the
    metric's total at that level, in ``period_label`` (any period when None). Levels with
    no row at all are left out, so a level mapped to False holds only suppressed figures."""
    held = _figure_levels(metric_id)
    out = {}
    for level in (*registry.get(metric_id).levels, *sorted(set(held) - set(
            registry.get(metric_id).levels))):
        periods = held.get(level, {})
        if period_label is not None:
            if period_label in periods:
                out[level] = periods[period_label]
        elif periods:
            out[level] = any(periods.values())
    return out


@cached
def _period_end(metric_id: str, period_label: str):
    ends = current().period_counts(metric_id, period_label)["period_end"]
    return ends.max() if ends.len() else None


def england_sum_notes(metric_id: str) -> dict[str, str]:
    """Period label -> what England's figure of the metric is, for the periods where the
    store summed it from a file's trusts because no file gives it (the notes of the
    manifest's ``rollups`` entry at level ``england``, e.g. "England: sum of the 93 of 122
    English organisations in the MBRRACE-UK file ..."), oldest first."""
    out: dict[str, str] = {}
    for entry in current().manifest.get("rollups") or ():
        if entry.get("metric") == metric_id and entry.get("level") == "england":
            for item in entry.get("sums") or ():
                out[str(item.get("period"))] = str(item.get("note") or "")
    return out


def england_sum_note(metric_id: str, period_label: str | None) -> str | None:
    """What England's figure of the metric for ``period_label`` is where the store summed
    it from trusts (:func:`england_sum_notes`); None for a published England figure."""
    return england_sum_notes(metric_id).get(str(period_label)) if period_label else None


def summed_from_trusts(metric_id: str, level: str | None, period_label: str) -> dict | None:
    """How the store made ``level``'s figures of the metric for ``period_label`` when no file
    published them: ``{"file": ODS file, "as_at": date of its content}`` for an ICB / LMNS or
    region sum of trusts (from the manifest's ``rollups`` and ``ods_editions``), ``{"note":
    ...}`` for England's (:func:`england_sum_note`); None for published figures."""
    manifest = current().manifest
    rolled = any(r.get("metric") == metric_id and r.get("level") == level
                 and period_label in (r.get("periods") or ())
                 for r in manifest.get("rollups") or ())
    if not rolled:
        return None
    if level == "england":
        return {"note": england_sum_note(metric_id, period_label)}
    # The edition the ingest placed the trusts by (geography.edition_for, same rule).
    editions = sorted((Edition(e["file"], date.fromisoformat(str(e["as_at"])), {})
                       for e in manifest.get("ods_editions") or () if e.get("as_at")),
                      key=lambda e: e.as_at)
    end = _period_end(metric_id, period_label)
    if not editions or end is None:
        return {"file": None, "as_at": None}
    edition = edition_for(editions, end)
    return {"file": edition.file, "as_at": edition.as_at}


def sum_left_out(metric_id: str, org_code: str, period_label: str) -> str | None:
    """Why the store holds no sum of trusts for an ICB / LMNS or region in a period where
    it summed the others (the manifest's ``left_out_incomplete``), e.g. "no figure for
    R1K"; None when no sum was left out."""
    prefix = f"{org_code} {period_label} ("
    for entry in current().manifest.get("rollups") or ():
        if entry.get("metric") != metric_id:
            continue
        for item in entry.get("left_out_incomplete") or ():
            if str(item).startswith(prefix):
                return str(item)[len(prefix):].rstrip(")")
    return None


@cached
def _dimension_periods(metric_id: str, level: str, dimension: str) -> list[str]:
    counts = _held(metric_id)
    held = counts.filter((pl.col("org_level") == level) & (pl.col("dimension") == dimension))
    return held.select("period_label", "period_end").unique().sort("period_end", "period_label")[
        "period_label"].cast(pl.String).to_list()


def dimension_periods(metric_id: str, level: str | None, dimension: str) -> list[str]:
    """Labels of the periods (oldest first) for which the store holds ``dimension`` for
    the metric at ``level``."""
    return _dimension_periods(metric_id, level or "", dimension)


@cached
def scorecard(org_code: str) -> pl.DataFrame:
    """:func:`metrics.scorecard.scorecard` for the store, with ``england_note`` (what
    England's figure is where the store summed it from trusts, else null)."""
    # The trust's and England's rows only, so the scorecard's 16 look-ups run on a few
    # hundred rows whatever the number of trusts.
    s = current()
    counts = pl.concat([s.org_counts(m.id, org_code, "ENG") for m in registry.ANNEX3_METRICS])
    frame = scorecard_mod.scorecard(counts, org_code=org_code)
    # Where England's figure is a sum of trusts (no file gives it), what it is: the page,
    # its chart and its download say so beside England's value.
    periods = frame["period"] if "period" in frame.columns else [None] * frame.height
    notes = [england_sum_note(m, p) if p else None
             for m, p in zip(frame["metric"], periods, strict=True)]
    return frame.with_columns(pl.Series("england_note", notes, dtype=pl.String))



# -- overview cards ------------------------------------------------------------------------


MATERIAL_RATIO = 1.05  # overview cards only name gaps of at least 5% either way


def _largest_gap(metric_id: str, org_code: str, period_label: str, dimension: str) -> dict | None:
    """The significant, material gap to the reference group that is largest in relative terms."""
    frame = breakdown(metric_id, org_code, period_label, dimension, "none")
    significant = frame.filter(pl.col("gap_significant").fill_null(False)
                               & (pl.col("ratio").log().abs() >= math.log(MATERIAL_RATIO))
                               & pl.col("group").is_in(list(DIMENSIONS[dimension].groups)))
    if significant.is_empty():
        return None
    row = significant.with_columns(
        size=(pl.col("ratio").log()).abs()
    ).sort("size", descending=True).row(0, named=True)
    return row | {"reference": DIMENSIONS[dimension].reference, "dimension": dimension}


@cached
def overview(org_code: str) -> list[dict]:
    """Per metric: the latest total with CI and comparison, the value a year earlier and the
    largest significant gaps by ethnicity and deprivation quintile."""
    cards = []
    for metric in registry.OUTCOME_METRICS:
        level = org_level(org_code)
        if level not in metric.levels:
            continue
        kind = default_period_kind(metric.id)
        labels = periods(metric.id, kind) if kind else []
        if not labels:
            continue
        row = breakdown(metric.id, org_code, labels[-1], TOTAL, "england").row(
            0, named=True
        )
        previous = None
        step = cells.year_earlier_step(kind)
        if len(labels) > step:
            prev = breakdown(metric.id, org_code, labels[-1 - step], TOTAL, "none")
            previous = prev.row(0, named=True) | {"period": labels[-1 - step]}
        gaps = []
        for dimension in (ETHNICITY, QUINTILE):
            if dimension in dimensions_at(metric.id, level):
                gap = _largest_gap(metric.id, org_code, labels[-1], dimension)
                if gap:
                    gaps.append(gap)
        cards.append({"metric": metric.id, "period": labels[-1], "latest": row,
                      "previous": previous, "gaps": gaps,
                      "change": scorecard_mod.change(metric, row, previous)})
    return cards



CHANGE_DIMENSIONS = (ETHNICITY, QUINTILE)  # deciles would repeat the quintiles' story


@cached
def changes(org_code: str) -> dict:
    """The most important changes for an organisation (:func:`metrics.changes.rank_changes`):
    ``{"since": the first metric's comparable period a year earlier, "changes": frame}``."""
    level = org_level(org_code)
    parts, since = [], None
    for metric in registry.OUTCOME_METRICS:
        if level not in metric.levels:
            continue
        dims = [d for d in CHANGE_DIMENSIONS if d in dimensions_at(metric.id, level)]
        kind = default_period_kind(metric.id)
        labels = periods(metric.id, kind) if kind else []
        step = cells.year_earlier_step(kind) if kind else 1
        if len(labels) > step:
            since = since or labels[-1 - step]
            for dimension in dims:
                parts.append(changes_mod.gap_changes(
                    metric=metric, period_kind=kind,
                    latest=breakdown(metric.id, org_code, labels[-1], dimension, "none"),
                    previous=breakdown(metric.id, org_code, labels[-1 - step],
                                        dimension, "none")))
        spc_kind = trend_mod.spc_period_kind(period_kinds(metric.id))
        for dimension in (TOTAL, *dims) if spc_kind else ():
            points, _ = trend(metric.id, org_code, spc_kind, dimension)
            parts.append(changes_mod.spc_signals(metric=metric, points=points,
                                                 dimension=dimension, period_kind=spc_kind))
    return {"since": since, "changes": changes_mod.rank_changes(parts)}



# -- data downloads (Data and definitions page) ---------------------------------------------


@cached
def download_rows() -> dict[str, int]:
    """Rows of the counts table per metric id (for stating download sizes)."""
    return current().metric_rows()



def download_counts(metric_id: str) -> pl.DataFrame:
    """Every row of the counts table for one metric, exactly as stored (coded columns as text).

    Not memoized: the frame is a filter of the table already held in memory.
    """
    registry.get(metric_id)
    return store.as_text(current().metric_counts(metric_id))


@functools.lru_cache(maxsize=2)
def _download_values(build: str, metric_id: str) -> pl.DataFrame:
    from metrics.values import with_values  # local: keeps this section self-contained

    metric = registry.get(metric_id)
    return with_values(cells.select(current().metric_counts(metric_id), metric=metric_id), metric)


def download_values(metric_id: str) -> pl.DataFrame:
    """Every cell of one metric with its value and 95% / 99.8% CIs (display units).

    Kept in a small in-process LRU cache rather than Flask-Caching: a frame is up to ~200,000
    rows, too large to pickle into the shared cache on every click, and cheap to rebuild.
    """
    return _download_values(build_id(), metric_id)


# -- context series (Mortality and Experience pages) --------------------------------------


def totals_with_england(metric_id: str, org_code: str, period_kind: str) -> pl.DataFrame:
    """England's total for every period of ``period_kind`` and, unless it is England,
    ``org_code``'s total beside it: :func:`trend` points with ``group`` holding the
    organisation's name (England first). Empty when neither has figures."""
    parts = []
    for code in dict.fromkeys(("ENG", org_code)):
        points, _ = trend(metric_id, code, period_kind, TOTAL)
        if not points.is_empty():
            parts.append(points.with_columns(group=pl.lit(org_name(code))))
    return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
