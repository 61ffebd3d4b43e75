"""Differencing audit of a published store against the raw counts behind it.

An attacker sees the published cells: exact counts where the source publishes them unrounded
(MBRRACE-UK, CQC, Annex 3 people counts, and every national count), the exact number of
events behind a shown rare-event rate (rate x denominator), rounded counts elsewhere, and
``*`` for withheld cells. Any set of published cells that truly adds up to another
published cell (groups to their total, deciles to quintiles, trusts to their ICB and region,
regions to England, quarters to a longer period) is a linear equation for them. A withheld
count is disclosed when those equations pin it to one value.

Counts of different metrics can add up too (total births = live births + stillbirths), so
stillbirth's denominator minus neonatal death's gives the stillbirths: those relations are
restated here (``ACROSS``) and solved together with the metrics' own.

Relations are taken from the raw counts (only those that truly add up are used), so the
audit does not trust the code under test to know them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse import linalg

from metrics import registry
from metrics.categories import DECILE, DECILES, QUINTILE, QUINTILES, TOTAL

KEY = ["metric", "org_code", "period_label", "dimension", "group"]
CHILD_LEVEL = {"england": "region", "region": "trust", "icb": "trust"}
SMALL_MAX = 7  # restated, not imported: the audit states the rule independently


@dataclass(frozen=True)
class Leak:
    metric: str
    measure: str
    cell: tuple
    raw: int
    how: str

    def __str__(self) -> str:
        return f"{self.metric} {self.measure} {self.cell} (true {self.raw}) {self.how}"


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in KEY + ["org_level",
                                                                        "period_kind"])


def relations(raw: pl.DataFrame, organisations: pl.DataFrame,
              families: tuple[str, ...] = ("dims", "orgs", "periods")
              ) -> list[tuple[tuple, list[tuple]]]:
    """(parent key, child keys) for every additive relation the raw table could hold."""
    raw = _keyed(raw)
    out: list[tuple[tuple, list[tuple]]] = []
    keys = {r: tuple(r) for r in raw.select(KEY).iter_rows()}
    by_cell: dict[tuple, dict] = {}
    for row in raw.iter_rows(named=True):
        by_cell[tuple(row[k] for k in KEY)] = row
    # Groups of one dimension -> the total; decile pairs -> the quintile.
    series: dict[tuple, dict[str, list[tuple]]] = {}
    for key in keys.values():
        series.setdefault(key[:3], {}).setdefault(key[3], []).append(key)
    pairs = {q: (DECILES[2 * i], DECILES[2 * i + 1]) for i, q in enumerate(QUINTILES)}
    pairs["Unknown"] = ("Unknown",)
    for base, dims in series.items() if "dims" in families else ():
        total = dims.get(TOTAL)
        for dim, children in dims.items():
            if dim != TOTAL and total:
                out.append((total[0], children))
        if DECILE in dims and QUINTILE in dims:
            for parent in dims[QUINTILE]:
                wanted = [(*base, DECILE, g) for g in pairs.get(parent[4], ())]
                out.append((parent, [k for k in wanted if k in by_cell]))
    # Organisations: trusts -> ICB and region, ICBs -> region, regions -> England.
    member_of: dict[str, list[tuple[str, str]]] = {}
    for row in organisations.iter_rows(named=True):
        if row["org_level"] == "trust":
            member_of.setdefault(row["icb_code"], []).append(("trust", row["org_code"]))
            member_of.setdefault(row["region_code"], []).append(("trust", row["org_code"]))
        elif row["org_level"] == "icb":
            member_of.setdefault(row["region_code"], []).append(("icb", row["org_code"]))
        elif row["org_level"] == "region":
            member_of.setdefault("ENG", []).append(("region", row["org_code"]))
    for key in by_cell if "orgs" in families else ():
        members = member_of.get(key[1], [])
        for level in {lv for lv, _ in members}:
            children = [(key[0], code, *key[2:]) for lv, code in members if lv == level]
            children = [c for c in children if c in by_cell]
            if children:
                out.append((key, children))
    # Periods: quarters inside a longer period of the same series.
    quarters: dict[tuple, list[dict]] = {}
    for row in by_cell.values():
        if row["period_kind"] == "quarter":
            quarters.setdefault((row["metric"], row["org_code"], row["dimension"],
                                 row["group"]), []).append(row)
    for key, row in by_cell.items() if "periods" in families else ():
        if row["period_kind"] == "quarter":
            continue
        inside = [q for q in quarters.get((key[0], key[1], key[3], key[4]), [])
                  if q["period_start"] >= row["period_start"]
                  and q["period_end"] <= row["period_end"]]
        if inside:
            out.append((key, [tuple(q[k] for k in KEY) for q in inside]))
    return out


def _exact(published: pl.DataFrame, rates_exact: bool) -> pl.DataFrame:
    """Per published cell, the exact numerator and denominator an attacker can read, or null.

    With ``rates_exact`` a shown rare-event rate (computed from unrounded counts) times its
    rounded denominator counts as the exact number of events, which it is to within a
    fraction of one for any denominator under several thousand."""
    rules = {m.id: m for m in registry.METRICS_LIST}
    rounded = pl.col("metric").is_in([m for m, d in rules.items()
                                      if d.disclosure == registry.ROUND_TO_5])
    rare = pl.col("metric").is_in([m for m, d in rules.items() if d.rare_event])
    multiplier = pl.col("metric").replace_strict({m: float(d.multiplier)
                                                 for m, d in rules.items()})
    exact_counts = ~rounded | (pl.col("org_level") == "england")
    events = (pl.col("published_value") * pl.col("denominator") / multiplier).round(0)
    return _keyed(published).with_columns(
        known_numerator=pl.when(exact_counts).then(pl.col("numerator").cast(pl.Float64))
        .when(pl.col("numerator") == 0).then(0.0)
        .when(rare & ~pl.col("suppressed") & rates_exact).then(events),
        known_denominator=pl.when(exact_counts).then(pl.col("denominator").cast(pl.Float64))
        .when(pl.col("denominator") == 0).then(0.0),
    )


MEASURES = ("numerator", "denominator")
# Counts of different metrics that add up for one organisation, period and group, restated
# from the definitions (not imported): (total, parts), each (metric, measure index).
ACROSS = (
    # Total births = live births + stillbirths.
    (("stillbirth", 1), (("neonatal_death", 1), ("stillbirth", 0))),
)


def audit(published: pl.DataFrame, raw: pl.DataFrame, organisations: pl.DataFrame,
          families: tuple[str, ...] = ("dims", "orgs", "periods"), *,
          rates_exact: bool = False, across: tuple = ACROSS) -> list[Leak]:
    """Every withheld small count that the published cells pin down exactly.

    A cell is ``(measure index, key)``. Relations within a metric hold for numerators and
    denominators alike; ``across`` adds those between metrics. Both kinds are kept only
    where the raw counts truly add up, and the metrics they join are solved together.
    """
    exact = _exact(published, rates_exact)
    truth = {tuple(r[:5]): (r[5], r[6]) for r in _keyed(raw).select(
        *KEY, "raw_numerator", "raw_denominator").iter_rows()}
    known = {tuple(r[:5]): (r[5], r[6]) for r in exact.select(
        *KEY, "known_numerator", "known_denominator").iter_rows()}
    rels = relations(raw, organisations, families)
    by_part: dict[str, list] = {}
    for m in range(2):
        for p, cs in rels:
            if p in truth and all(c in truth for c in cs) and \
                    truth[p][m] == sum(truth[c][m] for c in cs):
                by_part.setdefault(f"{p[0]} {MEASURES[m]}", []).append(
                    ((m, p), [(m, c) for c in cs]))
    joined = {}  # part -> the part it is solved with
    for (metric, m), parts in across:
        home = f"{metric} {MEASURES[m]}"
        for other, om in parts:
            joined[f"{other} {MEASURES[om]}"] = home
        for key in {k for k in truth if k[0] == metric}:
            total = (m, key)
            members = [(om, (other, *key[1:])) for other, om in parts]
            if all(c[1] in truth for c in members) and \
                    truth[key][m] == sum(truth[c[1]][c[0]] for c in members):
                by_part.setdefault(home, []).append((total, members))
    groups: dict[str, list] = {}
    for part, rel in by_part.items():
        home = part
        while home in joined and joined[home] != home:
            home = joined[home]
        groups.setdefault(home, []).extend(rel)
    leaks: list[Leak] = []
    for rel in groups.values():
        leaks += _pinned(rel, known, truth)
    return leaks


def _fixed(matrix: sparse.csr_matrix, seed: int = 0) -> np.ndarray:
    """For each column (unknown), whether the equations ``matrix @ x = b`` fix it.

    A column is fixed exactly when every null-space vector is zero there. A random vector's
    null-space part (itself minus the least-squares minimum-norm solution of the equations
    it satisfies) is such a vector, nonzero wherever the column is free (with probability
    one); two draws guard against an unlucky one.
    """
    rng = np.random.default_rng(seed)
    free = np.zeros(matrix.shape[1], bool)
    for _ in range(2):
        x0 = rng.standard_normal(matrix.shape[1])
        solution = linalg.lsqr(matrix, matrix @ x0, atol=1e-14, btol=1e-14, iter_lim=50_000)[0]
        free |= np.abs(x0 - solution) > 1e-6
    return ~free


def _pinned(rels: list, known: dict, truth: dict) -> list[Leak]:
    """Cells whose value the linear system of ``rels`` fixes, given the known cells."""
    def shown(cell) -> bool:
        return cell[1] in known

    def value(table: dict, cell):
        return table[cell[1]][cell[0]]

    unknown = sorted({c for p, cs in rels for c in (p, *cs) if shown(c)
                      and value(known, c) is None})
    if not unknown:
        return []
    index = {c: i for i, c in enumerate(unknown)}
    data, row_ids, col_ids = [], [], []
    rows = 0
    for p, cs in rels:
        if not all(shown(c) for c in (p, *cs)):
            continue  # a cell that is not published at all
        terms = [(index[c], sign) for c, sign in ((p, 1.0), *((c, -1.0) for c in cs))
                 if c in index]
        if terms:
            for col, sign in terms:
                data.append(sign)
                row_ids.append(rows)
                col_ids.append(col)
            rows += 1
    if not rows:
        return []
    matrix = sparse.csr_matrix((data, (row_ids, col_ids)), shape=(rows, len(unknown)))
    fixed = _fixed(matrix)
    leaks = []
    for c, i in index.items():
        raw = value(truth, c)
        if fixed[i] and 1 <= raw <= SMALL_MAX:
            leaks.append(Leak(c[1][0], MEASURES[c[0]], c[1], raw, "fixed by differencing"))
    # A set of withheld cells whose sum is fixed and small also gives them away (e.g. 1+1).
    for p, cs in rels:
        hidden = [c for c in cs if c in index]
        if len(hidden) >= 2 and p not in index and all(shown(c) for c in cs):
            total = sum(value(truth, c) for c in hidden)
            # Withheld counts are at least 1 unless a zero was withheld with them: then only
            # a sum equal to their number pins each to 1.
            if total == len(hidden) and all(value(truth, c) >= 1 for c in hidden):
                leaks.append(Leak(p[1][0], MEASURES[p[0]], p[1], total,
                                  f"withheld cells {[c[1] for c in hidden]} sum to {total}"))
    return leaks
