"""Regenerate the simplified NHS England region boundaries the map draws.

Usage::

    python -m data.geo.simplify NHS_England_Regions_April_2021_EN_BUC_2022.geojson

Reads ONS's "NHS England Regions (April 2021) EN BUC" GeoJSON (British National Grid
metres), simplifies every ring with Douglas-Peucker, drops islands too small to see at
national scale, rounds coordinates to 100 m and writes
``data/geo/nhs_regions_2021_simplified.json`` (GeoJSON, EPSG:27700). The source's checksum is
checked against the one recorded in ``data/geo/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np

from data.geo.shapes import ring_area, simplify_ring
from data.ingest import limits

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "nhs_regions_2021_simplified.json"
SOURCE_SHA256 = "cba3c4d63c5b678ac47f8ccd3cc4fcc22d8b93ba7a052c87262b4d4d1d0ce570"
# Under one screen pixel when England's 650 km fill about 800 pixels (0.8 km a pixel);
# halves the points of the source, which is itself already generalised.
TOLERANCE_M = 750.0
ROUND_M = 100
# Islands smaller than this vanish at national scale; the Isles of Scilly's larger islands
# (2.4-6.4 km2) stay so the South West looks like itself.
MIN_AREA_M2 = 2_000_000
KEPT_PROPERTIES = ("NHSER21CD", "NHSER21NM", "BNG_E", "BNG_N", "LONG", "LAT")


def _rounded(ring: np.ndarray) -> list[list[int]] | None:
    """The ring on a 100 m grid without repeated points; None if it collapses."""
    snapped = (np.round(ring / ROUND_M) * ROUND_M).astype(int)
    keep = np.ones(len(snapped), dtype=bool)
    keep[1:] = np.any(snapped[1:] != snapped[:-1], axis=1)
    points = snapped[keep]
    if len(points) < 4 or ring_area(points.astype(float)) == 0:
        return None
    if tuple(points[0]) != tuple(points[-1]):
        points = np.vstack([points, points[:1]])
    return points.tolist()


def simplify(collection: dict, *, tolerance: float = TOLERANCE_M,
             min_area: float = MIN_AREA_M2) -> dict:
    """A simplified copy of a region FeatureCollection (see the module docstring)."""
    features = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
            else [geometry["coordinates"]]
        kept = []
        for polygon in polygons:
            outer = np.asarray(polygon[0], dtype=float)
            if ring_area(outer) < min_area:
                continue
            ring = _rounded(simplify_ring(outer, tolerance))
            if ring:
                kept.append([ring])
        features.append({
            "type": "Feature",
            "properties": {k: feature["properties"][k] for k in KEPT_PROPERTIES},
            "geometry": {"type": "MultiPolygon", "coordinates": kept},
        })
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:27700"}},
        "metadata": {
            "source": "ONS Open Geography Portal: NHS England Regions (April 2021) EN BUC",
            "licence": "Open Government Licence v3.0",
            "attribution": "Source: Office for National Statistics licensed under the Open "
                           "Government Licence v.3.0. Contains OS data © Crown copyright and "
                           "database right 2022",
            "source_sha256": SOURCE_SHA256,
            "simplified": f"Douglas-Peucker {tolerance:g} m, islands under "
                          f"{min_area / 1e6:g} km2 dropped, rounded to {ROUND_M} m",
        },
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the ONS GeoJSON file")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    raw = limits.read(args.source)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        log.warning("source sha256 %s differs from the recorded %s", digest, SOURCE_SHA256)
    result = simplify(json.loads(raw))
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    args.output.write_text(text + "\n", encoding="utf-8")
    points = sum(len(r) for f in result["features"] for p in f["geometry"]["coordinates"]
                 for r in p)
    log.info("wrote %s: %d regions, %d points, %d bytes", args.output,
             len(result["features"]), points, len(text) + 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
