"""Build the synthetic England demo store: ``equalities build-demo``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from data import store
from data.periods import all_periods, month_index
from data.synthetic import calibration as cal
from data.synthetic.aggregate import aggregate, apply_disclosure
from data.synthetic.organisations import REGIONS, Geography, build_geography, peer_group
from data.synthetic.simulate import simulate_cube

DEFAULT_SEED = 20251016


def organisations_frame(geography: Geography) -> pl.DataFrame:
    """The organisations table: England, regions, ICBs and trusts."""
    rows = [dict(org_code="ENG", name="England", org_level="england")]
    rows += [dict(org_code=c, name=n, org_level="region", region_code=c, region=n)
             for c, n in REGIONS.items()]
    rows += [dict(org_code=c, name=n, org_level="icb", region_code=r, region=REGIONS[r])
             for c, (n, r) in geography.icbs.items()]
    for t in geography.trusts:
        rows.append(dict(
            org_code=t.code, name=t.name, org_level="trust", region_code=t.region_code,
            region=REGIONS[t.region_code], icb_code=t.icb_code, icb=geography.icbs[t.icb_code][0],
            peer_group=peer_group(t.deliveries), successor_code=t.successor, closed=t.closed,
            annual_births=int(round(t.deliveries / 5) * 5),
        ))
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        pl.col("opened").cast(pl.Date) if "opened" in frame.columns
        else pl.lit(None, dtype=pl.Date).alias("opened"),
        synthetic=pl.lit(True),
    )


def build_demo(
    seed: int = DEFAULT_SEED,
    root: Path | None = None,
    progress: Callable[[str], None] = print,
) -> Path:
    """Simulate, aggregate, control disclosure and publish the demo store; return the build."""
    started = time.perf_counter()

    def step(message: str) -> None:
        progress(f"[{time.perf_counter() - started:5.1f}s] {message}")

    rng = np.random.default_rng(seed)
    geography = build_geography(rng)
    step(f"invented {len(geography.trusts)} trusts and {len(geography.icbs)} ICBs")
    person_cube, unit_cube = simulate_cube(geography, rng, step)
    periods = all_periods(month_index(*cal.START), month_index(*cal.END))
    raw = aggregate(person_cube, unit_cube, geography, periods)
    step(f"aggregated {raw.height:,} cells")
    counts = apply_disclosure(raw).with_columns(source=pl.col("source"))
    step("applied disclosure control")
    manifest = {
        "title": "Synthetic England (demonstration data)",
        "synthetic": True,
        "source": "Simulated births for fictional trusts, calibrated to published national "
        "figures (see DATA.md).",
        "generator": {"seed": seed, "version": 1},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": {"start": date(*cal.START, 1).isoformat(),
                   "end": max(p.end for p in periods).isoformat()},
        "inputs": [{"file": "data/calibration/trust_profiles.json",
                    "note": "anonymised trust profiles from NHS Maternity Statistics 2022-23"}],
        "stories": {t.code: t.stories for t in geography.trusts if t.stories},
    }
    build = store.write_store(counts, organisations_frame(geography), manifest, root)
    step(f"wrote {counts.height:,} rows to {build.name}")
    return build
