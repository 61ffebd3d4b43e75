"""Region outlines and trust positions for the map, in British National Grid metres.

The outlines are ONS's NHS England regions (April 2021), simplified by
``data/geo/simplify.py`` (see ``data/geo/README.md`` for source, licence and checksum).
Fictional demo trusts (codes starting ``SYN``) get an illustrative position inside their
region, the same every time; real trusts take theirs from an optional locations file.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from data import settings
from data.geo.bng import wgs84_to_grid
from data.geo.shapes import point_inside, ring_area

log = logging.getLogger(__name__)

BOUNDARIES = Path(__file__).resolve().parent / "nhs_regions_2021_simplified.json"
ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government "
               "Licence v.3.0. Contains OS data © Crown copyright and database right 2022")
# The store codes regions as ODS does (Y56 ...), ONS's boundaries as E40000003 ...: the two
# meet by name. Names are compared without case and without MSDS's "Commissioning Region".
ONS_REGION_CODES = {
    "London": "E40000003",
    "South East": "E40000005",
    "South West": "E40000006",
    "East of England": "E40000007",
    "Midlands": "E40000008",
    "North East and Yorkshire": "E40000009",
    "North West": "E40000010",
}
DEMO_PREFIX = "SYN"
# A CSV of real trusts' positions (columns org_code, latitude, longitude; WGS84), named by
# this variable or kept as ``trust_locations.csv`` beside the store.
LOCATIONS_ENV = "EQUALITIES_TRUST_LOCATIONS"
LOCATIONS_NAME = "trust_locations.csv"
ILLUSTRATIVE = "illustrative"
FROM_FILE = "locations file"


@dataclass(frozen=True)
class Region:
    code: str  # ONS NHSER21CD
    name: str
    rings: tuple[np.ndarray, ...]
    label: tuple[float, float]  # ONS's label point (BNG_E, BNG_N)
    latlon: tuple[float, float]  # the same point as ONS publishes it in WGS84 (LAT, LONG)

    @property
    def area(self) -> float:
        return sum(ring_area(r) for r in self.rings)


@functools.lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    """The seven regions by ONS name, in the file's order."""
    collection = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    out = {}
    for feature in collection["features"]:
        p = feature["properties"]
        rings = tuple(np.asarray(polygon[0], dtype=float)
                      for polygon in feature["geometry"]["coordinates"])
        out[p["NHSER21NM"]] = Region(p["NHSER21CD"], p["NHSER21NM"], rings,
                                     (float(p["BNG_E"]), float(p["BNG_N"])),
                                     (float(p["LAT"]), float(p["LONG"])))
    return out


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("commissioning region", "").split())


def region_for(name: str | None) -> Region | None:
    """The outline of the store's region called ``name`` (None if it has none)."""
    if not name:
        return None
    by_key = {_key(n): n for n in ONS_REGION_CODES}
    ons_name = by_key.get(_key(name))
    return regions().get(ons_name) if ons_name else None


def locations_file() -> Path | None:
    """The real trusts' locations file, if one is configured or kept beside the store."""
    configured = os.environ.get(LOCATIONS_ENV)
    if configured:
        return Path(configured).expanduser()
    beside = settings.data_dir() / LOCATIONS_NAME
    return beside if beside.exists() else None


@functools.lru_cache(maxsize=4)
def _file_positions(path: str, _modified: float) -> dict[str, tuple[float, float]]:
    try:
        frame = pl.read_csv(path, columns=["org_code", "latitude", "longitude"],
                            schema_overrides={"org_code": pl.String, "latitude": pl.Float64,
                                              "longitude": pl.Float64})
    except (OSError, pl.exceptions.PolarsError) as error:
        log.warning("trust locations file %s not read: %s", path, error)
        return {}
    out = {}
    for code, lat, lon in frame.iter_rows():
        if code and lat is not None and lon is not None:
            try:
                out[code.strip().upper()] = wgs84_to_grid(lat, lon)
            except ValueError as error:
                log.warning("trust locations file %s, %s: %s", path, code, error)
    return out


def file_positions() -> dict[str, tuple[float, float]]:
    """Easting and northing by ODS code from the locations file (empty without one)."""
    path = locations_file()
    if path is None or not path.exists():
        return {}
    return _file_positions(str(path), path.stat().st_mtime)


def margin_for(region: Region) -> float:
    """How far inside its outline an illustrative point sits: clear of the edge at national
    scale, smaller for a small region (London is about 40 km across)."""
    return min(8_000.0, 0.1 * math.sqrt(region.area))


@functools.lru_cache(maxsize=512)
def illustrative_position(code: str, region_name: str) -> tuple[float, float] | None:
    """A fictional trust's made-up position inside its region, seeded by its code."""
    region = region_for(region_name)
    if region is None:
        return None
    return point_inside(region.rings, code, margin=margin_for(region))


def trust_positions(trusts: Iterable[tuple[str, str | None]]
                    ) -> dict[str, tuple[float, float, str]]:
    """``(easting, northing, source)`` for each ``(code, region name)`` that has a position.

    Real trusts come from the locations file; fictional ones (codes starting ``SYN``) get
    an illustrative point; others are left out.
    """
    known = file_positions()
    out = {}
    for code, region in trusts:
        if code in known:
            out[code] = (*known[code], FROM_FILE)
        elif code.startswith(DEMO_PREFIX) and region:
            point = illustrative_position(code, region)
            if point is not None:
                out[code] = (*point, ILLUSTRATIVE)
    return out
