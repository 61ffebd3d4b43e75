"""Statistical disclosure control, as the Equalities dashboard and MSDS apply it (DATA.md).

Sub-national counts of people: zero stays zero; 1 to 7 are never shown (the cell is flagged
suppressed and its count withheld); everything else is rounded to the nearest 5 for MSDS, or
published as counted for sources that publish unrounded counts (MBRRACE-UK, CQC). National
counts are not controlled. Rare-event rates (PPH, preterm) are not shown where the numerator is
under 8. Published from unrounded counts they give their exact events, so the rates this
project works out below England use the rounded counts (``data.synthetic.aggregate``) and
published ones are protected within their table (``_rare_event_tables``).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics.categories import ETHNICITY_BY_QUINTILE

SMALL_MAX = 7
UNIT_PERIOD = "quarter"  # longer periods (years, rolling 12 months) are made of quarters
RARE_EVENT_MIN = 8

SYMBOL_ZERO = "-"
SYMBOL_NOT_AVAILABLE = ":"
SYMBOL_NOT_APPLICABLE = "z"
SYMBOL_SUPPRESSED = "*"


def round_to_5(count: pl.Expr) -> pl.Expr:
    """Nearest multiple of 5 (halves up, as the MSDS pipeline's ``5*round(x/5)`` on integers)."""
    return ((count + 2) // 5) * 5


def is_small(count: pl.Expr) -> pl.Expr:
    """True where a count of people is 1 to 7 and so must not be shown."""
    return count.is_between(1, SMALL_MAX)


def controlled_count(count: pl.Expr, *, rounded: bool) -> pl.Expr:
    """The publishable version of a raw count: null when small, else rounded or as counted."""
    shown = round_to_5(count) if rounded else count
    return pl.when(is_small(count)).then(None).otherwise(shown)


# -- complementary (secondary) suppression ---------------------------------------------------
#
# Withholding a small cell is not enough when the cells around it are exact: a total minus
# its other groups, a region minus its other trusts, England minus the other regions, or a
# year minus its other quarters gives the withheld count back. Published cells that add up to
# another published cell form a relation; in each relation whose total is exactly known the
# withheld members must be at least two and must not all be pinned to 1 by their sum,
# otherwise the smallest exactly known member is withheld too (or, when there is none, the
# total). Chains of relations are then checked as a whole (``_period_leaks``, ``_pinned``).

_KEY = ("metric", "org_code", "period_label", "period_kind", "dimension", "group")
_TAG_PAIRS, _TAG_PERIODS = 9, 10
_TAG_ORG = {"region": 11, "icb": 12, "trust": 13}
_TAGS = 16
# Breakdowns whose groups add up to the total (the cross-tab leaves out unknown groups).
_ADDITIVE = ("ethnicity", "deprivation_decile", "deprivation_quintile")
# Adds up to the total too wherever no woman's ethnicity or area is unknown; the rare-event
# pass treats it so (withholding more than needed where it does not).
CROSS_TAB = ETHNICITY_BY_QUINTILE


def _rules(counts: pl.DataFrame) -> pl.DataFrame:
    """Per row: which relations to check, and the exact counts an onlooker can read.

    Unrounded sources (MBRRACE-UK, CQC, the Annex 3 counts of people) and national counts
    are exact; MSDS counts below England are rounded to 5, which already hides a withheld
    cell from subtraction, so for them only the organisation relations count: England is
    exact, and a zero (which stays zero) is exact at any level, so England minus a region
    whose trusts are all zero gives the other region's count back.
    """
    from metrics import registry  # local: the registry imports nothing from here

    rule = pl.col("metric").replace_strict({m.id: m.disclosure for m in registry.METRICS_LIST},
                                           default=registry.WITHHOLD_SMALL)
    controlled = rule != registry.NOT_PEOPLE
    unrounded = rule == registry.WITHHOLD_SMALL
    exact = unrounded | (pl.col("org_level") == "england")
    return counts.select(
        every_relation=controlled & exact,
        rounded_relation=controlled & ~unrounded,
        num=pl.when(exact | (pl.col("numerator") == 0)).then(pl.col("numerator").cast(pl.Float64)),
        den=pl.when(exact | (pl.col("denominator") == 0))
        .then(pl.col("denominator").cast(pl.Float64)),
    )


def _edges(rows: pl.DataFrame, organisations: pl.DataFrame, *,
           organisations_only: bool = False, breakdowns_only: bool = False,
           additive: tuple[str, ...] = _ADDITIVE, unit: str = UNIT_PERIOD) -> pl.DataFrame:
    """Relations among ``rows`` (which carry their row number in ``row``) as rows
    ``relation, parent, child``; a relation is one total with the members adding up to it.
    ``organisations_only`` keeps the relations between organisations, ``breakdowns_only``
    those within one organisation's table for one period; ``unit`` is the period kind the
    longer periods are made of."""
    from metrics.categories import DECILES, QUINTILES

    key = ["metric", "org_code", "period_label", "period_kind"]
    parts = []

    def edges(children: pl.DataFrame, parents: pl.DataFrame, on: list[str], tag) -> None:
        joined = children.join(parents, on=on, how="inner")
        parts.append(joined.select(
            relation=pl.col("parent").cast(pl.UInt64) * _TAGS + tag,
            parent=pl.col("parent"), child=pl.col("child")))

    rows = rows.rename({"row": "child"})
    if breakdowns_only:
        organisations = organisations.clear()
    # Organisations: trusts in ICBs and regions, ICBs in regions, regions in England.
    orgs = organisations.select("org_code", "org_level", "region_code", "icb_code")
    links = pl.concat([
        orgs.filter(pl.col("org_level") == "trust").select(
            "org_code", "org_level", parent_code="icb_code"),
        orgs.filter(pl.col("org_level").is_in(["trust", "icb"])).select(
            "org_code", "org_level", parent_code="region_code"),
        orgs.filter(pl.col("org_level") == "region").select(
            "org_code", "org_level", parent_code=pl.lit("ENG")),
    ]).drop_nulls().unique()
    same = ["metric", "period_label", "period_kind", "dimension", "group"]
    members = rows.select(*same, "org_code", "child").join(links, on="org_code").select(
        *same, "child", org_code="parent_code",
        tag=pl.col("org_level").replace_strict(_TAG_ORG, return_dtype=pl.UInt64))
    edges(members, rows.select(*same, "org_code", parent="child"), [*same, "org_code"],
          pl.col("tag"))
    if organisations_only:
        return pl.concat(parts)
    # Breakdowns: the groups to the total, pairs of deciles to their quintile.
    totals = rows.filter(pl.col("dimension") == "total").select(*key, parent="child")
    dims = {d: i for i, d in enumerate(additive, start=1)}
    edges(rows.filter(pl.col("dimension").is_in(additive)).select(*key, "dimension", "child"),
          totals, key, pl.col("dimension").replace_strict(dims, return_dtype=pl.UInt64))
    quintile_of = {d: QUINTILES[i // 2] for i, d in enumerate(DECILES)} | {"Unknown": "Unknown"}
    deciles = rows.filter(pl.col("dimension") == "deprivation_decile").select(
        *key, "child", group=pl.col("group").replace_strict(quintile_of, default=None))
    quintiles = rows.filter(pl.col("dimension") == "deprivation_quintile").select(
        *key, "group", parent="child")
    edges(deciles, quintiles, [*key, "group"], _TAG_PAIRS)
    if breakdowns_only:
        return pl.concat(parts)
    # Periods: unit periods (quarters) inside a longer period of the same series.
    periods = rows.select("period_label", "period_kind", "period_start", "period_end").unique()
    quarter = periods.filter(pl.col("period_kind") == unit)
    inside = periods.filter(pl.col("period_kind") != unit).join(
        quarter, how="cross", suffix="_q").filter(
        (pl.col("period_start_q") >= pl.col("period_start"))
        & (pl.col("period_end_q") <= pl.col("period_end"))
    ).select(q_label="period_label_q", w_label="period_label", w_kind="period_kind")
    series = ["metric", "org_code", "dimension", "group"]
    quarters = rows.filter(pl.col("period_kind") == unit).select(
        *series, "child", q_label="period_label").join(inside, on="q_label")
    windows = rows.filter(pl.col("period_kind") != unit).select(
        *series, parent="child", w_label="period_label", w_kind="period_kind")
    edges(quarters, windows, [*series, "w_label", "w_kind"], _TAG_PERIODS)
    return pl.concat(parts)


def _violations(edges: dict[str, np.ndarray], value: np.ndarray, withheld: np.ndarray,
                blurred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells to withhold next, from the relations that give a withheld cell away.

    Returns (cells to withhold, known zeros to withhold, withheld totals the relations show
    to be zero). ``blurred`` marks zeros already withheld for this purpose: with one of them
    among the withheld members an onlooker no longer knows each member is at least 1.
    """
    rel, parent, child, size = edges["relation"], edges["parent"], edges["child"], edges["size"]
    known = ~np.isnan(value)
    rel_parent = np.full(size, -1)
    rel_parent[rel] = parent
    has = rel_parent >= 0
    top = np.maximum(rel_parent, 0)
    unknown_children = np.bincount(rel, weights=~known[child], minlength=size)
    withheld_children = np.bincount(rel, weights=withheld[child], minlength=size)
    blurred_children = np.bincount(rel, weights=blurred[child], minlength=size)
    unknown = unknown_children + ~known[top]
    residual = value[top] - np.bincount(rel, weights=np.nan_to_num(value[child]),
                                        minlength=size)
    # One unknown member, withheld, is the rest of the equation; withheld members (each at
    # least 1) whose known sum is no more than their number are each exactly 1.
    alone = (unknown == 1) & (withheld_children + withheld[top] == 1)
    small_sum = (known[top] & (unknown_children >= 2) & (withheld_children == unknown_children)
                 & (blurred_children == 0) & (residual < unknown_children + 0.5))
    bad = has & (alone | small_sum)
    none = np.array([], dtype=int)
    if not bad.any():
        return none, none, none
    # Where a relation joins metrics (births = live births + stillbirths) the total is
    # withheld: it belongs to the row whose count is withheld already, so no shown rate is
    # lost with it.
    prefer = edges.get("prefer_parent")
    upward = bad & prefer & known[top] if prefer is not None else np.zeros(size, bool)
    bad &= ~upward

    def smallest(pick: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort((child[pick], value[child[pick]], rel[pick]))
        rels, first = np.unique(rel[pick][order], return_index=True)
        return rels, child[pick][order][first]

    # The smallest exactly known nonzero member of each offending relation; else a member
    # known to be zero (withheld, it hides which member holds the count) ...
    rels, children = smallest(bad[rel] & known[child] & (np.nan_to_num(value[child]) > 0))
    left = np.setdiff1d(np.flatnonzero(bad), rels)
    on_left = np.zeros(size, bool)
    on_left[left] = True
    zero_rels, zeros = smallest(on_left[rel] & known[child] & (value[child] == 0))
    # ... else the total itself, when it is the one still shown.
    rest = rel_parent[np.setdiff1d(left, zero_rels)]
    return (np.unique(np.concatenate([children, rest[known[rest]], rel_parent[upward]])),
            zeros, rest[~known[rest]])


def _period_layout(rows: pl.DataFrame, unit: str = UNIT_PERIOD) -> dict[str, np.ndarray]:
    """Each row's place on its series' line of unit periods (quarters), for
    :func:`_period_leaks`.

    A series (one metric, organisation and group) is a line of nodes 0..Q, one after each
    quarter: quarter k joins nodes k-1 and k, and a longer period made of quarters a..b joins
    a-1 and b (its value is the difference of the running totals at those nodes).
    """
    quarters = (rows.filter(pl.col("period_kind") == unit)
                .select("period_start", "period_end").unique().sort("period_start"))
    first = {d: i for i, d in enumerate(quarters["period_start"].to_list(), start=1)}
    last = {d: i for i, d in enumerate(quarters["period_end"].to_list(), start=1)}
    places = rows.select(
        series=pl.struct("metric", "org_code", "dimension", "group").rank("dense") - 1,
        quarter=pl.col("period_kind") == unit,
        left=pl.col("period_start").replace_strict(first, default=None) - 1,
        right=pl.col("period_end").replace_strict(last, default=None),
    )
    return {"row": rows["row"].cast(pl.Int64).to_numpy(),
            "series": places["series"].cast(pl.Int64).to_numpy(),
            "quarter": places["quarter"].to_numpy(),
            "left": places["left"].fill_null(-1).cast(pl.Int64).to_numpy(),
            "right": places["right"].fill_null(-1).cast(pl.Int64).to_numpy(),
            "nodes": len(quarters) + 1}


def _period_leaks(layout: dict[str, np.ndarray], value: np.ndarray, withheld: np.ndarray,
                  edges: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows to withhold so that no withheld cell is the difference of known periods.

    Overlapping periods make chains no single relation shows: 12 months to June minus 12
    months to March plus the quarter a year before gives the June quarter. On the line of a
    series a withheld cell is given away exactly when its two nodes are joined by known
    cells (an absent quarter counts as a known zero). Then the smallest known longer period
    containing a given-away quarter is withheld, or the smallest known quarter inside a
    given-away longer period; when every quarter inside it is withheld already (a half-year
    of 1 to 7 is the year minus the other half-year), the smallest known cell at either of
    its ends (:func:`_ends_of`).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    placed = layout["left"] >= 0
    rows, series = layout["row"][placed], layout["series"][placed]
    left, right = layout["left"][placed], layout["right"][placed]
    quarter = layout["quarter"][placed]
    nodes = layout["nodes"]
    known = ~np.isnan(value[rows])
    # Every quarter position of every series is a known edge unless a present row hides it.
    n_series = int(series.max()) + 1 if series.size else 0
    hidden_quarter = np.zeros((n_series, nodes), bool)
    hidden_quarter[series[quarter & ~known], right[quarter & ~known]] = True
    s_all, k_all = np.nonzero(~hidden_quarter[:, 1:])
    a = np.concatenate([s_all * nodes + k_all, (series * nodes + left)[~quarter & known]])
    b = np.concatenate([s_all * nodes + k_all + 1, (series * nodes + right)[~quarter & known]])
    size = n_series * nodes
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    given = (withheld[rows] & np.isnan(value[rows])
             & (component[series * nodes + left] == component[series * nodes + right]))
    if not given.any():
        return np.array([], dtype=int), np.array([], dtype=int)
    parent, child = edges["period_parent"], edges["period_child"]
    more, zeros = [], []
    for target, mine, other in ((rows[given & quarter], child, parent),
                                (rows[given & ~quarter], parent, child)):
        pick = np.isin(mine, target) & ~np.isnan(value[other]) & (np.nan_to_num(value[other]) > 0)
        order = np.lexsort((other[pick], value[other[pick]], mine[pick]))
        found, first = np.unique(mine[pick][order], return_index=True)
        more.append(other[pick][order][first])
        # A quarter given away only by longer periods of zero is itself zero.
        zeros.append(np.setdiff1d(target, found) if mine is child else np.array([], int))
    # ``found`` now holds the given-away longer periods with a known quarter inside.
    closed = np.isin(rows, np.setdiff1d(rows[given & ~quarter], found))
    more.append(_ends_of(closed, rows, series, left, right, quarter, value[rows]))
    return np.unique(np.concatenate(more)), np.concatenate(zeros)


def _ends_of(targets: np.ndarray, rows: np.ndarray, series: np.ndarray, left: np.ndarray,
             right: np.ndarray, quarter: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each ``targets`` cell (a mask over the placed ``rows``) made of quarters its
    series publishes, the smallest known nonzero cell of the series that ends at one of its
    two nodes: every chain of known cells joining those nodes passes through one such cell,
    so repeated passes break them all. (A series published in longer periods only has no
    quarter to be given away through: its absent quarters are not known zeros.)"""
    shown = ~np.isnan(value) & (np.nan_to_num(value) > 0)
    picks = []
    for t in np.flatnonzero(targets):
        mine = series == series[t]
        if not (mine & quarter & (left >= left[t]) & (right <= right[t])).any():
            continue
        ends = (left[t], right[t])
        near = shown & mine & (np.isin(left, ends) | np.isin(right, ends))
        if near.any():
            candidates = np.flatnonzero(near)
            picks.append(rows[candidates[np.lexsort((rows[candidates], value[candidates]))[0]]])
    return np.array(picks, dtype=int)


def _pinned(edges: dict[str, np.ndarray], value: np.ndarray, watched: np.ndarray
            ) -> np.ndarray:
    """Rows to withhold so that no ``watched`` unknown cell is fixed by all the relations
    together (a differencing no single relation or period line shows).

    The relations are linear equations in the unknown cells. A cell is fixed exactly when no
    solution of the equations with zero right-hand side moves it (null space). Equations with
    an unknown found in no other equation constrain nothing else and are set aside first
    (that unknown is fixed only if the rest of its equation is); the remaining system splits
    into independent blocks, each solved densely.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    rel, parent, child = edges["relation"], edges["parent"], edges["child"]
    first = np.unique(rel, return_index=True)[1]
    members = np.concatenate([rel[first], rel])
    cells = np.concatenate([parent[first], child])
    signs = np.concatenate([np.ones(first.size), -np.ones(rel.size)])
    open_ = np.isnan(value[cells])
    members, cells, signs = members[open_], cells[open_], signs[open_]
    if not cells.size:
        return np.array([], dtype=int)
    columns, col = np.unique(cells, return_inverse=True)
    rows_, row = np.unique(members, return_inverse=True)
    matrix = sparse.csr_matrix((signs, (row, col)), shape=(rows_.size, columns.size))
    matrix.sum_duplicates()
    # Set aside equations holding an unknown that no other equation has, repeatedly.
    alive = np.ones(rows_.size, bool)
    stack: list[tuple[int, np.ndarray]] = []
    pattern = (matrix != 0).astype(float).tocsr()
    by_col = pattern.tocsc()
    while True:
        degree = pattern.T @ alive.astype(float)
        lone = np.flatnonzero(degree == 1)
        if not lone.size:
            break
        progressed = False
        for c in lone:
            eq = by_col.indices[by_col.indptr[c]:by_col.indptr[c + 1]]
            eq = eq[alive[eq]]
            if eq.size != 1 or not alive[eq[0]]:
                continue
            alive[eq[0]] = False
            others = matrix.indices[matrix.indptr[eq[0]]:matrix.indptr[eq[0] + 1]]
            stack.append((c, others[others != c]))
            progressed = True
        if not progressed:
            break
    fixed = np.zeros(columns.size, bool)
    reduced = matrix[alive]
    used = np.flatnonzero(np.asarray((reduced != 0).sum(axis=0)).ravel() > 0)
    if used.size:
        block = reduced[:, used]
        adjacency = (abs(block).T @ abs(block)).tocsr()
        count, label = connected_components(adjacency, directed=False)
        for b in range(count):
            cols = np.flatnonzero(label == b)
            part = block[:, cols]
            part = part[np.asarray(abs(part).sum(axis=1)).ravel() > 0].toarray()
            _, sv, vt = np.linalg.svd(part, full_matrices=True)
            rank = int((sv > 1e-9 * max(sv.max(initial=0.0), 1.0)).sum())
            null = vt[rank:]
            fixed[used[cols]] = (np.abs(null).max(axis=0) < 1e-9) if null.size else True
    for c, others in reversed(stack):
        fixed[c] = bool(fixed[others].all())
    given = columns[fixed & watched[columns]]
    if not given.size:
        return given
    # Withhold the smallest known nonzero cell sharing a relation with each given-away cell.
    touching = np.isin(rel, np.unique(np.concatenate(
        [rel[np.isin(child, given)], rel[np.isin(parent, given)]])))
    near_rel = rel[touching]
    near = np.concatenate([parent[touching], child[touching]])
    near_rel = np.concatenate([near_rel, near_rel])
    ok = ~np.isnan(value[near]) & (np.nan_to_num(value[near]) > 0)
    if not ok.any():
        return np.array([], dtype=int)
    holder = {}
    for r, cell in zip(near_rel[ok], near[ok], strict=True):
        holder.setdefault(int(r), []).append(int(cell))
    picks = set()
    for g in given:
        rels_of_g = np.unique(np.concatenate([rel[child == g], rel[parent == g]]))
        options = [c for r in rels_of_g for c in holder.get(int(r), [])]
        if options:
            picks.add(min(options, key=lambda c: (value[c], c)))
    return np.array(sorted(picks), dtype=int)


def _rare_event_tables(counts: pl.DataFrame, *, max_rounds: int = 50) -> np.ndarray:
    """Rows of rare-event metrics below England to withhold so that no withheld rate can be
    worked out from the other cells of its own table.

    A rare-event rate (PPH, preterm) is computed from unrounded counts, so where it is shown
    it gives, with its rounded denominator, the exact number of events (to well within one
    for any denominator below England). A table's total minus its other groups (or a
    quintile minus one of its two deciles) would then give back a withheld group's 1 to 7
    events: each such relation must hold at least two withheld cells, adding up to more
    than their number. Relations between organisations and periods are left as the
    publisher leaves them (MSDS publishes these rates for every level and month); rates
    this project works out itself come from rounded counts below England and are not
    exact, so nothing here applies to them.
    """
    from metrics import registry  # local: the registry imports nothing from here

    rare = {m.id: float(m.multiplier) for m in registry.METRICS_LIST if m.rare_event}
    picked = (pl.col("metric").is_in(list(rare)) & (pl.col("org_level") != "england"))
    rows = counts.with_row_index("row").filter(picked)
    if rows.is_empty():
        return np.array([], dtype=int)
    rate = pl.col("published_value")
    shown = (rate > 0) & pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null()
    events = (rate * pl.col("denominator").cast(pl.Float64)
              / pl.col("metric").replace_strict(rare, return_dtype=pl.Float64)).round(0)
    known = rows.select(pl.when(shown).then(events)
                        .when(pl.col("numerator") == 0).then(0.0).alias("known"))["known"]
    value = known.fill_null(np.nan).to_numpy().copy()
    withheld = np.isnan(value)
    table = _edges(rows.select(*_KEY, "org_level", "period_start", "period_end")
                   .with_row_index("row"), pl.DataFrame(schema={
                       c: pl.String for c in ("org_code", "org_level", "region_code",
                                              "icb_code")}), breakdowns_only=True,
                   additive=(*_ADDITIVE, CROSS_TAB))
    if table.is_empty():
        return np.array([], dtype=int)
    rel = table["relation"].rank("dense").cast(pl.Int64).to_numpy() - 1
    edges = {"relation": rel, "parent": table["parent"].cast(pl.Int64).to_numpy(),
             "child": table["child"].cast(pl.Int64).to_numpy(), "size": int(rel.max()) + 1}
    blurred = np.zeros(value.size, bool)
    hide = np.zeros(value.size, bool)
    for _ in range(max_rounds):
        more, blur, zeros = _violations(edges, value, withheld, blurred)
        blurred[blur] = True
        value[zeros] = 0.0
        more = np.concatenate([more, blur]).astype(int)
        if not more.size:
            break
        value[more], withheld[more], hide[more] = np.nan, True, True
    else:
        raise ValueError(f"rare-event suppression did not settle in {max_rounds} passes")
    return rows["row"].to_numpy()[hide]


def _population_edges(rows: pl.DataFrame, n: int) -> dict[str, np.ndarray]:
    """Relations between metrics (``registry.POPULATION_SUMS``) among ``rows``, in the cell
    numbering of :func:`complementary_suppression` (numerators 0 .. n-1, denominators
    n .. 2n-1): one relation per organisation, period and group holding every part."""
    from metrics import registry  # local: the registry imports nothing from here

    on = ["org_code", "period_label", "period_kind", "dimension", "group"]
    offset = {"numerator": 0, "denominator": n}
    relations, parents, children = [], [], []
    first = 0
    for (metric, measure), parts in registry.POPULATION_SUMS:
        joined = rows.filter(pl.col("metric") == metric).select(
            *on, total=pl.col("row").cast(pl.Int64) + offset[measure])
        for i, (part, part_measure) in enumerate(parts):
            joined = joined.join(rows.filter(pl.col("metric") == part).select(
                *on, **{f"part{i}": pl.col("row").cast(pl.Int64) + offset[part_measure]}),
                on=on)
        ids = np.arange(first, first + joined.height)
        for i in range(len(parts)):
            relations.append(ids)
            parents.append(joined["total"].to_numpy())
            children.append(joined[f"part{i}"].to_numpy())
        first += joined.height
    empty = np.array([], dtype=np.int64)
    return {"relation": np.concatenate([empty, *relations]).astype(np.int64),
            "parent": np.concatenate([empty, *parents]).astype(np.int64),
            "child": np.concatenate([empty, *children]).astype(np.int64), "size": first}


def complementary_suppression(counts: pl.DataFrame, *, organisations: pl.DataFrame,
                              max_rounds: int = 200, unit: str = UNIT_PERIOD) -> pl.DataFrame:
    """Withhold more cells until no withheld count can be recovered by subtraction.

    Relations (cells of one metric that add up to another): the groups of a breakdown to
    its total, deciles to quintiles, trusts to their ICB and region, ICBs to their region,
    regions to England, and quarters to each longer period containing them; and between
    metrics, ``registry.POPULATION_SUMS`` (total births are live births and stillbirths,
    so stillbirth's denominator minus neonatal death's is the stillbirths), where the
    total is withheld: it belongs to the row whose count is withheld already. Cells are
    exactly known where counts are unrounded (MBRRACE-UK, CQC, Annex 3 counts of people),
    national, or zero; MSDS counts below England are rounded to 5, which already defeats
    subtraction. A relation with an exactly known total gives a withheld cell away when it
    has exactly one unknown member, or only withheld members adding up to no more than their
    number (each is then 1): the smallest exactly known nonzero member is withheld as well
    (secondary suppression), or the total when no member can be. Overlapping periods are then
    checked as chains (12 months to June minus 12 months to March plus a quarter), and all
    relations together as linear equations (a withheld count fixed by them is given away).
    Withholding a denominator withholds its numerator too. Repeated until nothing changes.

    Reference: Hundepool et al., *Statistical Disclosure Control* (Wiley, 2012), ch. 4
    (secondary cell suppression and the audit of suppressed tables).

    Parameters
    ----------
    counts : rows in the store's counts schema, disclosure control already applied.
    organisations : the organisations table (``org_code``, ``org_level``, ``region_code``,
        ``icb_code``) giving which trusts make up which ICB and region.
    max_rounds : safety limit on the passes (each pass withholds at least one more cell).
    unit : the period kind longer periods are made of: quarters for the national figures,
        months for a network's monthly returns (``returns.publish``).

    Returns
    -------
    ``counts`` with the extra cells flagged ``suppressed`` and their ``numerator``,
    ``published_value`` (and, for a denominator relation, ``denominator``) set to null.
    """
    missing = [c for c in (*_KEY, "org_level", "period_start", "period_end", "numerator",
                           "denominator", "published_value", "suppressed")
               if c not in counts.columns]
    if missing:
        raise ValueError(f"complementary_suppression needs column(s) {', '.join(missing)}")
    if counts.is_empty():
        return counts
    strings = counts.with_columns(pl.col(c).cast(pl.String) for c in _KEY + ("org_level",))
    rules = _rules(strings)
    organisations = organisations.with_columns(
        pl.col(c).cast(pl.String) for c in ("org_code", "org_level", "region_code", "icb_code"))
    rows = strings.select(*_KEY, "org_level", "period_start", "period_end").with_row_index("row")
    exact_rows = rows.filter(rules["every_relation"])
    exact_table = _edges(exact_rows, organisations, unit=unit)
    table = pl.concat([exact_table, _edges(rows.filter(rules["rounded_relation"]),
                                           organisations, organisations_only=True)])
    periodic = (table["relation"] % _TAGS) == _TAG_PERIODS
    layout = _period_layout(exact_rows, unit)
    # Cells are numbered numerators first (0 .. n-1), then denominators (n .. 2n-1): each
    # relation holds for both measures, and a relation between metrics joins the two.
    n = counts.height
    rel = table["relation"].rank("dense").cast(pl.Int64).to_numpy() - 1
    size = int(rel.max()) + 1 if rel.size else 0
    parent, child = (table[c].cast(pl.Int64).to_numpy() for c in ("parent", "child"))
    across = _population_edges(exact_rows, n)
    # Only exact cells can pin one another; rounded ones stay free in any combination.
    exact = np.arange(rel.size) < exact_table.height
    edges = {"relation": np.concatenate([rel, rel + size, across["relation"] + 2 * size]),
             "parent": np.concatenate([parent, parent + n, across["parent"]]),
             "child": np.concatenate([child, child + n, across["child"]]),
             "size": 2 * size + across["size"],
             "prefer_parent": np.arange(2 * size + across["size"]) >= 2 * size,
             "period_parent": table.filter(periodic)["parent"].cast(pl.Int64).to_numpy(),
             "period_child": table.filter(periodic)["child"].cast(pl.Int64).to_numpy()}
    keep = np.concatenate([exact, exact, np.ones(across["relation"].size, bool)])
    exact_edges = {k: edges[k][keep] for k in ("relation", "parent", "child")}
    value = np.concatenate([rules["num"].fill_null(np.nan).to_numpy(),
                            rules["den"].fill_null(np.nan).to_numpy()])
    withheld = np.concatenate([strings["numerator"].is_null().to_numpy(),
                               strings["denominator"].is_null().to_numpy()])
    primary = withheld.copy()
    blurred = np.zeros(2 * n, bool)
    hide_num = np.zeros(n, bool)
    hide_den = np.zeros(n, bool)

    def withhold(cells: np.ndarray) -> None:
        """Withhold cells; a withheld denominator withholds its numerator too."""
        dens = cells[cells >= n] - n
        nums = np.concatenate([cells[cells < n], dens])
        hide_num[nums], hide_den[dens] = True, True
        both = np.concatenate([nums, dens + n])
        value[both], withheld[both] = np.nan, True

    for _ in range(max_rounds):
        more, blur, zeros = _violations(edges, value, withheld, blurred)
        blurred[blur] = True
        value[zeros] = 0.0
        more = np.concatenate([more, blur]).astype(int)
        # Single relations settled, then the longer chains of periods ...
        for offset in (n, 0) if not more.size else ():
            found, zeros = _period_leaks(layout, value[offset:offset + n],
                                         withheld[offset:offset + n], edges)
            value[zeros + offset] = 0.0
            more = np.concatenate([more, found + offset]).astype(int)
        # ... then all relations together.
        if not more.size:
            more = _pinned(exact_edges, value, primary)
        if not more.size:
            break
        withhold(more)
    else:
        raise ValueError(f"complementary suppression did not settle in {max_rounds} passes")
    hide_num[_rare_event_tables(strings.with_columns(
        numerator=pl.when(pl.Series(hide_num)).then(None).otherwise(pl.col("numerator")),
        published_value=pl.when(pl.Series(hide_num)).then(None)
        .otherwise(pl.col("published_value"))))] = True
    hide = pl.Series(hide_num)
    return counts.with_columns(
        numerator=pl.when(hide).then(None).otherwise(pl.col("numerator")),
        published_value=pl.when(hide).then(None).otherwise(pl.col("published_value")),
        denominator=pl.when(pl.Series(hide_den)).then(None).otherwise(pl.col("denominator")),
        suppressed=pl.col("suppressed") | hide,
    )
