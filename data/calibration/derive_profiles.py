"""Derive anonymised trust profiles for the synthetic demo from a real annual MSDS file.

Run once by a developer who has the published files; the output (``trust_profiles.json``)
is committed so the project builds without them::

    python -m data.calibration.derive_profiles MSDS_ANNUAL.csv ODS_ETR.csv

Only distributions leave this script (size, ethnic mix, deprivation mix, completeness and
booking share per trust, grouped by NHS England region); names and codes never do.
Source: NHS Digital, NHS Maternity Statistics 2022-23 MSDS CSV (OGL v3.0) and the ODS
``etr.csv`` trust list for the trust-to-region lookup.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
ETHNICITY = {
    "White": "White",
    "Mixed": "Mixed",
    "Asian or Asian British": "Asian",
    "Black or Black British": "Black",
    "Any other ethnic group": "Other",
    "Not Stated": "Not stated",
    "Not known": "Not known",
}
OUT = Path(__file__).with_name("trust_profiles.json")


def _decile(label: str) -> str | None:
    head = label.split(" ")[0]
    return f"D{int(head)}" if head.isdigit() else None


def derive(msds_csv: Path, etr_csv: Path) -> dict:
    """Return the profile document for every provider with at least 300 deliveries."""
    with etr_csv.open(encoding="utf-8") as handle:
        region_of = {row[0]: REGIONS.get(row[2]) for row in csv.reader(handle)}
    cells: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    with msds_csv.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["Org_Level"] != "Provider":
                continue
            cells[row["Org_Code"]][row["Dimension"]][row["Measure"]] = float(row["Value"] or 0)
    profiles = []
    for code, dims in cells.items():
        total = dims.get("TotalDeliveries", {}).get("", 0.0)
        region = region_of.get(code)
        if total < 300 or region is None:
            continue
        eth = dims.get("EthnicCategoryMotherGroup", {})
        eth_total = sum(eth.values()) or 1.0
        eth_share = {k: 0.0 for k in [*ETHNICITY.values(), "Missing"]}
        for label, value in eth.items():
            eth_share[ETHNICITY.get(label, "Missing")] += value / eth_total
        dep = dims.get("DeprivationDecileAtBooking", {})
        dep_total = sum(dep.values()) or 1.0
        dep_share = {f"D{i}": 0.0 for i in range(1, 11)} | {"Unknown": 0.0}
        for label, value in dep.items():
            dep_share[_decile(label) or "Unknown"] += value / dep_total
        booking = dims.get("GestAgeFormalAntenatalBookingGroup", {})
        known = sum(v for k, v in booking.items() if not k.startswith("Missing"))
        profiles.append(
            {
                "region": region,
                "deliveries": int(total),
                "ethnicity": {k: round(v, 4) for k, v in eth_share.items()},
                "deprivation": {k: round(v, 4) for k, v in dep_share.items()},
                "booked_by_10_weeks": round(booking.get("0 to 70 days", 0.0) / known, 4)
                if known
                else None,
            }
        )
    profiles.sort(key=lambda p: (p["region"], -p["deliveries"]))
    return {
        "source": "NHS Maternity Statistics 2022-23 MSDS CSV (NHS Digital, OGL v3.0); "
        "regions from ODS etr.csv. Distributions only: no names or codes.",
        "profiles": profiles,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    document = derive(Path(argv[0]), Path(argv[1]))
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(document['profiles'])} profiles to {OUT.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
