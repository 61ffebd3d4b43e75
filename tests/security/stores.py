"""Small random stores built by the real pipeline: a random cube of births summed by
``data.synthetic.aggregate``, controlled by the publisher's rule (``apply_disclosure``) and
published with ``data.store.write_store``.

Counts are deliberately tiny (mostly 0 to 20 per cell) so that small numbers, suppressed
cells and differencing opportunities are everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from data import store
from data.periods import all_periods, month_index
from data.synthetic.aggregate import MEASURES, aggregate, apply_disclosure
from data.synthetic.build import organisations_frame
from data.synthetic.organisations import Geography, Trust

FIRST = month_index(2023, 1)
N_ETH = 8  # calibration ethnic codes: five groups, then not stated / not known / missing
N_DEP = 11  # deciles 1..10, then unknown
# Numerator columns of the person cube and the column each one is a subset of.
SUBSETS = {
    "eth_known": "women", "dep_known": "women", "gestation_known": "women",
    "booked_by_10_weeks": "gestation_known", "mode_known": "women",
    "spontaneous_vaginal": "mode_known", "instrumental": "mode_known",
    "caesarean_planned": "mode_known", "caesarean_emergency": "mode_known",
    "pph_1500": "women", "preterm": "women", "stillbirth": "women",
    "neonatal_death": "live_births", "maternal_death": "women",
    "inductions": "women", "iol_delay": "inductions", "under_34_weeks": "women",
    "optimal_perinatal_care": "under_34_weeks", "cqc_raised_concern": "women",
    "concerns_taken_seriously": "cqc_raised_concern", "cqc_answered_complaint": "women",
    "considered_complaint": "cqc_answered_complaint",
}


@dataclass(frozen=True)
class Shape:
    """What to build: trusts per ICB per region, months covered, cube density, seed."""

    regions: tuple[tuple[int, ...], ...]  # per region, trusts in each of its ICBs
    months: int
    density: float
    seed: int


def geography(shape: Shape) -> Geography:
    codes = list(("Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"))
    trusts, icbs = [], {}
    for r, icb_sizes in enumerate(shape.regions):
        for i, size in enumerate(icb_sizes):
            icb = f"SYNQ{r}{i}"
            icbs[icb] = (f"ICB {r}{i}", codes[r])
            for _ in range(size):
                n = len(trusts) + 1
                trusts.append(Trust(
                    code=f"SYN{n:03d}", name=f"Trust {n}", region_code=codes[r], icb_code=icb,
                    deliveries=500.0 * n, ethnicity=np.ones(N_ETH) / N_ETH,
                    deprivation=np.ones(N_DEP) / N_DEP, booking_logit=0.0))
    return Geography(trusts, icbs)


def _small(rng: np.random.Generator, size: int) -> np.ndarray:
    """Mostly 0 to 20, now and then larger, so cells both pass and fail the rules."""
    base = rng.integers(0, 21, size)
    big = rng.random(size) < 0.1
    return np.where(big, rng.integers(20, 400, size), base)


def cubes(shape: Shape, geo: Geography) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(shape.seed)
    cells = [(t, FIRST + m, e, d) for t in range(len(geo.trusts)) for m in range(shape.months)
             for e in range(N_ETH) for d in range(N_DEP)]
    keep = rng.random(len(cells)) < shape.density
    picked = np.array([c for c, k in zip(cells, keep, strict=True) if k] or [cells[0]])
    n = len(picked)
    columns: dict[str, np.ndarray] = {"women": _small(rng, n)}
    for column, parent in SUBSETS.items():  # parents come before their subsets
        columns[column] = rng.binomial(columns[parent], rng.uniform(0.02, 0.9, n))
        if column == "stillbirth":  # every birth is a live birth or a stillbirth
            columns["live_births"] = columns["women"] - columns["stillbirth"]
    person = pl.DataFrame(
        {"trust": picked[:, 0].astype(np.int32), "month": picked[:, 1].astype(np.int32),
         "eth": picked[:, 2].astype(np.int8), "dep": picked[:, 3].astype(np.int8)}
        | {k: v.astype(np.int32) for k, v in columns.items()})
    units = []
    for t in range(len(geo.trusts)):
        for m in range(shape.months):
            ou, nnu = int(rng.integers(1, 9)), int(rng.integers(1, 9))
            units.append((t, FIRST + m, ou, int(rng.integers(0, ou + 1)), nnu,
                          int(rng.integers(0, nnu + 1))))
    unit = pl.DataFrame(units, orient="row", schema=["trust", "month", "ou_units",
                                                     "ou_suspension", "nnu_units",
                                                     "nnu_suspension"])
    return person, unit


def raw_counts(shape: Shape) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw counts per published cell, organisations) for ``shape``."""
    geo = geography(shape)
    person, unit = cubes(shape, geo)
    periods = all_periods(FIRST, FIRST + shape.months - 1)
    raw = aggregate(person, unit, geo, periods)
    return raw, organisations_frame(geo)


def build(shape: Shape, root: Path, names: dict[str, str] | None = None
          ) -> tuple[Path, pl.DataFrame]:
    """Publish a store for ``shape`` under ``root``; return (build folder, raw counts).

    ``names`` renames organisations (code -> name), e.g. to give them hostile names.
    """
    raw, organisations = raw_counts(shape)
    if names:
        organisations = organisations.with_columns(
            name=pl.col("org_code").replace_strict(names, default=pl.col("name")))
    counts = apply_disclosure(raw)
    manifest = {"title": "Random test store", "synthetic": True, "built_at": "2025-01-01",
                "period": {"start": "2023-01-01", "end": "2025-03-31"}}
    return store.write_store(counts, organisations, manifest, root), raw


assert set(SUBSETS) | {"women", "live_births"} >= {c for pair in MEASURES.values()
                                                   for c in pair} - {
    "ou_units", "ou_suspension", "nnu_units", "nnu_suspension"}
