"""Organisations of a real store: dated ODS editions, mergers, roll-ups, peer groups.

Trusts are placed in ICBs and regions by the ODS etr edition that applies to each period
(ICBs merged in 2026, so the lookup drifts); ICB / LMNS and region figures that no file
publishes are summed from their trusts with :func:`metrics.rollup.rollup`, so a withheld
member makes the sum suppressed. England's figure, where a file publishes trusts only, is
the sum of the trusts whose counts the file publishes (:func:`england_sums`). Trusts that
closed are linked to their successor from the explicit ``successors.csv``.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from data import store
from data.ingest import ods
from metrics import rollup
from metrics.disclosure import SMALL_MAX

if TYPE_CHECKING:
    from data.ingest.mbrrace import EnglandSum

SUCCESSORS = Path(__file__).with_name("successors.csv")
COUNT_COLUMNS = ("source", "metric", "org_code", "org_level", "period_label", "period_kind",
                 "period_start", "period_end", "dimension", "group", "group_order",
                 "numerator", "denominator", "published_value", "suppressed")
ROLLED_LEVELS = ("icb", "region")


@dataclass(frozen=True)
class Edition:
    """One ODS etr edition: its file, the date its content shows, its trusts."""

    file: str
    as_at: date
    trusts: dict[str, ods.Trust]

    def parent(self, code: str, level: str, successor: str | None = None) -> str | None:
        """The ICB (``level="icb"``) or region of trust ``code`` in this edition, through its
        successor when the edition does not list it."""
        trust = self.trusts.get(code) or (self.trusts.get(successor) if successor else None)
        if trust is None:
            return None
        return trust.icb_code if level == "icb" else trust.region_code


def edition_for(editions: list[Edition], day: date) -> Edition:
    """The newest edition known by ``day`` (the structure in force then), or the oldest
    edition for earlier days. ``editions`` are sorted oldest first."""
    known = [e for e in editions if e.as_at <= day]
    return known[-1] if known else editions[0]


@dataclass(frozen=True)
class Merger:
    predecessor: str
    successor: str
    start: date  # first day as part of the successor
    note: str


def read_successors(path: Path = SUCCESSORS) -> dict[str, Merger]:
    """Predecessor code -> :class:`Merger` from the explicit table (``#`` lines are
    comments)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    out = {}
    for row in csv.DictReader(lines):
        out[row["predecessor"]] = Merger(row["predecessor"], row["successor"],
                                         date.fromisoformat(row["from"]), row["note"])
    return out


def check_successors(mergers: dict[str, Merger], trusts: dict[str, ods.Trust]) -> list[str]:
    """Notes where the table and etr disagree (close date not the day before ``from``)."""
    notes = []
    for m in mergers.values():
        trust = trusts.get(m.predecessor)
        if trust is None or trust.closed is None:
            continue  # closes after the newest edition, or not in it
        if trust.closed != m.start - timedelta(days=1):
            notes.append(f"{m.predecessor} closes on {trust.closed} in etr.csv but joins "
                         f"{m.successor} on {m.start} in successors.csv")
    return notes


def roll_up(counts: pl.DataFrame, editions: list[Edition],
            mergers: dict[str, Merger]) -> tuple[pl.DataFrame, list[dict]]:
    """ICB and region rows summed from trusts wherever no file publishes that level for a
    metric and period; also one manifest entry per metric and level. A sum that would miss
    a member trust without a figure is left out (and listed), not published short."""
    if not editions:
        return counts.clear(), []
    trusts = counts.filter(pl.col("org_level") == "trust")
    published = set(counts.filter(pl.col("org_level").is_in(ROLLED_LEVELS)).select(
        "metric", "org_level", "period_kind", "period_label").unique().iter_rows())
    periods = trusts.select("metric", "period_kind", "period_label", "period_start",
                            "period_end").unique().sort("metric", "period_end")
    frames, entries = [], []
    for level in ROLLED_LEVELS:
        for metric, part in periods.group_by("metric", maintain_order=True):
            todo = [p for p in part.iter_rows(named=True)
                    if (metric[0], level, p["period_kind"], p["period_label"]) not in published]
            if not todo:
                continue
            rows, entry = _roll_metric(trusts, metric[0], level, todo, editions, mergers)
            frames.append(rows)
            entries.append(entry)
    rolled = pl.concat(frames, how="vertical_relaxed") if frames else counts.clear()
    return rolled, entries


def _roll_metric(trusts: pl.DataFrame, metric: str, level: str, todo: list[dict],
                 editions: list[Edition], mergers: dict[str, Merger]) -> tuple[pl.DataFrame,
                                                                             dict]:
    frames, dropped, used = [], [], Counter()
    series = trusts.filter(pl.col("metric") == metric)
    first_report = dict(series.group_by("org_code", "period_kind").agg(
        pl.col("period_start").min()).select(
        pl.concat_str("org_code", "period_kind", separator="|"), "period_start").iter_rows())
    gained = {m.successor: m.start for m in mergers.values()}
    for period in todo:
        edition = edition_for(editions, period["period_end"])
        used[edition.file] += 1
        cells = series.filter((pl.col("period_kind") == period["period_kind"])
                              & (pl.col("period_label") == period["period_label"]))
        members: dict[str, list[str]] = {}
        for code in cells["org_code"].to_list():
            successor = mergers[code].successor if code in mergers else None
            parent = edition.parent(code, level, successor)
            if parent:
                members.setdefault(parent, []).append(code)
        present = set(cells["org_code"].to_list())
        for parent, codes in sorted(members.items()):
            missing = [c for c, t in edition.trusts.items()
                       if (t.icb_code if level == "icb" else t.region_code) == parent
                       and c not in present
                       and _expected(c, t, period, first_report, gained)]
            if missing:
                dropped.append(f"{parent} {period['period_label']} (no figure for "
                               f"{', '.join(sorted(missing))})")
                continue
            frames.append(rollup.rollup(cells, org_codes=tuple(codes), code=parent,
                                        level=level).select(COUNT_COLUMNS))
    rows = pl.concat(frames, how="vertical_relaxed") if frames else trusts.clear()
    entry = dict(metric=metric, level=level,
                 periods=[p["period_label"] for p in todo],
                 cells=rows.height, suppressed=int(rows["suppressed"].sum() or 0),
                 lookup={f: n for f, n in sorted(used.items())},
                 left_out_incomplete=dropped)
    return rows, entry


def england_sums(counts: pl.DataFrame, organisations: pl.DataFrame,
                 sums: Sequence[EnglandSum], *,
                 protect: Callable[[pl.DataFrame, pl.DataFrame], pl.DataFrame] | None = None
                 ) -> tuple[pl.DataFrame, list[dict]]:
    """England rows for the metrics and periods no file gives England's figure for, each the
    sum of the trusts whose counts a trust file publishes (births and deaths over the same
    trusts); also one manifest entry per metric (level ``england``, with each sum's note).

    The sum takes in counts that this store does not show: trusts' counts of 1 to 7, which
    it withholds though MBRRACE-UK publishes them, and organisations matched to no ODS code.
    The sum less the counts shown is their total, so a sum is kept only where, in the store
    as published with it (``protect``, by default :func:`data.store.controlled`, the
    disclosure control every build passes), those hidden counts are at least two and their
    total pins none of them (not every one 1, nor every one 7). Otherwise it is left out and
    listed (``left_out_incomplete``). Organisations whose counts the file withholds are in
    no sum, so no sum tells anything of them.
    """
    protect = protect or store.controlled
    held = set(counts.filter(pl.col("org_level") == "england").select(
        "metric", "period_kind", "period_label").unique().iter_rows())
    chosen: dict[tuple[str, str, str], EnglandSum] = {}
    for found in sums:
        row = found.row()
        key = (row["metric"], row["period_kind"], row["period_label"])
        if key not in held and key not in chosen:  # the first file of a year wins, as in
            chosen[key] = found                      # its trusts' rows
    dropped: dict[str, list[str]] = {}

    def leave_out_unsafe(published: pl.DataFrame) -> bool:
        unsafe = {key: why for key, found in chosen.items()
                  if (why := _gives_away(found, published))}
        for key, why in unsafe.items():
            dropped.setdefault(key[0], []).append(f"ENG {key[2]} ({why})")
            del chosen[key]
        return bool(unsafe)

    # First against the store without any sum: a sum that gives a count away there is left
    # out whatever the others do. Then with the sums kept, until none gives one away (each
    # pass leaves at least one out, or ends).
    published = protect(counts, organisations)
    leave_out_unsafe(published)
    while chosen:
        published = protect(pl.concat([counts, _rows(chosen, counts)], how="vertical_relaxed"),
                            organisations)
        if not leave_out_unsafe(published):
            break
    entries = []
    for metric in sorted({key[0] for key in chosen} | set(dropped)):
        mine = sorted(((k, v) for k, v in chosen.items() if k[0] == metric),
                      key=lambda kv: kv[1].year)
        shown = published.filter((pl.col("metric") == metric)
                                 & (pl.col("org_level") == "england")
                                 & pl.col("period_label").is_in([k[2] for k, _ in mine]))
        entries.append(dict(
            metric=metric, level="england", periods=[k[2] for k, _ in mine],
            cells=shown.height, suppressed=int(shown["suppressed"].sum() or 0), lookup={},
            left_out_incomplete=dropped.get(metric, []),
            sums=[dict(period=k[2], file=v.file, organisations=len(v.members),
                       summed=len(v.summed), withheld=[m.name for m in v.withheld],
                       summed_not_in_store=[m.name for m in v.summed if m.code is None],
                       note=v.note()) for k, v in mine]))
    return _rows(chosen, counts), entries


def _rows(chosen: dict[tuple, EnglandSum], counts: pl.DataFrame) -> pl.DataFrame:
    rows = [found.row() for found in chosen.values()]
    return pl.DataFrame(rows, schema=counts.schema) if rows else counts.clear()


def _gives_away(found: EnglandSum, published: pl.DataFrame) -> str | None:
    """Why ``found`` would give away a count that ``published`` does not show (worded to
    follow "it has"), or None."""
    trusts = published.filter(
        (pl.col("metric") == found.metric) & (pl.col("org_level") == "trust")
        & (pl.col("period_label") == str(found.year)) & (pl.col("dimension") == "total"))
    for measure, column in (("death", "numerator"), ("birth", "denominator")):
        shown_rows = trusts.filter(pl.col(column).is_not_null())
        if column == "numerator":
            shown_rows = shown_rows.filter(~pl.col("suppressed"))
        shown = dict(shown_rows.select(pl.col("org_code").cast(pl.String), column).iter_rows())
        hidden = [getattr(m, column) for m in found.summed
                  if shown.get(m.code) != getattr(m, column)]
        total = sum(hidden)
        if len(hidden) == 1:
            return f"a withheld {measure} count among those summed that the sum would give away"
        if hidden and (total <= len(hidden) or (all(1 <= v <= SMALL_MAX for v in hidden)
                                                and total >= SMALL_MAX * len(hidden))):
            return (f"{len(hidden)} withheld {measure} counts among those summed whose total "
                    f"({total}) would give each away")
    return None


def _expected(code: str, trust: ods.Trust, period: dict, first_report: dict[str, date],
              gained: dict[str, date]) -> bool:
    """Whether trust ``code`` should have a figure in ``period``: it reports the metric in
    some period of this kind and was open throughout this one, unless the period is before
    its first figure and it took over another trust's services after the period began (it
    had none to report yet)."""
    first = first_report.get(f"{code}|{period['period_kind']}")
    if first is None:
        return False
    if trust.opened and trust.opened > period["period_start"]:
        return False
    if trust.closed and trust.closed < period["period_end"]:
        return False
    return not (period["period_start"] < first and code in gained
                and gained[code] > period["period_start"])


def organisation_rows(counts: pl.DataFrame, *, trusts: dict[str, ods.Trust],
                      icb_of: dict[str, str | None], names: dict[tuple[str, str], str],
                      mergers: dict[str, Merger], peer_groups: dict[str, str | None],
                      births: dict[str, int]) -> list[dict]:
    """England, regions, ICBs and trusts that have figures in ``counts``.

    ``trusts`` is the newest etr edition (names, close dates); ``icb_of`` the ICB each trust
    is placed in for the newest period; ``names`` published names by (level, code).
    """
    held = {level: sorted(set(part["org_code"].cast(pl.String).to_list()))
            for (level,), part in counts.group_by("org_level")}
    newest = counts["period_end"].max()
    rows = [dict(org_code="ENG", name="England", org_level="england")]
    rows += [dict(org_code=c, name=n, org_level="region", region_code=c, region=n)
             for c, n in ods.REGIONS.items()]
    region_votes: dict[str, Counter] = {}
    for code, icb in icb_of.items():
        trust = trusts.get(code)
        if icb and trust and trust.region_code:
            region_votes.setdefault(icb, Counter())[trust.region_code] += 1
    for code in held.get("icb", []):
        region = region_votes[code].most_common(1)[0][0] if code in region_votes else None
        name = names.get(("icb", code))
        rows.append(dict(org_code=code, name=ods.nice_name(name) if name else f"ICB {code}",
                         org_level="icb", region_code=region, region=ods.REGIONS.get(region)))
    icb_names = {r["org_code"]: r["name"] for r in rows if r["org_level"] == "icb"}
    for code in held.get("trust", []):
        trust = trusts.get(code)
        name = names.get(("trust", code))
        region = trust.region_code if trust else None
        icb = icb_of.get(code)
        merger = mergers.get(code)
        if merger and not (trust and trust.closed) and merger.start > newest:
            merger = None  # a merger after the newest figures that etr does not show yet
        rows.append(dict(
            org_code=code, name=name or (ods.nice_name(trust.name) if trust else code),
            org_level="trust", region_code=region, region=ods.REGIONS.get(region),
            icb_code=icb, icb=icb_names.get(icb, icb) if icb else None,
            peer_group=peer_groups.get(code), successor_code=merger.successor if merger else None,
            opened=trust.opened if trust else None,
            closed=(trust.closed if trust and trust.closed else
                    (merger.start - timedelta(days=1) if merger else None)),
            annual_births=births.get(code),
        ))
    return rows
