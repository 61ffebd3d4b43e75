"""Fictional trusts, ICBs/LMNSs and the real NHS England regions for the demo.

Trust codes are ``SYN001``… and ICB codes ``SYNQ01``…: no real ODS code starts with ``SYN``.
Names are invented from made-up place names. Each trust borrows the size and population mix of
one real trust profile (anonymised, ``data/calibration/trust_profiles.json``) in the same region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from data.synthetic import calibration as cal

PROFILES = Path(__file__).resolve().parent.parent / "calibration" / "trust_profiles.json"
N_TRUSTS = 120

REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
ICBS_PER_REGION = {"Y56": 5, "Y58": 7, "Y59": 6, "Y60": 11, "Y61": 6, "Y62": 4, "Y63": 4}

_STEMS = (
    "Ash", "Bram", "Cold", "Dun", "Elder", "Fern", "Glen", "Hazel", "Iver", "Juni", "Kest",
    "Lark", "Marl", "Nether", "Oak", "Pen", "Quarry", "Raven", "Sal", "Thorn", "Umber", "Vale",
    "Wren", "Yarrow", "Alder", "Birch", "Cinder", "Drift", "Ember", "Fallow", "Gorse", "Heron",
    "Ivy", "Kelp", "Linnet", "Moss", "Nettle", "Osier", "Plover", "Rush",
)
_ENDS = ("mere", "ford", "wick", "combe", "haven", "stead", "brook", "holt", "ley", "thorpe",
         "bury", "dale", "field", "gate", "hurst", "moor")
_TRUST_FORMS = (
    "{a} and {b} Hospitals NHS Foundation Trust",
    "{a} University Hospitals NHS Trust",
    "{a} Teaching Hospitals NHS Foundation Trust",
    "{a} and {b} NHS Trust",
    "{a} General Hospital NHS Foundation Trust",
)
_ICB_FORMS = ("{a} and {b} ICB", "{a} Valley ICB", "{a}, {b} and {c} ICB")

PEER_GROUPS = (
    (0, "Small units (under 2,500 births a year)"),
    (2500, "Medium units (2,500 to 4,999 births)"),
    (5000, "Large units (5,000 to 7,999 births)"),
    (8000, "Very large units (8,000 births or more)"),
)


@dataclass
class Trust:
    code: str
    name: str
    region_code: str
    icb_code: str
    deliveries: float
    ethnicity: np.ndarray  # shares over calibration.ETHNIC_CODES
    deprivation: np.ndarray  # shares over deciles 1..10 then unknown
    booking_logit: float
    closed: date | None = None
    successor: str | None = None
    stories: list[str] = field(default_factory=list)


@dataclass
class Geography:
    trusts: list[Trust]
    icbs: dict[str, tuple[str, str]]  # code -> (name, region_code)


def _place_names(rng: np.random.Generator, count: int) -> list[str]:
    names = sorted({s + e for s in _STEMS for e in _ENDS})
    picked = rng.choice(len(names), size=count, replace=False)
    return [names[i] for i in picked]


def peer_group(deliveries: float) -> str:
    """Peer group label for a trust of this size."""
    return [label for floor, label in PEER_GROUPS if deliveries >= floor][-1]


def build_geography(rng: np.random.Generator) -> Geography:
    """Invent the trusts and ICBs, borrowing real (anonymised) profiles by region."""
    profiles = json.loads(PROFILES.read_text(encoding="utf-8"))["profiles"][:N_TRUSTS + 1]
    # Drop the smallest profile to keep exactly N_TRUSTS; the demo adds its own very small unit.
    profiles = sorted(profiles, key=lambda p: p["deliveries"])[1:]
    code_of_region = {name: code for code, name in REGIONS.items()}
    places = _place_names(rng, N_TRUSTS * 2 + 3 * sum(ICBS_PER_REGION.values()))
    icbs: dict[str, tuple[str, str]] = {}
    icb_codes_by_region: dict[str, list[str]] = {}
    n = 0
    for region_code, count in ICBS_PER_REGION.items():
        for _ in range(count):
            n += 1
            code = f"SYNQ{n:02d}"
            form = _ICB_FORMS[n % len(_ICB_FORMS)]
            name = form.format(a=places.pop(), b=places.pop(), c=places.pop())
            icbs[code] = (name, region_code)
            icb_codes_by_region.setdefault(region_code, []).append(code)
    booking = np.array([p["booked_by_10_weeks"] or 0.45 for p in profiles])
    booking_z = (booking - booking.mean()) / booking.std()
    order = rng.permutation(len(profiles))
    trusts = []
    for i, k in enumerate(order):
        profile = profiles[k]
        region_code = code_of_region[profile["region"]]
        region_icbs = icb_codes_by_region[region_code]
        eth = np.array([profile["ethnicity"][c] for c in cal.ETHNIC_CODES], dtype=float)
        dep = np.array(
            [profile["deprivation"][f"D{d}"] for d in range(1, 11)]
            + [profile["deprivation"]["Unknown"]],
            dtype=float,
        )
        form = _TRUST_FORMS[i % len(_TRUST_FORMS)]
        trusts.append(
            Trust(
                code="",
                name=form.format(a=places.pop(), b=places.pop()),
                region_code=region_code,
                icb_code=region_icbs[int(rng.integers(len(region_icbs)))],
                deliveries=float(profile["deliveries"]),
                ethnicity=eth / eth.sum(),
                deprivation=dep / dep.sum(),
                booking_logit=0.35 * float(booking_z[k]),
            )
        )
    trusts.sort(key=lambda t: (t.region_code, t.name))
    for i, trust in enumerate(trusts, start=1):
        trust.code = f"SYN{i:03d}"
    _plant_stories(trusts)
    return Geography(trusts, icbs)


def _plant_stories(trusts: list[Trust]) -> None:
    """Give a few trusts the stories DATA.md asks for (deterministic choice)."""
    london = sorted((t for t in trusts if t.region_code == "Y56"), key=lambda t: -t.ethnicity[3])
    london[0].stories.append("pph_gap_closes")
    by_size = sorted(trusts, key=lambda t: t.deliveries)
    small = by_size[0]
    small.deliveries = cal.SMALL_UNIT_DELIVERIES
    small.stories.append("very_small_unit")
    poor = by_size[len(by_size) // 2]
    poor.stories.append("poor_ethnicity_recording")
    unknown = cal.POOR_RECORDING_UNKNOWN_SHARE
    known = poor.ethnicity[:5] / poor.ethnicity[:5].sum() * (1 - unknown)
    poor.ethnicity = np.concatenate([known, [unknown * 0.3, unknown * 0.6, unknown * 0.1]])
    outlier = by_size[int(len(by_size) * 0.8)]
    outlier.stories.append("pph_outlier")
    north_west = sorted((t for t in trusts if t.region_code == "Y62"), key=lambda t: t.deliveries)
    absorbed, successor = north_west[1], north_west[2]
    absorbed.closed = date(*cal.MERGER_MONTH, 1) - timedelta(days=1)
    absorbed.successor = successor.code
    absorbed.stories.append("merged_away")
    successor.stories.append("merger_successor")
